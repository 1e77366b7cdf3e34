//! The report as data: built from the runs' records, kept as JSON, read by claims, verdicts,
//! renderings and plots. Lookups that a claim needs return [`Missing`] rather than a made-up
//! value when a row or figure was not measured.

pub mod map;
pub mod plot;
pub mod record;
pub mod render;
pub mod snippets;
pub mod sweep;
pub mod verdicts;

use std::collections::BTreeMap;

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    host::machine::Machine,
    model::claims::Outcome,
    model::claims::{ClaimResult, Missing},
    model::figure::{self, Figure, Hist, Measure, Note},
    model::plan::{AxisMark, CaseInfo, Preset, RowKey, Table, TableId},
    model::variant::{Model, VariantInfo},
    report::record::RunRecord,
    stats::latency::{self, Summary},
    stats::rules::Series,
    stats::{Clusters, Stats},
};

/// The JSON format this casebook writes and reads. An older report is refused by name
/// rather than misread.
pub const REPORT_VERSION: u32 = 2;

/// The key under which a row's per-run gain over the baseline is summarised.
pub const VS_BASELINE: &str = "vs_baseline";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub version: u32,
    pub case: String,
    pub question: String,
    /// The machine line's fields.
    pub env: Machine,
    pub preset: Preset,
    pub repeat: usize,
    pub params: serde_json::Value,
    /// The tables, in the order measured, without their figures.
    pub tables: Vec<Table>,
    /// Every row of every table, with each run's raw record and their summary.
    pub rows: Vec<RowReport>,
    pub correctness: Correctness,
    pub verdicts: Vec<String>,
    pub claims: Vec<ClaimResult>,
    /// The CPUs every measured run was pinned to (`--cores`), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<usize>,
    /// The seed the run order was shuffled with (`--order-seed`), if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_seed: Option<u64>,
    /// SVG plots drawn for this report (`--plots`), file names only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plots: Vec<PlotFile>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlotFile {
    pub table: String,
    pub title: String,
    pub file: String,
}

/// One row: a variant at one point, with all of its runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowReport {
    pub table: String,
    pub label: String,
    pub variant: String,
    pub model: Model,
    pub why: String,
    pub axis_value: Option<f64>,
    /// Where the row sits on the sweep axis when it is no number there (unbounded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub axis_mark: Option<AxisMark>,
    /// Why the row did not run here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Why a run of the row failed, when one did (its earlier runs are kept, but nothing
    /// reads them as the row's figures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// The answer every run of this row produced, if they all agree.
    pub digest: Option<String>,
    pub runs: Vec<RunRecord>,
    /// Every figure over the runs.
    pub summary: BTreeMap<String, Stats>,
    /// Every histogram, merged over the runs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub latency: BTreeMap<String, Summary>,
    /// Every note's distinct values, with how many times each was recorded.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<String, BTreeMap<String, usize>>,
    /// Figures whose runs split into two clusters, described for the reader.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Correctness {
    pub ok: bool,
    /// What was checked and what it found, one line each.
    pub lines: Vec<String>,
}

/// Names a table in a lookup: a case's [`TableId`], or a [`Table`] the harness walks.
pub trait TableRef {
    fn id(&self) -> &str;
}

impl TableRef for TableId {
    fn id(&self) -> &str {
        self.as_str()
    }
}

impl TableRef for &Table {
    fn id(&self) -> &str {
        &self.id
    }
}

impl<T: TableRef> TableRef for &T {
    fn id(&self) -> &str {
        (**self).id()
    }
}

/// Every table's rows' measured records: `records[table][row][run]`.
pub type Records = Vec<Vec<Vec<RunRecord>>>;

impl RowReport {
    fn missing(&self, what: &str) -> Missing {
        if let Some(reason) = &self.failed {
            return Missing(format!("{} / {} failed ({reason})", self.table, self.label));
        }
        match &self.skipped {
            Some(reason) => Missing(format!("{} / {} was skipped ({reason})", self.table, self.label)),
            None => Missing(format!("no run of {} / {} recorded {what}", self.table, self.label)),
        }
    }

