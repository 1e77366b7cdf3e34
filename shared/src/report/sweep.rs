//! Questions a sweep answers, asked of a report: each variant's best point, the knee of a
//! curve (where it gets within reach of its best), the crossovers where one variant
//! overtakes another, and the last point where a condition still held.

use crate::{
    model::{
        claims::Outcome,
        figure::{Better, Measure},
        format::Format,
        plan::{AxisEnd, AxisMark, Table},
    },
    report::{Report, RowReport, TableRef},
    stats::rules::{self, Decision, Series},
};

/// Where a row of a sweep sits on its axis: a number, or a mark the axis cannot place as a
/// number (unbounded), drawn past one end of it.
#[derive(Clone, Debug, PartialEq)]
pub enum AxisPoint {
    Value(f64),
    Mark(AxisMark),
}

impl AxisPoint {
    /// The row's place on the axis; `None` for a row off it (a table without an axis).
    pub fn of(row: &RowReport) -> Option<AxisPoint> {
        match (row.axis_value, &row.axis_mark) {
            (Some(x), _) => Some(AxisPoint::Value(x)),
            (None, Some(mark)) => Some(AxisPoint::Mark(mark.clone())),
            (None, None) => None,
        }
    }

    /// The order along the axis: low marks, the numbers, high marks.
    fn band(&self) -> u8 {
        match self {
            AxisPoint::Mark(AxisMark { end: AxisEnd::Low, .. }) => 0,
            AxisPoint::Value(_) => 1,
            AxisPoint::Mark(AxisMark { end: AxisEnd::High, .. }) => 2,
        }
    }
}

/// One variant's curve: `(axis value, the measure there)`, sorted by axis value, rows that
/// did not run or recorded nothing left out.
pub fn points(report: &Report, table: impl TableRef, variant: &str, measure: &Measure) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = report
        .ran_in(table)
        .filter(|r| r.variant == variant)
        .filter_map(|r| Some((r.axis_value?, r.value(measure)?)))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

/// One variant's whole curve, marks included, in axis order: the marks before the axis
/// first, then the numbers in order, then the marks past it (marks in row order).
pub fn curve(report: &Report, table: impl TableRef, variant: &str, measure: &Measure) -> Vec<(AxisPoint, f64)> {
    let mut points: Vec<(AxisPoint, f64)> = report
        .ran_in(table)
        .filter(|r| r.variant == variant)
        .filter_map(|r| Some((AxisPoint::of(r)?, r.value(measure)?)))
        .collect();
    // A stable sort: marks keep their row order.
    points.sort_by(|(a, _), (b, _)| {
        a.band().cmp(&b.band()).then(match (a, b) {
            (AxisPoint::Value(x), AxisPoint::Value(y)) => x.total_cmp(y),
            _ => std::cmp::Ordering::Equal,
        })
    });
    points
}

/// The largest axis value any row of the table ran at (its last point; marks are no value),
/// `None` for a table that sweeps nothing.
pub fn largest_axis_value(report: &Report, table: impl TableRef) -> Option<f64> {
    report.ran_in(table).filter_map(|r| r.axis_value).reduce(f64::max)
}

/// The variants of a sweep table that have points (numbers or marks), in the table's row
/// order.
pub fn variants(report: &Report, table: impl TableRef) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for row in report.ran_in(table).filter(|r| AxisPoint::of(r).is_some()) {
        if !seen.contains(&row.variant) {
            seen.push(row.variant.clone());
        }
    }
    seen
}

/// The best point of a curve.
pub fn best(points: &[(f64, f64)], better: Better) -> Option<(f64, f64)> {
    points.iter().copied().reduce(|a, b| if better.prefers(b.1, a.1) { b } else { a })
}

/// The knee: the first axis value whose measure comes within `share` of the curve's best
/// (0.9: throughput at 90% of its peak, or a time at most 1/0.9 of its minimum). On a
/// throughput-against-load curve it is where adding load stops paying.
pub fn knee(points: &[(f64, f64)], better: Better, share: f64) -> Option<(f64, f64)> {
    let (_, top) = best(points, better)?;
    points.iter().copied().find(|(_, v)| match better {
        Better::Higher => *v >= share * top,
        Better::Lower => *v * share <= top,
    })
}

/// Where the lead between two curves changes hands, at the axis values both have.
#[derive(Clone, Debug, PartialEq)]
pub struct Crossover {
    /// The last shared axis value where the earlier leader was still ahead.
    pub before: f64,
    /// The first shared axis value where the other one was ahead.
    pub after: f64,
    /// Whether the second curve (`b`) took the lead here (else `a` took it back).
    pub b_takes_lead: bool,
}

