//! # bridges
//!
//! **Question:** when threads and async tasks must exchange data, which channel and which
//! direction cost what, what does capacity do, and are thread and task producers really
//! interchangeable?
//!
//! Three tables.
//!
//! **1. The book's interchangeable producers** ([`book::listings`], run by [`book`]). The
//! Rust book's example merges a messages source and an intervals source, throttles the
//! intervals and takes 20 items; it writes the intervals source as a task, then as a thread,
//! and says the stream is the same. It also says the throttle means the extra intervals are
//! never produced, which is not so (rust-lang/book issue 4488). The forms, and why each exists:
//! - `task-producer`: both sources as tokio tasks: the book's listing 17-40.
//! - `thread-producer`: the intervals source as an OS thread: listing 17-41, the swap the
//!   book says changes nothing.
//! - `thread-senders`: both sources as threads sending over async channels to the async
//!   consumer: listing 17-42's "threads for blocking work, async channels for coordination".
//! - `task-bounded`, `thread-bounded`: the fix, a bounded channel whose full buffer makes the
//!   producer wait, so the consumer's pace is the producer's.
//!
//! Each runs as printed (the digest compares what the consumer saw) and for longer, with the
//! queue's depth and the process's RSS read as the unbounded queue grows.
//!
//! **2. The bridge matrix** ([`channels`]). Small messages from one producer (or several) to
//! one consumer, thread to thread, thread to task, task to thread and task to task, through
//! each channel where it applies, at capacities 0, 1, 16, 1024 and unbounded. The variants
//! are the channel crates:
//! - `flume`: one channel whose ends both block and await, so it serves every direction.
//! - `tokio-mpsc`: the async channel most code already has, with `blocking_send` and
//!   `blocking_recv` for a thread's side; it has no rendezvous form.
//! - `std-mpsc`: the standard library's, thread to thread only.
//! - `crossbeam`: the usual fast choice between threads, thread to thread only.
//!
//! The consumer keeps books per producer ([`channels::books`]): every message once, in
//! order; unbounded rows run under a memory guard computed up front ([`channels::guard`]);
//! and [`channels::raw`] drives each channel with a minimal loop, the reference for the
//! harness's own overhead.
//!
//! **3. Mixing and fire-and-forget.** [`mixing`]: a cheap sync call made from async code
//! through `block_in_place` or a `spawn_blocking` per call, against calling it directly; and
//! an async API called from sync code through `Handle::block_on` per call, against awaiting
//! it. [`background`]: jobs handed off as detached threads, detached tasks, scoped threads or
//! a `JoinSet`, and how many of them were lost or cut short when `main` returned, counted
//! from a ledger file that outlives the program.
//!
//! The case's parts, as every case has them: [`variants`] (the one enum, and what each
//! variant is in its table), [`tables`], [`params`] (options and sizes), [`run`] (one run,
//! the program the fire-and-forget rows start as a load generator, and the minimal loops
//! timed at set-up), [`figures`] (what a run records) and [`findings`] (the books every run
//! must balance, the verdicts and one function per claim). This file holds the docs and
//! `impl Case`, nothing else.

pub mod background;
pub mod book;
pub mod channels;
pub mod figures;
pub mod findings;
pub mod mixing;
pub mod params;
pub mod run;
pub mod tables;
pub mod variants;

use std::path::Path;

use casebook::{
    Case, CaseInfo, ClaimId, ClaimResult, Ctx, GenCtx, LoadSpec, Needs, Plan, Preset, Report, Setup, Table, UsageError,
};

use crate::{
    params::{Args, Params, Spec},
    run::Shared,
    variants::Variant,
};

pub struct Bridges;

impl Case for Bridges {
    type Args = Args;
    type Params = Params;
    type Shared = Shared;
    type Variant = Variant;
    type Spec = Spec;

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
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        params::resolve(args, preset)
    }

    /// The most threads one run holds: the detached and scoped forms run up to one thread
    /// per job at once, each with the default stack.
    fn needs(params: &Params, variants: &[Variant]) -> Needs {
        if variants.iter().any(|v| matches!(v, Variant::DetachedThread | Variant::ThreadScope)) {
            Needs::default().threads("the fire-and-forget jobs' threads", u64::from(params.jobs.jobs) + 16)
        } else {
            Needs::default()
        }
    }

    fn plan(params: &Params, variants: &[Variant]) -> Vec<Table> {
        tables::tables(params, variants)
    }

    fn setup(params: &Params, plan: &mut Plan, _dir: &Path) -> anyhow::Result<Setup<Shared>> {
        Ok(Setup::new(run::time_minimal_loops(params, plan)?))
    }

    fn run(params: &Params, shared: &Shared, variant: Variant, spec: Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
        run::execute(params, shared, variant, spec, ctx)
    }

    fn load(params: &Params, _shared: &Shared, spec: &LoadSpec, generator: &mut GenCtx) -> anyhow::Result<()> {
        run::program(params, spec, generator)
    }

    fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
        findings::claims::claims(params, report)
    }

    fn verdicts(_params: &Params, report: &Report) -> Vec<String> {
        findings::verdicts::verdicts(report)
    }

    fn check(_params: &Params, report: &Report) -> Vec<String> {
        findings::checks::check(report)
    }
}