    pub fn stats(&self, figure: Figure) -> Option<&Stats> {
        self.summary.get(figure.key)
    }

    pub fn median(&self, figure: Figure) -> Option<f64> {
        self.stats(figure).map(|s| s.median)
    }

    /// The figure run by run; missing when no run recorded it.
    pub fn series(&self, figure: Figure) -> Result<Series, Missing> {
        let values: Vec<Option<f64>> = self.runs.iter().map(|r| r.figure(figure)).collect();
        if values.iter().all(Option::is_none) {
            return Err(self.missing(figure.key));
        }
        Ok(Series::new(
            format!("{} {}", self.label, crate::model::figure::display_name(figure.key)),
            figure.format,
            values,
        )
        .from_row(&self.table, &self.label))
    }

    /// Every run's histogram under `hist`, merged.
    pub fn merged(&self, hist: Hist) -> Option<Histogram<u64>> {
        let runs: Vec<Histogram<u64>> = self.runs.iter().filter_map(|r| r.histogram(hist)).collect();
        latency::merge(&runs)
    }

    /// Quantile `q` of the merged histogram (1.0 is the maximum).
    pub fn quantile(&self, hist: Hist, q: f64) -> Option<f64> {
        latency::quantile(&self.merged(hist)?, q)
    }

    /// Quantile `q` of each run's own histogram, run by run: what a rule pairs across rows.
    pub fn quantile_series(&self, hist: Hist, q: f64) -> Result<Series, Missing> {
        let values: Vec<Option<f64>> =
            self.runs.iter().map(|r| r.histogram(hist).and_then(|h| latency::quantile(&h, q))).collect();
        if values.iter().all(Option::is_none) {
            return Err(self.missing(&format!("{} values", hist.key)));
        }
        let label = format!(
            "{} {} {}",
            self.label,
            crate::model::figure::display_name(hist.key),
            crate::model::figure::quantile_name(q)
        );
        Ok(Series::new(label, hist.format, values).from_row(&self.table, &self.label))
    }

    /// A note's distinct values with their counts over every run.
    pub fn note_counts(&self, note: Note) -> Option<&BTreeMap<String, usize>> {
        self.notes.get(note.key)
    }

    /// A yes-or-no fact of each run, for [`crate::stats::rules::every_run`].
    pub fn facts(&self, fact: impl Fn(&RunRecord) -> bool) -> Vec<bool> {
        self.runs.iter().map(fact).collect()
    }

    /// The measure's value in each run (a figure, or a quantile of the run's histogram).
    pub fn run_values(&self, measure: &Measure) -> Vec<Option<f64>> {
        self.runs
            .iter()
            .map(|run| match measure {
                Measure::Figure { key, .. } => run.figures.get(key).copied(),
                Measure::Quantile { hist, q, .. } => run
                    .histograms
                    .get(hist)
                    .and_then(|t| latency::decode(t).ok())
                    .and_then(|h| latency::quantile(&h, *q)),
                Measure::Note { .. } | Measure::VsBaseline => None,
            })
            .collect()
    }

    /// The measure over the whole row: a figure's median, a quantile of the merged histogram.
    pub fn value(&self, measure: &Measure) -> Option<f64> {
        match measure {
            Measure::Figure { key, .. } => self.summary.get(key).map(|s| s.median),
            Measure::Quantile { hist, q, .. } => {
                let runs: Vec<Histogram<u64>> = self
                    .runs
                    .iter()
                    .filter_map(|r| r.histograms.get(hist))
                    .filter_map(|t| latency::decode(t).ok())
                    .collect();
                latency::quantile(&latency::merge(&runs)?, *q)
            }
            Measure::VsBaseline => self.summary.get(VS_BASELINE).map(|s| s.median),
            Measure::Note { .. } => None,
        }
    }
}

