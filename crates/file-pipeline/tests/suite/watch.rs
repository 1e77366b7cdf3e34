//! Watch mode with a real inotify and a real producer: every file taken exactly once,
//! whichever way it was written and however fast; never half a file; overflows rescanned;
//! symlinks refused; a vanished inbox is one clear error.

use casebook::VariantSet;
use std::{
    fs,
    io::Write,
    os::unix::fs::symlink,
    path::{Path, PathBuf},
    sync::Arc,
    thread,
    time::Duration,
};

use crate::common::*;
use file_pipeline::{
    inbox::books::{self, WatchBooks},
    inbox::generate::Mix,
    inbox::listing::Listing,
    inbox::manifest::{Entry, Failure, Record},
    inbox::producer::{self, Plan},
    inbox::watch::{WatchError, Watching},
    pipelines::{Pipeline, Settings},
    variants::Variant,
    work::Work,
};
use tempfile::TempDir;

const QUIET: Duration = Duration::from_secs(10);
const LINGER: Duration = Duration::from_millis(100);

/// An empty watched inbox, and a pipeline over it writing into the same scratch dir.
fn watched(settings: Settings) -> (TempDir, PathBuf, Arc<Pipeline>) {
    let scratch = tempfile::tempdir().expect("scratch dir");
    let inbox = scratch.path().join("inbox");
    fs::create_dir(&inbox).expect("inbox");
    let pipeline = Arc::new(Pipeline::in_scratch(&inbox, scratch.path(), settings).expect("pipeline"));
    (scratch, inbox, pipeline)
}

struct Watched {
    books: WatchBooks,
    /// Overflow rescans.
    rescans: u64,
    entries: Vec<Entry>,
    _scratch: TempDir,
}

/// Watches with `variant` (started by `start`) while a producer thread copies `plan` from
/// `source`; then settles, stops, joins the books and checks the outbox against the inputs.
fn watch_with(
    variant: Variant,
    source: &Path,
    plan: &Plan,
    settings: Settings,
    start: impl FnOnce(Arc<Pipeline>) -> Watching,
) -> Watched {
    let (scratch, inbox, pipeline) = watched(settings);
    let watching = start(Arc::clone(&pipeline));
    let log = thread::scope(|s| {
        s.spawn(|| producer::produce(source, &inbox, plan, &|| false).expect("the producer runs"))
            .join()
            .expect("no panic")
    });
    let log_path = scratch.path().join("producer.jsonl");
    producer::write_log(&log_path, &log).expect("write the log");
    let log = producer::read_log(&log_path).expect("read the log");
    let all = watching.settle(log.len(), QUIET, LINGER);
    let rescans = watching.stop().unwrap_or_else(|e| panic!("{variant}: {e:#}"));
    let entries = pipeline.manifest.entries();
    let books = books::join(&log, &entries);
    assert!(all, "{variant}: {} of {} files recorded", books.recorded, books.produced);
    verify_outbox(&inbox, &pipeline.outbox, &entries).unwrap_or_else(|e| panic!("{variant}: {e}"));
    Watched { books, rescans, entries, _scratch: scratch }
}

fn watch(variant: Variant, source: &Path, plan: &Plan, settings: Settings) -> Watched {
    watch_with(variant, source, plan, settings, |pipeline| start_watch(variant, pipeline).expect("watch starts"))
}

fn burst(source: &Path) -> Plan {
    let names = Listing::scan(source).expect("list the source").files.into_iter().map(|job| job.name).collect();
    Plan { names, rate: None, chunk_pause: Duration::ZERO }
}

fn assert_exactly_once(at: &str, w: &Watched) {
    let b = &w.books;
    assert_eq!((b.lost, b.doubled, b.unexpected, b.early, b.errors), (0, 0, 0, 0, 0), "{at}: {b:?}");
    assert_eq!(b.recorded, b.produced, "{at}");
    assert_eq!(b.latency.len(), b.produced, "{at}: a latency per file");
}

#[test]
fn every_variant_takes_each_file_exactly_once_in_a_burst_written_both_ways() {
    let source = inbox(12 * MIB, Mix::Small);
    let plan = burst(&source.path);
    assert!(plan.names.len() > 300, "{} files", plan.names.len());
    for variant in runnable() {
        let w = watch(variant, &source.path, &plan, settings(Work::Both));
        assert_exactly_once(variant.name(), &w);
    }
}

#[test]
fn thousands_of_files_in_one_burst_are_each_taken_once() {
    let source = inbox(80 * MIB, Mix::Small);
    let plan = burst(&source.path);
    assert!(plan.names.len() >= 2000, "{} files", plan.names.len());
    for variant in [Variant::Threads, Variant::Hybrid] {
        let w = watch(variant, &source.path, &plan, settings(Work::Hash));
        assert_exactly_once(variant.name(), &w);
    }
}

