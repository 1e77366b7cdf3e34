//! What a case declares: its question, its variants, its sizes and the tables it measures.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{child::Ctx, claims::ClaimResult, report::Report};

/// The concurrency model a variant belongs to: the axis every comparison is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// One thread, no concurrency: the baseline every speedup is measured against.
    Sequential,
    /// OS threads, scheduled preemptively by the kernel.
    Threads,
    /// Tasks or futures, scheduled cooperatively by an async runtime.
    Async,
    /// Async code that hands work to threads (or the reverse).
    Hybrid,
}

impl std::fmt::Display for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Model::Sequential => "sequential",
            Model::Threads => "threads",
            Model::Async => "async",
            Model::Hybrid => "hybrid",
        })
    }
}

/// One way of implementing the case's scenario.
#[derive(Debug)]
pub struct Variant {
    /// The name used on the command line (`--variants`) and in every report.
    pub name: &'static str,
    pub model: Model,
    /// One line: why a real team would consider this variant.
    pub why: &'static str,
}

/// A case's fixed description.
#[derive(Debug)]
pub struct CaseInfo {
    /// The crate and command name, e.g. `parallel-math`.
    pub name: &'static str,
    /// The one question the case answers.
    pub question: &'static str,
    /// Ids from the claims table (`CLAIMS.md`) this case tests.
    pub claims: &'static [&'static str],
    pub variants: &'static [Variant],
}

impl CaseInfo {
    pub fn variant(&self, name: &str) -> Option<&'static Variant> {
        self.variants.iter().find(|v| v.name == name)
    }
}

/// How big a run is. Every case offers all three, so `--quick` means the same everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Seconds: what tests and CI use.
    Quick,
    /// About a minute on two cores: what the docs quote.
    Default,
    /// As large as the case sensibly goes, for bigger machines.
    Full,
}

impl Preset {
    /// Measured repetitions per row unless `--repeat` says otherwise.
    pub fn default_repeat(self) -> usize {
        match self {
            Preset::Quick => 2,
            Preset::Default => 5,
            Preset::Full => 7,
        }
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Preset::Quick => "quick",
            Preset::Default => "default",
            Preset::Full => "full",
        })
    }
}

/// Bad input from the user: reported as one line, exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        UsageError(message.into())
    }
}

/// How a figure is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A figure in seconds, printed with a fitting unit (s, ms, µs, ns).
    Seconds,
    /// A figure in microseconds (latency histograms), printed like [`Format::Seconds`].
    Micros,
    /// Bytes, printed in KiB/MiB/GiB.
    Bytes,
    /// A plain count.
    Count,
    /// A ratio such as a speedup, printed as `3.1x`.
    Ratio,
    /// A number of cores kept busy (CPU time / wall time).
    Cores,
}

/// One column of a table: which figure, how to print it, and whether to show its spread.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub header: String,
    /// The figure's key in each run's record; `speedup` is derived from `wall_s`.
    pub figure: String,
    pub format: Format,
    /// Print `median ±spread` rather than the median alone.
    pub spread: bool,
}

impl Column {
    pub fn new(header: &str, figure: &str, format: Format) -> Self {
        Column { header: header.into(), figure: figure.into(), format, spread: false }
    }
    pub fn with_spread(mut self) -> Self {
        self.spread = true;
        self
    }
    /// Wall time of the measured region, with its spread.
    pub fn wall() -> Self {
        Column::new("wall (median ±MAD)", crate::child::WALL, Format::Seconds).with_spread()
    }
    /// Baseline median wall time over this row's median wall time.
    pub fn speedup() -> Self {
        Column::new("speedup", SPEEDUP, Format::Ratio)
    }
    /// CPU time (user + system, whole process) over wall time, in the measured region.
    pub fn cores_busy() -> Self {
        Column::new("cores busy", crate::child::CORES_BUSY, Format::Cores)
    }
    pub fn peak_rss() -> Self {
        Column::new("peak RSS", crate::child::PEAK_RSS, Format::Bytes)
    }
    pub fn peak_threads() -> Self {
        Column::new("peak threads", crate::runner::PEAK_THREADS, Format::Count)
    }
    pub fn voluntary_switches() -> Self {
        Column::new("vol. cs", crate::child::VOLUNTARY_CS, Format::Count)
    }
    pub fn involuntary_switches() -> Self {
        Column::new("invol. cs", crate::child::INVOLUNTARY_CS, Format::Count)
    }
    /// The standard set for a throughput comparison.
    pub fn throughput_set() -> Vec<Column> {
        vec![
            Column::wall(),
            Column::speedup(),
            Column::cores_busy(),
            Column::peak_rss(),
            Column::peak_threads(),
            Column::voluntary_switches(),
            Column::involuntary_switches(),
        ]
    }
}

