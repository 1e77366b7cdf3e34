//! What a case declares: its variants, its sizes, and the tables it measures (rows, columns,
//! the figure each table is judged by, sweeps and their plots).

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    model::claims::ClaimId,
    model::figure::{self, Better, Figure, Hist, Measure, Note},
    model::format::Format,
    model::variant::VariantSet,
};

/// A case's fixed description.
#[derive(Debug)]
pub struct CaseInfo {
    /// The crate and command name, e.g. `parallel-math`.
    pub name: &'static str,
    /// The one question the case answers.
    pub question: &'static str,
    /// The framework's claims this case tests.
    pub claims: &'static [ClaimId],
}

impl CaseInfo {
    /// Declaration mistakes a case could make: checked when the binary starts, before any run.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
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

/// A point of a sweep that its axis cannot place as a number: an unbounded channel on a
/// capacity axis. Its row has no axis value and carries this instead; a plot draws it past
/// the given end of the axis, with its label as the tick and a marker of its own. (A log
/// axis's zero needs no mark: the plot places values it cannot scale the same way.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AxisMark {
    /// The tick's text, and the end of the row's label: `unbounded`.
    pub label: String,
    pub end: AxisEnd,
}

/// Which end of a sweep axis an [`AxisMark`] sits past.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AxisEnd {
    /// Before the smallest value (left).
    Low,
    /// After the largest value (right).
    High,
}

impl AxisMark {
    /// A mark past the largest value: `AxisMark::high("unbounded")`.
    pub fn high(label: impl Into<String>) -> AxisMark {
        AxisMark { label: label.into(), end: AxisEnd::High }
    }
    /// A mark before the smallest value.
    pub fn low(label: impl Into<String>) -> AxisMark {
        AxisMark { label: label.into(), end: AxisEnd::Low }
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
    /// The distribution of a histogram, p50 to p99.99, one curve per row (in a sweep, the
    /// rows at its largest point): the tail a table's p99 column sums up, drawn whole.
    Percentiles { hist: String, format: Format },
    /// One marker per variant at one point of the sweep: `x` against `y`. Where every curve
    /// against the axis runs together at that point, two measures side by side can still
    /// set the variants apart.
    Scatter { x: Measure, y: Measure, at: SweepPoint },
}

/// The point of a sweep a plot reads.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepPoint {
    /// The rows at this axis value.
    At(f64),
    /// The rows at the largest axis value (or every row, in a table without an axis).
    Largest,
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
    pub fn percentiles(hist: Hist) -> PlotSpec {
        PlotSpec::Percentiles { hist: hist.key.into(), format: hist.format }
    }
    pub fn scatter(x: impl Into<Measure>, y: impl Into<Measure>, at: SweepPoint) -> PlotSpec {
        PlotSpec::Scatter { x: x.into(), y: y.into(), at }
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
    /// Where a row of a sweep sits when its point is no number on the axis (unbounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub axis_mark: Option<AxisMark>,
    /// Case-defined: everything the child needs besides the case parameters.
    pub point: serde_json::Value,
    /// Why this row does not run here; a skipped row is reported, never counted as a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Why a run of this row failed, when one did: the row runs no more, the report keeps
    /// every other row and says what failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

impl Row {
    /// The variant's row, with everything else its run needs in `spec` (the case's
    /// [`crate::Case::Spec`]).
    pub fn new(variant: impl VariantSet, spec: impl Serialize) -> Self {
        Row {
            label: variant.name().to_string(),
            variant: variant.name().to_string(),
            axis_value: None,
            axis_mark: None,
            point: to_point(spec),
            skipped: None,
            failed: None,
        }
    }
    /// The variant's row at `axis_value` on the table's sweep axis.
    pub fn at(variant: impl VariantSet, axis_value: f64, spec: impl Serialize) -> Self {
        Row {
            label: format!("{} @{}", variant.name(), axis_value),
            axis_value: Some(axis_value),
            ..Row::new(variant, spec)
        }
    }
    /// The variant's row at a point of the sweep the axis cannot place as a number, labelled
    /// `<variant> <mark>`. It has no axis value, so a lookup names it by its variant alone.
    pub fn at_mark(variant: impl VariantSet, mark: AxisMark, spec: impl Serialize) -> Self {
        Row { label: format!("{} {}", variant.name(), mark.label), axis_mark: Some(mark), ..Row::new(variant, spec) }
    }
    /// Marks the row as one that cannot run here, with the reason a reader will see.
    pub fn skip(mut self, reason: impl Into<String>) -> Self {
        self.skipped = Some(reason.into());
        self
    }
    /// Whether this is the row [`RowKey`] names.
    pub fn is(&self, key: &RowKey) -> bool {
        key.matches(&self.variant, self.axis_value)
    }
}

/// Names one row of a table for a lookup: a variant (its row off any sweep axis), or a
/// variant at a value of the sweep axis, `(variant, value)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowKey {
    pub variant: &'static str,
    pub axis_value: Option<f64>,
}

impl RowKey {
    pub fn matches(&self, variant: &str, axis_value: Option<f64>) -> bool {
        self.variant == variant && self.axis_value == axis_value
    }
}

impl std::fmt::Display for RowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.axis_value {
            None => f.write_str(self.variant),
            Some(x) => write!(f, "{} @{x}", self.variant),
        }
    }
}

