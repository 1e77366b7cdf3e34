//! Watch mode: inotify (through `notify` 8) turned into a stream of complete files.
//!
//! The rules, and why:
//! - A file is complete at **close-after-write** (written in place) or at **rename into
//!   place** (written under a temporary name). Create and modify events fire mid-write and
//!   are ignored; acting on them would hash half a file.
//! - Names starting with a dot are a producer's temporary files, never inputs.
//! - The watch starts **before** the initial scan, so a file landing in between is seen by one
//!   or the other (or both, which the dedupe absorbs).
//! - When the kernel's queue overflows, notify sends an event with `Flag::Rescan` and no
//!   paths: the inbox is listed again and every file not yet taken is offered.
//! - A listed file may still be open for writing, and so may a file renamed into place (a
//!   log rotated while its writer still holds it). A read lease (`F_SETLEASE`) is refused
//!   while any process holds a file open for writing, so such a file is left for its close
//!   event, which comes later and therefore reaches the queue (or causes another rescan).
//!   Where the answer cannot be had (the open fails, or the lease fails for any other reason
//!   than a writer: another user's file, a file system without leases), the file is not
//!   taken either: it waits for its close event or the next rescan. Failing closed can leave
//!   a file waiting that a failing-open watcher would have taken whole; failing open can
//!   hash half a file.
//! - Each name is taken once (a set of names taken), whatever mix of events and scans found it.
//! - Symlinks are refused (an error entry), never followed; so are directories, devices and
//!   FIFOs. The look is taken through a descriptor opened as the pipeline will open it
//!   ([`work::open_input`]), so what is checked is what is read.
//!
//! The watcher's callback runs on notify's thread and hands files to the pipeline through a
//! channel of `settings.intake`. When the pipeline falls behind, the callback blocks, the
//! kernel queue fills, and an overflow rescan catches up afterwards: memory stays bounded and
//! nothing is lost.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use std::{io, os::fd::AsRawFd, os::unix::ffi::OsStrExt, thread};

use flume::Receiver;
use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
use notify::{Event, EventKind, RecursiveMode, Watcher};

use crate::inbox::{listing::Job, manifest::Failure, manifest::Record};
use crate::{pipelines::Pipeline, work};

/// Why a watch could not start or had to end. Each is one line for a person.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WatchError {
    #[error("the inbox {0} does not exist or is not a directory")]
    InboxMissing(PathBuf),
    #[error("the inbox {0} disappeared while it was being watched")]
    InboxGone(PathBuf),
    #[error(
        "cannot watch {path}: the inotify watch limit is reached (max_user_watches {limit}); raise fs.inotify.max_user_watches"
    )]
    WatchLimit { path: PathBuf, limit: String },
    #[error(
        "cannot start an inotify watcher: too many inotify instances or open files (max_user_instances {instances}, open files {files}); raise fs.inotify.max_user_instances"
    )]
    InstanceLimit { instances: String, files: String },
    #[error("watching {path} failed: {detail}")]
    Other { path: PathBuf, detail: String },
}

impl WatchError {
    fn from_notify(path: &Path, e: notify::Error) -> WatchError {
        let errno = if let notify::ErrorKind::Io(io) = &e.kind { io.raw_os_error() } else { None };
        match (&e.kind, errno) {
            (notify::ErrorKind::MaxFilesWatch, _) | (_, Some(libc::ENOSPC)) => WatchError::WatchLimit {
                path: path.to_path_buf(),
                limit: inotify_limit("max_inotify_watches", "max_user_watches"),
            },
            (_, Some(libc::EMFILE)) => WatchError::InstanceLimit {
                instances: inotify_limit("max_inotify_instances", "max_user_instances"),
                files: casebook::run::limits::Readings::without_probe()
                    .nofile
                    .map_or_else(|| "unknown".into(), |n| n.to_string()),
            },
            (notify::ErrorKind::PathNotFound, _) => WatchError::InboxMissing(path.to_path_buf()),
            _ => WatchError::Other { path: path.to_path_buf(), detail: e.to_string() },
        }
    }
}

/// An inotify limit as it applies to this process: the per-user-namespace value under
/// `/proc/sys/user` (what the kernel checks), else the system-wide `fs.inotify` one. Read
/// from the kernel when a watch fails, never assumed.
pub fn inotify_limit(user: &str, system: &str) -> String {
    let read = casebook::host::procfs::read_number;
    read(format!("/proc/sys/user/{user}"))
        .or_else(|| read(format!("/proc/sys/fs/inotify/{system}")))
        .map_or_else(|| "unknown".into(), |n| n.to_string())
}

