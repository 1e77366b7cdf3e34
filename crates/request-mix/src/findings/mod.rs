//! What the figures say: the accounting every run must balance ([`checks`]), the verdicts in
//! the case's words ([`verdicts`]: where the answer flips, and what CPU between awaits costs
//! the tail), and one function per claim ([`claims`]), all computed from a report. The map
//! itself (each cell's winner, its margin, the boundaries) is the harness's, drawn from the
//! same tables.

pub mod checks;
pub mod claims;
pub mod verdicts;

use casebook::{Missing, Report, Series, Table, VariantSet};

use crate::{figures::REQUESTS_PER_S, tables::MAP, variants::Variant};

/// The map's tables that ran, with their number of requests in flight, fewest first.
pub fn map_tables(report: &Report) -> Vec<(&Table, u32)> {
    let mut tables: Vec<(&Table, u32)> = report
        .tables
        .iter()
        .filter_map(|t| t.map.as_ref().filter(|m| m.map == MAP).map(|m| (t, m.value as u32)))
        .collect();
    tables.sort_by_key(|(_, n)| *n);
    tables
}

/// The CPU points a table's rows ran at, in order.
pub fn cpu_points(report: &Report, table: &Table) -> Vec<f64> {
    let mut points: Vec<f64> = report.ran_in(table).filter_map(|r| r.axis_value).collect();
    points.sort_by(f64::total_cmp);
    points.dedup();
    points
}

/// A cell's place in words: `100 µs at 256 in flight`.
pub fn cell_name(cpu_us: f64, in_flight: u32) -> String {
    format!("{cpu_us} µs at {in_flight} in flight")
}

/// The variant `pick` allows with the highest median throughput in a cell, with its runs
/// labelled for a rule's sentence; missing when none of them ran there.
pub fn best(
    report: &Report,
    table: &Table,
    cpu_us: f64,
    in_flight: u32,
    pick: impl Fn(Variant) -> bool,
) -> Result<(Variant, Series), Missing> {
    let mut found: Option<(Variant, Series)> = None;
    for variant in Variant::ALL.iter().copied().filter(|v| pick(*v)) {
        let Ok(series) = report.series(table, (variant, cpu_us), REQUESTS_PER_S) else { continue };
        if found.as_ref().is_none_or(|(_, b)| series.median() > b.median()) {
            found = Some((variant, series));
        }
    }
    found.map(|(v, s)| (v, s.named(format!("{v} req/s at {}", cell_name(cpu_us, in_flight))))).ok_or_else(|| {
        Missing(format!("no variant of the kind the claim compares ran at {}", cell_name(cpu_us, in_flight)))
    })
}