/// The derived speedup column's figure key.
pub const SPEEDUP: &str = "speedup";

/// One measured row: a variant at one point of the case's parameter space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Unique within its table; usually the variant name, plus the sweep value in sweeps.
    pub label: String,
    pub variant: String,
    /// The sweep axis value this row sits at, if the table is a sweep.
    pub axis_value: Option<f64>,
    /// Case-defined: everything the child needs besides the case parameters.
    pub point: serde_json::Value,
}

impl Row {
    pub fn new(variant: &Variant, point: serde_json::Value) -> Self {
        Row { label: variant.name.to_string(), variant: variant.name.to_string(), axis_value: None, point }
    }
    pub fn at(variant: &Variant, axis_value: f64, point: serde_json::Value) -> Self {
        Row {
            label: format!("{} @{}", variant.name, axis_value),
            variant: variant.name.to_string(),
            axis_value: Some(axis_value),
            point,
        }
    }
}

/// A group of rows measured and compared together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub id: String,
    pub title: String,
    /// What the figures cover, printed under the table.
    pub note: String,
    /// Name of the sweep axis, when rows differ by `axis_value`.
    pub axis: Option<String>,
    pub rows: Vec<Row>,
    /// The label of the row that speedups are measured against.
    pub baseline: Option<String>,
    pub columns: Vec<Column>,
    /// Whether every row must report the same digest (the variants computed the same answer).
    pub digests_must_agree: bool,
    /// This table's default number of measured runs (sweeps use fewer); `--repeat` overrides it.
    pub repeat: Option<usize>,
}

impl Table {
    pub fn new(id: &str, title: &str) -> Self {
        Table {
            id: id.into(),
            title: title.into(),
            note: String::new(),
            axis: None,
            rows: Vec::new(),
            baseline: None,
            columns: Column::throughput_set(),
            digests_must_agree: true,
            repeat: None,
        }
    }
}

/// What a child run is told to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub table: String,
    pub variant: String,
    pub label: String,
    pub point: serde_json::Value,
}

impl Point {
    /// The case-defined part of the point, decoded.
    pub fn decode<T: DeserializeOwned>(&self) -> anyhow::Result<T> {
        serde_json::from_value(self.point.clone())
            .map_err(|e| anyhow::anyhow!("bad point for {}/{}: {e}", self.table, self.label))
    }
}

/// A scenario, implemented in several models, measured by the harness.
pub trait Case: 'static {
    /// The case's own command-line options, shown by `--help` beside the harness's.
    type Args: clap::Args + Clone + std::fmt::Debug;
    /// The resolved sizes, sent to every child run and recorded in the report.
    type Params: Serialize + DeserializeOwned + Clone + std::fmt::Debug;

    const INFO: CaseInfo;

    /// Turns options plus a preset into sizes; out-of-range options are a [`UsageError`].
    fn params(args: &Self::Args, preset: Preset) -> Result<Self::Params, UsageError>;

    /// Builds inputs shared by every run (files to read, a database to query) once, in the
    /// parent, before any run starts. `fixture` is empty on entry; children see it as
    /// [`Ctx::fixture`], and the harness deletes it when the case ends, however it ends.
    fn setup(_params: &Self::Params, _fixture: &std::path::Path) -> anyhow::Result<()> {
        Ok(())
    }

    /// The tables to measure, with only the selected variants in them.
    fn plan(params: &Self::Params, variants: &[&'static Variant]) -> Vec<Table>;

    /// Runs one row once, in the child process. Work done outside [`Ctx::measure`] is
    /// set-up and is not timed.
    fn run(params: &Self::Params, point: &Point, ctx: &mut Ctx) -> anyhow::Result<()>;

    /// The framework claims this case tests, each decided from the report's figures.
    fn claims(report: &Report) -> Vec<ClaimResult>;

    /// Case-specific verdict sentences, computed from the figures, beyond the harness's own.
    fn verdicts(_report: &Report) -> Vec<String> {
        Vec::new()
    }

    /// Correctness checks beyond digest agreement (accounting: nothing lost, nothing leaked
    /// silently). Each returned line is a failure and fails the run.
    fn check(_report: &Report) -> Vec<String> {
        Vec::new()
    }
}
