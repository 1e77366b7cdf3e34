//! The harness's own verdicts, computed from the figures for every case: did the variants
//! agree, who won each table on its primary measure and by how much, and what each sweep
//! says (best points, knees, who leads where).

use crate::{
    model::claims::Outcome,
    model::figure::{Better, Measure, WALL},
    model::format::{format_value, slower_by},
    report::sweep,
    report::{Correctness, Report, RowReport},
    stats::rules::{self, Series},
};

/// Adds the harness's own findings to a freshly built report: the digest checks, the best
/// row of each table, and what each sweep says.
pub fn judge(report: &mut Report) {
    report.correctness = check_digests(report);
    let failed: Vec<String> = report
        .rows
        .iter()
        .filter_map(|r| Some(format!("{} / {} failed: {}", r.table, r.label, r.failed.as_deref()?)))
        .collect();
    report.add_failures(failed);
    report.verdicts = speed_verdicts(report);
    report.verdicts.extend(sweep_verdicts(report));
}

/// Every row of a table whose digests must agree reports one digest, the same for all rows
/// that ran. A skipped row is named, and never counted as agreeing.
pub fn check_digests(report: &Report) -> Correctness {
    let mut correctness = Correctness { ok: true, lines: Vec::new() };
    for table in report.tables.iter().filter(|t| t.digests_must_agree) {
        let skipped = report.rows_in(table).filter(|r| r.skipped.is_some()).count();
        let skipped = if skipped > 0 { format!("; {skipped} skipped, not counted") } else { String::new() };
        // Groups of rows that must agree: the whole table, or each axis value's rows.
        let mut groups: Vec<(Option<f64>, Vec<&RowReport>)> = Vec::new();
        for row in report.ran_in(table) {
            let key = if table.digests_by_axis { row.axis_value } else { None };
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, rows)) => rows.push(row),
                None => groups.push((key, vec![row])),
            }
        }
        let ran = report.ran_in(table).count();
        let problems: Vec<String> =
            groups.iter().filter_map(|(_, rows)| digest_disagreements(rows, table.baseline.as_deref()).err()).collect();
        if !problems.is_empty() {
            correctness.ok = false;
            correctness.lines.push(format!("FAILED: {}: {}", table.id, problems.join("; ")));
        } else if ran == 0 {
            correctness.lines.push(format!("{}: no row ran{skipped}", table.id));
        } else if table.digests_by_axis {
            correctness.lines.push(format!(
                "{}: at each of its {} points, every row that ran produced the same answer in every run ({ran} rows){skipped}",
                table.id,
                groups.len()
            ));
        } else {
            let reference =
                groups.first().and_then(|(_, rows)| digest_disagreements(rows, table.baseline.as_deref()).ok());
            correctness.lines.push(format!(
                "{}: all {ran} rows that ran produced the same answer (digest {}) in every run{skipped}",
                table.id,
                reference.flatten().unwrap_or_default()
            ));
        }
    }
    correctness
}

/// The rows' agreed digest (`None` when there is no row), or what disagreed. The reference
/// answer is the baseline's, or the first row's when there is none.
fn digest_disagreements(rows: &[&RowReport], baseline: Option<&str>) -> Result<Option<String>, String> {
    if rows.is_empty() {
        return Ok(None);
    }
    let inconsistent: Vec<&str> = rows.iter().filter(|r| r.digest.is_none()).map(|r| r.label.as_str()).collect();
    if !inconsistent.is_empty() {
        return Err(format!("no single answer from {} (missing digest, or runs disagreed)", inconsistent.join(", ")));
    }
    let reference = baseline
        .and_then(|b| rows.iter().find(|r| r.variant == b))
        .or(rows.first())
        .and_then(|r| r.digest.clone())
        .unwrap_or_default();
    let wrong: Vec<String> = rows
        .iter()
        .filter(|r| r.digest.as_deref() != Some(reference.as_str()))
        .map(|r| format!("{} = {}", r.label, r.digest.as_deref().unwrap_or("-")))
        .collect();
    if wrong.is_empty() {
        Ok(Some(reference))
    } else {
        Err(format!("expected digest {reference}, but {}", wrong.join(", ")))
    }
}

