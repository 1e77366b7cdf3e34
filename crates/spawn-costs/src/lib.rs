//! # spawn-costs
//!
//! **Question:** what does one unit of concurrency cost, to create, to keep alive and to
//! switch between, and how many can this machine hold?
//!
//! The framework's three levels of unit (futures in one task, tokio tasks on each runtime
//! flavour, OS threads), plus the tuning people reach for when they want many threads (a
//! small stack). The six variants are declared once in [`variants`], each with why it exists
//! (`--list-variants` prints them).
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
//! The case's parts, as every case has them: [`variants`] (the enum, and the kind of unit
//! each spawns), [`tables`] (the four tables), [`params`] (options, sizes and caps), [`run`]
//! (one run of one row), [`figures`] (what a run records) and [`findings`] (the per-run
//! accounting, the verdicts and one function per claim). The scenario is in [`units`]: the
//! units and the experiments, independent of the harness's plan and report. This file holds
//! the docs and `impl Case`, nothing else.

pub mod figures;
pub mod findings;
pub mod params;
pub mod run;
pub mod tables;
pub mod units;
pub mod variants;

use casebook::{
    Case, CaseInfo, ClaimId, ClaimResult, Ctx, Needs, Preset, Report, Table, UsageError, run::limits::Readings,
};

use crate::{
    params::{Args, Params, Spec},
    variants::Variant,
};

pub struct SpawnCosts;

impl Case for SpawnCosts {
    type Args = Args;
    type Params = Params;
    type Shared = ();
    type Variant = Variant;
    type Spec = Spec;

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
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        params::resolve(args, preset, &Readings::detect(None))
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
