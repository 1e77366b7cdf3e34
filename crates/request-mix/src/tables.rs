//! The map: one table per number of requests in flight, each a sweep over how much of the
//! 1 ms budget is CPU, every variant at every point, judged by requests answered per second.
//! The harness reads the tables together as a grid and names each cell's winner.

use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
};

use casebook::{
    Axis, Column, Measure, PlotSpec, Primary, Row, Table, TableId,
    model::{figure::LOADGEN_CORES, format::format_count, plan::MapPlace},
};

use crate::{
    figures::*,
    params::{BUDGET_US, MANY_IN_FLIGHT, Params},
    variants::Variant,
};

/// The map every table sits on.
pub const MAP: &str = "mix";
/// The map's second axis.
pub const IN_FLIGHT_AXIS: &str = "requests in flight";

/// The table of `in_flight` requests in flight: `in-flight-256`. The levels are an option,
/// so the ids are made when asked for, once each.
pub fn table_id(in_flight: u32) -> TableId {
    static IDS: Mutex<BTreeMap<u32, &'static str>> = Mutex::new(BTreeMap::new());
    let mut ids = IDS.lock().unwrap_or_else(PoisonError::into_inner);
    TableId::new(ids.entry(in_flight).or_insert_with(|| format!("in-flight-{in_flight}").leak()))
}

pub fn tables(params: &Params, variants: &[Variant]) -> Vec<Table> {
    params.in_flight.iter().map(|n| table(params, variants, *n)).collect()
}

fn table(params: &Params, variants: &[Variant], in_flight: u32) -> Table {
    let mut table = Table::new(
        table_id(in_flight),
        format!(
            "{} requests in flight: CPU per request out of a {BUDGET_US} µs budget, the rest waiting downstream",
            format_count(f64::from(in_flight))
        ),
    );
    table.axis = Some(Axis::new("CPU per request (µs)"));
    table.map =
        Some(MapPlace::new(MAP, IN_FLIGHT_AXIS, f64::from(in_flight)).with_tail(Measure::quantile(LATENCY, 0.99)));
    table.primary = Primary::higher(REQUESTS_PER_S);
    // Each CPU point is other work, with other answers: variants agree point by point.
    table.digests_by_axis = true;
    table.columns = vec![
        Column::new("req/s", REQUESTS_PER_S).with_spread(),
        Column::quantile("p50", LATENCY, 0.5),
        Column::quantile("p99", LATENCY, 0.99),
        Column::cores_busy(),
        Column::peak_rss(),
        Column::peak_threads(),
        Column::new("load gen cores", LOADGEN_CORES),
        Column::new("CPU/request", CPU_PER_REQUEST),
        Column::quantile("downstream late p99", DOWNSTREAM_LATE, 0.99),
    ];
    table.plots = vec![PlotSpec::Primary, PlotSpec::quantiles(LATENCY), PlotSpec::percentiles(LATENCY)];
    for cpu_us in &params.cpu_us {
        for variant in variants {
            table.rows.push(Row::at(*variant, f64::from(*cpu_us), params.spec(*cpu_us, in_flight)));
        }
    }
    table.note = note(params, in_flight);
    table
}

fn note(params: &Params, in_flight: u32) -> String {
    let requests: Vec<String> = params
        .cpu_us
        .iter()
        .map(|c| format!("{} at {c} µs", format_count(params.requests_for(*c, in_flight) as f64)))
        .collect();
    let mut note = format!(
        "Every run answers a fixed number of requests ({}), {} client connections each keeping one request in flight (closed loop); every variant must return the same digest of the answers. req/s: ok replies from the go to the last reply, at the clients. p50/p99: send to reply at the clients, merged over the runs, coordinated omission corrected as if every connection wanted a request every {BUDGET_US} µs. CPU/request: one request's CPU part (BLAKE3, calibrated by the parent at {:.0} ns a unit) timed in the server before its run. downstream late p99: how long after its due time the downstream's answers left, in its own process. load gen cores: the clients' and the downstream's processes together. {} pool threads for thread-pool, {} cores for the rest.",
        requests.join(", "),
        format_count(f64::from(in_flight)),
        params.unit_ns,
        params.pool_threads,
        params.cores,
    );
    if in_flight >= MANY_IN_FLIGHT && params.requests.is_none() {
        note += " At this many connections a run of the costlier cells is a single wave: every connection's one request sent at the go and the queue drained.";
    }
    note
}

#[cfg(test)]
mod tests {
    use casebook::{Preset, VariantSet};

    use super::*;
    use crate::params::{Args, Spec, resolve};

    /// What the default map's runs may plan for, in seconds of the two cores' time: the rest of
    /// its three minutes goes to starting processes and opening thousands of connections.
    const DEFAULT_WORK_S: f64 = 120.0;

    #[test]
    fn the_default_map_runs_every_table_five_times_and_its_work_fits_two_cores() {
        let mut params = resolve(&Args::default(), Preset::Default).unwrap();
        params.cores = 2;
        let tables = tables(&params, Variant::ALL);
        // Every claim reads every table: none runs fewer than the preset's five.
        assert!(tables.iter().all(|t| t.repeat.is_none()));
        assert!(Preset::Default.default_repeat() >= 5);
        assert!(params.in_flight.iter().any(|n| *n >= MANY_IN_FLIGHT), "async-many-conns needs a table");
        // Each run's requests at the rate the cores allow, a warm-up and the measured runs.
        let runs = (1 + Preset::Default.default_repeat()) as f64;
        let work: f64 = tables
            .iter()
            .flat_map(|t| &t.rows)
            .map(|row| {
                let spec: Spec = serde_json::from_value(row.point.clone()).unwrap();
                spec.requests as f64 / params.expected_rate(spec.cpu_us, spec.in_flight) * runs
            })
            .sum();
        assert!(work <= DEFAULT_WORK_S, "the default map plans {work:.0} s of work");
    }
}
