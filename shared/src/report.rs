//! The report: built from the records, kept as data (JSON), printed as a terminal table or
//! as Markdown for the docs. All three come from the same [`Report`] value.

use std::collections::BTreeMap;

use comfy_table::{ContentArrangement, Table as TextTable, presets};
use serde::{Deserialize, Serialize};

use crate::{
    case::{CaseInfo, Column, Format, Model, Preset, SPEEDUP, Table},
    child::{RunRecord, WALL},
    claims::{ClaimResult, Outcome},
    machine::Machine,
    runner::Records,
    stats::{Comparison, Stats},
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub case: String,
    pub question: String,
    /// The machine line's fields.
    pub env: Machine,
    pub preset: Preset,
    pub repeat: usize,
    pub params: serde_json::Value,
    /// The tables, in the order measured, without their figures.
    pub tables: Vec<Table>,
    /// Every measured row of every table, with each run's raw figures and their summary.
    pub variants: Vec<RowReport>,
    pub correctness: Correctness,
    pub verdicts: Vec<String>,
    pub claims: Vec<ClaimResult>,
}

/// One row: a variant at one point, with all of its runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowReport {
    pub table: String,
    pub label: String,
    pub name: String,
    pub model: Model,
    pub why: String,
    pub axis_value: Option<f64>,
    /// The answer every run of this row produced, if they all agree.
    pub digest: Option<String>,
    pub runs: Vec<RunRecord>,
    pub summary: BTreeMap<String, Stats>,
}

impl RowReport {
    pub fn stats(&self, figure: &str) -> Option<&Stats> {
        self.summary.get(figure)
    }
    pub fn median(&self, figure: &str) -> Option<f64> {
        self.stats(figure).map(|s| s.median)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Correctness {
    pub ok: bool,
    /// What was checked and what it found, one line each.
    pub lines: Vec<String>,
}

impl Report {
    /// Assembles the report from the records; verdicts and claims are added by the caller.
    pub fn build(
        info: &CaseInfo,
        env: Machine,
        preset: Preset,
        repeat: usize,
        params: serde_json::Value,
        tables: Vec<Table>,
        records: Records,
    ) -> Report {
        let mut variants = Vec::new();
        for (table, table_records) in tables.iter().zip(records) {
            let baseline_wall: Option<f64> = table.baseline.as_ref().and_then(|label| {
                let index = table.rows.iter().position(|r| &r.label == label)?;
                let walls: Vec<f64> =
                    table_records[index].iter().filter_map(|r| r.figures.get(WALL).copied()).collect();
                Stats::of(&walls).map(|s| s.median)
            });
            for (row, runs) in table.rows.iter().zip(table_records) {
                let variant = info.variant(&row.variant);
                let mut summary = summarise(&runs);
                if let Some(base) = baseline_wall {
                    let speedups: Vec<f64> =
                        runs.iter().filter_map(|r| r.figures.get(WALL)).map(|w| base / w).collect();
                    if let Some(mut s) = Stats::of(&speedups) {
                        // The centre is the ratio of medians, so the baseline reads exactly 1.00x
                        // even with an even number of runs; the spread still comes from each run.
                        if let Some(wall) = summary.get(WALL) {
                            s.median = base / wall.median;
                        }
                        summary.insert(SPEEDUP.into(), s);
                    }
                }
                let first = runs.first().and_then(|r| r.digest.clone());
                let digest = if runs.iter().all(|r| r.digest == first) { first } else { None };
                variants.push(RowReport {
                    table: table.id.clone(),
                    label: row.label.clone(),
                    name: row.variant.clone(),
                    model: variant.map(|v| v.model).unwrap_or(Model::Sequential),
                    why: variant.map(|v| v.why.to_string()).unwrap_or_default(),
                    axis_value: row.axis_value,
                    digest,
                    runs,
                    summary,
                });
            }
        }
        let mut report = Report {
            case: info.name.into(),
            question: info.question.into(),
            env,
            preset,
            repeat,
            params,
            tables,
            variants,
            correctness: Correctness::default(),
            verdicts: Vec::new(),
            claims: Vec::new(),
        };
        report.correctness = check_digests(&report);
        report.verdicts = speed_verdicts(&report);
        report
    }

    pub fn table(&self, id: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.id == id)
    }

    /// The rows of one table, in table order.
    pub fn rows<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a RowReport> + 'a {
        self.variants.iter().filter(move |r| r.table == table)
    }

