//! `casebook compare A B`: two sets of reports (two directories, or two files) side by side,
//! as a reader with another machine needs them: for every claim reading, the outcome on each
//! side with what it rests on, flips marked; for every table, who won on each side and how
//! the rows that match compare; each side's machine, preset, commit and runs at the top.
//! Reports of different commits or presets are compared with a warning, not refused.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use crate::{
    model::{
        claims::{ClaimResult, MIN_RUNS, Outcome},
        format::Format,
    },
    report::{Report, RowReport},
    stats::median,
};

/// One side of a comparison: its name (the path given) and its reports by case.
pub struct Side {
    pub name: String,
    pub reports: BTreeMap<String, Report>,
}

impl Side {
    /// Reads every report in a directory, or the one file given.
    pub fn load(path: &Path) -> anyhow::Result<Side> {
        if !path.exists() {
            // `just run` files reports under cargo's target directory, which the environment
            // may have moved.
            let moved = std::env::var_os("CARGO_TARGET_DIR")
                .filter(|_| path.ends_with("target/casebook"))
                .map(|dir| {
                    format!(
                        "; CARGO_TARGET_DIR is set, so the reports are in {}",
                        Path::new(&dir).join("casebook").display()
                    )
                })
                .unwrap_or_default();
            return Err(crate::UsageError::new(format!("{} does not exist{moved}", path.display())).into());
        }
        let files = if path.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(path)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            files.sort();
            files
        } else {
            vec![path.to_path_buf()]
        };
        let mut reports: BTreeMap<String, (PathBuf, Report)> = BTreeMap::new();
        for file in files {
            let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            // A directory may hold other JSON (a set's description): only reports count.
            match Report::from_json(&bytes) {
                Ok(report) => {
                    let case = report.case.clone();
                    let entry = (file.clone(), report);
                    let kept = match reports.remove(&case) {
                        None => entry,
                        Some(other) => one_of(path, &case, other, entry),
                    };
                    reports.insert(case, kept);
                }
                Err(e) if path.is_dir() => eprintln!("note: {} left out: {e:#}", file.display()),
                Err(e) => anyhow::bail!("{} is not a report this casebook can read: {e:#}", file.display()),
            }
        }
        anyhow::ensure!(!reports.is_empty(), "no casebook report in {}", path.display());
        let reports = reports.into_iter().map(|(case, (_, report))| (case, report)).collect();
        Ok(Side { name: path.display().to_string(), reports })
    }
}

/// Of two reports of one case in a directory (a `--json` written beside the case's own, as
/// `just bench` does), the one named after the case, else the newer; the reader is told which.
fn one_of(dir: &Path, case: &str, a: (PathBuf, Report), b: (PathBuf, Report)) -> (PathBuf, Report) {
    let own = |e: &(PathBuf, Report)| e.0.file_stem().is_some_and(|s| *s == *case);
    let (kept, left) = match (own(&a), own(&b)) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        _ if a.1.env.date > b.1.env.date => (a, b),
        _ => (b, a),
    };
    let name = |e: &(PathBuf, Report)| e.0.file_name().unwrap_or_default().to_string_lossy().to_string();
    eprintln!(
        "warning: {} holds more than one report of {case}: comparing {}, leaving out {}",
        dir.display(),
        name(&kept),
        name(&left)
    );
    kept
}

/// The flips of a comparison, by kind.
#[derive(Default)]
struct Flips {
    /// Readings in both sets, and those of them resting on [`MIN_RUNS`] runs or more on both
    /// sides: what the flips are counted out of.
    compared: usize,
    enough_runs: usize,
    all: usize,
    /// Held on one side, did not hold on the other: the two sets disagree.
    opposite: usize,
    /// Flips where both sides rest on [`MIN_RUNS`] runs or more.
    on_enough_runs: usize,
}

