//! What a case declares: its variants, its sizes, and the tables it measures (rows, columns,
//! the figure each table is judged by, sweeps and their plots).

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    claims::ClaimId,
    figure::{self, Better, Figure, Hist, Measure, Note},
    format::Format,
};

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
    /// Not ours: a peer tool run side by side as an anchor (`b3sum`, `pgbench`).
    Anchor,
}

impl std::fmt::Display for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Model::Sequential => "sequential",
            Model::Threads => "threads",
            Model::Async => "async",
            Model::Hybrid => "hybrid",
            Model::Anchor => "anchor",
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
    /// The framework's claims this case tests.
    pub claims: &'static [ClaimId],
    pub variants: &'static [Variant],
}

impl CaseInfo {
    pub fn variant(&self, name: &str) -> Option<&'static Variant> {
        self.variants.iter().find(|v| v.name == name)
    }

    /// Declaration mistakes a case could make: checked when the binary starts, before any run.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (i, v) in self.variants.iter().enumerate() {
            if self.variants[..i].iter().any(|w| w.name == v.name) {
                problems.push(format!("variant '{}' is declared twice", v.name));
            }
        }
        for (i, c) in self.claims.iter().enumerate() {
            if self.claims[..i].contains(c) {
                problems.push(format!("claim '{c}' is listed twice"));
            }
        }
        problems
    }
}

/// How big a run is. Every case offers all three, so `--preset quick` means the same everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Seconds: what tests and CI use.
    Quick,
    /// About a minute or two on two cores: what the docs quote.
    Default,
    /// As large as the case sensibly goes, for bigger machines.
    Full,
}

impl Preset {
    /// Measured repetitions per row unless `--repeat` or the table says otherwise.
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

/// `value` when it lies in `low..=high`; otherwise the usage error every case gives for an
/// option out of range: `--{option} must be between {low} and {high}, got {value}`.
pub fn in_range<T: PartialOrd + std::fmt::Display + Copy>(
    option: &str,
    value: T,
    low: T,
    high: T,
) -> Result<T, UsageError> {
    if value >= low && value <= high {
        Ok(value)
    } else {
        Err(UsageError::new(format!("--{option} must be between {low} and {high}, got {value}")))
    }
}

/// What one child run of the case needs at most, checked against the machine before
/// anything runs, so that a size that cannot fit is a clear error and not a machine brought
/// to its knees. Each need says what it is for, which the error message repeats.
#[derive(Clone, Debug, Default)]
pub struct Needs {
    pub memory: Vec<(String, u64)>,
    /// What needs the threads, how many, and the stack each reserves.
    pub threads: Option<(String, u64, u64)>,
    pub fds: Option<(String, u64)>,
}

impl Needs {
    pub fn memory(mut self, what: impl Into<String>, bytes: u64) -> Needs {
        self.memory.push((what.into(), bytes));
        self
    }
    /// Threads with the standard library's default 2 MiB stack.
    pub fn threads(self, what: impl Into<String>, threads: u64) -> Needs {
        self.threads_with_stack(what, threads, DEFAULT_STACK)
    }
    /// Threads with a stack of their own size (which only strict overcommit and `ulimit -v`
    /// charge in full).
    pub fn threads_with_stack(mut self, what: impl Into<String>, threads: u64, stack_bytes: u64) -> Needs {
        self.threads = Some((what.into(), threads, stack_bytes));
        self
    }
    pub fn fds(mut self, what: impl Into<String>, fds: u64) -> Needs {
        self.fds = Some((what.into(), fds));
        self
    }
}

/// The stack `std::thread::spawn` gives a thread unless `RUST_MIN_STACK` says otherwise.
pub const DEFAULT_STACK: u64 = 2 << 20;

/// One column of a table: what it shows, how it is headed, whether it shows its spread.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub header: String,
    pub measure: Measure,
    /// Print `median ±spread` rather than the median alone.
    pub spread: bool,
}

