//! Questions a sweep answers, asked of a report: each variant's best point, the knee of a
//! curve (where it gets within reach of its best), the crossovers where one variant
//! overtakes another, and the last point where a condition still held.

use crate::{
    model::{
        figure::{Better, Measure},
        format::Format,
        plan::Table,
    },
    report::{Report, TableRef},
};

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

/// The variants of a sweep table that have points, in the table's row order.
pub fn variants(report: &Report, table: impl TableRef) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for row in report.ran_in(table).filter(|r| r.axis_value.is_some()) {
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
mod tests {
    use super::*;

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