impl<V: VariantSet> From<V> for RowKey {
    fn from(variant: V) -> RowKey {
        RowKey { variant: variant.name(), axis_value: None }
    }
}

impl<V: VariantSet> From<(V, f64)> for RowKey {
    fn from((variant, axis_value): (V, f64)) -> RowKey {
        RowKey { variant: variant.name(), axis_value: Some(axis_value) }
    }
}

/// A table's id, declared once as a constant and used for planning and every lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId(&'static str);

impl TableId {
    pub const fn new(id: &'static str) -> TableId {
        TableId(id)
    }
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for TableId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl PartialEq<TableId> for String {
    fn eq(&self, other: &TableId) -> bool {
        self == other.0
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
    /// Where this sweep sits on a map of two axes, with the other sweeps of that map.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map: Option<MapPlace>,
}

/// A table's place on a map: sweeps of the same axis that share `map`, one per value of a
/// second axis, form a grid whose cells each name a winner ([`crate::report::map`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MapPlace {
    /// The map's id, shared by its tables.
    pub map: String,
    /// The map's second axis: what differs between its tables.
    pub axis: String,
    /// This table's value on it.
    pub value: f64,
    /// The latency quantile printed beside each cell's winner, and compared with the
    /// runner-up's (a winner whose tail is over twice the runner-up's is flagged).
    pub tail: Option<Measure>,
}

impl MapPlace {
    pub fn new(map: &str, axis: &str, value: f64) -> MapPlace {
        MapPlace { map: map.into(), axis: axis.into(), value, tail: None }
    }

    /// Compare the cell's winner and runner-up on this quantile too.
    pub fn with_tail(mut self, tail: impl Into<Measure>) -> MapPlace {
        self.tail = Some(tail.into());
        self
    }
}

impl Table {
    pub fn new(id: TableId, title: impl Into<String>) -> Self {
        Table {
            id: id.as_str().into(),
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
            map: None,
        }
    }

    /// Sets the baseline to `variant` if any row runs it.
    pub fn baseline_if_present(&mut self, variant: impl VariantSet) {
        let name = variant.name();
        self.baseline = self.rows.iter().any(|r| r.variant == name).then(|| name.to_string());
    }

    /// Whether this is the table `id` names.
    pub fn is(&self, id: TableId) -> bool {
        self.id == id.as_str()
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
    pub fn runs_variant(&self, variant: impl VariantSet) -> bool {
        self.rows().any(|(_, r)| r.skipped.is_none() && r.variant == variant.name())
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

    crate::variants! {
        enum Two {
            A = "a" (Threads): "",
            B = "b" (Async): "",
        }
    }
    const T: TableId = TableId::new("t");

    #[test]
    fn skip_where_marks_only_matching_runnable_rows() {
        let mut table = Table::new(T, "t");
        table.rows = vec![Row::new(Two::A, ()), Row::new(Two::B, ()), Row::new(Two::B, ()).skip("earlier")];
        let mut plan = Plan { tables: vec![table] };
        assert!(plan.runs_variant(Two::B));
        assert_eq!(plan.skip_where(|_, r| r.variant == "b", "no b here"), 1);
        assert!(!plan.runs_variant(Two::B));
        assert_eq!(plan.tables[0].rows[2].skipped.as_deref(), Some("earlier"));
        assert_eq!(plan.tables[0].runnable().count(), 1);
    }

    #[test]
    fn declaration_mistakes_are_found() {
        let info = CaseInfo { name: "x", question: "?", claims: &[ClaimId::AsyncIo, ClaimId::AsyncIo] };
        assert_eq!(info.problems().len(), 1);
    }

    #[test]
    fn row_keys_name_a_variant_off_or_on_the_axis() {
        let on = Row::at(Two::A, 16.0, ());
        let off = Row::new(Two::A, ());
        assert!(on.is(&(Two::A, 16.0).into()) && !on.is(&Two::A.into()));
        assert!(off.is(&Two::A.into()) && !off.is(&(Two::A, 16.0).into()));
        assert_eq!(RowKey::from((Two::B, 4.0)).to_string(), "b @4");
    }

    #[test]
    fn a_scatter_keeps_its_point_through_a_saved_report() {
        // `--render` draws a saved report's plots, so a scatter must read back as written.
        let lateness = Measure::quantile(Hist::micros("lateness"), 0.99);
        for at in [SweepPoint::At(1000.0), SweepPoint::Largest] {
            let spec = PlotSpec::scatter(figure::CORES_BUSY, lateness.clone(), at);
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(serde_json::from_str::<PlotSpec>(&json).unwrap(), spec, "{json}");
        }
        let saved = r#"{"kind":"scatter","x":{"kind":"figure","key":"cores_busy","format":"cores"},"y":{"kind":"quantile","hist":"lateness","q":0.99,"format":"micros"},"at":{"at":1000.0}}"#;
        let spec = PlotSpec::scatter(figure::CORES_BUSY, lateness, SweepPoint::At(1000.0));
        assert_eq!(serde_json::from_str::<PlotSpec>(saved).unwrap(), spec);
    }
}
