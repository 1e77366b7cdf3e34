//! The manifest: one line per file, the pipeline's record of what it did.
//!
//! Every variant records through the same [`Manifest`], so its cost (a lock and one `write`
//! of a JSON line) is the same in every row, and the file on disk is complete up to the last
//! whole line at any moment. Each entry is stamped with `CLOCK_MONOTONIC` as it is written:
//! that clock is shared by every process on the machine, so a producer in another process
//! can stamp its side with [`now_ns`] and the two join into a latency.
//!
//! The [`digest`] is the manifest sorted by name without the stamps: every variant must
//! produce the same one from the same inbox.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a file has an error entry instead of a hash. Also an error of its own, so that a
/// refusal made after a file was opened (see [`crate::work::open_input`]) travels as an
/// `io::Error` and comes out as itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum Failure {
    #[error("gone before it was read")]
    NotFound,
    #[error("not readable")]
    PermissionDenied,
    #[error("a symlink, not followed")]
    Symlink,
    #[error("not a regular file")]
    NotRegular,
    #[error("a name that is not UTF-8")]
    BadName,
    #[error("read error")]
    Io,
}

impl Failure {
    pub fn of(e: &io::Error) -> Failure {
        if let Some(failure) = e.get_ref().and_then(|inner| inner.downcast_ref::<Failure>()) {
            return *failure;
        }
        match e.kind() {
            io::ErrorKind::NotFound => Failure::NotFound,
            io::ErrorKind::PermissionDenied => Failure::PermissionDenied,
            io::ErrorKind::IsADirectory => Failure::NotRegular,
            _ if e.raw_os_error() == Some(libc::ELOOP) => Failure::Symlink,
            _ => Failure::Io,
        }
    }
}

impl From<Failure> for io::Error {
    fn from(failure: Failure) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, failure)
    }
}

/// What happened to one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Record {
    Done {
        size: u64,
        /// Hex BLAKE3 of the input; absent when the work is compression only.
        blake3: Option<String>,
        /// Bytes written to the outbox; absent when the work is hashing only.
        compressed: Option<u64>,
    },
    Failed {
        failure: Failure,
        /// The OS's words, for a person; not part of the digest.
        detail: String,
    },
}

impl Record {
    pub fn failed(failure: Failure, detail: impl Into<String>) -> Record {
        Record::Failed { failure, detail: detail.into() }
    }

    /// An input refused without reading it (a symlink, a directory, a name that is not UTF-8).
    pub fn refused(failure: Failure) -> Record {
        Record::failed(failure, failure.to_string())
    }

    pub fn read_error(e: &io::Error) -> Record {
        Record::failed(Failure::of(e), e.to_string())
    }

    pub fn is_failed(&self) -> bool {
        matches!(self, Record::Failed { .. })
    }
}

/// One manifest line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    #[serde(flatten)]
    pub record: Record,
    /// `CLOCK_MONOTONIC` nanoseconds when the line was written.
    pub at_ns: u64,
}

/// The manifest of one run: a JSON-lines file plus the same entries in memory.
#[derive(Debug)]
pub struct Manifest {
    pub path: PathBuf,
    books: Mutex<Books>,
    /// Signalled when the distinct names reach what a waiter awaits, or on [`Manifest::wake`].
    changed: Condvar,
}

#[derive(Debug)]
struct Books {
    file: File,
    entries: Vec<Entry>,
    names: HashSet<String>,
    /// The distinct names a waiter in [`Manifest::wait_for`] needs (`usize::MAX`: none).
    awaited: usize,
    woken: bool,
}

impl Manifest {
    /// Creates the manifest file at `path`; it must not exist yet.
    pub fn create(path: &Path) -> io::Result<Manifest> {
        let file = OpenOptions::new().append(true).create_new(true).open(path)?;
        Ok(Manifest {
            path: path.to_path_buf(),
            books: Mutex::new(Books {
                file,
                entries: Vec::new(),
                names: HashSet::new(),
                awaited: usize::MAX,
                woken: false,
            }),
            changed: Condvar::new(),
        })
    }

