//! The report for people: a terminal table or Markdown for the docs, both from the same
//! [`Report`] value.

use comfy_table::{ContentArrangement, Table as TextTable, presets};

use crate::{
    figure::Measure,
    format::{format_count, format_value},
    plan::{Column, Table},
    report::{Report, RowReport, VS_BASELINE},
};

impl Report {
    pub fn to_text(&self) -> String {
        self.render(false)
    }

    pub fn to_markdown(&self) -> String {
        self.render(true)
    }

    /// "5 measured runs per row", unless no table uses the run's default count.
    fn runs_per_row(&self) -> String {
        let overridden = |t: &crate::plan::Table| t.repeat.is_some_and(|r| r != self.repeat);
        if !self.tables.is_empty() && self.tables.iter().all(overridden) {
            "measured runs per row as each table says".into()
        } else {
            format!("{} measured runs per row (unless a table says otherwise)", self.repeat)
        }
    }

    /// How a gain over a baseline is read, when some table shows one.
    fn ratio_note(&self) -> &'static str {
        let shown = self.tables.iter().any(|t| t.columns.iter().any(|c| c.measure == Measure::VsBaseline));
        if shown {
            " A gain over a baseline (speedup, vs ...) is the median of run-by-run ratios, each run paired with the baseline's run of the same round; the verdicts' sentences compare medians."
        } else {
            ""
        }
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
                "**Run:** `{}` preset, {} after one warm-up, each in its own process.{} Parameters: `{}`\n\n",
                self.preset,
                self.runs_per_row(),
                self.ratio_note(),
                self.params
            );
        } else {
            out += &format!("casebook: {}\n{}\n\n", self.case, self.question);
            out += &format!("machine: {}\n", self.env.line());
            out += &format!(
                "run: {} preset, {} after 1 warm-up, one process per run;{} params {}\n\n",
                self.preset,
                self.runs_per_row(),
                self.ratio_note(),
                self.params
            );
        }
        for table in &self.tables {
            out += &heading(0, &table.title);
            if let Some(runs) = table.repeat.filter(|&r| r != self.repeat) {
                let plural = if runs == 1 { "run" } else { "runs" };
                out += &format!("{runs} measured {plural} per row in this table.\n\n");
            }
            out += &self.render_table(table, markdown);
            out += "\n\n";
            if !table.note.is_empty() {
                out += &format!("{}\n\n", table.note);
            }
            for line in self.table_flags(table) {
                out += &format!("{line}\n\n");
            }
            if markdown {
                for plot in self.plots.iter().filter(|p| p.table == table.id) {
                    // Results pages are included into docs/src/cases/*.md, one folder over.
                    out += &format!("![{}](../results/{})\n\n", plot.title, plot.file);
                }
            }
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
        out += &self.render_claims(markdown);
        out
    }

    fn render_claims(&self, markdown: bool) -> String {
        if self.claims.is_empty() {
            return "This case tests no claim of the framework.\n\n".into();
        }
        let mut claims = new_table(markdown);
        claims.set_header(vec!["claim", "outcome", "interval", "evidence", "threshold"]);
        for claim in &self.claims {
            let reading = claim.reading.as_ref().map(|r| format!(" (reading: {r})")).unwrap_or_default();
            let id = if markdown {
                format!("`{}`: {}{reading}", claim.id, claim.claim)
            } else {
                format!("{}: {}{reading}", claim.id, claim.claim)
            };
            claims.add_row(vec![
                id,
                claim.outcome.to_string(),
                claim.interval.clone().unwrap_or_else(|| "–".into()),
                claim.evidence.clone(),
                claim.threshold.clone(),
            ]);
        }
        let (held, not, unsure) = self.claim_counts();
        format!("{claims}\n\n{held} held, {not} did not hold, {unsure} inconclusive.\n")
    }

    /// Lines under a table: the rows skipped here, and rows whose runs split in two.
    fn table_flags(&self, table: &Table) -> Vec<String> {
        let mut lines = Vec::new();
        let skipped: Vec<String> =
            self.rows_in(&table.id).filter_map(|r| Some(format!("{} ({})", r.label, r.skipped.as_deref()?))).collect();
        if !skipped.is_empty() {
            lines.push(format!("Skipped here: {}.", skipped.join("; ")));
        }
        for row in self.rows_in(&table.id) {
            for flag in &row.clusters {
                lines.push(format!(
                    "Runs split into two clusters: {}, {flag}. Look at the runs before trusting its median.",
                    row.label
                ));
            }
        }
        lines
    }

    fn render_table(&self, table: &Table, markdown: bool) -> String {
        let mut text = new_table(markdown);
        let mut header = vec!["variant".to_string(), "model".to_string()];
        if let Some(axis) = &table.axis {
            header.push(axis.name.clone());
        }
        header.extend(table.columns.iter().map(|c| c.header.clone()));
        text.set_header(header);
        for row in self.rows_in(&table.id) {
            // A sweep shows the variant beside its axis value; elsewhere the label says which
            // of a variant's rows this is (it is the variant's name unless a case says more).
            let name = if table.axis.is_some() { &row.variant } else { &row.label };
            let mut cells = vec![name.clone(), row.model.to_string()];
            if table.axis.is_some() {
                cells.push(row.axis_value.map(format_count).unwrap_or_else(|| "–".into()));
            }
            for (i, column) in table.columns.iter().enumerate() {
                cells.push(match (&row.skipped, i) {
                    (Some(_), 0) => "skipped".into(),
                    (Some(_), _) => "–".into(),
                    (None, _) => format_cell(row, column),
                });
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
    match &column.measure {
        Measure::Figure { key, format } => match row.summary.get(key) {
            None => "–".into(),
            Some(stats) => {
                let median = format_value(stats.median, *format);
                let cell = if column.spread && stats.n > 1 && stats.median != 0.0 {
                    format!("{median} ±{:.0}%", 100.0 * stats.mad / stats.median.abs())
                } else {
                    median
                };
                // A figure only some runs produced must say how many runs it stands for.
                if stats.n < row.runs.len() { format!("{cell} ({}/{} runs)", stats.n, row.runs.len()) } else { cell }
            }
        },
        Measure::Quantile { format, .. } => {
            row.value(&column.measure).map(|v| format_value(v, *format)).unwrap_or_else(|| "–".into())
        }
        Measure::VsBaseline => {
            row.summary.get(VS_BASELINE).map(|s| format!("{:.2}x", s.median)).unwrap_or_else(|| "–".into())
        }
        Measure::Note { key } => match row.notes.get(key) {
            None => "–".into(),
            Some(counts) => counts.iter().map(|(value, n)| format!("{value} ×{n}")).collect::<Vec<_>>().join(", "),
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::verdicts::tests::report;

    #[test]
    fn the_run_line_says_how_many_runs_and_how_gains_are_read() {
        let mut report = report();
        let line = |r: &crate::Report| r.to_markdown().lines().find(|l| l.starts_with("**Run:**")).unwrap().to_string();
        assert!(line(&report).contains("5 measured runs per row (unless a table says otherwise)"), "{}", line(&report));
        assert!(line(&report).contains("median of run-by-run ratios"), "{}", line(&report));
        // Every table has its own count: the run's default is not claimed for any row.
        for table in &mut report.tables {
            table.repeat = Some(3);
        }
        assert!(line(&report).contains("measured runs per row as each table says"), "{}", line(&report));
    }
}