fn series(row: &RowReport, measure: &Measure) -> Series {
    Series::new(row.label.clone(), measure.format(), row.run_values(measure))
}

/// Who won each table that is not a sweep, on its primary measure, and whether the margin
/// over the runner-up survives the noise: the runner-up's paired ratio to the winner must
/// have its whole interval on the losing side of 1.
pub fn speed_verdicts(report: &Report) -> Vec<String> {
    let mut verdicts = Vec::new();
    for table in report.tables.iter().filter(|t| t.axis.is_none()) {
        let (measure, better) = (&table.primary.measure, table.primary.better);
        let mut rows: Vec<(&RowReport, f64)> =
            report.ran_in(table).filter_map(|r| Some((r, r.value(measure)?))).collect();
        if rows.len() < 2 {
            continue;
        }
        let ran: Vec<&RowReport> = report.ran_in(table).collect();
        if table.digests_must_agree
            && !table.digests_by_axis
            && digest_disagreements(&ran, table.baseline.as_deref()).is_err()
        {
            verdicts.push(format!("{}: no verdict, because the variants did not agree on the answer.", table.id));
            continue;
        }
        rows.sort_by(|a, b| match better {
            Better::Lower => a.1.total_cmp(&b.1),
            Better::Higher => b.1.total_cmp(&a.1),
        });
        let ((winner, best), (second, _)) = (rows[0], rows[1]);
        let (last, worst) = rows[rows.len() - 1];
        if best == 0.0 || worst == 0.0 {
            // Ratios to zero mean nothing: name the best and stop there.
            verdicts.push(format!(
                "{}: best {} was {} ({}) at {}; a zero figure leaves nothing to compare by ratio.",
                table.id,
                measure.name(),
                winner.label,
                winner.model,
                format_value(best, measure.format())
            ));
            continue;
        }
        let is_wall = *measure == Measure::from(WALL);
        let against_baseline = report
            .baseline_of(winner)
            .and_then(|base| base.value(measure))
            .filter(|base| *base > 0.0 && best > 0.0)
            .map(|base| {
                format!(
                    ", {:.2}x the baseline's {}",
                    better.gain(best, base),
                    if is_wall { "speed".into() } else { measure.name() }
                )
            })
            .unwrap_or_default();
        // The runner-up against the winner, run by run: "worse" is above 1 either way.
        let worse = match better {
            Better::Lower => rules::ratio_at_least(&series(second, measure), &series(winner, measure), 1.0),
            Better::Higher => rules::ratio_at_least(&series(winner, measure), &series(second, measure), 1.0),
        };
        let estimate = worse.basis.first().map(|b| b.estimate).unwrap_or(f64::NAN);
        let margin = if worse.outcome == Outcome::Held && estimate > 1.0 {
            let by = if is_wall { slower_by(estimate) } else { format!("{estimate:.2}x worse") };
            format!("{} ({}) was {by} (paired runs, whole interval above 1)", second.label, second.model)
        } else {
            format!(
                "{} ({}) is too close to call ({:.0}% apart, median of the paired runs; interval reaches 1)",
                second.label,
                second.model,
                (estimate - 1.0) * 100.0
            )
        };
        let name = if is_wall { String::new() } else { format!(" {}", measure.name()) };
        verdicts.push(format!(
            "{}: best{name} was {} ({}) at {}{against_baseline}; {margin}; worst was {} at {:.2}x the winner's.",
            table.id,
            winner.label,
            winner.model,
            format_value(best, measure.format()),
            last.label,
            worst / best,
        ));
    }
    verdicts
}

