//! # file-pipeline
//!
//! **Question:** where should a file pipeline's IO, coordination and CPU work live, and what
//! does each choice cost in throughput, latency and memory?
//!
//! Files land in an inbox directory. Each is read, hashed (BLAKE3), compressed (zstd level 3),
//! written to an outbox (temp name, then rename) and recorded in a manifest. In *batch* mode
//! the inbox is full when the run starts; in *watch* mode a producer process writes files into
//! it at a set rate while the pipeline watches it with inotify, and the figure is the latency
//! from the producer's close or rename to the manifest entry.
//!
//! The variants (in [`variants`], [`tasks`] and [`uring`]), and why each exists:
//! - `sequential`: one thread and `std::fs`; the baseline every other row is read against.
//! - `threads`: a reader thread, a hashing/compressing pool sized to the cores and a writer
//!   thread, joined by bounded `flume` channels: the classic staged pipeline.
//! - `thread-per-file`: a new OS thread per file, bounded only by what the machine allows;
//!   the anti-pattern the framework names for IO.
//! - `rayon`: `par_iter` over the inbox listing (batch); in watch mode the watcher feeds a
//!   rayon pool. What a Rust programmer reaches for when the work looks data-parallel.
//! - `async-naive`: a tokio task per file, `tokio::fs` for every read and write, the hashing
//!   and compression inline in the task: what people write first in an async codebase.
//! - `async-spawn-blocking`: the same tasks with the CPU work moved to `spawn_blocking`, the
//!   textbook fix.
//! - `hybrid`: tokio owns watching, coordination and backpressure; the CPU work runs on rayon;
//!   `flume` bridges the two sides. The framework's recommended shape for a data pipeline.
//! - `io-uring`: the hybrid's shape with every file operation submitted through io_uring
//!   (tokio-uring), answering "does real async file IO change the verdict?". Every
//!   `tokio::fs` call is a `spawn_blocking` hop; these are not.
//!
//! Beside them, [`anchor`] runs `b3sum` over the same files as the hash-only bar.
//!
//! Where things live:
//! - [`inbox`]: the seeded inbox (size mix, content), its listing, and what a job is.
//! - [`work`]: the unit of work: read, hash, compress, write through a temp name.
//! - [`manifest`]: the manifest every variant writes, its digest, and the clock it stamps.
//! - [`watch`]: inotify through `notify`: which events mean "complete", overflow rescans,
//!   dedupe, and the errors a watch can end with.
//! - [`producer`]: the load generator's body: files written both ways real programs do.
//! - [`books`]: the join of the producer's log and the manifest (latency, lost, doubled), and
//!   the outbox check.
//! - [`caps`]: what the machine allows (threads, inotify limits).
//!
//! And the case on the harness: [`params`] (options and sizes), [`fixture`] (the inboxes the
//! set-up generates), [`plan`] (the tables and sweeps), [`run`] (one run of one row, and the
//! producer as load generator), [`figures`] (every key, declared once) and [`findings`]
//! (claims, verdicts and the accounting checks).

pub mod anchor;
pub mod books;
pub mod caps;
pub mod figures;
pub mod findings;
pub mod fixture;
pub mod inbox;
pub mod manifest;
pub mod params;
pub mod plan;
pub mod producer;
pub mod run;
pub mod tasks;
pub mod uring;
pub mod variants;
pub mod watch;
pub mod work;

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
};

use serde::{Deserialize, Serialize};

use casebook::{
    Case, CaseInfo, ClaimId, ClaimResult, Ctx, GenCtx, LoadSpec, Model, Needs, Plan, Point, Preset, Report, Setup,
    Table, UsageError,
};

pub use crate::{
    fixture::Shared,
    inbox::{InboxSpec, Job, Listing, Mix},
    manifest::Manifest,
    params::{Args, Params},
    work::Work,
};

pub const BATCH_TABLE: &str = "batch";
pub const HASH_TABLE: &str = "hash";
pub const WATCH_TABLE: &str = "watch";
pub const CAPACITY_TABLE: &str = "capacity";
pub const MIX_TABLE: &str = "mix";