#[test]
fn a_file_written_slowly_in_place_is_taken_once_and_whole() {
    let source = inbox(6 * MIB, Mix::Mixed);
    let listing = Listing::scan(&source.path).expect("list");
    // The largest file and a few small ones, every other one written in place in 64 KiB
    // chunks with a pause after each: create and modify events fire all along the way.
    let mut files = listing.files.clone();
    files.sort_by_key(|job| std::cmp::Reverse(job.size));
    let mut names: Vec<String> = files.iter().take(4).map(|job| job.name.clone()).collect();
    names.swap(0, 1);
    let plan = Plan { names, rate: None, chunk_pause: Duration::from_millis(3) };
    for variant in [Variant::Sequential, Variant::Hybrid] {
        let w = watch(variant, &source.path, &plan, settings(Work::Both));
        assert_exactly_once(variant.name(), &w);
        for entry in &w.entries {
            let Record::Done { size, .. } = entry.record else { panic!("{variant}: {entry:?}") };
            assert_eq!(Some(size), listing.files.iter().find(|j| j.name == entry.name).and_then(|j| j.size));
        }
    }
}

/// A file half written, still held open by its writer, is found by the initial scan or
/// renamed into place (a log rotated under its writer): it is not taken until the writer
/// closes it, and then whole.
fn a_file_held_open_for_writing_waits_for_its_close(renamed_in: bool) {
    let (_scratch, inbox, pipeline) = watched(settings(Work::Both));
    let name = if renamed_in { ".app.log" } else { "app.log" };
    let mut file = fs::File::create_new(inbox.join(name)).expect("create");
    file.write_all(&[b'a'; 10_000]).expect("first half");
    let watching = start_watch(Variant::Sequential, Arc::clone(&pipeline)).expect("watch starts");
    if renamed_in {
        fs::rename(inbox.join(name), inbox.join("app.log")).expect("rotate it into place");
    }
    thread::sleep(Duration::from_millis(100));
    assert_eq!(pipeline.manifest.recorded(), 0, "taken while still being written");
    file.write_all(&[b'b'; 10_000]).expect("second half");
    drop(file);
    assert!(watching.settle(1, QUIET, LINGER));
    watching.stop().expect("stops");
    let entries = pipeline.manifest.entries();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(matches!(entries[0].record, Record::Done { size: 20_000, .. }), "{entries:?}");
}

#[test]
fn a_file_still_open_for_writing_at_the_initial_scan_waits_for_its_close() {
    a_file_held_open_for_writing_waits_for_its_close(false);
}

#[test]
fn a_file_renamed_in_while_its_writer_holds_it_open_waits_for_its_close() {
    a_file_held_open_for_writing_waits_for_its_close(true);
}

/// Sets a sysctl for as long as it lives and puts the old value back on drop, even when the
/// test fails.
struct Sysctl {
    path: &'static str,
    old: String,
}

impl Sysctl {
    fn set(path: &'static str, value: &str) -> std::io::Result<Sysctl> {
        let old = fs::read_to_string(path)?;
        fs::write(path, value)?;
        Ok(Sysctl { path, old })
    }
}

impl Drop for Sysctl {
    fn drop(&mut self) {
        if let Err(e) = fs::write(self.path, &self.old) {
            eprintln!("could not restore {} to {}: {e}", self.path, self.old.trim());
        }
    }
}

const MAX_QUEUED_EVENTS: &str = "/proc/sys/fs/inotify/max_queued_events";

#[test]
fn an_overflowed_event_queue_is_rescanned_and_nothing_is_lost_or_doubled() {
    // A pipeline one file behind at most (intake 1) blocks notify's thread, so the kernel's
    // queue fills. With a queue of 64 events (the limit is read when an inotify instance is
    // created, so it is lowered just for that moment) any burst overflows it; where the limit
    // cannot be changed, the burst is made several times the default queue instead.
    for variant in [Variant::Sequential, Variant::Hybrid] {
        let lowered = Sysctl::set(MAX_QUEUED_EVENTS, "64");
        let source = match &lowered {
            Ok(_) => inbox(6 * MIB, Mix::Small),
            Err(e) => {
                eprintln!("cannot lower {MAX_QUEUED_EVENTS} ({e}): bursting past the default queue instead");
                inbox(400 * MIB, Mix::Small)
            }
        };
        let plan = burst(&source.path);
        let settings = Settings { intake: 1, ..settings(Work::Both) };
        let mut lowered = Some(lowered);
        let w = watch_with(variant, &source.path, &plan, settings, |pipeline| {
            let watching = start_watch(variant, pipeline).expect("watch starts");
            drop(lowered.take());
            watching
        });
        assert!(fs::read_to_string(MAX_QUEUED_EVENTS).is_ok_and(|v| v.trim() != "64"), "the limit was put back");
        assert!(w.rescans >= 1, "{variant}: the queue never overflowed");
        assert_exactly_once(variant.name(), &w);
    }
}