impl Column {
    pub fn new(header: impl Into<String>, measure: impl Into<Measure>) -> Self {
        Column { header: header.into(), measure: measure.into(), spread: false }
    }
    /// A figure, headed by its key as a reader would name it.
    pub fn of(figure: Figure) -> Self {
        Column::new(figure::display_name(figure.key), figure)
    }
    pub fn with_spread(mut self) -> Self {
        self.spread = true;
        self
    }
    /// Quantile `q` of the row's histogram merged over its runs (`1.0` is the maximum).
    pub fn quantile(header: impl Into<String>, hist: Hist, q: f64) -> Self {
        Column::new(header, Measure::quantile(hist, q))
    }
    pub fn p50(hist: Hist) -> Self {
        Column::quantile(format!("{} p50", figure::display_name(hist.key)), hist, 0.50)
    }
    pub fn p99(hist: Hist) -> Self {
        Column::quantile(format!("{} p99", figure::display_name(hist.key)), hist, 0.99)
    }
    pub fn p999(hist: Hist) -> Self {
        Column::quantile(format!("{} p99.9", figure::display_name(hist.key)), hist, 0.999)
    }
    pub fn max(hist: Hist) -> Self {
        Column::quantile(format!("{} max", figure::display_name(hist.key)), hist, 1.0)
    }
    /// A note's distinct values with their counts over the runs.
    pub fn note(header: impl Into<String>, note: Note) -> Self {
        Column::new(header, Measure::Note { key: note.key.into() })
    }
    /// Wall time of the measured region, with its spread.
    pub fn wall() -> Self {
        Column::new("wall (median ±MAD)", figure::WALL).with_spread()
    }
    /// How many times better than the baseline on the table's primary measure, run by run.
    pub fn vs_baseline(header: impl Into<String>) -> Self {
        Column::new(header, Measure::VsBaseline)
    }
    /// [`Column::vs_baseline`] headed "speedup", for tables judged by wall time.
    pub fn speedup() -> Self {
        Column::vs_baseline("speedup")
    }
    pub fn cores_busy() -> Self {
        Column::new("cores busy", figure::CORES_BUSY)
    }
    pub fn peak_rss() -> Self {
        Column::new("peak RSS", figure::PEAK_RSS)
    }
    pub fn peak_threads() -> Self {
        Column::new("peak threads", figure::PEAK_THREADS)
    }
    pub fn voluntary_switches() -> Self {
        Column::new("vol. cs", figure::VOLUNTARY_CS)
    }
    pub fn involuntary_switches() -> Self {
        Column::new("invol. cs", figure::INVOLUNTARY_CS)
    }
    /// The standard set for a wall-time comparison.
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
    /// What the load generators used, reported apart from the measured process.
    pub fn load_generator_set() -> Vec<Column> {
        vec![
            Column::new("load gen CPU", figure::LOADGEN_CPU),
            Column::new("load gen cores", figure::LOADGEN_CORES),
            Column::new("load gen RSS", figure::LOADGEN_PEAK_RSS),
        ]
    }
}

/// The measure a table is judged by and which way is better: what its verdict, its
/// baseline comparison and the cross-case summary use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Primary {
    pub measure: Measure,
    pub better: Better,
}

impl Primary {
    pub fn lower(measure: impl Into<Measure>) -> Primary {
        Primary { measure: measure.into(), better: Better::Lower }
    }
    pub fn higher(measure: impl Into<Measure>) -> Primary {
        Primary { measure: measure.into(), better: Better::Higher }
    }
}

impl Default for Primary {
    fn default() -> Primary {
        Primary::lower(figure::WALL)
    }
}

/// A sweep's axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    pub name: String,
    /// Plot the axis on a log scale (in-flight requests 1..4096, clients 10..5000).
    pub log: bool,
}

impl Axis {
    pub fn new(name: impl Into<String>) -> Axis {
        Axis { name: name.into(), log: false }
    }
    pub fn log(mut self) -> Axis {
        self.log = true;
        self
    }
}

/// A plot of a sweep table that `--plots DIR` draws as SVG: one line per variant against
/// the axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlotSpec {
    /// The table's primary measure.
    Primary,
    /// Any measure (a figure, a quantile).
    Measure { measure: Measure, log_y: bool },
    /// p50 and p99 of a histogram, merged over each row's runs.
    Quantiles { hist: String, format: Format },
}

impl PlotSpec {
    pub fn of(measure: impl Into<Measure>) -> PlotSpec {
        PlotSpec::Measure { measure: measure.into(), log_y: false }
    }
    pub fn log_y(measure: impl Into<Measure>) -> PlotSpec {
        PlotSpec::Measure { measure: measure.into(), log_y: true }
    }
    pub fn quantiles(hist: Hist) -> PlotSpec {
        PlotSpec::Quantiles { hist: hist.key.into(), format: hist.format }
    }
}

/// One measured row: a variant at one point of the case's parameter space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Unique within its table; the variant name, plus the sweep value in sweeps.
    pub label: String,
    pub variant: String,
    /// The sweep axis value this row sits at, if the table is a sweep.
    pub axis_value: Option<f64>,
    /// Case-defined: everything the child needs besides the case parameters.
    pub point: serde_json::Value,
    /// Why this row does not run here; a skipped row is reported, never counted as a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

impl Row {
    /// A row whose spec serialises (every case's `RowSpec` does).
    pub fn new(variant: &Variant, spec: impl Serialize) -> Self {
        Row {
            label: variant.name.to_string(),
            variant: variant.name.to_string(),
            axis_value: None,
            point: to_point(spec),
            skipped: None,
        }
    }
    pub fn at(variant: &Variant, axis_value: f64, spec: impl Serialize) -> Self {
        Row {
            label: format!("{} @{}", variant.name, axis_value),
            variant: variant.name.to_string(),
            axis_value: Some(axis_value),
            point: to_point(spec),
            skipped: None,
        }
    }
    /// Marks the row as one that cannot run here, with the reason a reader will see.
    pub fn skip(mut self, reason: impl Into<String>) -> Self {
        self.skipped = Some(reason.into());
        self
    }
}

