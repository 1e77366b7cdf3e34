//! The trait a case implements: its options and sizes, its tables, its fixture, one run of
//! one row, its load generator, and the claims it decides from the figures.

use std::path::Path;

use serde::{Serialize, de::DeserializeOwned};

use crate::{
    model::claims::ClaimResult,
    model::{
        plan::{CaseInfo, Needs, Plan, Preset, Table, UsageError},
        variant::VariantSet,
    },
    report::Report,
    run::child::Ctx,
    run::fixture::Setup,
    run::load::{GenCtx, LoadSpec},
};

/// A scenario, implemented in several models, measured by the harness.
pub trait Case: 'static {
    /// The case's own command-line options, shown by `--help` beside the harness's.
    type Args: clap::Args + Clone + std::fmt::Debug;
    /// The resolved sizes, sent to every child run and recorded in the report.
    type Params: Serialize + DeserializeOwned + Clone + std::fmt::Debug;
    /// Typed facts the set-up hands every run and load generator: a URL, a port, a path.
    /// `()` for a case without a fixture.
    type Shared: Serialize + DeserializeOwned + Clone + std::fmt::Debug + Default;
    /// The case's variants: an enum declared with [`crate::variants!`]. `--variants` is
    /// parsed against it, and every row and run carries one.
    type Variant: VariantSet;
    /// What a row needs besides its variant (the step kind, a sweep point's size): built by
    /// [`Case::plan`] into each [`crate::Row`], handed back to [`Case::run`]. `()` for none.
    type Spec: Serialize + DeserializeOwned + Clone + std::fmt::Debug;

    const INFO: CaseInfo;

    /// Turns options plus a preset into sizes; out-of-range options are a [`UsageError`].
    fn params(args: &Self::Args, preset: Preset) -> Result<Self::Params, UsageError>;

    /// What one child run of the selected variants needs at most (memory, threads, file
    /// descriptors), checked against the machine before anything runs: a size that cannot
    /// fit is a usage error naming it. Memory entries add up: declare what one run holds at
    /// once.
    fn needs(_params: &Self::Params, _variants: &[Self::Variant]) -> Needs {
        Needs::default()
    }

    /// The tables to measure, with only the selected variants in them: each row is a
    /// variant and a [`Case::Spec`] ([`crate::Row::new`], [`crate::Row::at`]). A row that
    /// cannot run on this machine is still planned, with [`crate::Row::skip`] and the reason.
    fn plan(params: &Self::Params, variants: &[Self::Variant]) -> Vec<Table>;

    /// Builds what every run shares, once, in the parent, before any run starts. It sees the
    /// plan (set up only what the selected rows need) and may skip rows that cannot run here
    /// ([`Plan::skip_where`]). `dir` is an empty directory of the case's own; children see it
    /// as [`Ctx::fixture`]. Everything the returned [`Setup`] owns is dropped by the harness
    /// on every exit path; a long set-up polls [`crate::interrupted`] and returns early, its
    /// partial work held by guards that clean up as they drop.
    fn setup(_params: &Self::Params, _plan: &mut Plan, _dir: &Path) -> anyhow::Result<Setup<Self::Shared>> {
        Ok(Setup::new(Self::Shared::default()))
    }

    /// Runs one row (its variant and spec) once, in the child process. Work done outside
    /// [`Ctx::measure`] is set-up and is not timed.
    fn run(
        params: &Self::Params,
        shared: &Self::Shared,
        variant: Self::Variant,
        spec: Self::Spec,
        ctx: &mut Ctx,
    ) -> anyhow::Result<()>;

    /// The body of a load generator a run started with [`Ctx::start_load`], in its own
    /// process: set up, `generator.ready()`, `generator.wait_go()`, drive the load, record.
    fn load(
        _params: &Self::Params,
        _shared: &Self::Shared,
        _spec: &LoadSpec,
        _generator: &mut GenCtx,
    ) -> anyhow::Result<()> {
        anyhow::bail!("{} has no load generator", Self::INFO.name)
    }

    /// The framework claims this case tests, each decided from the report's figures.
    fn claims(params: &Self::Params, report: &Report) -> Vec<ClaimResult>;

    /// Case-specific verdict sentences, computed from the figures, beyond the harness's own.
    fn verdicts(_params: &Self::Params, _report: &Report) -> Vec<String> {
        Vec::new()
    }

    /// Correctness checks beyond digest agreement (accounting: nothing lost, nothing leaked
    /// silently). Each returned line is a failure and fails the run.
    fn check(_params: &Self::Params, _report: &Report) -> Vec<String> {
        Vec::new()
    }
}