impl Flips {
    /// Counts the pair if it flipped, and says whether it did.
    fn count(&mut self, x: &ClaimResult, y: &ClaimResult) -> bool {
        let enough_runs = [x, y].iter().all(|c| c.runs.is_some_and(|n| n >= MIN_RUNS));
        self.compared += 1;
        self.enough_runs += usize::from(enough_runs);
        if x.outcome == y.outcome {
            return false;
        }
        self.all += 1;
        self.opposite += usize::from(x.outcome != Outcome::Inconclusive && y.outcome != Outcome::Inconclusive);
        self.on_enough_runs += usize::from(enough_runs);
        true
    }

    /// `3 of 64 reading(s) flipped between the two sets: 0 between held and did not hold, 3
    /// between a decision and inconclusive; 2 of the 34 that rest on 5 or more runs on both
    /// sides.`
    fn line(&self) -> String {
        let of = format!("{} of {}", self.all, self.compared);
        if self.all == 0 {
            return format!("\n{of} reading(s) flipped between the two sets.\n");
        }
        format!(
            "\n{of} reading(s) flipped between the two sets: {} between held and did not hold, {} between a decision and inconclusive; {} of the {} that rest on {MIN_RUNS} or more runs on both sides.\n",
            self.opposite,
            self.all - self.opposite,
            self.on_enough_runs,
            self.enough_runs
        )
    }
}

/// The host's steal over a set's runs, where any run had some.
fn steal(side: &Side) -> Option<String> {
    let values: Vec<f64> = side.reports.values().filter_map(|r| r.steal()).map(|s| s.max).collect();
    let worst = values.iter().copied().reduce(f64::max)?;
    let cases = values.iter().filter(|v| **v > 0.0).count();
    Some(format!("{} at worst in a run, some in {cases} of {} cases", Format::Percent.show(worst), side.reports.len()))
}

/// A claim reading's key: case, claim id, reading.
type ReadingKey = (String, String, String);

fn readings(side: &Side) -> BTreeMap<ReadingKey, &ClaimResult> {
    side.reports
        .values()
        .flat_map(|r| {
            r.claims.iter().map(move |c| ((r.case.clone(), c.id.to_string(), c.reading.clone().unwrap_or_default()), c))
        })
        .collect()
}