    pub fn row(&self, table: &str, label: &str) -> Option<&RowReport> {
        self.variants.iter().find(|r| r.table == table && r.label == label)
    }

    /// A figure's summary for one row, if that row was measured.
    pub fn stats(&self, table: &str, label: &str, figure: &str) -> Option<&Stats> {
        self.row(table, label)?.stats(figure)
    }

    /// A figure's median for one row, if that row was measured.
    pub fn median(&self, table: &str, label: &str, figure: &str) -> Option<f64> {
        self.stats(table, label, figure).map(|s| s.median)
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

    pub fn to_text(&self) -> String {
        self.render(false)
    }

    pub fn to_markdown(&self) -> String {
        self.render(true)
    }

    fn render(&self, markdown: bool) -> String {
        let mut out = String::new();
        let heading = |level: usize, text: &str| {
            if markdown { format!("{} {text}\n\n", "#".repeat(level + 2)) } else { format!("{text}\n") }
        };
        if markdown {
            out += &format!("**Question:** {}\n\n", self.question);
            out += &format!("**Machine:** {}\n\n", self.env.line());
            out += &format!(
                "**Run:** `{}` preset, {} measured runs per row (unless a table says otherwise) after one warm-up, each in its own process. Parameters: `{}`\n\n",
                self.preset, self.repeat, self.params
            );
        } else {
            out += &format!("casebook: {}\n{}\n\n", self.case, self.question);
            out += &format!("machine: {}\n", self.env.line());
            out += &format!(
                "run: {} preset, {} measured runs per row (unless a table says otherwise) after 1 warm-up, one process per run; params {}\n\n",
                self.preset, self.repeat, self.params
            );
        }
        for table in &self.tables {
            out += &heading(0, &table.title);
            if let Some(runs) = table.repeat.filter(|&r| r != self.repeat) {
                out += &format!("{runs} measured runs per row in this table.\n\n");
            }
            out += &self.render_table(table, markdown);
            out += "\n\n";
            if !table.note.is_empty() {
                out += &format!("{}\n", table.note);
            }
            out += "\n";
        }
        out += &heading(0, "Correctness");
        for line in &self.correctness.lines {
            out += &format!("- {line}\n");
        }
        out += "\n";
        out += &heading(0, "Verdicts");
        for line in &self.verdicts {
            out += &format!("- {line}\n");
        }
        out += "\n";
        out += &heading(0, "Claims");
        if self.claims.is_empty() {
            out += "This case tests no claim of the framework.\n\n";
            return out;
        }
        let mut claims = new_table(markdown);
        claims.set_header(vec!["claim", "outcome", "evidence", "threshold"]);
        for claim in &self.claims {
            let reading = claim.reading.as_ref().map(|r| format!(" (reading: {r})")).unwrap_or_default();
            let id = if markdown {
                format!("`{}`: {}{reading}", claim.id, claim.claim)
            } else {
                format!("{}: {}{reading}", claim.id, claim.claim)
            };
            claims.add_row(vec![id, claim.outcome.to_string(), claim.evidence.clone(), claim.threshold.clone()]);
        }
        out += &claims.to_string();
        out += "\n";
        let (held, not, unsure) = self.claim_counts();
        out += &format!("\n{held} held, {not} did not hold, {unsure} inconclusive.\n");
        out
    }

    fn render_table(&self, table: &Table, markdown: bool) -> String {
        let mut text = new_table(markdown);
        let mut header = vec!["variant".to_string(), "model".to_string()];
        if let Some(axis) = &table.axis {
            header.push(axis.clone());
        }
        header.extend(table.columns.iter().map(|c| c.header.clone()));
        text.set_header(header);
        for row in self.rows(&table.id) {
            let mut cells = vec![row.name.clone(), row.model.to_string()];
            if table.axis.is_some() {
                cells.push(row.axis_value.map(format_count).unwrap_or_default());
            }
            for column in &table.columns {
                cells.push(format_cell(row, column));
            }
            text.add_row(cells);
        }
        text.to_string()
    }
}

fn new_table(markdown: bool) -> TextTable {
    let mut table = TextTable::new();
    if markdown {
        table.load_preset(presets::ASCII_MARKDOWN);
        table.set_content_arrangement(ContentArrangement::Disabled);
    } else {
        table.load_preset(presets::UTF8_FULL_CONDENSED);
        table.set_content_arrangement(ContentArrangement::Dynamic);
        if table.width().is_none() {
            table.set_width(160);
        }
    }
    table
}

fn format_cell(row: &RowReport, column: &Column) -> String {
    let Some(stats) = row.stats(&column.figure) else {
        return "–".into();
    };
    let median = format_value(stats.median, column.format);
    let cell = if column.spread && stats.n > 1 && stats.median != 0.0 {
        format!("{median} ±{:.0}%", 100.0 * stats.mad / stats.median.abs())
    } else {
        median
    };
    // A figure only some runs produced (say, a latency over the workers that did stop) must
    // say how many runs it stands for.
    if stats.n < row.runs.len() { format!("{cell} ({}/{} runs)", stats.n, row.runs.len()) } else { cell }
}

pub fn format_value(value: f64, format: Format) -> String {
    // Differences of noisy figures can come out as a tiny negative; "-0 B" reads as a bug.
    let value = if value.abs() < 1e-12 { 0.0 } else { value };
    match format {
        Format::Seconds => format_seconds(value),
        Format::Micros => format_seconds(value / 1e6),
        Format::Bytes => format_bytes(value),
        Format::Count => format_count(value),
        Format::Ratio => format!("{value:.2}x"),
        Format::Cores => format!("{value:.2}"),
    }
}

pub fn format_seconds(seconds: f64) -> String {
    let abs = seconds.abs();
    if abs >= 1.0 {
        format!("{seconds:.2} s")
    } else if abs >= 1e-3 {
        format!("{:.1} ms", seconds * 1e3)
    } else if abs >= 1e-6 {
        format!("{:.1} µs", seconds * 1e6)
    } else if abs < 0.5e-9 {
        "0 ns".to_string()
    } else {
        format!("{:.0} ns", seconds * 1e9)
    }
}

pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 && value.abs() < 0.5 {
        "0 B".to_string()
    } else if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub fn format_count(value: f64) -> String {
    let abs = value.abs();
    if abs >= 1e6 {
        format!("{:.2}M", value / 1e6)
    } else if abs >= 1e4 {
        format!("{:.1}k", value / 1e3)
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
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

/// Every row of a table whose digests must agree reports one digest, the same for all rows.
fn check_digests(report: &Report) -> Correctness {
    let mut correctness = Correctness { ok: true, lines: Vec::new() };
    for table in report.tables.iter().filter(|t| t.digests_must_agree) {
        match digest_disagreements(report, table) {
            Ok(reference) => correctness.lines.push(format!(
                "{}: all {} rows produced the same answer (digest {reference}) in every run",
                table.id,
                report.rows(&table.id).count()
            )),
            Err(problem) => {
                correctness.ok = false;
                correctness.lines.push(format!("FAILED: {}: {problem}", table.id));
            }
        }
    }
    correctness
}

/// The table's agreed digest, or what disagreed. The reference answer is the baseline's, or
/// the first row's when there is none.
fn digest_disagreements(report: &Report, table: &Table) -> Result<String, String> {
    let rows: Vec<&RowReport> = report.rows(&table.id).collect();
    let inconsistent: Vec<&str> = rows.iter().filter(|r| r.digest.is_none()).map(|r| r.label.as_str()).collect();
    if !inconsistent.is_empty() {
        return Err(format!("no single answer from {} (missing digest, or runs disagreed)", inconsistent.join(", ")));
    }
    let reference = table
        .baseline
        .as_ref()
        .and_then(|b| rows.iter().find(|r| &r.label == b))
        .or(rows.first())
        .and_then(|r| r.digest.clone())
        .unwrap_or_default();
    let wrong: Vec<String> = rows
        .iter()
        .filter(|r| r.digest.as_deref() != Some(reference.as_str()))
        .map(|r| format!("{} = {}", r.label, r.digest.as_deref().unwrap_or("-")))
        .collect();
    if wrong.is_empty() { Ok(reference) } else { Err(format!("expected digest {reference}, but {}", wrong.join(", "))) }
}

/// Who was fastest in each non-sweep table with a wall-time column, and whether the margin
/// over the runner-up survives the spread.
fn speed_verdicts(report: &Report) -> Vec<String> {
    let mut verdicts = Vec::new();
    for table in report.tables.iter().filter(|t| t.axis.is_none() && t.columns.iter().any(|c| c.figure == WALL)) {
        let mut rows: Vec<(&RowReport, &Stats)> =
            report.rows(&table.id).filter_map(|r| r.stats(WALL).map(|s| (r, s))).collect();
        if rows.len() < 2 {
            continue;
        }
        if table.digests_must_agree && digest_disagreements(report, table).is_err() {
            verdicts.push(format!("{}: no speed verdict, because the variants did not agree on the answer.", table.id));
            continue;
        }
        rows.sort_by(|a, b| a.1.median.total_cmp(&b.1.median));
        let (winner, winner_wall) = rows[0];
        let (second, second_wall) = rows[1];
        let (slowest, slowest_wall) = rows[rows.len() - 1];
        let against_baseline = match table.baseline.as_ref().and_then(|b| report.stats(&table.id, b, WALL)) {
            Some(base) if base.median > 0.0 => {
                format!(", {:.2}x the baseline's speed", base.median / winner_wall.median)
            }
            _ => String::new(),
        };
        let margin = Comparison::of(second_wall, winner_wall);
        let runner_up = if margin.separated {
            format!("{} ({}) was {} in every run", second.label, second.model, slower_by(margin.ratio))
        } else {
            format!(
                "{} ({}) is too close to call (ranges overlap, medians {:.0}% apart)",
                second.label,
                second.model,
                (margin.ratio - 1.0) * 100.0
            )
        };
        verdicts.push(format!(
            "{}: fastest was {} ({}) at {}{}; {}; slowest was {} at {:.2}x the winner's time.",
            table.id,
            winner.label,
            winner.model,
            format_seconds(winner_wall.median),
            against_baseline,
            runner_up,
            slowest.label,
            slowest_wall.median / winner_wall.median
        ));
    }
    verdicts
}

/// "12% slower" for small gaps, "3.10x slower" for large ones.
fn slower_by(ratio: f64) -> String {
    if ratio >= 2.0 { format!("{ratio:.2}x slower") } else { format!("{:.0}% slower", (ratio - 1.0) * 100.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_readable() {
        assert_eq!(format_seconds(1.5), "1.50 s");
        assert_eq!(format_seconds(0.0123), "12.3 ms");
        assert_eq!(format_seconds(4.2e-6), "4.2 µs");
        assert_eq!(format_seconds(3e-8), "30 ns");
        assert_eq!(format_seconds(-1e-10), "0 ns");
        assert_eq!(format_bytes(-0.3), "0 B");
        assert_eq!(format_bytes(512.0), "512 B");
        assert_eq!(format_bytes(8.0 * 1024.0 * 1024.0), "8.0 MiB");
        assert_eq!(format_count(12.0), "12");
        assert_eq!(format_count(65_530.0), "65.5k");
        assert_eq!(format_count(1_000_000.0), "1.00M");
    }
}
