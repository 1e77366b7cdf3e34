//! # cancellation
//!
//! **Question:** when you need to stop concurrent work, what actually stops, how fast, and
//! what gets cleaned up?
//!
//! N workers (1,000 by default) each loop over small steps while holding a guard: a temp
//! file, created before the worker starts, that the guard's `Drop` removes. After a short
//! warm-up the run asks all of them to stop, the way each variant would, and then watches
//! from the outside: when each guard is dropped (the cancel latency), how many steps ran
//! after the request, and, at a deadline, which workers are still running and which temp
//! files are still on disk. Nothing is timed from the variant's own say-so.
//!
//! Two tables, because what stops a worker depends on what it is doing:
//! - **IO-like steps**: each step waits 1 ms (a tokio timer in tasks, a blocking sleep or
//!   wait in threads).
//! - **CPU-like steps**: each step is about 16 µs of arithmetic (reference machine) with no await
//!   inside.
//!
//! The variants (in [`variants`]; the workers' loops are in [`workers`]), and why each exists:
//! - `drop-joinhandle`: drop the tokio `JoinHandle`s, exactly as the framework's example does.
//!   Dropping a handle detaches its task; this variant exists to show that it keeps running.
//! - `abort`: `JoinHandle::abort` on every task. With IO steps it is the standard tool; with
//!   CPU steps and no await in the loop it shows what abort cannot do.
//! - `abort-yield` (CPU only): the same CPU loop with `tokio::task::yield_now()` between
//!   steps, the honest fix.
//! - `joinset-drop`: tasks owned by a `JoinSet`, stopped by dropping the set.
//! - `token`: a `CancellationToken` raced with `select!` in every step (IO), or checked
//!   between steps (CPU), with a `TaskTracker` awaited (up to the deadline) for the shutdown.
//! - `drop-future`: no task per worker; one task drives every worker's future and `select!`
//!   drops them all when a stop signal arrives: a dropped future, not a dropped handle.
//! - `spawn-blocking-abort`: blocking loops on tokio's blocking pool, then `abort`: what
//!   happens to thread-backed work when async code tries to cancel it.
//! - `thread-flag`: one OS thread per worker polling an `AtomicBool` between steps.
//! - `thread-signal` (IO only): one OS thread per worker, each step a `park_timeout`; the stop
//!   sets a flag and unparks every thread, so it wakes a blocked thread instead of waiting for
//!   its step to end.
//!
//! Modules: [`params`] (options and sizes), [`plan`] (the two tables), [`run`] (one run:
//! start, stop, read the books), [`variants`] (how each model starts and stops its workers),
//! [`workers`] (the workers' loops), [`ledger`] (the books every run keeps, separately from
//! the variants), [`figures`] (what a run records), and [`findings`] (the accounting checks,
//! the verdicts and one function per claim, all computed from the figures).

pub mod figures;
pub mod findings;
pub mod ledger;
pub mod params;
pub mod plan;
pub mod run;
pub mod variants;
pub mod workers;

use casebook::{Case, CaseInfo, ClaimId, ClaimResult, Ctx, Model, Point, Preset, Report, Table, UsageError, Variant};

pub use crate::params::{Args, Params, RowSpec, Steps};
use crate::variants::{
    ABORT, ABORT_YIELD, DROP_FUTURE, DROP_JOINHANDLE, JOINSET_DROP, SPAWN_BLOCKING_ABORT, THREAD_FLAG, THREAD_SIGNAL,
    TOKEN,
};

pub struct Cancellation;

pub const IO_TABLE: &str = "io";
pub const CPU_TABLE: &str = "cpu";

impl Case for Cancellation {
    type Args = Args;
    type Params = Params;
    type Shared = ();

    const INFO: CaseInfo = CaseInfo {
        name: "cancellation",
        question: env!("CARGO_PKG_DESCRIPTION"),
        claims: &[ClaimId::CancelAsyncDrop, ClaimId::CancelThreads, ClaimId::TaskCooperative],
        variants: &[
            Variant {
                name: DROP_JOINHANDLE,
                model: Model::Async,
                why: "drop the JoinHandle, as the framework's example does: it detaches the task",
            },
            Variant {
                name: ABORT,
                model: Model::Async,
                why: "JoinHandle::abort on every task: the standard way to stop a spawned task",
            },
            Variant {
                name: ABORT_YIELD,
                model: Model::Async,
                why: "CPU steps with yield_now between them, then abort: the fix for CPU loops",
            },
            Variant {
                name: JOINSET_DROP,
                model: Model::Async,
                why: "tasks owned by a JoinSet, stopped by dropping the set",
            },
            Variant {
                name: TOKEN,
                model: Model::Async,
                why: "a CancellationToken watched in every step: cooperative, graceful shutdown",
            },
            Variant {
                name: DROP_FUTURE,
                model: Model::Async,
                why: "unspawned futures dropped by select!: what 'dropping cancels' really means",
            },
            Variant {
                name: SPAWN_BLOCKING_ABORT,
                model: Model::Hybrid,
                why: "blocking loops on spawn_blocking, then abort: async trying to cancel a thread",
            },
            Variant {
                name: THREAD_FLAG,
                model: Model::Threads,
                why: "an OS thread per worker polling an AtomicBool between steps",
            },
            Variant {
                name: THREAD_SIGNAL,
                model: Model::Threads,
                why: "an OS thread per worker parked between steps, woken at once by the stop's unpark",
            },
        ],
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        params::resolve(args, preset)
    }

    fn plan(params: &Params, variants: &[&'static Variant]) -> Vec<Table> {
        plan::tables(params, variants)
    }

    fn run(params: &Params, _shared: &(), point: &Point, ctx: &mut Ctx) -> anyhow::Result<()> {
        let spec: RowSpec = point.decode()?;
        run::execute(params, spec.steps, &point.variant, ctx)
    }

    fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
        findings::claims(params, report)
    }

    fn verdicts(params: &Params, report: &Report) -> Vec<String> {
        findings::verdicts(params, report)
    }

    fn check(_params: &Params, report: &Report) -> Vec<String> {
        findings::check(report)
    }
}
