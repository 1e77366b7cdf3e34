//! The framework's claims, each read off the map's cells: one function per claim, its rule
//! and threshold beside it. Every cell is decided by the paired interval rule on throughput
//! (run `i` of one variant against run `i` of another, which ran side by side), and a claim
//! holds only where every cell it reads holds.

use casebook::{Claim, ClaimId, ClaimResult, Decision, Missing, Report, Table, stats::rules};

use crate::{
    figures::REQUESTS_PER_S,
    findings::{best, cell_name, cpu_points, map_tables},
    params::{BUDGET_US, MANY_IN_FLIGHT, Params},
    variants::Variant,
};

/// `async-io`: the CPU points where a request is mostly waiting.
const IO_HEAVY_US: [f64; 2] = [0.0, 10.0];
/// `async-io`: the best async variant "ties" when it reaches this share of the best thread
/// variant's throughput.
const TIE: f64 = 0.95;
/// `threads-cpu`, `async-many-conns`: "wins" is at least as fast, the whole interval above.
const WIN: f64 = 1.0;
/// `start-async`: the hybrid must reach this share of the best variant's throughput.
const NEAR_BEST: f64 = 0.9;

pub fn claims(_params: &Params, report: &Report) -> Vec<ClaimResult> {
    vec![async_io(report), threads_cpu(report), async_many_conns(report), start_async(report)]
}

/// One decision per cell the claim reads, in map order: `(cpu µs, table, in flight)`.
fn each_cell(
    report: &Report,
    keep: impl Fn(f64, u32) -> bool,
    mut decide: impl FnMut(&Table, f64, u32) -> Result<Decision, Missing>,
) -> Result<Vec<(String, Decision)>, Missing> {
    let mut decisions = Vec::new();
    for (table, in_flight) in map_tables(report) {
        for cpu_us in cpu_points(report, table).into_iter().filter(|x| keep(*x, in_flight)) {
            decisions.push((cell_name(cpu_us, in_flight), decide(table, cpu_us, in_flight)?));
        }
    }
    Ok(decisions)
}

/// All the cells' decisions as one, or `undecided` with `why` when no cell qualified.
fn all_cells(cells: Vec<(String, Decision)>, why: &str) -> Decision {
    if cells.is_empty() {
        return rules::undecided(why);
    }
    Decision::all(cells.into_iter().map(|(_, d)| d))
}

/// The best of one side against the best of the other in one cell, by `factor`.
fn side_against_side(
    report: &Report,
    table: &Table,
    cpu_us: f64,
    in_flight: u32,
    side: fn(Variant) -> bool,
    factor: f64,
) -> Result<Decision, Missing> {
    let (_, ours) = best(report, table, cpu_us, in_flight, side)?;
    let (_, theirs) = best(report, table, cpu_us, in_flight, |v| !side(v))?;
    Ok(rules::ratio_at_least(&ours, &theirs, factor))
}

/// `async-io`: where a request is nearly all waiting (0 and 10 µs of CPU in the 1 ms), the
/// best variant with async sockets wins or ties the best thread variant in every cell.
fn async_io(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::AsyncIo).decide(|| {
        let cells = each_cell(
            report,
            |x, _| IO_HEAVY_US.contains(&x),
            |t, x, n| side_against_side(report, t, x, n, Variant::async_io, TIE),
        )?;
        Ok(all_cells(cells, "no cell at 0 or 10 µs of CPU ran"))
    })
}

/// `threads-cpu`: where a request is all CPU (its whole budget), the best variant that runs
/// the CPU on threads of its own (threads, or the hybrids) beats the best that runs it on
/// the runtime's workers, at every number in flight.
fn threads_cpu(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::ThreadsCpu).decide(|| {
        let cells = each_cell(
            report,
            |x, _| x == f64::from(BUDGET_US),
            |t, x, n| side_against_side(report, t, x, n, Variant::cpu_on_threads, WIN),
        )?;
        Ok(all_cells(cells, &format!("no cell at {BUDGET_US} µs of CPU ran")))
    })
}

/// `async-many-conns`: with thousands of requests in flight, the best async variant beats the
/// best thread variant at every CPU share.
fn async_many_conns(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::AsyncManyConns).decide(|| {
        let cells = each_cell(
            report,
            |_, n| n >= MANY_IN_FLIGHT,
            |t, x, n| side_against_side(report, t, x, n, Variant::async_io, WIN),
        )?;
        Ok(all_cells(cells, &format!("no table at {MANY_IN_FLIGHT} requests in flight or more ran")))
    })
}

// ANCHOR: start_async
/// `start-async`: starting with async and moving the CPU to threads (`tokio-rayon`) costs
/// little anywhere: within 10% of the best variant's throughput in every cell of the map.
fn start_async(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::StartAsync).decide(|| {
        let cells = each_cell(
            report,
            |_, _| true,
            |t, x, n| {
                let hybrid = report.series(t, (Variant::TokioRayon, x), REQUESTS_PER_S)?;
                let hybrid = hybrid.named(format!("tokio-rayon req/s at {}", cell_name(x, n)));
                let (_, best) = best(report, t, x, n, |v| v != Variant::TokioRayon)?;
                Ok(rules::ratio_at_least(&hybrid, &best, NEAR_BEST))
            },
        )?;
        let short: Vec<String> = cells
            .iter()
            .filter(|(_, d)| d.outcome != casebook::Outcome::Held)
            .map(|(cell, d)| format!("{cell} ({})", d.outcome))
            .collect();
        let count = cells.len();
        let context = match short.len() {
            0 => format!("within 10% of the best in all {count} cells"),
            n => format!("not shown within 10% of the best in {n} of {count} cells: {}", short.join(", ")),
        };
        Ok(all_cells(cells, "no cell of the map ran").noting(context))
    })
}
// ANCHOR_END: start_async