pub fn crossovers(a: &[(f64, f64)], b: &[(f64, f64)], better: Better) -> Vec<Crossover> {
    let shared: Vec<(f64, bool)> = a
        .iter()
        .filter_map(|(x, va)| b.iter().find(|(xb, _)| xb == x).map(|(_, vb)| (*x, better.prefers(*vb, *va))))
        .collect();
    shared
        .windows(2)
        .filter(|w| w[0].1 != w[1].1)
        .map(|w| Crossover { before: w[0].0, after: w[1].0, b_takes_lead: w[1].1 })
        .collect()
}

/// The last point, in axis order, at which `holds` is still true of every point up to it
/// (where a variant stops holding 64 Hz, say). `None` if it fails at the first point.
pub fn last_where(points: &[(f64, f64)], holds: impl Fn(f64) -> bool) -> Option<(f64, f64)> {
    points.iter().copied().take_while(|(_, v)| holds(*v)).last()
}

/// The variant with the best median at each axis value of the table (no interval: see
/// [`leads`] for who leads by the interval rule).
pub fn leaders(report: &Report, table: impl TableRef, measure: &Measure, better: Better) -> Vec<(f64, String)> {
    ranked(report, &table, measure, better)
        .into_iter()
        .filter_map(|(x, rows)| Some((x, rows.first()?.variant.clone())))
        .collect()
}

/// Each axis value's rows that recorded `measure`, best median first.
fn ranked<'a>(
    report: &'a Report,
    table: &impl TableRef,
    measure: &Measure,
    better: Better,
) -> Vec<(f64, Vec<&'a RowReport>)> {
    let mut xs: Vec<f64> = report.ran_in(table).filter_map(|r| r.axis_value).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    xs.into_iter()
        .map(|x| {
            let mut rows: Vec<(&RowReport, f64)> = report
                .ran_in(table)
                .filter(|r| r.axis_value == Some(x))
                .filter_map(|r| Some((r, r.value(measure)?)))
                .collect();
            rows.sort_by(|a, b| {
                if better.prefers(a.1, b.1) {
                    std::cmp::Ordering::Less
                } else if better.prefers(b.1, a.1) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            });
            (x, rows.into_iter().map(|(r, _)| r).collect())
        })
        .filter(|(_, rows): &(f64, Vec<&RowReport>)| !rows.is_empty())
        .collect()
}

/// The winner's lead over the runner-up, run against run, by the interval rule: held when
/// the whole interval of the paired ratio is above 1.
pub fn separation(winner: &RowReport, runner_up: &RowReport, measure: &Measure, better: Better) -> Decision {
    let series = |row: &RowReport| Series::new(row.variant.clone(), measure.format(), row.run_values(measure));
    let (w, r) = (series(winner), series(runner_up));
    match better {
        Better::Higher => rules::ratio_at_least(&w, &r, 1.0),
        Better::Lower => rules::ratio_at_least(&r, &w, 1.0),
    }
}

/// Who leads at one point of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub enum Lead {
    /// One variant, clear of the runner-up by the interval rule (or alone, or ahead at the
    /// median where the rows ran once and no interval can be drawn).
    Clear(String),
    /// The best two at the median, whose paired interval does not separate them.
    TooClose(String, String),
}

impl Lead {
    /// The variants the lead names, best first.
    pub fn variants(&self) -> Vec<&str> {
        match self {
            Lead::Clear(v) => vec![v],
            Lead::TooClose(a, b) => vec![a, b],
        }
    }
}

impl std::fmt::Display for Lead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lead::Clear(v) => f.write_str(v),
            Lead::TooClose(a, b) => write!(f, "too close to call ({a}, {b})"),
        }
    }
}

/// Who leads at each axis value, by the interval rule (the map's rule, so a crossover is
/// never a change of leader inside the noise).
pub fn leads(report: &Report, table: impl TableRef, measure: &Measure, better: Better) -> Vec<(f64, Lead)> {
    ranked(report, &table, measure, better)
        .into_iter()
        .map(|(x, rows)| {
            let lead = match rows.as_slice() {
                [w] => Lead::Clear(w.variant.clone()),
                [w, r, ..] => {
                    let runs = |row: &RowReport| row.run_values(measure).iter().flatten().count();
                    let separated =
                        runs(w) < 2 && runs(r) < 2 || separation(w, r, measure, better).outcome == Outcome::Held;
                    if separated {
                        Lead::Clear(w.variant.clone())
                    } else {
                        Lead::TooClose(w.variant.clone(), r.variant.clone())
                    }
                }
                [] => unreachable!("ranked keeps only points with rows"),
            };
            (x, lead)
        })
        .collect()
}

