//! The report for people: a terminal table or Markdown for the docs, both from the same
//! [`Report`] value.

use comfy_table::{ContentArrangement, Table as TextTable, presets};

use crate::{
    model::figure::Measure,
    model::format::{format_count, format_value},
    model::plan::{Column, Table},
    report::{Report, RowReport, VS_BASELINE},
};

/// How the terminal report is laid out.
#[derive(Clone, Copy, Debug, Default)]
pub struct TextOptions {
    /// The terminal's width: tables leave out columns to fit it, never splitting a name.
    /// `None` prints every column.
    pub width: Option<usize>,
    /// Column notes, and every claim's evidence and threshold in full.
    pub verbose: bool,
}

impl TextOptions {
    /// The width of the terminal on standard output (`COLUMNS` wins), if it is one.
    pub fn for_terminal(verbose: bool) -> TextOptions {
        let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
        TextOptions { width: columns.or_else(terminal_width), verbose }
    }
}

fn terminal_width() -> Option<usize> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    // SAFETY: TIOCGWINSZ writes a winsize into the struct we own.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then_some(size.ws_col as usize)
}

impl Report {
    /// The report for a terminal, every column shown.
    pub fn to_text(&self) -> String {
        self.to_text_with(TextOptions::default())
    }

    /// The report for a terminal: tables fitted to the width, one line per claim, the full
    /// evidence with `verbose`.
    pub fn to_text_with(&self, options: TextOptions) -> String {
        let mut out = format!("casebook: {}\n{}\n\n", self.case, self.question);
        out += &format!("machine: {}\n", self.env.line());
        out += &format!("run: {}\n\n", self.run_line());
        for table in &self.tables {
            out += &format!("{}\n{}\n", table.title, self.runs_line(table));
            let (text, left_out) = self.fitted_table(table, options.width);
            out += &text;
            out += "\n";
            if !left_out.is_empty() {
                out += &format!(
                    "(left out to fit the terminal: {}; --format markdown shows every column)\n",
                    left_out.join(", ")
                );
            }
            if options.verbose && !table.note.is_empty() {
                out += &format!("{}\n", table.note);
            }
            for line in self.table_flags(table) {
                out += &format!("{line}\n");
            }
            out += "\n";
        }
        for map in crate::report::map::maps(self) {
            out += &format!("Map: {} ({} by {}, winner on {})\n", map.id, map.y_axis, map.x_axis, map.measure);
            out += &map.to_markdown();
            for line in map.boundaries() {
                out += &format!("- {line}\n");
            }
            out += "\n";
        }
        out += "Correctness\n";
        for line in &self.correctness.lines {
            out += &format!("- {line}\n");
        }
        out += "\nVerdicts\n";
        for line in &self.verdicts {
            out += &format!("- {line}\n");
        }
        out += "\nClaims\n";
        out += &self.claim_lines(options.verbose);
        if !options.verbose {
            out += "\n(--verbose: column notes, and every claim's evidence and threshold)\n";
        }
        out
    }

    /// The report as Markdown for the book, with plots linked as `../results/<file>`.
    pub fn to_markdown(&self) -> String {
        self.to_markdown_with("../results/")
    }

    /// The report as Markdown, plots linked under `images` (a page's path to the plots'
    /// folder), and an anchor on every table row (`row-<table>-<row>`) for links to it.
    pub fn to_markdown_with(&self, images: &str) -> String {
        let mut out = format!("**Question:** {}\n\n", self.question);
        out += &format!("**Machine:** {}\n\n", self.env.line());
        out += &format!("**Run:** {} Parameters: `{}`\n\n", self.run_line(), self.params);
        for table in &self.tables {
            out += &format!("### {}\n\n{}\n\n", table.title, self.runs_line(table));
            out += &self.render_table(table, true, &[], true);
            out += "\n\n";
            if !table.note.is_empty() {
                out += &format!("{}\n\n", table.note);
            }
            for line in self.table_flags(table) {
                out += &format!("{line}\n\n");
            }
            for plot in self.plots.iter().filter(|p| p.table == table.id) {
                out += &format!("![{}]({images}{})\n\n", plot.title, plot.file);
            }
        }
        for map in crate::report::map::maps(self) {
            out += &format!("### Map: {} ({} by {}, winner on {})\n\n", map.id, map.y_axis, map.x_axis, map.measure);
            out += &map.to_markdown();
            out += "\n";
            for line in map.boundaries() {
                out += &format!("- {line}\n");
            }
            out += "\n";
            for plot in self.plots.iter().filter(|p| p.table == format!("map:{}", map.id)) {
                out += &format!("![{}]({images}{})\n\n", plot.title, plot.file);
            }
        }
        out += "### Correctness\n\n";
        for line in &self.correctness.lines {
            out += &format!("- {line}\n");
        }
        out += "\n### Verdicts\n\n";
        for line in &self.verdicts {
            out += &format!("- {line}\n");
        }
        out += "\n### Claims\n\n";
        out += &self.render_claims(true);
        out
    }