/// For each sweep table: each variant's best point and knee on the primary measure, and
/// which variant leads at which axis values.
pub fn sweep_verdicts(report: &Report) -> Vec<String> {
    let mut verdicts = Vec::new();
    for table in report.tables.iter() {
        let Some(axis) = &table.axis else { continue };
        let (measure, better) = (&table.primary.measure, table.primary.better);
        let format = measure.format();
        for variant in sweep::variants(report, table) {
            let points = sweep::points(report, table, &variant, measure);
            if points.len() < 2 {
                continue;
            }
            let (Some((best_x, best_v)), Some((knee_x, _))) =
                (sweep::best(&points, better), sweep::knee(&points, better, KNEE_SHARE))
            else {
                continue;
            };
            let (first_x, first_v) = points[0];
            let count = crate::model::format::format_count;
            let mut line = format!(
                "{}, {variant}: best {} at {} = {}",
                table.id,
                format_value(best_v, format),
                axis.name,
                count(best_x)
            );
            if knee_x != best_x {
                line += &format!(
                    "; within {:.0}% of that from {} = {}",
                    (1.0 - KNEE_SHARE) * 100.0,
                    axis.name,
                    count(knee_x)
                );
            }
            if first_x != best_x && first_x != knee_x {
                line += &format!("; at {} = {} it was {}", axis.name, count(first_x), format_value(first_v, format));
            }
            verdicts.push(line + ".");
        }
        if sweep::leads(report, table, measure, better).len() >= 2 {
            let spans = sweep::lead_spans(report, table, measure, better);
            let text: Vec<String> = spans.iter().map(sweep::span_text).collect();
            verdicts.push(format!("{}: best {} by {}: {}.", table.id, measure.name(), axis.name, text.join(", ")));
        }
    }
    verdicts
}

