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
//! The variants (declared in [`variants`], built in [`pipelines`]), and why each exists:
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
//! - `b3sum`: the anchor, the BLAKE3 team's own tool over the same files: the bar for
//!   hash-only throughput.
//!
//! The case's parts, as every case has them: [`variants`] (the enum, and which pipeline each
//! runs), [`tables`] (the tables and sweeps), [`params`] (options, sizes and a row's spec),
//! [`fixture`] (the inboxes the set-up generates), [`run`] (one run of one row, and the
//! producer as load generator), [`figures`] (every key, declared once) and [`findings`]
//! (claims, verdicts and the accounting checks). The scenario:
//! - [`inbox`]: the seeded inbox and its listing, the manifest every variant writes, the
//!   watcher (inotify through `notify`), the producer, and the books that join the producer's
//!   log with the manifest.
//! - [`work`]: the unit of work: read, hash, compress, write through a temp name.
//! - [`pipelines`]: what every pipeline is handed, and one file per model.

pub mod figures;
pub mod findings;
pub mod fixture;
pub mod inbox;
pub mod params;
pub mod pipelines;
pub mod run;
pub mod tables;
pub mod variants;
pub mod work;

use std::path::Path;

use casebook::{Case, CaseInfo, ClaimId, ClaimResult, Ctx, GenCtx, LoadSpec, Needs, Plan, Preset, Report, Setup};
use casebook::{Table, UsageError};

use crate::{fixture::Shared, params::Args, params::Params, params::Spec, variants::Variant};

pub struct FilePipeline;

impl Case for FilePipeline {
    type Args = Args;
    type Params = Params;
    type Shared = Shared;
    type Variant = Variant;
    type Spec = Spec;

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
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        params::resolve(args, preset)
    }

    /// At most, a run holds every file of its inbox in memory at once (thread-per-file, an
    /// unbounded channel) with its compressed copy, and a thread per file up to the cap.
    fn needs(params: &Params, variants: &[Variant]) -> Needs {
        let bytes = params.inbox.total_bytes.max(params.sweep_bytes);
        let needs = Needs::default().memory("every file of the inbox and its output at once", bytes + bytes / 2);
        if variants.contains(&Variant::ThreadPerFile) {
            let threads = params.files.min(params.settings.thread_cap) as u64;
            needs.threads("thread-per-file, a thread per file up to the machine's cap", threads)
        } else {
            needs
        }
    }

    fn plan(params: &Params, variants: &[Variant]) -> Vec<Table> {
        tables::tables(params, variants)
    }

    fn setup(params: &Params, plan: &mut Plan, dir: &Path) -> anyhow::Result<Setup<Shared>> {
        fixture::setup(params, plan, dir)
    }

    fn run(params: &Params, shared: &Shared, variant: Variant, spec: Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
        run::execute(params, shared, variant, spec, ctx)
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