    /// The preset, how rows are run, how gains over a baseline are read, and the host's steal.
    fn run_line(&self) -> String {
        let steal = self.steal_line().map(|line| format!(" During the runs {line}.")).unwrap_or_default();
        format!(
            "`{}` preset; every row gets one warm-up, then the measured runs its table states, each in a process of its own{}.{}{steal}",
            self.preset,
            self.order_note(),
            self.ratio_note()
        )
    }

    /// "5 measured runs per row." as the table really ran them.
    fn runs_line(&self, table: &Table) -> String {
        let planned = table.repeat.unwrap_or(self.repeat);
        let plural = if planned == 1 { "run" } else { "runs" };
        let short: Vec<String> = self
            .rows_in(table)
            .filter(|r| r.skipped.is_none() && r.runs.len() < planned)
            .map(|r| format!("{} {}", r.label, r.runs.len()))
            .collect();
        if short.is_empty() {
            format!("{planned} measured {plural} per row.")
        } else {
            format!("{planned} measured {plural} per row (fewer for: {}).", short.join(", "))
        }
    }

    /// ", each pinned to 1 of the 2 cores (--cores 1)" and ", tables and rows in an order
    /// shuffled by --order-seed 7" when they were.
    fn order_note(&self) -> String {
        let cores = self
            .cores
            .map(|n| format!(", each pinned to {n} of the {} cores (--cores {n})", self.env.logical_cores))
            .unwrap_or_default();
        let order = self
            .order_seed
            .map(|seed| format!(", tables and rows in an order shuffled by --order-seed {seed}"))
            .unwrap_or_default();
        cores + &order
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

    /// One line per claim: its standing, id and reading, and the interval it rests on; with
    /// `verbose`, its evidence and threshold beneath.
    fn claim_lines(&self, verbose: bool) -> String {
        if self.claims.is_empty() {
            return "This case tests no claim of the framework.\n".into();
        }
        let mut out = String::new();
        for claim in &self.claims {
            let reading = claim.reading.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
            let basis = claim.interval.clone().unwrap_or_else(|| claim.evidence.clone());
            out += &format!("- {:<24} {}{reading}: {basis}\n", claim.standing(), claim.id);
            if verbose {
                out += &format!("    evidence: {}\n    threshold: {}\n", claim.evidence, claim.threshold);
            }
        }
        let (held, not, unsure) = self.claim_counts();
        out + &format!("{held} held, {not} did not hold, {unsure} inconclusive.\n")
    }

    /// The table for a terminal of `width` columns: columns are left out from the right
    /// (the primary measure and the gain over the baseline last) until it fits; names are
    /// never split. Returns the headers left out.
    fn fitted_table(&self, table: &Table, width: Option<usize>) -> (String, Vec<String>) {
        let mut dropped: Vec<usize> = Vec::new();
        let keep = |column: &Column| column.measure == table.primary.measure || column.measure == Measure::VsBaseline;
        let mut order: Vec<usize> = (0..table.columns.len()).rev().filter(|i| !keep(&table.columns[*i])).collect();
        order.extend((0..table.columns.len()).rev().filter(|i| keep(&table.columns[*i])));
        loop {
            let text = self.render_table(table, false, &dropped, false);
            let widest = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
            match (width, order.first()) {
                (Some(limit), Some(&next)) if widest > limit && dropped.len() + 1 < table.columns.len() => {
                    dropped.push(next);
                    order.remove(0);
                }
                _ => {
                    let mut left_out: Vec<usize> = dropped.clone();
                    left_out.sort();
                    return (text, left_out.into_iter().map(|i| table.columns[i].header.clone()).collect());
                }
            }
        }
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
                claim.standing(),
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
            self.rows_in(table).filter_map(|r| Some(format!("{} ({})", r.label, r.skipped.as_deref()?))).collect();
        if !skipped.is_empty() {
            lines.push(format!("Skipped here: {}.", skipped.join("; ")));
        }
        let failed: Vec<String> =
            self.rows_in(table).filter_map(|r| Some(format!("{} ({})", r.label, r.failed.as_deref()?))).collect();
        if !failed.is_empty() {
            lines.push(format!("FAILED here: {}.", failed.join("; ")));
        }
        for row in self.rows_in(table) {
            for flag in &row.clusters {
                lines.push(format!(
                    "Runs split into two clusters: {}, {flag}. Look at the runs before trusting its median.",
                    row.label
                ));
            }
        }
        lines
    }

    /// One table as Markdown without row anchors (for quoting it elsewhere), its plots after.
    pub fn table_markdown(&self, table: &Table, images: &str) -> String {
        let mut out = self.render_table(table, true, &[], false);
        for plot in self.plots.iter().filter(|p| p.table == table.id) {
            out += &format!("\n\n![{}]({images}{})", plot.title, plot.file);
        }
        out
    }

    fn render_table(&self, table: &Table, markdown: bool, leave_out: &[usize], anchors: bool) -> String {
        let mut text = new_table(markdown);
        let mut header = vec!["variant".to_string(), "model".to_string()];
        if let Some(axis) = &table.axis {
            header.push(axis.name.clone());
        }
        let shown: Vec<(usize, &Column)> =
            table.columns.iter().enumerate().filter(|(i, _)| !leave_out.contains(i)).collect();
        header.extend(shown.iter().map(|(_, c)| c.header.clone()));
        text.set_header(header);
        for row in self.rows_in(table) {
            // A sweep shows the variant beside its axis value; elsewhere the label says which
            // of a variant's rows this is (it is the variant's name unless a case says more).
            let name = if table.axis.is_some() { &row.variant } else { &row.label };
            let name = if anchors {
                format!("<a id=\"{}\"></a>{name}", row_anchor(&table.id, &row.label))
            } else {
                name.clone()
            };
            let mut cells = vec![name, row.model.to_string()];
            if table.axis.is_some() {
                cells.push(match (row.axis_value, &row.axis_mark) {
                    (Some(x), _) => format_count(x),
                    (None, Some(mark)) => mark.label.clone(),
                    (None, None) => "–".into(),
                });
            }
            for (i, column) in shown.iter().map(|(_, c)| *c).enumerate() {
                cells.push(match (&row.skipped, i) {
                    _ if row.failed.is_some() && i == 0 => "FAILED".into(),
                    _ if row.failed.is_some() => "–".into(),
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

/// The id of a row's anchor in a Markdown page: `row-<table>-<label>`, made of letters,
/// digits and hyphens.
pub fn row_anchor(table: &str, label: &str) -> String {
    format!("row-{}-{}", slug(table), slug(label))
}

/// Lowercase letters, digits and single hyphens: `tokio-spawn @256` is `tokio-spawn-256`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || c == '.' && out.chars().last().is_some_and(|l| l.is_ascii_digit()) {
            out.push(if c == '.' { '_' } else { c });
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

fn new_table(markdown: bool) -> TextTable {
    let mut table = TextTable::new();
    if markdown {
        table.load_preset(presets::ASCII_MARKDOWN);
        table.set_content_arrangement(ContentArrangement::Disabled);
    } else {
        // Cells never wrap: a table that does not fit leaves columns out instead.
        table.load_preset(presets::UTF8_FULL_CONDENSED);
        table.set_content_arrangement(ContentArrangement::Disabled);
    }
    table
}

pub(crate) fn format_cell(row: &RowReport, column: &Column) -> String {
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
    use crate::report::verdicts::tests::report;

    #[test]
    fn each_table_states_the_runs_its_rows_really_had() {
        let mut report = report();
        let markdown = report.to_markdown();
        let run = markdown.lines().find(|l| l.starts_with("**Run:**")).unwrap();
        assert!(run.contains("median of run-by-run ratios") && !run.contains("5 measured"), "{run}");
        // The race ran 3 runs per row, the sweep 2: each table says its own.
        for table in &mut report.tables {
            table.repeat = Some(if table.id == "race" { 3 } else { 2 });
        }
        let markdown = report.to_markdown();
        assert!(markdown.contains("### race\n\n3 measured runs per row."), "{markdown}");
        assert!(markdown.contains("### sweep\n\n2 measured runs per row."), "{markdown}");
        report.tables[0].repeat = Some(5);
        assert!(report.to_markdown().contains("5 measured runs per row (fewer for: seq 3, threads 3, tasks 3)."));
    }

    #[test]
    fn a_narrow_terminal_loses_columns_not_names() {
        let report = report();
        let wide = report.to_text_with(super::TextOptions { width: None, verbose: false });
        let narrow = report.to_text_with(super::TextOptions { width: Some(60), verbose: false });
        let widest = |text: &str| text.lines().filter(|l| l.starts_with('│')).map(|l| l.chars().count()).max().unwrap();
        assert!(widest(&narrow) <= 60 && widest(&wide) > 60, "{narrow}");
        assert!(narrow.contains("left out to fit the terminal"), "{narrow}");
        for name in ["seq", "threads", "tasks"] {
            assert!(narrow.lines().any(|l| l.starts_with("│ ") && l.contains(&format!(" {name} "))), "{narrow}");
        }
        // The table's primary measure and the gain stay longest.
        assert!(narrow.contains("speedup"), "{narrow}");
    }

    #[test]
    fn claims_are_one_line_each_unless_verbose() {
        let mut report = report();
        report.claims = vec![crate::Claim::new(crate::ClaimId::ThreadsCpu).decide(|| {
            let a = crate::Series::of("a", crate::Format::Ratio, &[2.0, 2.1, 1.9, 2.0, 2.2]);
            Ok(crate::stats::rules::at_least(&a, 1.5))
        })];
        let text = report.to_text_with(super::TextOptions { width: Some(100), verbose: false });
        let claims: Vec<&str> =
            text.split("Claims\n").nth(1).unwrap().lines().filter(|l| l.starts_with("- ")).collect();
        assert_eq!(claims.len(), 1);
        assert!(claims[0].contains("held") && claims[0].contains("threads-cpu") && claims[0].contains("5 runs"));
        assert!(!text.contains("threshold:"));
        let verbose = report.to_text_with(super::TextOptions { width: Some(100), verbose: true });
        assert!(verbose.contains("    threshold: held if a is at least"), "{verbose}");
    }
}
