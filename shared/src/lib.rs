//! # casebook: the harness every case runs on
//!
//! A case crate describes a scenario (its question, the framework claims it tests, its
//! variants and their parameters) by implementing [`Case`], and hands control to
//! [`main`]. The harness does everything that must be the same for every case, so that two
//! cases' figures mean the same thing:
//!
//! - [`case`]: what a case declares: [`Variant`]s tagged with a [`Model`], [`Table`]s of
//!   measured rows, [`Preset`] sizes.
//! - [`child`]: the measured side. Every run of a variant happens in a fresh child process
//!   (the case binary re-executed in a hidden mode), so peak memory, thread counts and
//!   allocator state belong to that variant alone. [`Ctx`] times the measured region.
//! - [`runner`]: the parent side: warm-up, interleaved repetitions, per-run timeout,
//!   sampling the child's thread count, Ctrl-C handling, scratch-directory cleanup.
//! - [`stats`]: medians, spreads, and the "too close to call" rule.
//! - [`claims`]: the decision framework's claims by id, and how an outcome is recorded.
//! - [`report`]: the report as data (JSON), as a terminal table and as Markdown.
//! - [`machine`]: the machine line printed beside every figure.
//! - [`procfs`]: small readers of `/proc` and `getrusage` used by the harness and by cases.
//!
//! A case never writes a verdict by hand: claims are predicates over the measured figures,
//! and the report prints the figures and the threshold beside each outcome.

pub mod case;
pub mod child;
pub mod claims;
pub mod cli;
pub mod machine;
pub mod procfs;
pub mod report;
pub mod runner;
pub mod stats;

pub use case::{Case, CaseInfo, Column, Format, Model, Point, Preset, Row, Table, UsageError, Variant};
pub use child::Ctx;
pub use claims::{ClaimResult, Outcome, at_least, at_least_times, combine};
pub use cli::main;
pub use report::{Report, RowReport};
pub use stats::{Comparison, Stats};

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