impl Report {
    /// Reads a saved report, refusing one written in another format by name.
    pub fn from_json(bytes: &[u8]) -> anyhow::Result<Report> {
        let value: serde_json::Value = serde_json::from_slice(bytes).context("not JSON")?;
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(REPORT_VERSION) => {}
            Some(v) => anyhow::bail!(
                "it is a casebook report of format {v}; this casebook reads format {REPORT_VERSION}: run the case again"
            ),
            None if value.get("case").is_some() => anyhow::bail!(
                "it is a casebook report of format 1 (before harness v2); this casebook reads format {REPORT_VERSION}: run the case again"
            ),
            None => anyhow::bail!("it has no casebook report version"),
        }
        serde_json::from_value(value).context("it does not have a casebook report's shape")
    }

    /// The case's parameters, decoded into the case's own type.
    pub fn params<P: DeserializeOwned>(&self) -> anyhow::Result<P> {
        serde_json::from_value(self.params.clone()).context("the report's parameters do not fit this case")
    }

    pub fn table(&self, table: impl TableRef) -> Option<&Table> {
        self.tables.iter().find(|t| t.id == table.id())
    }

    /// The table a row belongs to.
    pub fn table_of(&self, row: &RowReport) -> Option<&Table> {
        self.tables.iter().find(|t| t.id == row.table)
    }

    /// The rows of one table, in table order, skipped ones included.
    pub fn rows_in(&self, table: impl TableRef) -> impl Iterator<Item = &RowReport> {
        let id = table.id().to_string();
        self.rows.iter().filter(move |r| r.table == id)
    }

    /// The host's steal over every measured run of the report ([`figure::STEAL`]), when the
    /// machine reports it; `None` on bare metal and for reports made before it was recorded.
    pub fn steal(&self) -> Option<Stats> {
        let values: Vec<f64> =
            self.rows.iter().flat_map(|r| &r.runs).filter_map(|run| run.figure(figure::STEAL)).collect();
        Stats::of(&values).filter(|s| s.max > 0.0)
    }

    /// `steal: 0.2% of the CPUs' time in the median run, 3.1% in the worst`, when any run had
    /// some: what a reader needs to tell a slow, shared machine from a slow variant.
    pub fn steal_line(&self) -> Option<String> {
        self.steal().map(|s| {
            format!(
                "the host took {} of the CPUs' time from this machine (steal) in the median measured run long enough to count it, {} in the worst",
                figure::STEAL.format.show(s.median),
                figure::STEAL.format.show(s.max)
            )
        })
    }

    /// The rows of one table that ran: not skipped, not failed, with at least one measured run.
    pub fn ran_in(&self, table: impl TableRef) -> impl Iterator<Item = &RowReport> {
        self.rows_in(table).filter(|r| r.skipped.is_none() && r.failed.is_none() && !r.runs.is_empty())
    }

    /// The row `key` names in `table`, if the plan had it.
    pub fn row(&self, table: impl TableRef, key: impl Into<RowKey>) -> Option<&RowReport> {
        let key = key.into();
        self.rows.iter().find(|r| r.table == table.id() && key.matches(&r.variant, r.axis_value))
    }

    /// A row a claim needs: missing (with why) when `--variants` left it out or it was skipped.
    pub fn need(&self, table: impl TableRef, key: impl Into<RowKey>) -> Result<&RowReport, Missing> {
        let key = key.into();
        let id = table.id();
        let row = self
            .row(&table, key)
            .ok_or_else(|| Missing(format!("needs {key} in the {id} table, which this run did not include")))?;
        if let Some(reason) = &row.failed {
            return Err(Missing(format!("{id} / {key} failed ({reason})")));
        }
        match &row.skipped {
            Some(reason) => Err(Missing(format!("{id} / {key} was skipped ({reason})"))),
            None if row.runs.is_empty() => Err(Missing(format!("{id} / {key} has no measured run"))),
            None => Ok(row),
        }
    }

    /// A figure's summary for one row, if that row was measured.
    pub fn stats(&self, table: impl TableRef, key: impl Into<RowKey>, figure: Figure) -> Option<&Stats> {
        self.row(table, key)?.stats(figure)
    }

    pub fn median(&self, table: impl TableRef, key: impl Into<RowKey>, figure: Figure) -> Option<f64> {
        self.stats(table, key, figure).map(|s| s.median)
    }

    /// A figure of a row, run by run, for the outcome rules.
    pub fn series(&self, table: impl TableRef, key: impl Into<RowKey>, figure: Figure) -> Result<Series, Missing> {
        self.need(table, key)?.series(figure)
    }

    /// A quantile of a row's histogram, run by run, for the outcome rules.
    pub fn quantile_series(
        &self,
        table: impl TableRef,
        key: impl Into<RowKey>,
        hist: Hist,
        q: f64,
    ) -> Result<Series, Missing> {
        self.need(table, key)?.quantile_series(hist, q)
    }

    /// A quantile of a row's histogram merged over its runs.
    pub fn quantile(&self, table: impl TableRef, key: impl Into<RowKey>, hist: Hist, q: f64) -> Option<f64> {
        self.row(table, key)?.quantile(hist, q)
    }

    /// Adds failures found by the case's own checks.
    pub fn add_failures(&mut self, failures: Vec<String>) {
        if !failures.is_empty() {
            self.correctness.ok = false;
            self.correctness.lines.extend(failures.into_iter().map(|f| format!("FAILED: {f}")));
        }
    }

    pub fn claim_counts(&self) -> (usize, usize, usize) {
        let count = |o| self.claims.iter().filter(|c| c.outcome == o).count();
        (count(Outcome::Held), count(Outcome::DidNotHold), count(Outcome::Inconclusive))
    }

    /// Assembles the report from the records: every row's summaries, merged histograms,
    /// notes, gain over its baseline and split runs. The harness's checks and verdicts are
    /// added by [`crate::report::verdicts::judge`], the case's claims by the caller.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        info: &CaseInfo,
        variants: &[VariantInfo],
        env: Machine,
        preset: Preset,
        repeat: usize,
        params: serde_json::Value,
        tables: Vec<Table>,
        records: Records,
    ) -> Report {
        let mut rows = Vec::new();
        for (table, table_records) in tables.iter().zip(records) {
            for (row, runs) in table.rows.iter().zip(table_records) {
                let variant = variants.iter().find(|v| v.name == row.variant);
                let first = runs.first().and_then(|r| r.digest.clone());
                let digest = if runs.iter().all(|r| r.digest == first) { first } else { None };
                rows.push(RowReport {
                    table: table.id.clone(),
                    label: row.label.clone(),
                    variant: row.variant.clone(),
                    model: variant.map(|v| v.model).unwrap_or(Model::Sequential),
                    why: variant.map(|v| v.why.to_string()).unwrap_or_default(),
                    axis_value: row.axis_value,
                    axis_mark: row.axis_mark.clone(),
                    skipped: row.skipped.clone(),
                    failed: row.failed.clone(),
                    digest,
                    summary: summarise(&runs),
                    latency: merge_histograms(&runs),
                    notes: count_notes(&runs),
                    clusters: Vec::new(),
                    runs,
                });
            }
        }
        let mut report = Report {
            version: REPORT_VERSION,
            case: info.name.into(),
            question: info.question.into(),
            env,
            preset,
            repeat,
            params,
            tables,
            rows,
            correctness: Correctness::default(),
            verdicts: Vec::new(),
            claims: Vec::new(),
            order_seed: None,
            cores: None,
            plots: Vec::new(),
        };
        add_baseline_gains(&mut report);
        flag_clusters(&mut report);
        report
    }

    /// The row a row is compared against: the baseline variant's row at the same axis
    /// value; its row without one only when the baseline has no row on the axis at all (a
    /// baseline measured once for a whole sweep). A point the baseline did not run has none:
    /// comparing it with the baseline at another point would mislead.
    pub fn baseline_of<'a>(&'a self, row: &RowReport) -> Option<&'a RowReport> {
        let table = self.table_of(row)?;
        let baseline = table.baseline.as_deref()?;
        let candidates = || self.ran_in(table).filter(move |r| r.variant == baseline);
        let on_axis = candidates().any(|r| r.axis_value.is_some());
        candidates()
            .find(|r| r.axis_value == row.axis_value)
            .or_else(|| if on_axis { None } else { candidates().find(|r| r.axis_value.is_none()) })
    }
}

