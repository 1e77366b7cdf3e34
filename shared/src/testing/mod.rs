//! Synthetic reports for tests: a case's claim rules are tested on figures chosen to hold,
//! to miss, and to straddle the threshold, without running anything. And [`CaseBinary`]: a
//! case's built binary run end to end, with what it left behind. And [`poll`]: waiting, within
//! a deadline, for something a test cannot be told about (a process appearing, a file, a
//! count settling).
//!
//! ```
//! use casebook::{model::figure::WALL, testing::ReportBuilder, CaseInfo, Row, Table, TableId};
//! casebook::variants! {
//!     enum Demo {
//!         A = "a" (Threads): "the only one",
//!     }
//! }
//! static INFO: CaseInfo = CaseInfo { name: "demo", question: "?", claims: &[] };
//! const T: TableId = TableId::new("t");
//! let mut table = Table::new(T, "t");
//! table.rows.push(Row::new(Demo::A, ()));
//! let report = ReportBuilder::new::<Demo>(&INFO, &(), vec![table]).figure(T, Demo::A, WALL, &[1.0, 1.1]).build();
//! assert_eq!(report.median(T, Demo::A, WALL), Some(1.05));
//! ```

mod binary;

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

pub use binary::{BinaryRun, CaseBinary, files_under, processes_with_tmpdir};

use serde::Serialize;

use crate::{
    host::machine::Machine,
    model::figure::{Figure, Hist, Note},
    model::plan::{CaseInfo, Preset, RowKey, Table, TableId},
    model::variant::{VariantInfo, VariantSet},
    report::Report,
    report::record::RunRecord,
    stats::latency,
};

/// Calls `f` every 10 ms until it gives a value and returns that value, or `None` once
/// `within` has passed without one. `f` is called at least once, and once more after the
/// deadline has passed, so a condition that holds by then is never reported as missed.
///
/// ```
/// use std::time::Duration;
/// let mut calls = 0;
/// let third = casebook::testing::poll(Duration::from_secs(5), || {
///     calls += 1;
///     (calls == 3).then_some(calls)
/// });
/// assert_eq!(third, Some(3));
/// ```
pub fn poll<T>(within: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + within;
    loop {
        let late = Instant::now() > deadline;
        if let Some(value) = f() {
            return Some(value);
        }
        if late {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub struct ReportBuilder {
    info: &'static CaseInfo,
    variants: Vec<VariantInfo>,
    params: serde_json::Value,
    tables: Vec<Table>,
    /// Runs by table and row index.
    runs: BTreeMap<(String, usize), Vec<RunRecord>>,
}

impl ReportBuilder {
    /// A report of `info`'s case, whose variants are `V`, with these parameters and tables
    /// (usually the case's own `plan` for all its variants). Rows get runs as figures are
    /// added.
    pub fn new<V: VariantSet>(info: &'static CaseInfo, params: &impl Serialize, tables: Vec<Table>) -> ReportBuilder {
        let params = serde_json::to_value(params).expect("parameters serialise");
        ReportBuilder { info, variants: V::infos(), params, tables, runs: BTreeMap::new() }
    }

    /// The same for a case: `ReportBuilder::of::<MyCase>(&params)` plans every variant.
    pub fn of<C: crate::Case>(params: &C::Params) -> ReportBuilder {
        ReportBuilder::new::<C::Variant>(&C::INFO, params, C::plan(params, C::Variant::ALL))
    }

    fn position(&self, table: TableId, key: RowKey) -> (String, usize) {
        let found = self
            .tables
            .iter()
            .filter(|t| t.is(table))
            .find_map(|t| t.rows.iter().position(|r| r.is(&key)).map(|i| (t.id.clone(), i)));
        found.unwrap_or_else(|| panic!("no row {key} in table {table}: {:?}", self.labels()))
    }

    fn runs_of(&mut self, table: TableId, key: impl Into<RowKey>, n: usize) -> &mut Vec<RunRecord> {
        let position = self.position(table, key.into());
        let runs = self.runs.entry(position).or_default();
        if runs.len() < n {
            runs.resize(n, RunRecord::default());
        }
        runs
    }

    fn labels(&self) -> Vec<String> {
        self.tables.iter().flat_map(|t| t.rows.iter().map(move |r| format!("{}/{}", t.id, r.label))).collect()
    }

    /// Run `i` of the row records `values[i]`.
    pub fn figure(mut self, table: TableId, key: impl Into<RowKey>, figure: Figure, values: &[f64]) -> ReportBuilder {
        let runs = self.runs_of(table, key, values.len());
        for (run, value) in runs.iter_mut().zip(values) {
            run.figures.insert(figure.key.into(), *value);
        }
        self
    }

    /// Run `i` of the row records a histogram of `values[i]`.
    pub fn histogram(mut self, table: TableId, key: impl Into<RowKey>, hist: Hist, values: &[&[u64]]) -> ReportBuilder {
        let runs = self.runs_of(table, key, values.len());
        for (run, recorded) in runs.iter_mut().zip(values) {
            let mut h = latency::histogram_ns();
            for v in *recorded {
                h.saturating_record(*v);
            }
            run.histograms.insert(hist.key.into(), latency::encode(&h).expect("histogram encodes"));
        }
        self
    }

    /// Run `i` of the row records the note `values[i]`.
    pub fn note(mut self, table: TableId, key: impl Into<RowKey>, note: Note, values: &[&str]) -> ReportBuilder {
        let runs = self.runs_of(table, key, values.len());
        for (run, value) in runs.iter_mut().zip(values) {
            run.notes.entry(note.key.into()).or_default().push(value.to_string());
        }
        self
    }

    /// Every run of the row (or `runs` of them, if it has none yet) reports this digest.
    pub fn digest(mut self, table: TableId, key: impl Into<RowKey>, digest: &str, runs: usize) -> ReportBuilder {
        for run in self.runs_of(table, key, runs).iter_mut() {
            run.digest = Some(digest.into());
        }
        self
    }

    /// Marks the row as skipped with `reason`.
    pub fn skip(mut self, table: TableId, key: impl Into<RowKey>, reason: &str) -> ReportBuilder {
        let (id, index) = self.position(table, key.into());
        let table = self.tables.iter_mut().find(|t| t.id == id).expect("the table exists");
        table.rows[index].skipped = Some(reason.into());
        self
    }

    pub fn build(mut self) -> Report {
        let records = self
            .tables
            .iter()
            .map(|t| (0..t.rows.len()).map(|i| self.runs.remove(&(t.id.clone(), i)).unwrap_or_default()).collect())
            .collect();
        let repeat = 5;
        let mut report = Report::build(
            self.info,
            &self.variants,
            Machine::fixed(),
            Preset::Default,
            repeat,
            self.params,
            self.tables,
            records,
        );
        crate::report::verdicts::judge(&mut report);
        report
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::poll;

    #[test]
    fn poll_returns_the_first_value_given() {
        let mut calls = 0;
        let got = poll(Duration::from_secs(60), || {
            calls += 1;
            (calls >= 4).then(|| format!("call {calls}"))
        });
        assert_eq!(got.as_deref(), Some("call 4"));
        assert_eq!(calls, 4, "no call after the value");
    }

    #[test]
    fn poll_gives_up_only_after_a_call_past_the_deadline() {
        let within = Duration::from_millis(50);
        let started = Instant::now();
        let mut last = started;
        let got: Option<()> = poll(within, || {
            last = Instant::now();
            None
        });
        assert_eq!(got, None);
        assert!(last > started + within, "the last call came {:?} in", last - started);
    }
}