/// The comparison, as Markdown (`markdown`) or plain lines.
pub fn compare(a: &Side, b: &Side, markdown: bool) -> String {
    let mut out = String::new();
    let heading = |text: &str| if markdown { format!("\n### {text}\n\n") } else { format!("\n{text}\n") };
    out += &heading("The two sets");
    for (label, side) in [("A", a), ("B", b)] {
        let machines: Vec<String> = unique(side.reports.values().map(|r| r.env.line_without_date()));
        let presets = unique(side.reports.values().map(|r| r.preset.to_string()));
        let steal = steal(side).map(|line| format!("; the host's steal over its runs: {line}")).unwrap_or_default();
        out += &format!(
            "- {label} = {}: {} cases, preset {}, {}{steal}\n",
            side.name,
            side.reports.len(),
            presets.join("/"),
            machines.join("; ")
        );
    }
    for warning in warnings(a, b) {
        out += &format!("- warning: {warning}\n");
    }

    out += &heading("Claim readings");
    let (ra, rb) = (readings(a), readings(b));
    let mut keys: Vec<&ReadingKey> = ra.keys().chain(rb.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut flips = Flips::default();
    if markdown {
        out += "| case | claim (reading) | A | B | |\n|---|---|---|---|---|\n";
    }
    for key in keys {
        let (x, y) = (ra.get(key), rb.get(key));
        let flip = match (x, y) {
            (Some(x), Some(y)) => flips.count(x, y),
            _ => false,
        };
        let claim = if key.2.is_empty() { key.1.clone() } else { format!("{} ({})", key.1, key.2) };
        let show = |c: Option<&&ClaimResult>| match c {
            None => "not in this set".to_string(),
            Some(c) => format!("{}: {}", c.standing(), c.interval.clone().unwrap_or_else(|| c.evidence.clone())),
        };
        let mark = if flip { "FLIP" } else { "" };
        if markdown {
            out += &format!("| {} | `{claim}` | {} | {} | {mark} |\n", key.0, show(x), show(y));
        } else {
            out += &format!("- {mark:<4} {} {claim}\n    A: {}\n    B: {}\n", key.0, show(x), show(y));
        }
    }
    out += &flips.line();

    out += &heading("Tables");
    for (case, report_a) in &a.reports {
        let Some(report_b) = b.reports.get(case) else { continue };
        for table in &report_a.tables {
            let Some(table_b) = report_b.table(table) else { continue };
            let measure = &table.primary.measure;
            let better = table.primary.better;
            let best = |report: &Report, t: &crate::model::plan::Table| {
                report
                    .ran_in(t)
                    .filter_map(|r| Some((r, r.value(measure)?)))
                    .reduce(|p, q| if better.prefers(q.1, p.1) { q } else { p })
                    .map(|(r, v)| format!("{} {}", r.label, measure.format().show(v)))
                    .unwrap_or_else(|| "–".into())
            };
            let ratios: Vec<f64> = report_a
                .ran_in(table)
                .filter_map(|row| {
                    let other = matching(report_b, row)?;
                    Some(better.gain(other.value(measure)?, row.value(measure)?))
                })
                .filter(|r| r.is_finite())
                .collect();
            let ratio = match (
                median(&ratios),
                ratios.iter().copied().reduce(f64::min),
                ratios.iter().copied().reduce(f64::max),
            ) {
                (Some(m), Some(lo), Some(hi)) => format!(
                    "B against A on {}, row by row: median {} ({} rows, {} to {}; above 1 is better on B)",
                    measure.name(),
                    Format::Ratio.show(m),
                    ratios.len(),
                    Format::Ratio.show(lo),
                    Format::Ratio.show(hi)
                ),
                _ => "no row ran on both sides".into(),
            };
            out += &format!(
                "- {case} / {}: best on A {}; best on B {}; {ratio}\n",
                table.id,
                best(report_a, table),
                best(report_b, table_b)
            );
        }
    }
    out
}

/// The row of `report` that is `row` (same table, variant and axis value), if it ran.
fn matching<'a>(report: &'a Report, row: &RowReport) -> Option<&'a RowReport> {
    report.rows.iter().find(|r| {
        r.table == row.table
            && r.variant == row.variant
            && r.axis_value == row.axis_value
            && r.skipped.is_none()
            && r.failed.is_none()
            && !r.runs.is_empty()
    })
}

fn unique(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for value in values {
        if !seen.contains(&value) {
            seen.push(value);
        }
    }
    seen
}

