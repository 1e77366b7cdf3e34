//! # spawn-costs
//!
//! **Question:** what does one unit of concurrency cost, to create, to keep alive and to
//! switch between, and how many can this machine hold?
//!
//! The framework's three levels of unit, plus the tuning people reach for when they want
//! many threads. The variants, and why each exists:
//! - `futures-in-task`: many futures polled by one task through `FuturesUnordered` (what
//!   `join_all` does for large sets): no scheduler work per unit at all, the floor.
//! - `tokio-multi`: `tokio::spawn` on the multi-thread runtime, what `#[tokio::main]` gives,
//!   from a task on a worker (as an accept loop spawns).
//! - `tokio-multi-main`: the same runtime, spawning and lapping the ring from `block_on`, as
//!   `#[tokio::main]`'s own body does: every spawn through the shared injection queue.
//! - `tokio-current`: `tokio::spawn` on a current-thread runtime: tasks without any
//!   cross-thread wake-ups.
//! - `threads`: `std::thread::spawn` with the default stack (2 MiB unless
//!   `RUST_MIN_STACK` says otherwise).
//! - `threads-small-stack`: `thread::Builder::stack_size` (64 KiB by default), the usual
//!   advice for "I need many threads".
//!
//! Four experiments, one table each:
//! - **creation**: spawn N units that park until released, then join them; time per unit
//!   to spawn, to be running, and to join, over several batches in one process.
//! - **residency**: the same N units, parked; resident memory (RSS) and reserved address
//!   space (virtual size) per unit, as the plateau minus the same process's baseline.
//! - **switching**: K units in a ring pass a token M times; time per hand-off. Only the lap
//!   is inside the measured region, so its CPU time and context switches are the hand-offs'.
//! - **capacity**: as many units as the cap allows, all alive at once. For threads the cap
//!   comes from this machine's limits ([`casebook::run::limits`]), computed before anything is
//!   spawned, so the run stops cleanly and names the limit instead of taking the machine
//!   down. Tasks are capped by the preset (2 million by default, since "millions" needs at
//!   least two) or by memory, the machine's or the cgroup's. Sizes of the other tables above
//!   a variant's cap are skipped rows that name the cap.
//!
//! Modules: [`params`] (options, sizes and caps), [`plan`] (the four tables), [`run`] (one
//! run of one row), [`units`] (the units and the experiments, independent of the harness),
//! [`figures`] (what a run records), [`findings`] (one function per claim) and
//! [`accounting`] (the per-run checks and the case's verdicts).

pub mod accounting;
pub mod figures;
pub mod findings;
pub mod params;
pub mod plan;
pub mod run;
pub mod units;

use casebook::{
    Case, CaseInfo, ClaimId, ClaimResult, Ctx, Model, Needs, Point, Preset, Report, Table, UsageError, Variant,
    run::limits::Readings,
};

pub use crate::{
    params::{Args, Params, resolve},
    plan::RowSpec,
};

pub struct SpawnCosts;

pub const FUTURES_IN_TASK: &str = "futures-in-task";
pub const TOKIO_MULTI: &str = "tokio-multi";
pub const TOKIO_MULTI_MAIN: &str = "tokio-multi-main";
pub const TOKIO_CURRENT: &str = "tokio-current";
pub const THREADS: &str = "threads";
pub const THREADS_SMALL_STACK: &str = "threads-small-stack";

pub const CREATION: &str = "creation";
pub const RESIDENCY: &str = "residency";
pub const SWITCHING: &str = "switching";
pub const CAPACITY: &str = "capacity";

impl Case for SpawnCosts {
    type Args = Args;
    type Params = Params;
    type Shared = ();

    const INFO: CaseInfo = CaseInfo {
        name: "spawn-costs",
        question: env!("CARGO_PKG_DESCRIPTION"),
        claims: &[
            ClaimId::ThreadStack,
            ClaimId::TaskLight,
            ClaimId::TaskMillions,
            ClaimId::ThreadSwitch,
            ClaimId::AsyncLowMemory,
        ],
        variants: &[
            Variant {
                name: FUTURES_IN_TASK,
                model: Model::Async,
                why: "futures polled by one task via FuturesUnordered: no scheduler per unit, the floor",
            },
            Variant {
                name: TOKIO_MULTI,
                model: Model::Async,
                why: "tokio::spawn on the multi-thread runtime: what #[tokio::main] gives you, spawning from a task",
            },
            Variant {
                name: TOKIO_MULTI_MAIN,
                model: Model::Async,
                why: "the same, spawning from #[tokio::main]'s body (block_on, no worker): every spawn via the shared queue",
            },
            Variant {
                name: TOKIO_CURRENT,
                model: Model::Async,
                why: "tokio::spawn on a current-thread runtime: tasks with no cross-thread wake-ups",
            },
            Variant { name: THREADS, model: Model::Threads, why: "std::thread::spawn with the default 2 MiB stack" },
            Variant {
                name: THREADS_SMALL_STACK,
                model: Model::Threads,
                why: "thread::Builder::stack_size(64 KiB): the usual tuning for many threads",
            },
        ],
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        resolve(args, preset, &Readings::detect(None))
    }

    fn needs(params: &Params, variants: &[&'static Variant]) -> Needs {
        params.needs(variants)
    }

    fn plan(params: &Params, variants: &[&'static Variant]) -> Vec<Table> {
        plan::tables(params, variants)
    }

    fn run(params: &Params, _shared: &(), point: &Point, ctx: &mut Ctx) -> anyhow::Result<()> {
        run::execute(params, &point.variant, point.decode()?, ctx)
    }

    fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
        findings::claims(params, report)
    }

    fn verdicts(params: &Params, report: &Report) -> Vec<String> {
        accounting::verdicts(params, report)
    }

    fn check(params: &Params, report: &Report) -> Vec<String> {
        accounting::check(params, report)
    }
}