/// How a name came to be offered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    /// A close after writing: the file is whole.
    Closed,
    /// A rename into place: whole, unless a writer still holds it open.
    Renamed,
    /// A listing: the file may still be being written.
    Listed,
}

/// What a look at a name found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    /// A regular file, and no writer holds it open (or nobody asked).
    Whole,
    /// A regular file some process holds open for writing.
    Writing,
    /// Whether it is being written cannot be known (the open or the lease failed).
    Unknown,
    Refused(Failure),
    Gone,
}

#[derive(Debug, Default)]
struct Status {
    rescans: AtomicU64,
    fatal: Mutex<Option<WatchError>>,
}

/// Turns events and listings into jobs, each name once.
struct Detector {
    pipeline: Arc<Pipeline>,
    /// `None` once the watch is stopping or has failed: later events are dropped.
    to_pipeline: Option<flume::Sender<Job>>,
    taken: HashSet<String>,
    status: Arc<Status>,
}

impl Detector {
    // ANCHOR: on_event
    fn on_event(&mut self, event: notify::Result<Event>) {
        if self.to_pipeline.is_none() {
            return;
        }
        let event = match event {
            Ok(event) => event,
            Err(e) => return self.fail(WatchError::from_notify(&self.pipeline.inbox, e)),
        };
        if event.need_rescan() {
            self.status.rescans.fetch_add(1, Ordering::Relaxed);
            return self.scan();
        }
        match event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Modify(ModifyKind::Name(RenameMode::To)) => {
                let found = if event.kind.is_access() { Found::Closed } else { Found::Renamed };
                for path in &event.paths {
                    self.offer(path, found);
                }
            }
            EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(RenameMode::From))
                if event.paths.contains(&self.pipeline.inbox) =>
            {
                self.fail(WatchError::InboxGone(self.pipeline.inbox.clone()));
            }
            _ => {}
        }
    }
    // ANCHOR_END: on_event

    /// Offers every file in the inbox.
    fn scan(&mut self) {
        let Ok(entries) = std::fs::read_dir(&self.pipeline.inbox) else {
            return self.fail(WatchError::InboxGone(self.pipeline.inbox.clone()));
        };
        for entry in entries.flatten() {
            self.offer(&entry.path(), Found::Listed);
        }
    }

    // ANCHOR: offer
    fn offer(&mut self, path: &Path, found: Found) {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else { return };
        if parent != self.pipeline.inbox || name.as_bytes().starts_with(b".") {
            return;
        }
        let Some(name) = name.to_str().map(str::to_owned) else {
            let name = name.to_string_lossy().into_owned();
            return self.refuse(name, Failure::BadName);
        };
        if self.taken.contains(&name) {
            return;
        }
        match look(path, found != Found::Closed) {
            Seen::Refused(failure) => return self.refuse(name, failure),
            // Listed and gone before it was looked at: never seen whole, not an input. Whole
            // at its event and gone now: the pipeline's read makes its error entry.
            Seen::Gone if found == Found::Listed => return,
            // Still being written, or nobody can tell: its close event or a rescan offers it
            // again. (A close event is not probed: it is the writer's own word, and a file
            // that cannot be opened then is read, and recorded, as the error it is.)
            Seen::Writing | Seen::Unknown if found != Found::Closed => return,
            Seen::Whole | Seen::Writing | Seen::Unknown | Seen::Gone => {}
        }
        self.taken.insert(name.clone());
        if let Some(to_pipeline) = &self.to_pipeline {
            // Blocks while the pipeline is `intake` files behind. An error means the
            // pipeline has ended; stopping or failing is then reported from there.
            let _ = to_pipeline.send(Job { name, size: None });
        }
    }
    // ANCHOR_END: offer

    fn refuse(&mut self, name: String, failure: Failure) {
        if self.taken.insert(name.clone())
            && let Err(e) = self.pipeline.manifest.record(name, Record::refused(failure))
        {
            self.fail(WatchError::Other { path: self.pipeline.manifest.path.clone(), detail: e.to_string() });
        }
    }

    fn fail(&mut self, error: WatchError) {
        self.status.fatal.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(error);
        self.to_pipeline = None;
        self.pipeline.manifest.wake();
    }
}