/// The anchor row: not a pipeline of ours, the BLAKE3 team's own tool.
pub const B3SUM: &str = "b3sum";

pub struct FilePipeline;

impl Case for FilePipeline {
    type Args = Args;
    type Params = Params;
    type Shared = Shared;

    const INFO: CaseInfo = CaseInfo {
        name: "file-pipeline",
        question: env!("CARGO_PKG_DESCRIPTION"),
        claims: &[
            ClaimId::AsyncIo,
            ClaimId::HybridPipeline,
            ClaimId::ChannelCapacity,
            ClaimId::NoNeedlessMixing,
            ClaimId::NoThreadPerRequest,
            ClaimId::SpawnBlocking,
        ],
        variants: &[
            casebook::Variant {
                name: SEQUENTIAL,
                model: Model::Sequential,
                why: "one thread and std::fs, file after file: the baseline",
            },
            casebook::Variant {
                name: THREADS,
                model: Model::Threads,
                why: "a reader thread, a CPU pool sized to the cores and a writer, joined by bounded flume channels",
            },
            casebook::Variant {
                name: THREAD_PER_FILE,
                model: Model::Threads,
                why: "a new OS thread per file, as many as the machine allows: the anti-pattern named for IO",
            },
            casebook::Variant {
                name: RAYON,
                model: Model::Threads,
                why: "par_iter over the listing (batch); the watcher spawns into the pool (watch)",
            },
            casebook::Variant {
                name: ASYNC_NAIVE,
                model: Model::Async,
                why: "a tokio task per file, tokio::fs, hashing and compression inline: what people write first",
            },
            casebook::Variant {
                name: ASYNC_SPAWN_BLOCKING,
                model: Model::Async,
                why: "the same tasks with the CPU work in spawn_blocking: the textbook fix",
            },
            casebook::Variant {
                name: HYBRID,
                model: Model::Hybrid,
                why: "tokio reads, writes and coordinates; rayon hashes and compresses; flume bridges them",
            },
            casebook::Variant {
                name: IO_URING,
                model: Model::Hybrid,
                why: "the hybrid with every file operation on io_uring (tokio-uring): real async file IO",
            },
            casebook::Variant {
                name: B3SUM,
                model: Model::Anchor,
                why: "the BLAKE3 team's b3sum over the same files: the bar for hash-only throughput",
            },
        ],
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        params::resolve(args, preset)
    }

    /// At most, a run holds every file of its inbox in memory at once (thread-per-file, an
    /// unbounded channel) with its compressed copy, and a thread per file up to the cap.
    fn needs(params: &Params, variants: &[&'static casebook::Variant]) -> Needs {
        let bytes = params.inbox.total_bytes.max(params.sweep_bytes);
        let needs = Needs::default().memory("every file of the inbox and its output at once", bytes + bytes / 2);
        if variants.iter().any(|v| v.name == THREAD_PER_FILE) {
            let threads = params.files.min(params.settings.thread_cap) as u64;
            needs.threads("thread-per-file, a thread per file up to the machine's cap", threads)
        } else {
            needs
        }
    }

    fn plan(params: &Params, variants: &[&'static casebook::Variant]) -> Vec<Table> {
        plan::tables(params, variants)
    }

    fn setup(params: &Params, plan: &mut Plan, dir: &std::path::Path) -> anyhow::Result<Setup<Shared>> {
        fixture::setup(params, plan, dir)
    }

    fn run(params: &Params, shared: &Shared, point: &Point, ctx: &mut Ctx) -> anyhow::Result<()> {
        run::execute(params, shared, point, ctx)
    }

    fn load(_params: &Params, _shared: &Shared, spec: &LoadSpec, generator: &mut GenCtx) -> anyhow::Result<()> {
        run::load(spec, generator)
    }

    fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
        findings::claims(params, report)
    }

    fn verdicts(params: &Params, report: &Report) -> Vec<String> {
        findings::verdicts(params, report)
    }

    fn check(params: &Params, report: &Report) -> Vec<String> {
        findings::check(params, report)
    }
}

pub const SEQUENTIAL: &str = "sequential";
pub const THREADS: &str = "threads";
pub const THREAD_PER_FILE: &str = "thread-per-file";
pub const RAYON: &str = "rayon";
pub const ASYNC_NAIVE: &str = "async-naive";
pub const ASYNC_SPAWN_BLOCKING: &str = "async-spawn-blocking";
pub const HYBRID: &str = "hybrid";
pub const IO_URING: &str = "io-uring";

/// One way to build the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    Sequential,
    Threads,
    ThreadPerFile,
    Rayon,
    AsyncNaive,
    AsyncSpawnBlocking,
    Hybrid,
    IoUring,
}

