//! A file that cannot be read becomes an error entry, in batch and in watch mode, and the
//! pipeline goes on.
//!
//! Root reads any file whatever its mode, so when run as root this test first becomes
//! `nobody` for good. That changes the whole process, so the test runs itself again in a
//! process of its own (this test binary, this test alone) and only that process drops root:
//! the suite's other tests, and their temp dirs, stay root's.
//! As root it first makes a file of root's, which `nobody` may read but not lease: the real
//! EACCES of a lease on another user's file.

use std::{fs, io::Write, os::unix::fs::PermissionsExt, process::Command, sync::Arc, time::Duration};

use crate::common::*;
use file_pipeline::{
    inbox::generate::Mix,
    inbox::listing::Listing,
    inbox::manifest::{Failure, Record},
    pipelines::Pipeline,
    variants::Variant,
    work::Work,
};

const NOBODY: libc::uid_t = 65534;
const NOBODY_GID: libc::gid_t = 65534;
/// Set in the process that runs the test alone.
const CHILD: &str = "FILE_PIPELINE_UNREADABLE_CHILD";
const TEST: &str = "unreadable::an_unreadable_file_is_an_error_entry_and_the_rest_go_on";
const QUIET: Duration = Duration::from_secs(10);
const LINGER: Duration = Duration::from_millis(100);

fn drop_root() {
    // SAFETY: plain syscalls; glibc applies set*id to every thread of the process.
    unsafe {
        if libc::geteuid() != 0 {
            return;
        }
        assert_eq!(libc::setgroups(0, std::ptr::null()), 0, "setgroups");
        assert_eq!(libc::setresgid(NOBODY_GID, NOBODY_GID, NOBODY_GID), 0, "setresgid");
        assert_eq!(libc::setresuid(NOBODY, NOBODY, NOBODY), 0, "setresuid");
    }
}

fn is_permission_denied(record: &Record) -> bool {
    matches!(record, Record::Failed { failure: Failure::PermissionDenied, .. })
}

/// A file of another user's (root's, readable by all), made while still root, in a
/// directory of `nobody`'s, which it may rename out of and remove at the end; `None` when
/// the test does not start as root.
fn another_users_file() -> Option<(tempfile::TempDir, std::path::PathBuf)> {
    // SAFETY: a plain syscall.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: another user's file cannot be made, so that part is not checked");
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::os::unix::fs::chown(dir.path(), Some(NOBODY), Some(NOBODY_GID)).expect("chown nobody");
    let theirs = dir.path().join("theirs.log");
    fs::write(&theirs, b"root's bytes").expect("write");
    fs::set_permissions(&theirs, fs::Permissions::from_mode(0o644)).expect("chmod 644");
    Some((dir, theirs))
}

#[test]
fn an_unreadable_file_is_an_error_entry_and_the_rest_go_on() {
    if std::env::var_os(CHILD).is_none() {
        let out = Command::new(std::env::current_exe().expect("this test binary"))
            .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .expect("the test runs alone");
        let said = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && said.contains("1 passed"), "{said}");
        return;
    }
    let theirs = another_users_file();
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

    // Watch mode. In the inbox when the watch starts: the locked file (whose open fails,
    // EACCES) and another user's file (whose read lease fails, EACCES: leases are for owners
    // and CAP_LEASE). Whether either is still being written cannot be known, so neither is
    // taken. A file closed after it was made unreadable is taken, as the error it is.
    let scratch = tempfile::tempdir().expect("scratch");
    let watched = scratch.path().join("inbox");
    fs::create_dir(&watched).expect("inbox");
    fs::rename(inbox.path.join(&locked), watched.join(&locked)).expect("move it in");
    if let Some((_, theirs)) = &theirs {
        fs::rename(theirs, watched.join("theirs.log")).expect("move it in");
    }
    let pipeline = Arc::new(Pipeline::in_scratch(&watched, scratch.path(), settings(Work::Both)).expect("pipeline"));
    let watching = start_watch(Variant::Hybrid, Arc::clone(&pipeline)).expect("watch starts");
    let mut closed_locked = fs::File::create_new(watched.join("closed-locked")).expect("create");
    closed_locked.write_all(b"bytes").expect("write");
    fs::set_permissions(watched.join("closed-locked"), fs::Permissions::from_mode(0o000)).expect("chmod 000");
    drop(closed_locked);
    fs::copy(inbox.path.join(&listing.files[1].name), watched.join(".next.part")).expect("copy");
    fs::rename(watched.join(".next.part"), watched.join(&listing.files[1].name)).expect("rename into place");
    assert!(watching.settle(2, QUIET, LINGER));
    let entries = pipeline.manifest.entries();
    let entry = |name: &str| entries.iter().find(|e| e.name == name);
    assert!(entry(&locked).is_none() && entry("theirs.log").is_none(), "taken unknown: {entries:?}");
    assert!(entry("closed-locked").is_some_and(|e| is_permission_denied(&e.record)), "{entries:?}");
    assert!(entry(&listing.files[1].name).is_some_and(|e| !e.record.is_failed()), "{entries:?}");
    // The locked file's close event brings it in.
    fs::set_permissions(watched.join(&locked), fs::Permissions::from_mode(0o600)).expect("chmod 600");
    drop(fs::OpenOptions::new().append(true).open(watched.join(&locked)).expect("open for writing"));
    assert!(watching.settle(3, QUIET, LINGER));
    watching.stop().expect("stops");
    let entries = pipeline.manifest.entries();
    assert!(entries.iter().any(|e| e.name == locked && !e.record.is_failed()), "{entries:?}");
    assert_eq!(entries.len(), 3, "{entries:?}");
}