fn to_point(spec: impl Serialize) -> serde_json::Value {
    serde_json::to_value(spec).expect("a row spec serialises to JSON")
}

/// A group of rows measured and compared together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub id: String,
    pub title: String,
    /// What the figures cover, printed under the table.
    pub note: String,
    /// The sweep axis, when rows differ by `axis_value`.
    pub axis: Option<Axis>,
    pub rows: Vec<Row>,
    /// The variant every row is compared against; in a sweep, at the same axis value (or
    /// its row without an axis value, when it has no row there).
    pub baseline: Option<String>,
    pub columns: Vec<Column>,
    /// What the table is judged by.
    pub primary: Primary,
    /// Whether every row must report the same digest (the variants computed the same answer).
    pub digests_must_agree: bool,
    /// In a sweep whose axis changes the input (a file mix, a dataset size), whether digests
    /// must agree only among rows at the same axis value rather than across the table.
    #[serde(default)]
    pub digests_by_axis: bool,
    /// This table's default number of measured runs (sweeps use fewer); `--repeat` overrides it.
    pub repeat: Option<usize>,
    /// SVG plots `--plots` draws for this table.
    pub plots: Vec<PlotSpec>,
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
            primary: Primary::default(),
            digests_must_agree: true,
            digests_by_axis: false,
            repeat: None,
            plots: Vec::new(),
        }
    }

    /// Sets the baseline to `variant` if any row runs it.
    pub fn baseline_if_present(&mut self, variant: &str) {
        self.baseline = self.rows.iter().any(|r| r.variant == variant).then(|| variant.to_string());
    }

    /// The rows that run.
    pub fn runnable(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.skipped.is_none())
    }
}

/// What a child run is told to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub table: String,
    pub variant: String,
    pub label: String,
    pub axis_value: Option<f64>,
    pub point: serde_json::Value,
}

impl Point {
    /// The case-defined part of the point, decoded.
    pub fn decode<T: DeserializeOwned>(&self) -> anyhow::Result<T> {
        serde_json::from_value(self.point.clone())
            .map_err(|e| anyhow::anyhow!("bad point for {}/{}: {e}", self.table, self.label))
    }
}

/// The tables a run will measure, as `Case::setup` sees them: which variants were selected,
/// and the chance to skip rows that cannot run here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub tables: Vec<Table>,
}

impl Plan {
    /// Whether any table has a row of `variant` that is not skipped.
    pub fn runs_variant(&self, variant: &str) -> bool {
        self.rows().any(|(_, r)| r.skipped.is_none() && r.variant == variant)
    }

    /// Whether any row that is not skipped satisfies `f`.
    pub fn runs_any(&self, f: impl Fn(&Table, &Row) -> bool) -> bool {
        self.rows().any(|(t, r)| r.skipped.is_none() && f(t, r))
    }

    pub fn rows(&self) -> impl Iterator<Item = (&Table, &Row)> {
        self.tables.iter().flat_map(|t| t.rows.iter().map(move |r| (t, r)))
    }

    /// Skips every runnable row for which `f` says so, with `reason`; returns how many.
    pub fn skip_where(&mut self, f: impl Fn(&Table, &Row) -> bool, reason: &str) -> usize {
        let mut skipped = 0;
        for table in &mut self.tables {
            let snapshot = table.clone();
            for row in table.rows.iter_mut().filter(|r| r.skipped.is_none()) {
                if f(&snapshot, row) {
                    row.skipped = Some(reason.to_string());
                    skipped += 1;
                }
            }
        }
        skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Variant = Variant { name: "a", model: Model::Threads, why: "" };
    const B: Variant = Variant { name: "b", model: Model::Async, why: "" };

    #[test]
    fn skip_where_marks_only_matching_runnable_rows() {
        let mut table = Table::new("t", "t");
        table.rows = vec![Row::new(&A, ()), Row::new(&B, ()), Row::new(&B, ()).skip("earlier")];
        let mut plan = Plan { tables: vec![table] };
        assert!(plan.runs_variant("b"));
        assert_eq!(plan.skip_where(|_, r| r.variant == "b", "no b here"), 1);
        assert!(!plan.runs_variant("b"));
        assert_eq!(plan.tables[0].rows[2].skipped.as_deref(), Some("earlier"));
        assert_eq!(plan.tables[0].runnable().count(), 1);
    }

    #[test]
    fn declaration_mistakes_are_found() {
        static TWICE: [Variant; 2] = [A, A];
        let info =
            CaseInfo { name: "x", question: "?", claims: &[ClaimId::AsyncIo, ClaimId::AsyncIo], variants: &TWICE };
        assert_eq!(info.problems().len(), 2);
    }
}