/// A sweep point is "within reach" of the best when it gets this share of it.
pub const KNEE_SHARE: f64 = 0.9;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{
        CaseInfo, Row, Table, TableId, VariantSet,
        model::figure::{Figure, WALL},
        model::format::Format,
        model::plan::{Axis, PlotSpec, Primary},
        testing::ReportBuilder,
    };

    pub const THROUGHPUT: Figure = Figure::new("ops_per_s", Format::Rate);
    crate::variants! {
        pub enum Demo {
            Seq = "seq" (Sequential): "",
            Threads = "threads" (Threads): "",
            Tasks = "tasks" (Async): "",
        }
    }
    use Demo::{Seq, Tasks, Threads};
    pub static INFO: CaseInfo = CaseInfo { name: "demo", question: "?", claims: &[] };
    const RACE: TableId = TableId::new("race");
    const SWEEP: TableId = TableId::new("sweep");
    const MIX: TableId = TableId::new("mix");

    /// A race table judged by wall time, and a throughput sweep where tasks overtake threads.
    pub fn report() -> Report {
        let mut race = Table::new(RACE, "race");
        race.rows = Demo::ALL.iter().map(|v| Row::new(*v, ())).collect();
        race.baseline_if_present(Seq);
        let mut sweep = Table::new(SWEEP, "sweep");
        sweep.axis = Some(Axis::new("in flight").log());
        sweep.primary = Primary::higher(THROUGHPUT);
        sweep.baseline = Some("threads".into());
        sweep.plots = vec![PlotSpec::Primary];
        for v in [Threads, Tasks] {
            for x in [1.0, 16.0, 256.0] {
                sweep.rows.push(Row::at(v, x, ()));
            }
        }
        ReportBuilder::new::<Demo>(&INFO, &(), vec![race, sweep])
            .figure(RACE, Seq, WALL, &[1.0, 1.02, 0.98])
            .figure(RACE, Threads, WALL, &[0.51, 0.52, 0.50])
            .figure(RACE, Tasks, WALL, &[0.55, 0.56, 0.54])
            .digest(RACE, Seq, "42", 3)
            .digest(RACE, Threads, "42", 3)
            .digest(RACE, Tasks, "42", 3)
            .figure(SWEEP, (Threads, 1.0), THROUGHPUT, &[500.0, 510.0])
            .figure(SWEEP, (Threads, 16.0), THROUGHPUT, &[900.0, 910.0])
            .figure(SWEEP, (Threads, 256.0), THROUGHPUT, &[700.0, 690.0])
            .figure(SWEEP, (Tasks, 1.0), THROUGHPUT, &[400.0, 410.0])
            .figure(SWEEP, (Tasks, 16.0), THROUGHPUT, &[880.0, 870.0])
            .figure(SWEEP, (Tasks, 256.0), THROUGHPUT, &[950.0, 960.0])
            .build()
    }

    #[test]
    fn the_race_names_its_winner_and_a_separated_runner_up() {
        let report = report();
        let race = report.verdicts.iter().find(|v| v.starts_with("race:")).unwrap();
        assert!(race.contains("best was threads"), "{race}");
        assert!(race.contains("1.96x the baseline's speed"), "{race}");
        assert!(race.contains("tasks (async) was 8% slower"), "{race}");
        // The gain over the baseline, run by run.
        let gain = report.row(RACE, Threads).unwrap().summary[crate::report::VS_BASELINE].median;
        assert!((gain - 1.96).abs() < 0.01, "{gain}");
    }

    #[test]
    fn the_sweep_finds_best_points_and_who_leads_where() {
        let report = report();
        let lines: Vec<&String> = report.verdicts.iter().filter(|v| v.starts_with("sweep")).collect();
        assert!(lines.iter().any(|l| l.contains("sweep, threads: best 905/s at in flight = 16")), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("threads from 1 to 16, tasks at 256")), "{lines:?}");
        // In a sweep the baseline is compared at the same axis value.
        let gain = report.row(SWEEP, (Tasks, 256.0)).unwrap().summary[crate::report::VS_BASELINE].median;
        assert!(gain > 1.3, "{gain}");
    }

    #[test]
    fn a_point_the_baseline_did_not_run_has_no_gain() {
        let sweep = |baseline_on_axis: bool| {
            let mut table = Table::new(SWEEP, "sweep");
            table.axis = Some(Axis::new("capacity"));
            table.primary = Primary::higher(THROUGHPUT);
            table.baseline = Some("threads".into());
            if baseline_on_axis {
                table.rows.push(Row::at(Threads, 1.0, ()));
            }
            // The baseline's row off the axis (an unbounded channel, say).
            table.rows.push(Row::new(Threads, ()));
            for x in [0.0, 1.0] {
                table.rows.push(Row::at(Tasks, x, ()));
            }
            let builder = ReportBuilder::new::<Demo>(&INFO, &(), vec![table])
                .figure(SWEEP, Threads, THROUGHPUT, &[1000.0, 1000.0])
                .figure(SWEEP, (Tasks, 0.0), THROUGHPUT, &[10.0, 10.0])
                .figure(SWEEP, (Tasks, 1.0), THROUGHPUT, &[100.0, 100.0]);
            if baseline_on_axis { builder.figure(SWEEP, (Threads, 1.0), THROUGHPUT, &[50.0, 50.0]) } else { builder }
                .build()
        };
        let gain = |report: &Report, at: f64| {
            report.row(SWEEP, (Tasks, at)).unwrap().summary.get(crate::report::VS_BASELINE).map(|s| s.median)
        };
        // The baseline ran on the axis: a point it did not run is compared with nothing,
        // not with its off-axis row.
        let report = sweep(true);
        assert_eq!(gain(&report, 1.0), Some(2.0));
        assert_eq!(gain(&report, 0.0), None);
        // A baseline measured once, off the axis, stands for every point.
        let report = sweep(false);
        assert_eq!(gain(&report, 0.0), Some(0.01));
        assert_eq!(gain(&report, 1.0), Some(0.1));
    }

    #[test]
    fn digests_can_be_compared_per_axis_value() {
        let mut table = Table::new(MIX, "mix");
        table.axis = Some(Axis::new("mix"));
        table.digests_by_axis = true;
        for v in [Threads, Tasks] {
            for x in [1.0, 2.0] {
                table.rows.push(Row::at(v, x, ()));
            }
        }
        let build = |tasks_at_2: &str| {
            ReportBuilder::new::<Demo>(&INFO, &(), vec![table.clone()])
                .digest(MIX, (Threads, 1.0), "a", 2)
                .digest(MIX, (Tasks, 1.0), "a", 2)
                .digest(MIX, (Threads, 2.0), "b", 2)
                .digest(MIX, (Tasks, 2.0), tasks_at_2, 2)
                .build()
        };
        let agreeing = build("b");
        assert!(agreeing.correctness.ok, "{:?}", agreeing.correctness.lines);
        assert!(agreeing.correctness.lines[0].contains("at each of its 2 points"), "{:?}", agreeing.correctness.lines);
        let wrong = build("c");
        assert!(!wrong.correctness.ok);
        assert!(wrong.correctness.lines[0].contains("tasks @2 = c"), "{:?}", wrong.correctness.lines);
    }
}