    /// Writes one entry, stamped now. An error here is the manifest's own (disk full), not
    /// the input's, and ends the run.
    pub fn record(&self, name: String, record: Record) -> io::Result<()> {
        let mut books = self.books();
        let entry = Entry { name, record, at_ns: now_ns() };
        let mut line = serde_json::to_vec(&entry).map_err(io::Error::other)?;
        line.push(b'\n');
        books.file.write_all(&line)?;
        if books.names.insert(entry.name.clone()) && books.names.len() == books.awaited {
            self.changed.notify_all();
        }
        books.entries.push(entry);
        Ok(())
    }

    /// Entries written so far, repeats included.
    pub fn recorded(&self) -> usize {
        self.books().entries.len()
    }

    /// A copy of the entries so far, in the order they were written.
    pub fn entries(&self) -> Vec<Entry> {
        self.books().entries.clone()
    }

    /// Waits until `distinct` names have entries (true), or until `timeout` passes or
    /// [`Manifest::wake`] is called. Only the last entry that it needs wakes the waiter, not
    /// every entry: a wait in a measured region costs one wake-up.
    pub fn wait_for(&self, distinct: usize, timeout: Duration) -> bool {
        let mut books = self.books();
        books.awaited = distinct;
        let (mut books, _) = self
            .changed
            .wait_timeout_while(books, timeout, |b| b.names.len() < distinct && !b.woken)
            .unwrap_or_else(PoisonError::into_inner);
        books.awaited = usize::MAX;
        books.names.len() >= distinct
    }

    /// Ends every wait, now and to come (the watch has failed: nothing more will come).
    pub fn wake(&self) {
        self.books().woken = true;
        self.changed.notify_all();
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The line of an entry that the digest covers: everything but the stamp and the OS's wording.
fn canonical(entry: &Entry) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    match &entry.record {
        Record::Done { size, blake3, compressed } => {
            format!("{}\t{size}\t{}\t{}\n", entry.name, opt(blake3), opt(&compressed.map(|c| c.to_string())))
        }
        Record::Failed { failure, .. } => format!("{}\terror\t{failure:?}\n", entry.name),
    }
}

/// BLAKE3 of the entries' canonical lines, sorted.
pub fn digest(entries: &[Entry]) -> String {
    let mut lines: Vec<String> = entries.iter().map(canonical).collect();
    lines.sort();
    blake3::hash(lines.concat().as_bytes()).to_hex().to_string()
}

/// `CLOCK_MONOTONIC` in nanoseconds: comparable between processes on one Linux machine,
/// which `Instant` does not promise.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    debug_assert_eq!(rc, 0);
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(name: &str, hash: &str) -> Entry {
        let record = Record::Done { size: 3, blake3: Some(hash.into()), compressed: Some(2) };
        Entry { name: name.into(), record, at_ns: 1 }
    }

    #[test]
    fn the_digest_ignores_order_stamps_and_wording_but_not_content() {
        let a = vec![done("a", "00"), done("b", "11")];
        let mut b = vec![done("b", "11"), done("a", "00")];
        b[0].at_ns = 99;
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(digest(&a), digest(&[done("a", "00"), done("b", "12")]));
        let failed =
            |detail: &str| Entry { name: "c".into(), record: Record::failed(Failure::NotFound, detail), at_ns: 0 };
        assert_eq!(digest(&[failed("one wording")]), digest(&[failed("another")]));
        assert_ne!(digest(&[failed("x")]), digest(&[done("c", "00")]));
    }

    #[test]
    fn the_file_holds_what_was_recorded_and_repeats_are_counted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let manifest = Manifest::create(&dir.path().join("manifest.jsonl")).expect("create");
        manifest.record("a".into(), done("a", "00").record).expect("record");
        manifest.record("a".into(), done("a", "00").record).expect("record");
        manifest.record("b".into(), Record::failed(Failure::Symlink, "link")).expect("record");
        assert_eq!(manifest.recorded(), 3);
        assert!(manifest.wait_for(2, Duration::ZERO) && !manifest.wait_for(3, Duration::ZERO), "two names");
        let back = std::fs::read_to_string(&manifest.path).expect("read back");
        let back: Vec<Entry> = back.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect();
        assert_eq!(back, manifest.entries());
        assert!(Manifest::create(&manifest.path).is_err(), "a manifest is never overwritten");
    }

    #[test]
    fn the_clock_is_monotonic() {
        let a = now_ns();
        assert!(now_ns() >= a && a > 0);
    }
}
