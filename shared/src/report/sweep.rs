//! Questions a sweep answers, asked of a report: each variant's best point, the knee of a
//! curve (where it gets within reach of its best), the crossovers where one variant
//! overtakes another, and the last point where a condition still held.

use crate::{
    model::{
        figure::{Better, Measure},
        format::Format,
        plan::{AxisEnd, AxisMark, Table},
    },
    report::{Report, RowReport, TableRef},
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

/// The variant with the best measure at each axis value of the table.
pub fn leaders(report: &Report, table: impl TableRef, measure: &Measure, better: Better) -> Vec<(f64, String)> {
    let curves: Vec<(String, Vec<(f64, f64)>)> =
        variants(report, &table).into_iter().map(|v| (v.clone(), points(report, &table, &v, measure))).collect();
    let mut xs: Vec<f64> = curves.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| *x)).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    xs.into_iter()
        .filter_map(|x| {
            let at_x = curves.iter().filter_map(|(v, p)| p.iter().find(|(px, _)| *px == x).map(|(_, y)| (v, *y)));
            let (winner, _) = at_x.reduce(|a, b| if better.prefers(b.1, a.1) { b } else { a })?;
            Some((x, winner.clone()))
        })
        .collect()
}

/// A swept table's leaders as a sentence: "rayon from 1 to 64; tokio-rayon from 256 to 4096
/// (in flight)", headed by the table's title and primary measure; `None` for a table with no
/// axis or no figures.
pub fn leader_runs(report: &Report, table: &Table) -> Option<String> {
    let axis = table.axis.as_ref()?;
    let mut runs: Vec<(String, f64, f64)> = Vec::new();
    for (x, variant) in leaders(report, table, &table.primary.measure, table.primary.better) {
        match runs.last_mut() {
            Some((v, _, to)) if *v == variant => *to = x,
            _ => runs.push((variant, x, x)),
        }
    }
    let x = |v: f64| Format::Count.show(v);
    let text = match runs.as_slice() {
        [] => return None,
        [(v, from, to)] => format!("{v} leads everywhere measured ({} {} to {})", axis.name, x(*from), x(*to)),
        _ => {
            runs.iter()
                .map(|(v, from, to)| {
                    if from == to {
                        format!("{v} at {}", x(*from))
                    } else {
                        format!("{v} from {} to {}", x(*from), x(*to))
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
                + &format!(" ({})", axis.name)
        }
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
}
