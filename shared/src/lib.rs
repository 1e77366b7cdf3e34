//! # casebook: the harness every case runs on
//!
//! A case crate describes a scenario (its question, the framework claims it tests, its
//! variants, their parameters, its fixture and its load generator) by implementing
//! [`Case`], and hands control to [`main`]. The harness does everything that must be the
//! same for every case, so that two cases' figures mean the same thing.
//!
//! The modules, in layers (each uses only those above it):
//!
//! - **Figures and the machine.** [`format`]: how numbers print. [`figure`]: typed keys for
//!   what a run records ([`Figure`], [`Hist`], [`Note`]) and the harness's own figures.
//!   [`procfs`], [`machine`]: the process's and the machine's facts.
//! - **Statistics.** [`stats`]: medians, spreads, runs split into clusters. [`latency`]:
//!   HDR histograms stored whole and merged across runs; open-loop schedules.
//! - **Outcome rules and claims.** [`rules`]: the only way figures become held, did not
//!   hold or inconclusive (bootstrap intervals over paired runs). [`claims`]: the
//!   framework's claims by [`ClaimId`], and [`Claim`] to decide one.
//! - **The plan a case declares.** [`plan`]: variants, presets, tables, rows (and skipped
//!   rows), columns, primary measures, sweeps and plots, and what a run needs. [`limits`]:
//!   the caps on threads, descriptors and memory a run is held to, and the check of its
//!   needs against them.
//! - **Records and the report.** [`record`]: one run's raw figures. [`report`]: the report
//!   as data, with lookups that say what is missing. [`sweep`]: best points, knees,
//!   crossovers. [`verdicts`]: the harness's own verdicts. [`render`] and [`plot`]: the
//!   report as text, Markdown and SVG. [`testing`]: synthetic reports for claim tests, and
//!   a case binary run end to end by its tests.
//! - **Running.** [`process`]: process groups, stopping them, Ctrl-C. [`fixture`]: what
//!   a case's set-up owns. [`load`]: load-generator processes. [`child`]: the measured
//!   side, [`Ctx`]. [`runner`]: the parent side, warm-up and interleaved runs.
//! - **The case and the command line.** [`case`]: the [`Case`] trait. The hidden modes a
//!   case binary runs in for the harness (a child run, a load generator), then [`cli`]:
//!   [`main`], the command line and the flow of a whole run.
//!
//! A case never writes a verdict by hand: claims are predicates over the measured figures,
//! and the report prints the figures, the interval and the threshold beside each outcome.

pub mod case;
pub mod child;
pub mod claims;
pub mod cli;
pub mod figure;
pub mod fixture;
pub mod format;
pub mod latency;
pub mod limits;
pub mod load;
pub mod machine;
mod modes;
pub mod plan;
pub mod plot;
pub mod process;
pub mod procfs;
pub mod record;
pub mod render;
pub mod report;
pub mod rules;
pub mod runner;
pub mod stats;
pub mod sweep;
pub mod testing;
pub mod verdicts;

pub use case::Case;
pub use child::Ctx;
pub use claims::{Claim, ClaimId, ClaimResult, Missing};
pub use cli::main;
pub use figure::{Better, Figure, Hist, Measure, Note};
pub use fixture::Setup;
pub use format::Format;
pub use load::{GenCtx, LoadGen, LoadSpec};
pub use plan::{
    Axis, CaseInfo, Column, Model, Needs, Plan, PlotSpec, Point, Preset, Primary, Row, Table, UsageError, Variant,
};
pub use process::interrupted;
pub use report::{Report, RowReport};
pub use rules::{Decision, Outcome, Series};
pub use stats::Stats;

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