#[test]
fn a_file_deleted_before_it_is_read_is_an_error_entry_and_the_watch_goes_on() {
    // The sequential pipeline is busy with the largest file for many milliseconds while the
    // next file lands and is deleted at once: it is gone when its turn comes.
    let source = inbox(6 * MIB, Mix::Mixed);
    let listing = Listing::scan(&source.path).expect("list");
    let largest = listing.files.iter().max_by_key(|job| job.size).expect("a file").name.clone();
    let (small, after) = (listing.files[0].name.clone(), listing.files[1].name.clone());
    let (_scratch, inbox, pipeline) = watched(settings(Work::Both));
    let watching = start_watch(Variant::Sequential, Arc::clone(&pipeline)).expect("watch starts");
    let plan = |name: &str| Plan { names: vec![name.to_owned()], rate: None, chunk_pause: Duration::ZERO };
    producer::produce(&source.path, &inbox, &plan(&largest), &|| false).expect("produce");
    producer::produce(&source.path, &inbox, &plan(&small), &|| false).expect("produce");
    fs::remove_file(inbox.join(&small)).expect("delete it before it is read");
    producer::produce(&source.path, &inbox, &plan(&after), &|| false).expect("produce");
    assert!(watching.settle(3, QUIET, LINGER));
    watching.stop().expect("stops");
    let entries = pipeline.manifest.entries();
    let record = |name: &str| &entries.iter().find(|e| e.name == name).expect("an entry").record;
    assert!(matches!(record(&small), Record::Failed { failure: Failure::NotFound, .. }), "{entries:?}");
    assert!(!record(&largest).is_failed() && !record(&after).is_failed(), "{entries:?}");
    assert_eq!(entries.len(), 3);
}

#[test]
fn a_symlink_renamed_into_the_inbox_is_refused_not_followed() {
    let (scratch, inbox, pipeline) = watched(settings(Work::Both));
    let secret = scratch.path().join("secret");
    fs::write(&secret, b"outside").expect("write");
    let watching = start_watch(Variant::Hybrid, Arc::clone(&pipeline)).expect("watch starts");
    symlink(&secret, inbox.join(".link.part")).expect("symlink");
    fs::rename(inbox.join(".link.part"), inbox.join("link")).expect("rename into place");
    fs::write(inbox.join(".plain.part"), b"inside").expect("write");
    fs::rename(inbox.join(".plain.part"), inbox.join("plain")).expect("rename into place");
    assert!(watching.settle(2, QUIET, LINGER));
    watching.stop().expect("stops");
    let entries = pipeline.manifest.entries();
    let link = entries.iter().find(|e| e.name == "link").expect("an entry for the link");
    assert!(matches!(link.record, Record::Failed { failure: Failure::Symlink, .. }), "{link:?}");
    verify_outbox(&inbox, &pipeline.outbox, &entries).expect("only the plain file's output");
    assert!(!pipeline.outbox.join("link.zst").exists());
}

#[test]
fn an_inbox_that_disappears_ends_the_watch_with_one_clear_error() {
    let (_scratch, inbox, pipeline) = watched(settings(Work::Both));
    fs::write(inbox.join("a"), b"some bytes").expect("write");
    let watching = start_watch(Variant::Threads, Arc::clone(&pipeline)).expect("watch starts");
    assert!(watching.settle(1, QUIET, Duration::ZERO));
    fs::remove_dir_all(&inbox).expect("remove the inbox");
    assert!(!watching.settle(2, QUIET, Duration::ZERO), "the watch noticed");
    let error = watching.stop().expect_err("a vanished inbox is an error").to_string();
    assert_eq!(error, format!("the inbox {} disappeared while it was being watched", inbox.display()));
}

/// Voluntary context switches of the calling thread so far.
fn switches_of_this_thread() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is valid, writable memory for one rusage.
    unsafe {
        assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, usage.as_mut_ptr()), 0);
        usage.assume_init().ru_nvcsw
    }
}

#[test]
fn settling_sleeps_until_the_manifest_or_the_watch_wakes_it_and_does_not_poll() {
    // Settling runs inside the measured region of a watch run: a loop that wakes every
    // millisecond to look would put its own wake-ups into the row's figures.
    let (_scratch, inbox, pipeline) = watched(settings(Work::Both));
    let watching = start_watch(Variant::Sequential, Arc::clone(&pipeline)).expect("watch starts");
    let before = switches_of_this_thread();
    assert!(!watching.settle(1, Duration::from_millis(300), Duration::ZERO), "nothing came");
    let woken = switches_of_this_thread() - before;
    assert!(woken <= 5, "{woken} wake-ups in 300 ms of waiting for nothing");
    fs::write(inbox.join(".a.part"), b"bytes").expect("write");
    fs::rename(inbox.join(".a.part"), inbox.join("a")).expect("rename into place");
    assert!(watching.settle(1, QUIET, Duration::ZERO));
    watching.stop().expect("stops");
}

#[test]
fn a_missing_inbox_is_refused_at_start() {
    let (scratch, _inbox, pipeline) = watched(settings(Work::Both));
    let missing = Pipeline { inbox: scratch.path().join("nope"), ..Arc::into_inner(pipeline).expect("one owner") };
    let error = start_watch(Variant::Rayon, Arc::new(missing)).err().expect("no inbox");
    assert_eq!(error, WatchError::InboxMissing(scratch.path().join("nope")));
}
