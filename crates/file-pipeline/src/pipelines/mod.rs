//! The pipelines, one file per model, and what they all share: the [`Pipeline`] a variant is
//! handed, how it is sized ([`Settings`], [`Capacity`]), and the unit of work with blocking
//! calls ([`handle`], [`record_done`]) for the pipelines that run a file on one thread.

pub mod b3sum;
pub mod hybrid;
pub mod rayon;
pub mod sequential;
pub mod tasks;
pub mod threads;
pub mod uring;

use std::path::{Path, PathBuf};
use std::{fmt, fs, io, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::inbox::manifest::{Manifest, Record};
use crate::work::{self, Processed, Work};

/// The capacity of the channels between a pipeline's stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Capacity {
    /// At most this many items wait between two stages; 0 is a rendezvous.
    Bounded(usize),
    /// No limit: a fast stage runs as far ahead of a slow one as memory allows.
    Unbounded,
}

impl Capacity {
    pub fn channel<T>(self) -> (flume::Sender<T>, flume::Receiver<T>) {
        match self {
            Capacity::Bounded(n) => flume::bounded(n),
            Capacity::Unbounded => flume::unbounded(),
        }
    }
}

impl fmt::Display for Capacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capacity::Bounded(n) => write!(f, "{n}"),
            Capacity::Unbounded => f.write_str("unbounded"),
        }
    }
}

impl FromStr for Capacity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "unbounded" => Ok(Capacity::Unbounded),
            n => n
                .parse()
                .map(Capacity::Bounded)
                .map_err(|_| format!("a capacity is a number of items or `unbounded` (got `{n}`)")),
        }
    }
}

/// How a pipeline is sized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub work: Work,
    /// Between the stages of `threads`, `hybrid` and `io-uring`.
    pub capacity: Capacity,
    /// Files one async coordinator works on at once (tasks holding a permit, or concurrent
    /// reads and writes in the hybrid shapes): the async counterpart of a channel capacity.
    pub in_flight: usize,
    /// Size of the CPU pools: `threads`' workers, tokio's workers. Rayon sizes its own pool
    /// to the cores, which is the same number unless the caller changed it.
    pub workers: usize,
    /// The most threads `thread-per-file` may have running at once ([`threads::thread_cap`]).
    pub thread_cap: usize,
    /// Watch mode: how many discovered files may wait for the pipeline before the watcher's
    /// thread blocks (and the kernel's inotify queue starts to fill; see
    /// [`crate::inbox::watch`]).
    pub intake: usize,
}

impl Default for Settings {
    /// Both kinds of work, 16 files between stages and 16 in flight, a CPU pool per core, as
    /// many threads per file as the machine allows, and an intake of a second's burst at the
    /// default watch rate.
    fn default() -> Self {
        Settings {
            work: Work::Both,
            capacity: Capacity::Bounded(16),
            in_flight: 16,
            workers: casebook::host::cpus::usable_cores(),
            thread_cap: threads::thread_cap(),
            intake: 1024,
        }
    }
}

/// Everything a variant needs to run: where to read and write, how it is sized, and the
/// manifest to record in. Shared by reference (an `Arc`) between a variant's threads and
/// tasks.
#[derive(Debug)]
pub struct Pipeline {
    pub inbox: PathBuf,
    pub outbox: PathBuf,
    /// Every size at least 1 (the intake aside).
    pub settings: Settings,
    pub manifest: Manifest,
}

impl Pipeline {
    /// A pipeline over `inbox` that writes its outbox and manifest under `scratch`, which a
    /// run owns and deletes afterwards.
    pub fn in_scratch(inbox: &Path, scratch: &Path, settings: Settings) -> io::Result<Pipeline> {
        let outbox = scratch.join("outbox");
        fs::create_dir(&outbox)?;
        let settings = Settings {
            in_flight: settings.in_flight.max(1),
            workers: settings.workers.max(1),
            thread_cap: settings.thread_cap.max(1),
            ..settings
        };
        let manifest = Manifest::create(&scratch.join("manifest.jsonl"))?;
        Ok(Pipeline { inbox: inbox.to_path_buf(), outbox, settings, manifest })
    }
}

/// Between the stages of the staged pipelines: a file read (or its read error), then a file
/// processed.
pub type Read = (String, io::Result<Vec<u8>>);
pub type Done = (String, io::Result<Processed>);

/// A whole unit of work with blocking calls, for the variants that run one file start to end
/// on one thread.
pub fn handle(pipeline: &Pipeline, name: String) -> io::Result<()> {
    let done =
        work::read_input(&pipeline.inbox.join(&name)).and_then(|bytes| work::process(&bytes, pipeline.settings.work));
    record_done(pipeline, (name, done))
}

/// Writes a processed file's output, if the work has one, and its manifest line; a file
/// that could not be read or processed gets its error entry. An error here (writing the
/// output or the manifest) is the pipeline's own and ends the run.
pub fn record_done(pipeline: &Pipeline, (name, done): Done) -> io::Result<()> {
    let record = match done {
        Ok(processed) => {
            if let Some(compressed) = &processed.compressed {
                work::output::write_output(&pipeline.outbox, &name, compressed)?;
            }
            processed.record()
        }
        Err(e) => Record::read_error(&e),
    };
    pipeline.manifest.record(name, record)
}