// ANCHOR: lease
/// Looks at `path` through a descriptor opened as the pipeline opens its inputs and, if
/// `probe`, asks whether some process holds the file open for writing: the kernel refuses a
/// read lease then, with EAGAIN. Any other failure, to open (EMFILE, EACCES) or to lease
/// (EACCES for another user's file without CAP_LEASE, EINVAL where the file system has no
/// leases: NFS, FUSE), leaves the answer unknown.
fn look(path: &Path, probe: bool) -> Seen {
    let file = match work::open_input(path) {
        Ok((file, _)) => file,
        Err(e) => {
            return match Failure::of(&e) {
                Failure::NotFound => Seen::Gone,
                failure @ (Failure::Symlink | Failure::NotRegular) => Seen::Refused(failure),
                _ => Seen::Unknown,
            };
        }
    };
    if !probe {
        return Seen::Whole;
    }
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is open while `file` lives; F_SETLEASE takes an int argument.
    if unsafe { libc::fcntl(fd, libc::F_SETLEASE, libc::F_RDLCK) } == 0 {
        // SAFETY: as above; the lease is ours to drop.
        unsafe { libc::fcntl(fd, libc::F_SETLEASE, libc::F_UNLCK) };
        return Seen::Whole;
    }
    if io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN) { Seen::Writing } else { Seen::Unknown }
}
// ANCHOR_END: lease

/// A running watch: notify's watcher, and the variant's pipeline draining what it finds on a
/// thread of its own.
pub struct Watching {
    watcher: Option<notify::RecommendedWatcher>,
    detector: Arc<Mutex<Detector>>,
    worker: Option<thread::JoinHandle<anyhow::Result<()>>>,
    status: Arc<Status>,
    pipeline: Arc<Pipeline>,
}

impl Watching {
    /// Starts watching `pipeline.inbox` and `drain`ing what lands there (a variant's
    /// pipeline, until the source closes); files already in the inbox are taken too.
    pub fn start(
        pipeline: Arc<Pipeline>,
        drain: impl FnOnce(&Arc<Pipeline>, Receiver<Job>) -> anyhow::Result<()> + Send + 'static,
    ) -> Result<Watching, WatchError> {
        let inbox = pipeline.inbox.clone();
        if !inbox.is_dir() {
            return Err(WatchError::InboxMissing(inbox));
        }
        let (to_pipeline, source) = flume::bounded(pipeline.settings.intake);
        let status = Arc::new(Status::default());
        let detector = Arc::new(Mutex::new(Detector {
            pipeline: Arc::clone(&pipeline),
            to_pipeline: Some(to_pipeline),
            taken: HashSet::new(),
            status: Arc::clone(&status),
        }));
        let handler = {
            let detector = Arc::clone(&detector);
            move |event| detector.lock().unwrap_or_else(PoisonError::into_inner).on_event(event)
        };
        let mut watcher = notify::recommended_watcher(handler).map_err(|e| WatchError::from_notify(&inbox, e))?;
        watcher.watch(&inbox, RecursiveMode::NonRecursive).map_err(|e| WatchError::from_notify(&inbox, e))?;
        let worker = {
            let pipeline = Arc::clone(&pipeline);
            thread::Builder::new()
                .name("pipeline".into())
                .spawn(move || drain(&pipeline, source))
                .map_err(|e| WatchError::Other { path: inbox.clone(), detail: format!("cannot start a thread: {e}") })?
        };
        let watching = Watching { watcher: Some(watcher), detector, worker: Some(worker), status, pipeline };
        watching.detector.lock().unwrap_or_else(PoisonError::into_inner).scan();
        Ok(watching)
    }

    /// The error the watch ended with, if it did.
    pub fn failure(&self) -> Option<WatchError> {
        self.status.fatal.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Waits until `expected` names have entries, then `linger` more so that a late repeat
    /// would be counted; or until nothing new was recorded in a whole `quiet`, or the watch
    /// failed. True if every expected name arrived. It sleeps until one of those happens
    /// (the watch's failure wakes it), so a measured region around it pays no polling.
    pub fn settle(&self, expected: usize, quiet: Duration, linger: Duration) -> bool {
        let manifest = &self.pipeline.manifest;
        let mut seen = manifest.recorded();
        while self.failure().is_none() {
            if manifest.wait_for(expected, quiet) {
                thread::sleep(linger);
                return true;
            }
            let now = manifest.recorded();
            if now == seen {
                return false;
            }
            seen = now;
        }
        false
    }

    /// Stops watching and lets the pipeline finish what it took; returns the overflow
    /// rescans the watch made.
    pub fn stop(mut self) -> anyhow::Result<u64> {
        self.shutdown()?;
        Ok(self.status.rescans.load(Ordering::Relaxed))
    }

    fn shutdown(&mut self) -> anyhow::Result<()> {
        // No new events after this; one already in the callback finishes first (the lock).
        drop(self.watcher.take());
        self.detector.lock().unwrap_or_else(PoisonError::into_inner).to_pipeline = None;
        let drained = self.worker.take().map_or(Ok(()), |w| w.join().expect("the pipeline thread does not panic"));
        if let Some(error) = self.failure() {
            return Err(error.into());
        }
        drained
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        if self.worker.is_some() {
            let _ = self.shutdown();
        }
    }
}