impl Variant {
    /// Every variant, in table order.
    pub const ALL: [Variant; 8] = [
        Variant::Sequential,
        Variant::Threads,
        Variant::ThreadPerFile,
        Variant::Rayon,
        Variant::AsyncNaive,
        Variant::AsyncSpawnBlocking,
        Variant::Hybrid,
        Variant::IoUring,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Variant::Sequential => SEQUENTIAL,
            Variant::Threads => THREADS,
            Variant::ThreadPerFile => THREAD_PER_FILE,
            Variant::Rayon => RAYON,
            Variant::AsyncNaive => ASYNC_NAIVE,
            Variant::AsyncSpawnBlocking => ASYNC_SPAWN_BLOCKING,
            Variant::Hybrid => HYBRID,
            Variant::IoUring => IO_URING,
        }
    }

    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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

/// Everything a variant needs to run: where to read and write, what to do to each file, how
/// much may be in flight, and the manifest to record in. Shared by reference (an `Arc`)
/// between a variant's threads and tasks.
#[derive(Debug)]
pub struct Pipeline {
    pub inbox: PathBuf,
    pub outbox: PathBuf,
    pub work: Work,
    /// Between the stages of `threads`, `hybrid` and `io-uring`.
    pub capacity: Capacity,
    /// Files one async coordinator works on at once (tasks holding a permit, or concurrent
    /// reads and writes in the hybrid shapes): the async counterpart of a channel capacity.
    pub in_flight: usize,
    /// Size of the CPU pools: `threads`' workers, tokio's workers. Rayon sizes its own pool
    /// to the cores, which is the same number unless the caller changed it.
    pub workers: usize,
    /// The most threads `thread-per-file` may have running at once ([`caps::thread_cap`]).
    pub thread_cap: usize,
    /// Watch mode: how many discovered files may wait for the pipeline before the watcher's
    /// thread blocks (and the kernel's inotify queue starts to fill; see [`watch`]).
    pub intake: usize,
    pub manifest: Manifest,
}

/// How a pipeline is sized; everything in [`Pipeline`] but the paths and the manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub work: Work,
    pub capacity: Capacity,
    pub in_flight: usize,
    pub workers: usize,
    pub thread_cap: usize,
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
            workers: caps::cores(),
            thread_cap: caps::thread_cap(),
            intake: 1024,
        }
    }
}

impl Pipeline {
    /// A pipeline over `inbox` that writes its outbox and manifest under `scratch`, which a
    /// run owns and deletes afterwards.
    pub fn in_scratch(inbox: &Path, scratch: &Path, settings: Settings) -> std::io::Result<Pipeline> {
        let outbox = scratch.join("outbox");
        std::fs::create_dir(&outbox)?;
        let Settings { work, capacity, in_flight, workers, thread_cap, intake } = settings;
        Ok(Pipeline {
            inbox: inbox.to_path_buf(),
            outbox,
            work,
            capacity,
            in_flight: in_flight.max(1),
            workers: workers.max(1),
            thread_cap: thread_cap.max(1),
            intake,
            manifest: Manifest::create(&scratch.join("manifest.jsonl"))?,
        })
    }
}
