//! Synthetic reports for tests: a case's claim rules are tested on figures chosen to hold,
//! to miss, and to straddle the threshold, without running anything. And [`CaseBinary`]: a
//! case's built binary run end to end, with what it left behind.
//!
//! ```
//! use casebook::{figure::WALL, testing::ReportBuilder, CaseInfo, Model, Row, Table, Variant};
//! static VARIANTS: [Variant; 1] = [Variant { name: "a", model: Model::Threads, why: "" }];
//! static INFO: CaseInfo = CaseInfo { name: "demo", question: "?", claims: &[], variants: &VARIANTS };
//! let mut table = Table::new("t", "t");
//! table.rows.push(Row::new(&VARIANTS[0], ()));
//! let report = ReportBuilder::new(&INFO, &(), vec![table]).figure("t", "a", WALL, &[1.0, 1.1]).build();
//! assert_eq!(report.median("t", "a", WALL), Some(1.05));
//! ```

mod binary;

use std::collections::BTreeMap;

pub use binary::{BinaryRun, CaseBinary, files_under, processes_with_tmpdir};

use serde::Serialize;

use crate::{
    figure::{Figure, Hist, Note},
    latency,
    machine::Machine,
    plan::{CaseInfo, Preset, Table},
    record::RunRecord,
    report::Report,
};

pub struct ReportBuilder {
    info: &'static CaseInfo,
    params: serde_json::Value,
    tables: Vec<Table>,
    runs: BTreeMap<(String, String), Vec<RunRecord>>,
}

impl ReportBuilder {
    /// A report of `info`'s case with these parameters and tables (usually the case's own
    /// `plan` for all its variants). Rows get runs as figures are added.
    pub fn new(info: &'static CaseInfo, params: &impl Serialize, tables: Vec<Table>) -> ReportBuilder {
        let params = serde_json::to_value(params).expect("parameters serialise");
        ReportBuilder { info, params, tables, runs: BTreeMap::new() }
    }

    fn runs_of(&mut self, table: &str, label: &str, n: usize) -> &mut Vec<RunRecord> {
        let known = self.tables.iter().any(|t| t.id == table && t.rows.iter().any(|r| r.label == label));
        assert!(known, "no row {label} in table {table}: {:?}", self.labels());
        let runs = self.runs.entry((table.into(), label.into())).or_default();
        if runs.len() < n {
            runs.resize(n, RunRecord::default());
        }
        runs
    }

    fn labels(&self) -> Vec<String> {
        self.tables.iter().flat_map(|t| t.rows.iter().map(move |r| format!("{}/{}", t.id, r.label))).collect()
    }

    /// Run `i` of the row records `values[i]`.
    pub fn figure(mut self, table: &str, label: &str, figure: Figure, values: &[f64]) -> ReportBuilder {
        let runs = self.runs_of(table, label, values.len());
        for (run, value) in runs.iter_mut().zip(values) {
            run.figures.insert(figure.key.into(), *value);
        }
        self
    }

    /// Run `i` of the row records a histogram of `values[i]`.
    pub fn histogram(mut self, table: &str, label: &str, hist: Hist, values: &[&[u64]]) -> ReportBuilder {
        let runs = self.runs_of(table, label, values.len());
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
    pub fn note(mut self, table: &str, label: &str, note: Note, values: &[&str]) -> ReportBuilder {
        let runs = self.runs_of(table, label, values.len());
        for (run, value) in runs.iter_mut().zip(values) {
            run.notes.entry(note.key.into()).or_default().push(value.to_string());
        }
        self
    }

    /// Every run of the row (or `runs` of them, if it has none yet) reports this digest.
    pub fn digest(mut self, table: &str, label: &str, digest: &str, runs: usize) -> ReportBuilder {
        for run in self.runs_of(table, label, runs).iter_mut() {
            run.digest = Some(digest.into());
        }
        self
    }

    /// Marks the row as skipped with `reason`.
    pub fn skip(mut self, table: &str, label: &str, reason: &str) -> ReportBuilder {
        let row =
            self.tables.iter_mut().filter(|t| t.id == table).flat_map(|t| t.rows.iter_mut()).find(|r| r.label == label);
        row.expect("row to skip exists").skipped = Some(reason.into());
        self
    }

    pub fn build(mut self) -> Report {
        let records = self
            .tables
            .iter()
            .map(|t| {
                t.rows.iter().map(|r| self.runs.remove(&(t.id.clone(), r.label.clone())).unwrap_or_default()).collect()
            })
            .collect();
        let repeat = 5;
        let mut report =
            Report::build(self.info, Machine::fixed(), Preset::Default, repeat, self.params, self.tables, records);
        crate::verdicts::judge(&mut report);
        report
    }
}
