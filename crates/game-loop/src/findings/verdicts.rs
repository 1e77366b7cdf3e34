//! The verdict sentences: where each variant stopped holding 64 Hz, the target for the
//! hybrid, and what the executors cost with no network; all computed from the figures.

use casebook::{
    Measure, Report, VariantSet,
    model::figure::CORES_BUSY,
    model::format::{format_count, thousands},
    report::sweep,
};

use crate::{
    figures::*,
    findings::claims::HOLDS_64HZ,
    params::Params,
    sim::clock::PERIOD,
    tables::{CLIENTS, REPLAY, REPLAY_SMALL},
    variants::Variant,
};

/// The performance targets of the issue, for the hybrid at 1,000 clients.
pub const TARGET_LATENESS_US: f64 = 1000.0;
pub const TARGET_INPUT_TICKS: f64 = 2.0;

pub fn verdicts(params: &Params, report: &Report) -> Vec<String> {
    let mut lines = holds_64hz(report);
    lines.extend(target(params, report));
    lines.extend(executors(report));
    lines
}

/// Where each variant of the sweep stopped holding 64 Hz.
fn holds_64hz(report: &Report) -> Vec<String> {
    let on_time = Measure::from(ON_TIME);
    let clients = |x: f64| thousands(x as u64);
    let mut lines = Vec::new();
    for variant in Variant::ALL.iter().filter(|v| v.sweeps()) {
        let points = sweep::points(report, CLIENTS, variant.name(), &on_time);
        if points.len() < 2 {
            continue;
        }
        let held = sweep::last_where(&points, |v| v >= HOLDS_64HZ);
        lines.push(match (held, points.iter().find(|(_, v)| *v < HOLDS_64HZ)) {
            (_, None) => format!(
                "{variant} held 64 Hz at every client count measured, up to {}.",
                clients(points[points.len() - 1].0)
            ),
            (Some((x, _)), Some((y, v))) => format!(
                "{variant} held 64 Hz up to {} clients; at {} only {:.0}% of its ticks were on time.",
                clients(x),
                clients(*y),
                v * 100.0
            ),
            (None, Some((y, v))) => format!(
                "{variant} did not hold 64 Hz even at {} clients ({:.0}% of ticks on time).",
                clients(*y),
                v * 100.0
            ),
        });
    }
    lines
}

/// The performance target for the hybrid at 1,000 clients, with the bots' share.
fn target(params: &Params, report: &Report) -> Option<String> {
    let at = *params.sweep.iter().filter(|c| **c <= 1000).max()?;
    let row = report.row(CLIENTS, (Variant::Hybrid, f64::from(at)))?;
    let late = row.quantile(TICK_LATENESS, 0.99)?;
    let input = row.quantile(INPUT_LATENCY, 0.99)?;
    let lost = row.median(LOST)?;
    let (server, bots) = (row.median(CORES_BUSY)?, row.median(BOT_CORES)?);
    let period_us = PERIOD.as_micros() as f64;
    let met = late < TARGET_LATENESS_US && input <= TARGET_INPUT_TICKS * period_us && lost == 0.0;
    Some(format!(
        "Target for the hybrid at {} clients (tick lateness p99 under 1 ms, input→snapshot p99 within 2 ticks, no snapshot lost): {}. Lateness p99 {}, input→snapshot p99 {}, {} lost (median); the server used {:.2} cores and the bots {:.2} of this machine's {}.",
        thousands(u64::from(at)),
        if met { "met" } else { "not met" },
        TICK_LATENESS.format.show(late),
        INPUT_LATENCY.format.show(input),
        format_count(lost),
        server,
        bots,
        report.env.logical_cores
    ))
}

/// What the executors cost with no network, on the small and the default world.
fn executors(report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    for table in [REPLAY_SMALL, REPLAY] {
        let p50 = |v: Variant| report.row(table, v).and_then(|r| r.quantile(REPLAY_TICK, 0.5));
        if let (Some(multi), Some(single), Some(serial)) =
            (p50(Variant::Hybrid), p50(Variant::HybridSt), p50(Variant::SingleThreadPoll))
        {
            let title = report.table(table).map_or(table.to_string(), |t| t.title.clone());
            lines.push(format!(
                "{title}: a tick's p50 is {} on Bevy's multi-threaded executor, {} on its single-threaded executor, {} with no parallelism at all.",
                REPLAY_TICK.format.show(multi),
                REPLAY_TICK.format.show(single),
                REPLAY_TICK.format.show(serial)
            ));
        }
    }
    lines
}
