//! # casebook: the harness every case runs on
//!
//! A case crate describes a scenario (its question, the framework claims it tests, its
//! variants, their parameters, its fixture and its load generator) by implementing
//! [`Case`], and hands control to [`main`]. The harness does everything that must be the
//! same for every case, so that two cases' figures mean the same thing.
//!
//! The modules are folders, in layers; each uses only those above it:
//!
//! - [`host`]: this machine and this process, read from the kernel ([`host::machine`],
//!   [`host::procfs`]).
//! - [`model`]: what a case declares and a run records, as types: how numbers print
//!   ([`model::format`]), typed figure keys ([`Figure`], [`Hist`], [`Note`]), the framework's
//!   claims ([`ClaimId`], [`Claim`]), and the plan: variants, presets, tables, rows, columns,
//!   primary measures, sweeps and plots ([`model::plan`]).
//! - [`stats`]: medians and spreads, HDR histograms merged across runs ([`stats::latency`]),
//!   and the outcome rules, the only way figures become held, did not hold or inconclusive
//!   ([`stats::rules`]). No process code.
//! - [`report`]: one run's raw figures ([`report::record`]), the report as data with lookups
//!   that say what is missing, sweep queries ([`report::sweep`]), the harness's own verdicts
//!   ([`report::verdicts`]), and the report as text, Markdown and SVG ([`report::render`],
//!   [`report::plot`]).
//! - [`run`]: process groups and Ctrl-C, the fixture a set-up owns, the caps a run is held
//!   to, the measured child ([`Ctx`]), load generators, and the parent's interleaved runs.
//! - The top: [`case`] (the [`Case`] trait), [`cli`] ([`main`], a case binary's command line
//!   and the flow of a whole run), [`testing`] (synthetic reports for claim tests, a case
//!   binary run end to end) and [`tool`] (the `casebook` command's subcommands).
//!
//! A case never writes a verdict by hand: claims are predicates over the measured figures,
//! and the report prints the figures, the interval and the threshold beside each outcome.

pub mod case;
pub mod cli;
pub mod host;
pub mod model;
pub mod report;
pub mod run;
pub mod stats;
pub mod testing;
pub mod tool;

pub use case::Case;
pub use cli::main;
pub use model::{
    claims::{ClaimId, ClaimResult, Missing, Outcome},
    figure::{Better, Figure, Hist, Measure, Note},
    format::Format,
    plan::{
        Axis, AxisEnd, AxisMark, CaseInfo, Column, Needs, Plan, PlotSpec, Point, Preset, Primary, Row, RowKey, Table,
        TableId, UsageError,
    },
    variant::{Model, VariantInfo, VariantSet},
};
pub use report::{Report, RowReport};
pub use run::{
    child::Ctx,
    fixture::Setup,
    load::{GenCtx, LoadGen, LoadSpec},
    process::interrupted,
};
pub use stats::{
    Stats,
    claim::Claim,
    rules::{Decision, Series},
};

/// What the macros expand to, reachable from every case crate through `$crate`.
#[doc(hidden)]
pub mod __private {
    pub use serde;
}

/// Digest of a sequence of hashable values, for checking that variants agree.
///
/// Digests are only ever compared within one run of one binary, so the standard library's
/// fixed-key SipHash is stable enough and needs no extra crate.
pub fn digest_of<T: std::hash::Hash + ?Sized>(value: &T) -> String {
    use std::hash::Hasher;
    let mut hasher = std::hash::DefaultHasher::new();
    value.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}
