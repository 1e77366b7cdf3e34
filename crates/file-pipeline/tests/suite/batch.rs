//! Batch mode, every variant: the same manifest from the same inbox, outputs that decompress
//! to the inputs, and error entries (never a crash, never a followed symlink) for inputs
//! that are not regular files or vanish before they are read.

use std::{collections::BTreeMap, fs, os::unix::fs::symlink, sync::mpsc, thread, time::Duration};

use crate::common::*;
use file_pipeline::{
    inbox::generate::Mix,
    inbox::listing::Listing,
    inbox::manifest::{self, Failure, Record},
    pipelines::{Capacity, Settings, b3sum, uring},
    variants::Variant,
    work::Work,
};

#[test]
fn every_variant_gives_the_same_manifest_for_every_kind_of_work() {
    let inbox = inbox(3 * MIB, Mix::Mixed);
    let before = Listing::scan(&inbox.path).expect("list");
    let files = before.files.len();
    for &work in <Work as clap::ValueEnum>::value_variants() {
        let mut digests = BTreeMap::new();
        for variant in runnable() {
            let ran = batch(variant, &inbox.path, settings(work));
            let at = format!("{variant} ({work:?})");
            assert_eq!(ran.entries.len(), files, "{at}: one entry per file");
            assert!(ran.entries.iter().all(|e| !e.record.is_failed()), "{at}: no errors");
            let outputs =
                verify_outbox(&inbox.path, ran.outbox(), &ran.entries).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_eq!(outputs, if work.compresses() { files } else { 0 }, "{at}: outputs");
            assert_eq!(names_in(ran.scratch.path()), ["manifest.jsonl", "outbox"], "{at}: nothing written elsewhere");
            assert_eq!(Listing::scan(&inbox.path).expect("list").files, before.files, "{at}: the inbox is untouched");
            digests.insert(variant, ran.digest());
        }
        let first = digests.values().next().expect("a variant ran").clone();
        assert!(digests.values().all(|d| *d == first), "{work:?}: digests differ: {digests:#?}");
    }
}

fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn channel_capacity_and_limits_change_nothing_in_the_answer() {
    let inbox = inbox(2 * MIB, Mix::Mixed);
    let reference = batch(Variant::Sequential, &inbox.path, settings(Work::Both)).digest();
    let staged = [Variant::Threads, Variant::Hybrid, Variant::IoUring];
    for variant in runnable().into_iter().filter(|v| staged.contains(v)) {
        for capacity in [Capacity::Bounded(0), Capacity::Bounded(1), Capacity::Unbounded] {
            let ran = batch(variant, &inbox.path, Settings { capacity, in_flight: 1, ..settings(Work::Both) });
            assert_eq!(ran.digest(), reference, "{variant} at capacity {capacity}");
        }
    }
    let capped = batch(Variant::ThreadPerFile, &inbox.path, Settings { thread_cap: 2, ..settings(Work::Both) });
    assert_eq!(capped.digest(), reference, "thread-per-file at 2 threads");
}

#[test]
fn b3sum_agrees_with_every_hash_when_installed() {
    let b3sum = match b3sum::find() {
        Ok(path) => path,
        Err(reason) => return eprintln!("b3sum anchor not checked: {reason}"),
    };
    let inbox = inbox(3 * MIB, Mix::Mixed);
    let listing = Listing::scan(&inbox.path).expect("list");
    let ours = batch(Variant::Rayon, &inbox.path, settings(Work::Hash));
    let (_scratch, pipeline) = pipeline(&inbox.path, settings(Work::Hash));
    b3sum::run(&b3sum, &listing, &pipeline.manifest).expect("b3sum runs");
    assert_eq!(manifest::digest(&pipeline.manifest.entries()), ours.digest());
}