/// What makes the two sets less than comparable: other commits, other presets, cases only
/// one side has, or the same run on both sides.
fn warnings(a: &Side, b: &Side) -> Vec<String> {
    let mut warnings = Vec::new();
    for (case, ra) in &a.reports {
        match b.reports.get(case) {
            None => warnings.push(format!("{case} is only in A")),
            Some(rb) if ra == rb => warnings.push(format!(
                "{case}: the same run on both sides (a set compared with itself, or one filed over the other), so no reading can flip"
            )),
            Some(rb) => {
                if ra.env.commit != rb.env.commit {
                    warnings
                        .push(format!("{case}: measured at commit {} on A and {} on B", ra.env.commit, rb.env.commit));
                }
                if ra.preset != rb.preset {
                    warnings.push(format!("{case}: preset {} on A and {} on B", ra.preset, rb.preset));
                }
            }
        }
    }
    for case in b.reports.keys().filter(|c| !a.reports.contains_key(*c)) {
        warnings.push(format!("{case} is only in B"));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(name: &str, report: Report) -> Side {
        Side { name: name.into(), reports: [(report.case.clone(), report)].into() }
    }

    fn with_claim(outcome_values: &[f64]) -> Report {
        let mut report = crate::report::verdicts::tests::report();
        report.claims = vec![crate::Claim::new(crate::ClaimId::ThreadsCpu).decide(|| {
            let s = crate::Series::of("speedup", Format::Ratio, outcome_values);
            Ok(crate::stats::rules::at_least(&s, 1.5))
        })];
        report
    }

    #[test]
    fn a_set_compared_with_itself_has_no_flip() {
        let a = side("a", with_claim(&[2.0, 2.1, 1.9, 2.0, 2.2]));
        let text = compare(&a, &a, false);
        assert!(text.contains("0 of 1 reading(s) flipped"), "{text}");
        assert!(text.contains("median 1.00x"), "{text}");
        assert!(text.contains("warning: demo: the same run on both sides"), "{text}");
        let rerun = side("b", with_claim(&[2.0, 2.1, 1.9, 2.0, 2.3]));
        assert!(!compare(&a, &rerun, false).contains("warning"), "a second run of the same commit is comparable");
    }

    #[test]
    fn a_flip_is_marked_with_both_outcomes() {
        let a = side("a", with_claim(&[2.0, 2.1, 1.9, 2.0, 2.2]));
        let mut slow = with_claim(&[1.0, 1.1, 0.9, 1.0, 1.2]);
        slow.env.commit = "other".into();
        let b = side("b", slow);
        let text = compare(&a, &b, true);
        assert!(text.contains("1 of 1 reading(s) flipped"), "{text}");
        let line = text.lines().find(|l| l.contains("threads-cpu")).unwrap();
        assert!(line.contains("held") && line.contains("did not hold") && line.ends_with("FLIP |"), "{line}");
        assert!(text.contains("warning: demo: measured at commit"), "{text}");
        assert!(
            text.contains(
                "1 between held and did not hold, 0 between a decision and inconclusive; 1 of the 1 that rest on 5"
            ),
            "{text}"
        );
    }

    #[test]
    fn of_two_reports_of_one_case_in_a_directory_its_own_file_is_compared_else_the_newer() {
        let load = |files: [(&str, &str); 2]| {
            let dir = tempfile::tempdir().unwrap();
            for (file, date) in files {
                let mut report = with_claim(&[2.0; 5]);
                report.env.date = date.into();
                std::fs::write(dir.path().join(file), serde_json::to_vec(&report).unwrap()).unwrap();
            }
            let side = Side::load(dir.path()).unwrap();
            assert_eq!(side.reports.len(), 1);
            side.reports["demo"].env.date.clone()
        };
        // `demo.json` is read first and is the older: still the case's own report.
        assert_eq!(
            load([("demo.json", "2026-12-07T10:00:00Z"), ("z-bench.json", "2026-12-08T10:00:00Z")]),
            "2026-12-07T10:00:00Z"
        );
        // Neither is the case's own: the newer, though read first.
        assert_eq!(
            load([("a.json", "2026-12-08T10:00:00Z"), ("b.json", "2026-12-07T10:00:00Z")]),
            "2026-12-08T10:00:00Z"
        );
    }

    #[test]
    fn flips_to_inconclusive_and_on_few_runs_are_told_apart() {
        let a = side("a", with_claim(&[2.0, 2.1, 1.9, 2.0, 2.2]));
        let b = side("b", with_claim(&[1.4, 1.6, 1.7]));
        let text = compare(&a, &b, false);
        assert!(text.contains("1 of 1 reading(s) flipped"), "{text}");
        assert!(
            text.contains(
                "0 between held and did not hold, 1 between a decision and inconclusive; 0 of the 0 that rest on 5"
            ),
            "{text}"
        );
    }

    #[test]
    fn each_side_says_how_much_the_host_stole() {
        let mut robbed = with_claim(&[2.0, 2.1, 1.9, 2.0, 2.2]);
        for (i, run) in robbed.rows.iter_mut().flat_map(|r| r.runs.iter_mut()).enumerate() {
            run.figures.insert(crate::model::figure::STEAL.key.into(), if i == 0 { 0.031 } else { 0.002 });
        }
        assert!(robbed.steal_line().unwrap().ends_with("3.1% in the worst"), "{:?}", robbed.steal_line());
        let text = compare(&side("a", robbed), &side("b", with_claim(&[2.0, 2.1, 1.9, 2.0, 2.2])), false);
        let a = text.lines().find(|l| l.starts_with("- A =")).unwrap();
        assert!(a.contains("steal over its runs: 3.1% at worst in a run, some in 1 of 1 cases"), "{a}");
        let b = text.lines().find(|l| l.starts_with("- B =")).unwrap();
        assert!(!b.contains("steal"), "{b}");
    }
}