/// [`leads`] folded into spans of the same lead: `(lead, from, to)` in axis order.
pub fn lead_spans(report: &Report, table: impl TableRef, measure: &Measure, better: Better) -> Vec<(Lead, f64, f64)> {
    let mut spans: Vec<(Lead, f64, f64)> = Vec::new();
    for (x, lead) in leads(report, table, measure, better) {
        match spans.last_mut() {
            Some((l, _, to)) if *l == lead => *to = x,
            _ => spans.push((lead, x, x)),
        }
    }
    spans
}

/// One span of [`lead_spans`] in words: `rayon at 16` or `rayon from 1 to 64`.
pub fn span_text((lead, from, to): &(Lead, f64, f64)) -> String {
    let x = |v: f64| Format::Count.show(v);
    if from == to { format!("{lead} at {}", x(*from)) } else { format!("{lead} from {} to {}", x(*from), x(*to)) }
}

/// A swept table's leads as a sentence: "rayon from 1 to 64; tokio-rayon from 256 to 4096
/// (in flight)", headed by the table's title and primary measure; `None` for a table with no
/// axis or no figures.
pub fn leader_runs(report: &Report, table: &Table) -> Option<String> {
    let axis = table.axis.as_ref()?;
    let runs = lead_spans(report, table, &table.primary.measure, table.primary.better);
    let x = |v: f64| Format::Count.show(v);
    let text = match runs.as_slice() {
        [] => return None,
        [(v, from, to)] => format!("{v} leads everywhere measured ({} {} to {})", axis.name, x(*from), x(*to)),
        _ => runs.iter().map(span_text).collect::<Vec<_>>().join("; ") + &format!(" ({})", axis.name),
    };
    Some(format!("{}: by {}, {text}", table.title, table.primary.measure.name()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{
        model::plan::{Axis, AxisMark, PlotSpec, Primary, Row, TableId},
        report::verdicts::tests::{
            Demo::{self, Tasks, Threads},
            INFO, THROUGHPUT as OPS,
        },
        testing::ReportBuilder,
    };

    pub const CAPACITY: TableId = TableId::new("capacity");

    /// A capacity sweep on a log axis with a rendezvous point (0, which a log scale cannot
    /// place) and an unbounded one (a mark, no number at all), as bridges sweeps it.
    pub(crate) fn capacity_report() -> Report {
        let mut table = Table::new(CAPACITY, "capacity");
        table.axis = Some(Axis::new("capacity").log());
        table.primary = Primary::higher(OPS);
        table.plots = vec![PlotSpec::Primary];
        for v in [Threads, Tasks] {
            table.rows.push(Row::at_mark(v, AxisMark::high("unbounded"), ()));
            for x in [0.0, 1.0, 16.0, 1024.0] {
                table.rows.push(Row::at(v, x, ()));
            }
        }
        let mut report = ReportBuilder::new::<Demo>(&INFO, &(), vec![table]);
        for (v, scale) in [(Threads, 1.0), (Tasks, 1.5)] {
            for (x, ops) in [(0.0, 100.0), (1.0, 200.0), (16.0, 2000.0), (1024.0, 3000.0)] {
                report = report.figure(CAPACITY, (v, x), OPS, &[ops * scale]);
            }
            report = report.figure(CAPACITY, v, OPS, &[3500.0 * scale]);
        }
        report.build()
    }

    #[test]
    fn a_curve_holds_every_point_in_axis_order_marks_included() {
        let report = capacity_report();
        let curve = curve(&report, CAPACITY, "tasks", &OPS.into());
        let at: Vec<AxisPoint> = curve.into_iter().map(|(at, _)| at).collect();
        let mut expected: Vec<AxisPoint> = [0.0, 1.0, 16.0, 1024.0].into_iter().map(AxisPoint::Value).collect();
        expected.push(AxisPoint::Mark(AxisMark::high("unbounded")));
        assert_eq!(at, expected);
        // The numbers alone, for the questions asked of a curve's shape.
        assert_eq!(points(&report, CAPACITY, "tasks", &OPS.into()).len(), 4);
        assert_eq!(largest_axis_value(&report, CAPACITY), Some(1024.0));
        assert_eq!(variants(&report, CAPACITY), ["threads", "tasks"]);
    }

    const THROUGHPUT: [(f64, f64); 5] = [(1.0, 100.0), (4.0, 380.0), (16.0, 900.0), (64.0, 960.0), (256.0, 940.0)];

    #[test]
    fn best_and_knee_of_a_saturating_curve() {
        assert_eq!(best(&THROUGHPUT, Better::Higher), Some((64.0, 960.0)));
        assert_eq!(knee(&THROUGHPUT, Better::Higher, 0.9), Some((16.0, 900.0)));
        let times = [(1.0, 10.0), (4.0, 4.0), (16.0, 2.1), (64.0, 2.0)];
        assert_eq!(best(&times, Better::Lower), Some((64.0, 2.0)));
        assert_eq!(knee(&times, Better::Lower, 0.9), Some((16.0, 2.1)));
        assert_eq!(best(&[], Better::Lower), None);
    }

    #[test]
    fn crossovers_find_where_the_lead_changes() {
        let threads = [(1.0, 500.0), (16.0, 900.0), (256.0, 700.0), (4096.0, 300.0)];
        let tasks = [(1.0, 400.0), (16.0, 880.0), (256.0, 950.0), (4096.0, 940.0)];
        let found = crossovers(&threads, &tasks, Better::Higher);
        assert_eq!(found, vec![Crossover { before: 16.0, after: 256.0, b_takes_lead: true }]);
        assert!(crossovers(&threads, &threads, Better::Higher).is_empty());
    }

    #[test]
    fn last_where_stops_at_the_first_failure() {
        let lateness = [(10.0, 0.2), (100.0, 0.4), (1000.0, 3.0), (5000.0, 0.5)];
        assert_eq!(last_where(&lateness, |v| v < 1.0), Some((100.0, 0.4)));
        assert_eq!(last_where(&lateness, |v| v < 0.1), None);
    }
    #[test]
    fn a_lead_inside_the_noise_is_too_close_to_call_and_one_run_falls_back_to_the_median() {
        let mut table = Table::new(CAPACITY, "capacity");
        table.axis = Some(Axis::new("capacity").log());
        table.primary = Primary::higher(OPS);
        for v in [Threads, Tasks] {
            for x in [1.0, 16.0, 1024.0] {
                table.rows.push(Row::at(v, x, ()));
            }
        }
        let runs = |report: ReportBuilder, x: f64, threads: &[f64], tasks: &[f64]| {
            report.figure(CAPACITY, (Threads, x), OPS, threads).figure(CAPACITY, (Tasks, x), OPS, tasks)
        };
        let report = ReportBuilder::new::<Demo>(&INFO, &(), vec![table.clone()]);
        // At 1: threads clearly ahead; at 16: tasks ahead at the median, run against run it
        // swaps; at 1024: tasks clearly ahead.
        let report = runs(report, 1.0, &[200.0, 210.0, 205.0, 198.0, 202.0], &[100.0, 104.0, 99.0, 101.0, 100.0]);
        let report = runs(report, 16.0, &[100.0, 120.0, 100.0, 120.0, 100.0], &[110.0, 100.0, 110.0, 100.0, 125.0]);
        let report = runs(report, 1024.0, &[100.0, 101.0, 99.0, 100.0, 102.0], &[300.0, 310.0, 305.0, 290.0, 300.0]);
        let report = report.build();
        let measure = Measure::from(OPS);
        let found: Vec<Lead> = leads(&report, CAPACITY, &measure, Better::Higher).into_iter().map(|(_, l)| l).collect();
        assert_eq!(
            found,
            [
                Lead::Clear("threads".into()),
                Lead::TooClose("tasks".into(), "threads".into()),
                Lead::Clear("tasks".into())
            ]
        );
        // The median alone still names a leader at 16: the interval is what withholds it.
        assert_eq!(leaders(&report, CAPACITY, &measure, Better::Higher)[1], (16.0, "tasks".to_string()));
        let spans = lead_spans(&report, CAPACITY, &measure, Better::Higher);
        assert_eq!(
            spans.iter().map(span_text).collect::<Vec<_>>(),
            ["threads at 1", "too close to call (tasks, threads) at 16", "tasks at 1024"]
        );
        // One run each: no interval to draw, so the median decides (the run line says how
        // many runs a table had).
        let one = ReportBuilder::new::<Demo>(&INFO, &(), vec![table]);
        let one = runs(one, 1.0, &[200.0], &[100.0]);
        let one = runs(one, 16.0, &[100.0], &[101.0]);
        let one = runs(one, 1024.0, &[100.0], &[300.0]).build();
        let found: Vec<Lead> = leads(&one, CAPACITY, &measure, Better::Higher).into_iter().map(|(_, l)| l).collect();
        assert_eq!(found, [Lead::Clear("threads".into()), Lead::Clear("tasks".into()), Lead::Clear("tasks".into())]);
    }
}