fn summarise(runs: &[RunRecord]) -> BTreeMap<String, Stats> {
    let mut by_figure: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for run in runs {
        for (key, value) in &run.figures {
            by_figure.entry(key.clone()).or_default().push(*value);
        }
    }
    by_figure.into_iter().filter_map(|(k, v)| Stats::of(&v).map(|s| (k, s))).collect()
}

fn merge_histograms(runs: &[RunRecord]) -> BTreeMap<String, Summary> {
    let mut by_key: BTreeMap<&str, Vec<Histogram<u64>>> = BTreeMap::new();
    for run in runs {
        for (key, text) in &run.histograms {
            if let Ok(h) = latency::decode(text) {
                by_key.entry(key).or_default().push(h);
            }
        }
    }
    by_key.into_iter().filter_map(|(k, hs)| Some((k.to_string(), Summary::of(&latency::merge(&hs)?)?))).collect()
}

fn count_notes(runs: &[RunRecord]) -> BTreeMap<String, BTreeMap<String, usize>> {
    let mut counts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for run in runs {
        for (key, values) in &run.notes {
            for value in values {
                *counts.entry(key.clone()).or_default().entry(value.clone()).or_default() += 1;
            }
        }
    }
    counts
}

/// Each row's gain over its baseline on the table's primary measure, run against run.
fn add_baseline_gains(report: &mut Report) {
    let mut gains = Vec::new();
    for (index, row) in report.rows.iter().enumerate() {
        let Some(table) = report.table_of(row) else { continue };
        let Some(base) = report.baseline_of(row) else { continue };
        let (mine, theirs) = (row.run_values(&table.primary.measure), base.run_values(&table.primary.measure));
        let paired: Vec<f64> = mine
            .iter()
            .zip(&theirs)
            .filter_map(|(a, b)| Some(table.primary.better.gain((*a)?, (*b)?)))
            .filter(|g| g.is_finite())
            .collect();
        if let Some(stats) = Stats::of(&paired) {
            gains.push((index, stats));
        }
    }
    for (index, stats) in gains {
        report.rows[index].summary.insert(VS_BASELINE.into(), stats);
    }
}

/// Flags rows whose primary measure (and wall time) split into two clusters of runs.
fn flag_clusters(report: &mut Report) {
    let mut flags = Vec::new();
    for (index, row) in report.rows.iter().enumerate() {
        let Some(table) = report.table_of(row) else { continue };
        // The primary measure, and wall time when it is another figure: a run that split on
        // both is flagged once, by the figure the table is judged on.
        let wall: Measure = crate::model::figure::WALL.into();
        let mut measures = vec![table.primary.measure.clone()];
        if measures[0] != wall {
            measures.push(wall);
        }
        for measure in measures {
            let values: Vec<f64> = row.run_values(&measure).into_iter().flatten().collect();
            if let Some(split) = Clusters::of(&values) {
                let format = measure.format();
                flags.push((index, format!("{}: {}", measure.name(), split.describe(|v| format.show(v)))));
                break;
            }
        }
    }
    for (index, flag) in flags {
        report.rows[index].clusters.push(flag);
    }
}
