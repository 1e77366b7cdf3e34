//! # parallel-math
//!
//! **Question:** for CPU-bound, embarrassingly parallel work, what do threads, a
//! work-stealing pool and async tasks each give you, and what does running that work on an
//! async runtime cost everything else in the process?
//!
//! Two workloads, both exact so every variant must produce the same digest:
//! - [`mandelbrot`]: rows of wildly different cost, where load balancing matters;
//! - [`nbody`]: a uniform, floating-point heavy all-pairs step, repeated a few times.
//!
//! The variants (all in [`workload`]), and why each exists:
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
//! Every variant runs beside a [`probe`]: a tokio task ticking every millisecond that
//! records how late it wakes. In the async variants it shares the runtime that runs (or
//! hands off) the math; elsewhere it has its own runtime of the same size. Throughput alone
//! hides what CPU work on async workers costs; the probe's lateness shows it.
//!
//! Modules: [`params`] (options, sizes, and what the largest run needs of the machine),
//! [`plan`] (the two workload tables and the granularity sweep), [`run`] (one run: pools,
//! probe, the measured job), [`workload`] (the variants' passes), [`mandelbrot`] and
//! [`nbody`] (the two workloads), [`probe`] (the latency probe), [`figures`] (what a run
//! records) and [`findings`] (one function per claim, and rayon's efficiency).

pub mod figures;
pub mod findings;
pub mod mandelbrot;
pub mod nbody;
pub mod params;
pub mod plan;
pub mod probe;
pub mod run;
pub mod workload;

use casebook::{
    Case, CaseInfo, ClaimId, ClaimResult, Ctx, Model, Needs, Point, Preset, Report, Table, UsageError, Variant,
};

pub use crate::params::{Args, Params, RowSpec, WorkloadKind};
use crate::workload::{
    RAYON, SEQUENTIAL, THREAD_PER_ITEM, THREADS_SHARED_COUNTER, THREADS_STATIC, TOKIO_RAYON, TOKIO_SPAWN,
    TOKIO_SPAWN_BLOCKING, TOKIO_SPAWN_BLOCKING_UNBOUNDED,
};

pub struct ParallelMath;

pub const MANDELBROT_TABLE: &str = "mandelbrot";
pub const NBODY_TABLE: &str = "nbody";
pub const SWEEP_TABLE: &str = "granularity-sweep";

impl Case for ParallelMath {
    type Args = Args;
    type Params = Params;
    type Shared = ();

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
        variants: &[
            Variant { name: SEQUENTIAL, model: Model::Sequential, why: "the baseline: one thread, a plain loop" },
            Variant {
                name: THREADS_STATIC,
                model: Model::Threads,
                why: "scoped threads, one equal chunk per core: the simplest parallel code",
            },
            Variant {
                name: THREADS_SHARED_COUNTER,
                model: Model::Threads,
                why: "scoped threads taking rows from a shared atomic counter: balancing without stealing",
            },
            Variant {
                name: THREAD_PER_ITEM,
                model: Model::Threads,
                why: "a new OS thread per row or body block, every pass: the unpooled anti-pattern",
            },
            Variant {
                name: RAYON,
                model: Model::Threads,
                why: "rayon's work-stealing pool: the expert default for data parallelism",
            },
            Variant {
                name: TOKIO_SPAWN,
                model: Model::Async,
                why: "tokio::spawn per unit with no yield point: tempting in an async codebase",
            },
            Variant {
                name: TOKIO_SPAWN_BLOCKING,
                model: Model::Async,
                why: "spawn_blocking per unit, at most one per core at a time: the framework's advice, done well",
            },
            Variant {
                name: TOKIO_SPAWN_BLOCKING_UNBOUNDED,
                model: Model::Async,
                why: "spawn_blocking for every unit at once: the advice taken literally",
            },
            Variant {
                name: TOKIO_RAYON,
                model: Model::Hybrid,
                why: "async hands the pass to rayon and awaits a oneshot: the recommended hybrid",
            },
        ],
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        params::resolve(args, preset)
    }

    fn needs(params: &Params, variants: &[&'static Variant]) -> Needs {
        params.needs(variants)
    }

    fn plan(params: &Params, variants: &[&'static Variant]) -> Vec<Table> {
        plan::tables(params, variants)
    }

    fn run(params: &Params, _shared: &(), point: &Point, ctx: &mut Ctx) -> anyhow::Result<()> {
        run::execute(params, point.decode()?, &point.variant, ctx)
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
