//! # bridges
//!
//! **Question:** when threads and async tasks must exchange data, which channel and which
//! direction cost what, what does capacity do, and are thread and task producers really
//! interchangeable?
//!
//! Three tables.
//!
//! **1. The book's interchangeable producers** ([`listings`], run by [`book`]). The Rust
//! book's example merges a messages source and an intervals source, throttles the intervals
//! and takes 20 items; it writes the intervals source as a task, then as a thread, and says
//! the stream is the same. It also says the throttle means the extra intervals are never
//! produced, which is not so (rust-lang/book issue 4488). The forms, and why each exists:
//! - `task-producer`: both sources as tokio tasks: the book's listing 17-40.
//! - `thread-producer`: the intervals source as an OS thread: listing 17-41, the swap the
//!   book says changes nothing.
//! - `thread-senders`: both sources as threads sending over async channels to the async
//!   consumer: listing 17-42's "threads for blocking work, async channels for coordination".
//! - `task-bounded`, `thread-bounded`: the fix, a bounded channel whose full buffer makes the
//!   producer wait, so the consumer's pace is the producer's.
//!
//! Each runs as printed (the digest compares what the consumer saw) and for longer, with the
//! queue's depth and the process's RSS sampled as the unbounded queue grows.
//!
//! **2. The bridge matrix** ([`bridge`], over the endpoints in [`channels`]). Small messages
//! from one producer (or several) to one consumer, thread to thread, thread to task, task to
//! thread and task to task, through each channel where it applies, at capacities 0, 1, 16,
//! 1024 and unbounded. The variants are the channel crates:
//! - `flume`: one channel whose ends both block and await, so it serves every direction.
//! - `tokio-mpsc`: the async channel most code already has, with `blocking_send` and
//!   `blocking_recv` for a thread's side; it has no rendezvous form.
//! - `std-mpsc`: the standard library's, thread to thread only.
//! - `crossbeam`: the usual fast choice between threads, thread to thread only.
//!
//! The consumer keeps books per producer ([`books`]): every message once, in order; unbounded
//! rows run under a memory guard computed up front ([`guard`]); and [`raw`] drives each
//! channel with a minimal loop, the reference for the harness's own overhead.
//!
//! **3. Mixing and fire-and-forget.** [`mixing`]: a cheap sync call made from async code
//! through `block_in_place` or a `spawn_blocking` per call, against calling it directly; and
//! an async API called from sync code through `Handle::block_on` per call, against awaiting
//! it. [`background`]: jobs handed off as detached threads, detached tasks, scoped threads or
//! a `JoinSet`, and how many of them were lost or cut short when `main` returned, counted
//! from a ledger file that outlives the program.
//!
//! The harness layer: [`params`] (options and sizes), [`plan`] (the tables), [`run`] (one
//! run, the program the fire-and-forget rows start as a load generator, and the minimal
//! loops timed at set-up), [`figures`] (what a run records), [`accounting`] (the books every
//! run must balance), [`findings`] (one function per claim) and [`verdicts`].

pub mod accounting;
pub mod background;
pub mod book;
pub mod books;
pub mod bridge;
pub mod channels;
mod ends;
pub mod figures;
pub mod findings;
pub mod gate;
pub mod guard;
pub mod listings;
pub mod mixing;
pub mod params;
pub mod plan;
pub mod raw;
pub mod run;
pub mod verdicts;

use std::path::Path;

use casebook::{
    Case, CaseInfo, ClaimId, ClaimResult, Ctx, GenCtx, LoadSpec, Model, Needs, Plan, Point, Preset, Report, Setup,
    Table, UsageError, Variant,
};

use crate::{background::Background, book::Listing, channels::Channel, mixing::Mixing};
pub use crate::{
    params::{Args, Params, RowSpec},
    run::Shared,
};

pub struct Bridges;

const fn variant(name: &'static str, model: Model, why: &'static str) -> Variant {
    Variant { name, model, why }
}

impl Case for Bridges {
    type Args = Args;
    type Params = Params;
    type Shared = Shared;

