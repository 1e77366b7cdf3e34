//! # parallel-math
//!
//! **Question:** for CPU-bound, embarrassingly parallel work, what do threads, a
//! work-stealing pool and async tasks each give you, and what does running that work on an
//! async runtime cost everything else in the process?
//!
//! Two workloads, both exact so every variant must produce the same digest:
//! - [`workloads::mandelbrot`]: rows of wildly different cost, where load balancing matters;
//! - [`workloads::nbody`]: a uniform, floating-point heavy all-pairs step, repeated a few times.
//!
//! The variants (declared in [`variants`], with the pass each one is), and why each exists:
//! - `sequential`: the baseline every speedup is measured against.
//! - `threads-static`: `std::thread::scope`, one equal chunk per core: the simplest parallel
//!   code, and the one that suffers when rows differ in cost.
//! - `threads-shared-counter`: scoped threads, one per core, taking the next row from a
//!   shared atomic counter: dynamic balancing without a pool or stealing, the control for
//!   what rayon's work stealing adds.
//! - `thread-per-item`: a fresh OS thread per row or body block, every pass: what "pool
//!   threads for repeated CPU work" warns against.
//! - `rayon`: `par_chunks_mut` on rayon's work-stealing pool: the default a Rust expert
//!   reaches for.
//! - `tokio-spawn`: one `tokio::spawn` per unit with no yield point: the tempting
//!   anti-pattern when a codebase is already async.
//! - `tokio-spawn-blocking`: the same units through `spawn_blocking`, the framework's advice,
//!   with a semaphore so at most one unit per core is on the blocking pool at a time.
//! - `tokio-spawn-blocking-unbounded`: the advice taken literally, every unit handed to
//!   `spawn_blocking` at once, which grows the blocking pool towards 512 threads.
//! - `tokio-rayon`: async code hands the pass to rayon and awaits a oneshot: the hybrid.
//!
//! Every variant runs beside a [`workloads::probe`]: a tokio task ticking every millisecond that
//! records how late it wakes. In the async variants it shares the runtime that runs (or
//! hands off) the math; elsewhere it has its own runtime of the same size. Throughput alone
//! hides what CPU work on async workers costs; the probe's lateness shows it.
//!
//! The case's parts, as every case has them: [`variants`] (the enum, and the pass each
//! variant is), [`tables`] (the two workload tables and the granularity sweep), [`params`]
//! (options, sizes, and what the largest run needs of the machine), [`run`] (one run: pools,
//! probe, the measured job), [`figures`] (what a run records) and [`findings`] (one function
//! per claim, and rayon's efficiency). The scenario is in [`workloads`]: the two workloads
//! and the latency probe. This file holds the docs and `impl Case`, nothing else.

pub mod figures;
pub mod findings;
pub mod params;
pub mod run;
pub mod tables;
pub mod variants;
pub mod workloads;

use casebook::{Case, CaseInfo, ClaimId, ClaimResult, Ctx, Needs, Preset, Report, Table, UsageError};

use crate::{
    params::{Args, Params, Spec},
    variants::Variant,
};

pub struct ParallelMath;

impl Case for ParallelMath {
    type Args = Args;
    type Params = Params;
    type Shared = ();
    type Variant = Variant;
    type Spec = Spec;

    const INFO: CaseInfo = CaseInfo {
        name: "parallel-math",
        question: env!("CARGO_PKG_DESCRIPTION"),
        claims: &[
            ClaimId::ThreadParallel,
            ClaimId::ThreadsCpu,
            ClaimId::WorkStealing,
            ClaimId::PoolThreads,
            ClaimId::NoCpuAsync,
            ClaimId::SpawnBlocking,
            ClaimId::TaskCooperative,
        ],
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        params::resolve(args, preset)
    }

    fn needs(params: &Params, variants: &[Variant]) -> Needs {
        params.needs(variants)
    }

    fn plan(params: &Params, variants: &[Variant]) -> Vec<Table> {
        tables::tables(params, variants)
    }

    fn run(params: &Params, _shared: &(), variant: Variant, spec: Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
        run::execute(params, variant, spec, ctx)
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