#[test]
fn symlinks_directories_and_vanished_files_become_error_entries_in_every_variant() {
    let inbox = inbox(MIB, Mix::Small);
    let secret = inbox.dir.path().join("secret");
    fs::write(&secret, b"outside the inbox").expect("write");
    symlink(&secret, inbox.path.join("evil")).expect("symlink to a file outside");
    symlink(inbox.dir.path(), inbox.path.join("evil-dir")).expect("symlink to a directory outside");
    fs::create_dir(inbox.path.join("sub")).expect("a directory");
    fs::write(inbox.path.join(".half.part"), b"a producer's temp file").expect("write");
    let listing = Listing::scan(&inbox.path).expect("list");
    assert_eq!(listing.refused.len(), 3, "{:?}", listing.refused);
    let vanished = listing.files[1].name.clone();
    fs::remove_file(inbox.path.join(&vanished)).expect("delete a listed file");

    let mut digest = None;
    for variant in runnable() {
        let ran = batch_listed(variant, &listing, settings(Work::Both));
        let failures: BTreeMap<&str, Failure> = ran
            .entries
            .iter()
            .filter_map(|e| match &e.record {
                Record::Failed { failure, .. } => Some((e.name.as_str(), *failure)),
                Record::Done { .. } => None,
            })
            .collect();
        let expected = BTreeMap::from([
            ("evil", Failure::Symlink),
            ("evil-dir", Failure::Symlink),
            ("sub", Failure::NotRegular),
            (vanished.as_str(), Failure::NotFound),
        ]);
        assert_eq!(failures, expected, "{variant}");
        assert_eq!(ran.entries.len(), listing.files.len() + listing.refused.len(), "{variant}: the rest went on");
        assert!(!ran.entries.iter().any(|e| e.name.starts_with('.')), "{variant}: temp names are not inputs");
        // Only outputs of entries exist: nothing of the symlinks' targets was written.
        verify_outbox(&inbox.path, ran.outbox(), &ran.entries).unwrap_or_else(|e| panic!("{variant}: {e}"));
        let d = ran.digest();
        assert_eq!(*digest.get_or_insert_with(|| d.clone()), d, "{variant}");
    }
}

#[test]
fn a_fifo_or_a_symlink_swapped_in_after_the_listing_is_refused_not_read_or_waited_on() {
    let inbox = inbox(MIB, Mix::Small);
    let listing = Listing::scan(&inbox.path).expect("list");
    let (fifo, link) = (listing.files[0].name.clone(), listing.files[1].name.clone());
    // Swapped in after the listing saw regular files. The FIFO has no writer: an open that
    // waits for one never returns.
    fs::remove_file(inbox.path.join(&fifo)).expect("remove");
    let path = std::ffi::CString::new(inbox.path.join(&fifo).into_os_string().into_encoded_bytes()).expect("path");
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o644) }, 0, "mkfifo");
    fs::remove_file(inbox.path.join(&link)).expect("remove");
    symlink(inbox.path.join(&listing.files[2].name), inbox.path.join(&link)).expect("symlink");
    for variant in runnable() {
        let (done, ran) = mpsc::channel();
        let listed = listing.clone();
        thread::spawn(move || done.send(batch_listed(variant, &listed, settings(Work::Both))));
        let ran = ran.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|e| panic!("{variant}: {e} (hung?)"));
        let failures: Vec<_> = ran.entries.iter().filter(|e| e.record.is_failed()).collect();
        let failure = |name: &str| match failures.iter().find(|e| e.name == name).map(|e| &e.record) {
            Some(Record::Failed { failure, .. }) => Some(*failure),
            _ => None,
        };
        assert_eq!(failures.len(), 2, "{variant}: {failures:?}");
        assert_eq!((failure(&fifo), failure(&link)), (Some(Failure::NotRegular), Some(Failure::Symlink)), "{variant}");
        assert_eq!(ran.entries.len(), listing.files.len(), "{variant}: the rest went on");
    }
}

#[test]
fn a_missing_inbox_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let error = Listing::scan(&dir.path().join("nope")).expect_err("no inbox").to_string();
    assert!(error.contains("does not exist") && !error.contains('\n'), "{error}");
}

#[test]
fn the_io_uring_probe_either_passes_or_says_why() {
    match uring::probe() {
        Ok(()) => {}
        Err(reason) => assert!(!reason.is_empty() && !reason.contains('\n'), "{reason:?}"),
    }
}
