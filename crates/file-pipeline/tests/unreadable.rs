//! A file that cannot be read becomes an error entry, in batch and in watch mode, and the
//! pipeline goes on.
//!
//! Root reads any file whatever its mode, so when run as root this test first becomes
//! `nobody` for good: the reason it is a test binary of its own (one process, one test).

mod common;

use std::{fs, os::unix::fs::PermissionsExt, sync::Arc, time::Duration};

use common::*;
use file_pipeline::{
    inbox::generate::Mix,
    inbox::listing::Listing,
    inbox::manifest::{Failure, Record},
    pipelines::Pipeline,
    variants::Variant,
    work::Work,
};

const NOBODY: libc::uid_t = 65534;

fn drop_root() {
    // SAFETY: plain syscalls; glibc applies set*id to every thread of the process.
    unsafe {
        if libc::geteuid() != 0 {
            return;
        }
        assert_eq!(libc::setgroups(0, std::ptr::null()), 0, "setgroups");
        assert_eq!(libc::setresgid(NOBODY, NOBODY, NOBODY), 0, "setresgid");
        assert_eq!(libc::setresuid(NOBODY, NOBODY, NOBODY), 0, "setresuid");
    }
}

fn is_permission_denied(record: &Record) -> bool {
    matches!(record, Record::Failed { failure: Failure::PermissionDenied, .. })
}

#[test]
fn an_unreadable_file_is_an_error_entry_and_the_rest_go_on() {
    drop_root();
    let inbox = inbox(MIB, Mix::Small);
    let listing = Listing::scan(&inbox.path).expect("list");
    let locked = listing.files[0].name.clone();
    fs::set_permissions(inbox.path.join(&locked), fs::Permissions::from_mode(0o000)).expect("chmod 000");
    assert!(fs::read(inbox.path.join(&locked)).is_err(), "still readable: this test needs an unprivileged user");

    for variant in runnable() {
        let ran = batch_listed(variant, &listing, settings(Work::Both));
        let failed: Vec<_> = ran.entries.iter().filter(|e| e.record.is_failed()).collect();
        assert!(
            failed.len() == 1 && failed[0].name == locked && is_permission_denied(&failed[0].record),
            "{variant}: {failed:?}"
        );
        assert_eq!(ran.entries.len(), listing.files.len(), "{variant}: the others were processed");
        verify_outbox(&inbox.path, ran.outbox(), &ran.entries).unwrap_or_else(|e| panic!("{variant}: {e}"));
    }

    // Watch mode: the same file renamed into a watched inbox.
    let scratch = tempfile::tempdir().expect("scratch");
    let watched = scratch.path().join("inbox");
    fs::create_dir(&watched).expect("inbox");
    let pipeline = Arc::new(Pipeline::in_scratch(&watched, scratch.path(), settings(Work::Both)).expect("pipeline"));
    let watching = start_watch(Variant::Hybrid, Arc::clone(&pipeline)).expect("watch starts");
    fs::rename(inbox.path.join(&locked), watched.join(&locked)).expect("move it in");
    fs::copy(inbox.path.join(&listing.files[1].name), watched.join(".next.part")).expect("copy");
    fs::rename(watched.join(".next.part"), watched.join(&listing.files[1].name)).expect("rename into place");
    assert!(watching.settle(2, Duration::from_secs(10), Duration::from_millis(50)));
    watching.stop().expect("stops");
    let entries = pipeline.manifest.entries();
    let entry = entries.iter().find(|e| e.name == locked).expect("an entry for the locked file");
    assert!(is_permission_denied(&entry.record), "{entry:?}");
    assert!(entries.iter().any(|e| e.name == listing.files[1].name && !e.record.is_failed()), "{entries:?}");
}
