//! The verdicts in the case's words: where, along each row of the map, the winning model
//! changes; and the budget per poll: what each µs of CPU run between two awaits costs the
//! tail latency of every request sharing the runtime (`tokio-inline`'s p99 against its CPU),
//! and where that crosses the rule of thumb that a task should not run 10 to 100 µs
//! without yielding.

use casebook::{
    Report,
    model::format::{Format, format_count},
    report::map::{self, Map, TAIL_FLAG},
};

use crate::{
    figures::LATENCY,
    findings::{cpu_points, map_tables},
    params::MANY_IN_FLIGHT,
    tables::MAP,
    variants::Variant,
};

/// The rule of thumb for CPU between awaits, in µs.
const RULE_US: (f64, f64) = (10.0, 100.0);

pub fn verdicts(report: &Report) -> Vec<String> {
    let mut verdicts: Vec<String> = map::maps(report).iter().filter(|m| m.id == MAP).flat_map(flips).collect();
    verdicts.extend(budget_per_poll(report));
    verdicts
}

/// Per row of the map: the model of each cell's clear winner, runs of the same model joined:
/// "at 256 in flight the winner's model goes async (0 to 10 µs), too close to call (100 µs),
/// hybrid (500 to 1000 µs)".
fn flips(map: &Map) -> Vec<String> {
    let mut lines = Vec::new();
    for y in &map.ys {
        let mut runs: Vec<(String, f64, f64)> = Vec::new();
        for cell in map.cells.iter().filter(|c| c.y == *y) {
            let side = match cell.clear_winner() {
                Some(winner) => format!("{} ({})", winner.model, winner.variant),
                None => "too close to call".into(),
            };
            match runs.last_mut() {
                Some((last, _, to)) if *last == side => *to = cell.x,
                _ => runs.push((side, cell.x, cell.x)),
            }
        }
        let parts: Vec<String> =
            runs.iter()
                .map(|(side, from, to)| {
                    if from == to { format!("{side} at {from} µs") } else { format!("{side} from {from} to {to} µs") }
                })
                .collect();
        let flips = runs.len().saturating_sub(1);
        lines.push(format!(
            "at {} requests in flight the winner {}: {}.",
            format_count(*y),
            if flips == 0 {
                "never changed".to_string()
            } else {
                format!("changed {flips} time{}", if flips == 1 { "" } else { "s" })
            },
            parts.join("; ")
        ));
    }
    lines
}

// ANCHOR: budget_per_poll
/// `tokio-inline`'s p99 against its CPU per request, at the busiest level under
/// [`MANY_IN_FLIGHT`]: µs of p99 per µs of CPU between awaits, segment by segment, and the
/// first CPU point where its p99 is over twice `tokio-rayon`'s (which runs the same CPU
/// off the runtime), against the 10-100 µs rule.
fn budget_per_poll(report: &Report) -> Option<String> {
    let tables = map_tables(report);
    let (table, in_flight) = tables.iter().rev().find(|(_, n)| *n < MANY_IN_FLIGHT).or(tables.first())?;
    let p99 = |variant: Variant, x: f64| report.quantile(*table, (variant, x), LATENCY, 0.99);
    let points: Vec<(f64, f64)> =
        cpu_points(report, table).into_iter().filter_map(|x| Some((x, p99(Variant::TokioInline, x)?))).collect();
    if points.len() < 2 {
        return None;
    }
    let us = |v: f64| Format::Micros.show(v);
    let segments: Vec<String> = points
        .windows(2)
        .map(|w| format!("{} to {} µs: {:.1}", w[0].0, w[1].0, (w[1].1 - w[0].1) / (w[1].0 - w[0].0)))
        .collect();
    let (first, last) = (points[0], points[points.len() - 1]);
    let overall = (last.1 - first.1) / (last.0 - first.0);
    let crossing =
        points.iter().find(|(x, inline)| p99(Variant::TokioRayon, *x).is_some_and(|h| *inline > TAIL_FLAG * h));
    let against_rule = match crossing {
        None => format!("its p99 never exceeded {TAIL_FLAG:.0}x tokio-rayon's, up to {} µs", last.0),
        Some((x, _)) if *x < RULE_US.0 => {
            format!("its p99 first exceeded {TAIL_FLAG:.0}x tokio-rayon's at {x} µs, below the 10-100 µs rule")
        }
        Some((x, _)) if *x <= RULE_US.1 => {
            format!("its p99 first exceeded {TAIL_FLAG:.0}x tokio-rayon's at {x} µs, within the 10-100 µs rule")
        }
        Some((x, _)) => {
            format!("its p99 first exceeded {TAIL_FLAG:.0}x tokio-rayon's at {x} µs, above the 10-100 µs rule")
        }
    };
    Some(format!(
        "budget per poll, at {} in flight: each µs of CPU between awaits added {overall:.1} µs to the p99 of every request sharing tokio-inline's runtime, from {} at {} µs to {} at {} µs (µs of p99 per µs of CPU, {}); {against_rule}.",
        format_count(f64::from(*in_flight)),
        us(first.1),
        first.0,
        us(last.1),
        last.0,
        segments.join(", "),
    ))
}
// ANCHOR_END: budget_per_poll
