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
//! The variants, and why each exists (declared in [`variants`], with how each starts and
//! stops its workers):
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
//! The case's parts, as every case has them: [`variants`], [`tables`] (the two tables),
//! [`params`] (options and sizes), [`run`] (one run: start, stop, read the books),
//! [`figures`] (what a run records) and [`findings`] (the accounting checks, the verdicts
//! and one function per claim, all computed from the figures). The scenario is in
//! [`workers`]: the workers' loops and the ledger that watches them.

pub mod figures;
pub mod findings;
pub mod params;
pub mod run;
pub mod tables;
pub mod variants;
pub mod workers;

use casebook::{Case, CaseInfo, ClaimId, ClaimResult, Ctx, Preset, Report, Table, UsageError};

use crate::{
    params::{Args, Params, Spec},
    variants::Variant,
};

pub struct Cancellation;

impl Case for Cancellation {
    type Args = Args;
    type Params = Params;
    type Shared = ();
    type Variant = Variant;
    type Spec = Spec;

    const INFO: CaseInfo = CaseInfo {
        name: "cancellation",
        question: env!("CARGO_PKG_DESCRIPTION"),
        claims: &[ClaimId::CancelAsyncDrop, ClaimId::CancelThreads, ClaimId::TaskCooperative],
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        params::resolve(args, preset)
    }

    fn plan(params: &Params, variants: &[Variant]) -> Vec<Table> {
        tables::tables(params, variants)
    }

    fn run(params: &Params, _shared: &(), variant: Variant, spec: Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
        run::execute(params, spec.steps, variant, ctx)
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