    const INFO: CaseInfo = CaseInfo {
        name: "bridges",
        question: env!("CARGO_PKG_DESCRIPTION"),
        claims: &[
            ClaimId::SameStream,
            ClaimId::HybridCoordination,
            ClaimId::ChannelCapacity,
            ClaimId::NoNeedlessMixing,
            ClaimId::ThreadsFireForget,
            ClaimId::StructuredConcurrency,
        ],
        variants: &[
            variant(
                Listing::TaskProducer.name(),
                Model::Async,
                "the book's listing 17-40: both sources as tokio tasks",
            ),
            variant(
                Listing::ThreadProducer.name(),
                Model::Hybrid,
                "listing 17-41: the intervals source as an OS thread, the swap the book says changes nothing",
            ),
            variant(
                Listing::ThreadSenders.name(),
                Model::Hybrid,
                "listing 17-42's shape: both sources as threads sending over async channels",
            ),
            variant(
                Listing::TaskBounded.name(),
                Model::Async,
                "the fix: a bounded channel whose send waits for room, so the consumer paces the task",
            ),
            variant(
                Listing::ThreadBounded.name(),
                Model::Hybrid,
                "the fix with the thread: blocking_send into a bounded channel",
            ),
            variant(
                Channel::Flume.name(),
                Model::Hybrid,
                "one channel whose ends both block and await: serves every direction",
            ),
            variant(
                Channel::TokioMpsc.name(),
                Model::Async,
                "the async channel most code already has, with blocking_send/blocking_recv for threads",
            ),
            variant(Channel::StdMpsc.name(), Model::Threads, "the standard library's channel: thread to thread only"),
            variant(
                Channel::Crossbeam.name(),
                Model::Threads,
                "the usual fast choice between threads: thread to thread only",
            ),
            variant(Mixing::DirectCall.name(), Model::Async, "native: a cheap sync call made directly in async code"),
            variant(Mixing::BlockInPlace.name(), Model::Hybrid, "each call wrapped in block_in_place, just in case"),
            variant(
                Mixing::SpawnBlocking.name(),
                Model::Hybrid,
                "each call sent to the blocking pool with spawn_blocking",
            ),
            variant(Mixing::AsyncAwait.name(), Model::Async, "native: an async API awaited from async code"),
            variant(
                Mixing::BlockOnPerCall.name(),
                Model::Hybrid,
                "the async API called from sync code, one Handle::block_on per call",
            ),
            variant(
                Background::DetachedThread.name(),
                Model::Threads,
                "std::thread::spawn with the handle dropped: fire and forget",
            ),
            variant(Background::DetachedTask.name(), Model::Async, "tokio::spawn with the handle dropped"),
            variant(
                Background::ThreadScope.name(),
                Model::Threads,
                "std::thread::scope: every job joined before main goes on",
            ),
            variant(Background::JoinSet.name(), Model::Async, "a JoinSet drained before main returns"),
        ],
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        params::resolve(args, preset)
    }

    /// The most threads one run holds: the detached and scoped forms run up to one thread
    /// per job at once, each with the default stack.
    fn needs(params: &Params, variants: &[&'static Variant]) -> Needs {
        let threads_per_job = [Background::DetachedThread, Background::ThreadScope]
            .iter()
            .any(|f| variants.iter().any(|v| v.name == f.name()));
        if threads_per_job {
            Needs::default().threads("the fire-and-forget jobs' threads", u64::from(params.jobs.jobs) + 16)
        } else {
            Needs::default()
        }
    }

    fn plan(params: &Params, variants: &[&'static Variant]) -> Vec<Table> {
        plan::tables(params, variants)
    }

    fn setup(params: &Params, plan: &mut Plan, _dir: &Path) -> anyhow::Result<Setup<Shared>> {
        Ok(Setup::new(run::time_minimal_loops(params, plan)?))
    }

    fn run(params: &Params, shared: &Shared, point: &Point, ctx: &mut Ctx) -> anyhow::Result<()> {
        run::run(params, shared, point, ctx)
    }

    fn load(params: &Params, _shared: &Shared, spec: &LoadSpec, generator: &mut GenCtx) -> anyhow::Result<()> {
        run::program(params, spec, generator)
    }

    fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
        findings::claims(params, report)
    }

    fn verdicts(_params: &Params, report: &Report) -> Vec<String> {
        verdicts::verdicts(report)
    }

    fn check(_params: &Params, report: &Report) -> Vec<String> {
        accounting::check(report)
    }
}
