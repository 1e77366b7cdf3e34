//! The tables: the client sweep, the heavy simulation, the abuse run, and the replays; and
//! which rows this machine can hold.

use casebook::{
    Axis, Column, Measure, PlotSpec, Primary, Row, Table, TableId, VariantSet, model::figure::CORES_BUSY,
    model::format::thousands, model::plan::SweepPoint, run::limits::Readings,
};

use crate::{
    figures::*,
    params::{ABUSE_SHARE, Params, Spec, Tables},
    servers::caps::client_cap,
    variants::Variant,
};

/// Every model against the number of clients: the main comparison.
pub const CLIENTS: TableId = TableId::new("clients");
/// The simulation made heavy (`--sim-cost`): placements under contention.
pub const HEAVY: TableId = TableId::new("heavy");
/// Malformed datagrams, clients that vanish, slow TCP clients.
pub const ABUSE: TableId = TableId::new("abuse");
/// The replay of a small world: where the executor's hand-off can cost more than the systems.
pub const REPLAY_SMALL: TableId = TableId::new("replay-small");
/// The replay of the `--entities` world.
pub const REPLAY: TableId = TableId::new("replay");

/// The small world of [`REPLAY_SMALL`]: entities and scripted clients.
pub const SMALL_WORLD: (u32, u32) = (500, 10);

pub fn tables(params: &Params, variants: &[Variant]) -> Vec<Table> {
    // The harness raised the descriptor limit before this; the bots and servers inherit it.
    let readings = Readings::without_probe();
    let mut tables = Vec::new();
    if params.runs(Tables::Clients) {
        tables.push(clients_table(params, variants, &readings));
    }
    if params.runs(Tables::Heavy) {
        tables.push(heavy_table(params, variants));
    }
    if params.runs(Tables::Abuse) {
        tables.push(abuse_table(params, variants, &readings));
    }
    if params.runs(Tables::Replay) {
        tables.push(replay_table(params, variants, REPLAY_SMALL, SMALL_WORLD));
        tables.push(replay_table(params, variants, REPLAY, (params.entities, params.clients)));
    }
    tables.retain(|t| !t.rows.is_empty());
    tables
}

/// The selected variants that belong in a table, in the enum's order whatever the order of
/// `--variants`.
fn selected(variants: &[Variant], belongs: fn(Variant) -> bool) -> impl Iterator<Item = Variant> {
    Variant::ALL.iter().copied().filter(move |v| variants.contains(v) && belongs(*v))
}

/// A live row, skipped with the reason when this machine cannot hold its clients.
fn live_row(variant: Variant, at: Option<u32>, clients: u32, spec: Spec, readings: &Readings) -> Row {
    let row = match at {
        Some(x) => Row::at(variant, f64::from(x), spec),
        None => Row::new(variant, spec),
    };
    let cap = client_cap(variant, readings, u64::from(clients));
    if cap.units < u64::from(clients) {
        row.skip(format!(
            "{} clients are above this machine's safe cap of {} for {variant} ({}: {})",
            thousands(u64::from(clients)),
            thousands(cap.units),
            cap.set_by,
            cap.detail
        ))
    } else {
        row
    }
}

const LATENESS_NOTE: &str = "late: how long after its scheduled start (every 15.625 ms) each tick began; on time: share of the run's tick slots that began less than a period late and were not dropped. input: from a bot sending input s to the first snapshot acknowledging s. snaps lost: ticks whose snapshot never reached a bot; snaps late: snapshots more than a period behind their due time. server cores: CPU of the measured server process over its run; bots' cores: the bots' threads over theirs, in their own process (the harness's whole-process load-generator figures are in the JSON).";

fn clients_table(params: &Params, variants: &[Variant], readings: &Readings) -> Table {
    let mut table = Table::new(CLIENTS, clients_title(params));
    for variant in selected(variants, Variant::sweeps) {
        for &clients in &params.sweep {
            // The point the claims read gets the claims' longer runs.
            let slots = if clients == params.clients { params.slots } else { params.sweep_slots };
            let spec = Spec::Live { clients, slots, sim_cost: 0, abuse: false };
            table.rows.push(live_row(variant, Some(clients), clients, spec, readings));
        }
    }
    table.axis = Some(Axis::new("clients").log());
    table.baseline_if_present(Variant::Hybrid);
    table.columns = vec![
        Column::quantile("late p50", TICK_LATENESS, 0.5),
        Column::quantile("late p99", TICK_LATENESS, 0.99),
        Column::quantile("late p99.9", TICK_LATENESS, 0.999),
        Column::quantile("late max", TICK_LATENESS, 1.0),
        Column::new("on time", ON_TIME),
        Column::quantile("input p50", INPUT_LATENCY, 0.5),
        Column::quantile("input p99", INPUT_LATENCY, 0.99),
        Column::quantile("input p99.9", INPUT_LATENCY, 0.999),
        Column::new("snaps lost", LOST),
        Column::new("snaps late", LATE),
        Column::new("server cores", CORES_BUSY),
        Column::new("bots' cores", BOT_CORES),
        Column::peak_threads(),
        Column::peak_rss(),
    ];
    table.primary = Primary::lower(Measure::quantile(INPUT_LATENCY, 0.99));
    table.digests_must_agree = false;
    table.repeat = Some(params.live_repeat);
    // At --clients the UDP placements answer inputs alike (the tick sets the time), so the
    // plots that tell them apart come first: what each server burns against when its ticks
    // start, at that point (a timer's millisecond against a thread's microseconds); then
    // each of the two along the sweep.
    table.plots = vec![
        PlotSpec::scatter(
            CORES_BUSY,
            Measure::quantile(TICK_LATENESS, 0.99),
            SweepPoint::At(f64::from(params.clients)),
        ),
        PlotSpec::log_y(Measure::quantile(TICK_LATENESS, 0.99)),
        PlotSpec::log_y(CORES_BUSY),
        PlotSpec::Primary,
        PlotSpec::of(ON_TIME),
        PlotSpec::of(BOT_CORES),
    ];
    table.note = format!(
        "{LATENESS_NOTE} Each live run's world differs (which tick an input lands on depends on timing), so these rows have no common digest; the replay tables check determinism."
    );
    table
}

/// The clients table's title, with its runs' lengths: longer where the claims read it.
fn clients_title(params: &Params) -> String {
    let lengths = if params.slots == params.sweep_slots || !params.sweep.contains(&params.clients) {
        let seconds = if params.sweep.contains(&params.clients) { params.seconds } else { params.sweep_seconds };
        format!("{seconds} s of 64 Hz ticks per run")
    } else {
        format!(
            "{} s of 64 Hz ticks per run at {} clients (where the claims read), {} s elsewhere",
            params.seconds,
            thousands(u64::from(params.clients)),
            params.sweep_seconds
        )
    };
    format!("Clients over UDP or TCP, {} entities, {lengths}", params.entities)
}

fn heavy_table(params: &Params, variants: &[Variant]) -> Table {
    let mut table = Table::new(
        HEAVY,
        format!(
            "A heavy simulation: {} entities with {} rounds of extra work each per tick (about {:.0}% of every core's tick budget here), {} clients over UDP, {} s of 64 Hz ticks per run",
            params.entities,
            params.sim_cost_rounds,
            params.sim_cost_share * 100.0,
            params.clients,
            params.seconds
        ),
    );
    let spec =
        Spec::Live { clients: params.clients, slots: params.slots, sim_cost: params.sim_cost_rounds, abuse: false };
    table.rows = selected(variants, Variant::heavy).map(|v| Row::new(v, spec)).collect();
    table.baseline_if_present(Variant::Hybrid);
    table.columns = vec![
        Column::quantile("tick p50", TICK_DURATION, 0.5),
        Column::quantile("tick p99", TICK_DURATION, 0.99),
        Column::quantile("late p99", TICK_LATENESS, 0.99),
        Column::quantile("late max", TICK_LATENESS, 1.0),
        Column::new("on time", ON_TIME),
        Column::new("missed", MISSED),
        Column::quantile("input p99", INPUT_LATENCY, 0.99),
        Column::new("snaps lost", LOST),
        Column::new("server cores", CORES_BUSY),
        Column::new("bots' cores", BOT_CORES),
    ];
    table.primary = Primary::lower(Measure::quantile(TICK_LATENESS, 0.99));
    table.digests_must_agree = false;
    table.repeat = Some(params.heavy_repeat);
    table.note = format!(
        "tick: from a tick's start to the end of its work (inputs in, schedule run, snapshots handed out); missed: ticks dropped when the backlog passed 250 ms. {LATENESS_NOTE}"
    );
    table
}

fn abuse_table(params: &Params, variants: &[Variant], readings: &Readings) -> Table {
    let mut table = Table::new(
        ABUSE,
        format!(
            "Under abuse, {} clients, {} s runs: {} malformed datagrams/s (UDP), 1 in {ABUSE_SHARE} bots vanishing without a goodbye, 1 in {ABUSE_SHARE} TCP bots never reading",
            params.clients, params.abuse_seconds, params.flood_per_s
        ),
    );
    let spec = Spec::Live { clients: params.clients, slots: params.abuse_slots, sim_cost: 0, abuse: true };
    table.rows =
        selected(variants, Variant::sweeps).map(|v| live_row(v, None, params.clients, spec, readings)).collect();
    table.baseline_if_present(Variant::Hybrid);
    table.columns = vec![
        Column::quantile("late p99", TICK_LATENESS, 0.99),
        Column::quantile("late max", TICK_LATENESS, 1.0),
        Column::new("on time", ON_TIME),
        Column::new("flood sent", FLOOD_SENT),
        Column::new("malformed counted", MALFORMED),
        Column::new("kernel drops", SERVER_KERNEL_DROPS),
        Column::new("vanished", VANISHED),
        Column::new("timed out", TIMED_OUT),
        Column::new("closed silent", CLOSED_SILENT),
        Column::new("slow", SLOW),
        Column::new("snapshots dropped", SNAPSHOTS_DROPPED),
        Column::quantile("input p99", INPUT_LATENCY, 0.99),
        Column::new("snaps lost", LOST),
        Column::new("replay matches", REPLAY_MATCHES),
        Column::new("server cores", CORES_BUSY),
    ];
    table.primary = Primary::lower(Measure::quantile(TICK_LATENESS, 0.99));
    table.digests_must_agree = false;
    // The abuse runs check robustness, not speed: one measured run each.
    table.repeat = Some(1);
    table.note = "malformed counted: datagrams the server decoded, found damaged, counted by kind and dropped (the flood sends all seven kinds in turn, for three quarters of the run); kernel drops: datagrams the kernel dropped at the server's full receive queue. vanished: bots that went silent a quarter into the run; timed out: clients the simulation dropped after a quarter of the run without input, avatars removed; closed silent: TCP connections the server closed after twice that long without input, in wall time, which comes first when the ticks run late (the client then leaves the simulation). input p99: input to snapshot, as in the clients table. slow: TCP bots with a 4 KiB window that never read: their queues fill and their snapshots are dropped, counted. replay matches: the run's own input log, replayed, rebuilt the world it ended with.".into();
    table
}

fn replay_table(params: &Params, variants: &[Variant], id: TableId, (entities, clients): (u32, u32)) -> Table {
    let ticks = params.sweep_slots as u32;
    let mut table = Table::new(
        id,
        format!(
            "Replay with no network: {entities} entities, {clients} scripted clients, {ticks} ticks as fast as they run"
        ),
    );
    let spec = Spec::Replay { entities, clients, ticks };
    table.rows = selected(variants, Variant::replays).map(|v| Row::new(v, spec)).collect();
    table.baseline_if_present(Variant::Hybrid);
    table.columns = vec![
        Column::quantile("tick p50", REPLAY_TICK, 0.5),
        Column::quantile("tick p99", REPLAY_TICK, 0.99),
        Column::quantile("tick max", REPLAY_TICK, 1.0),
        Column::vs_baseline("vs hybrid"),
        Column::cores_busy(),
        Column::peak_threads(),
    ];
    table.primary = Primary::lower(Measure::quantile(REPLAY_TICK, 0.5));
    table.digests_must_agree = true;
    table.repeat = Some(params.replay_repeat);
    table.note = "The same scripted input log through each way of running the schedule: hybrid = Bevy's multi-threaded executor with par_iter, hybrid-st = its single-threaded executor with par_iter, single-thread-poll = single-threaded, no par_iter. Every row must end in the same world (digest).".into();
    table
}

#[cfg(test)]
mod tests {
    use casebook::{Preset, model::plan::Point};

    use super::*;
    use crate::params::{Args, resolve};

    /// The sweep's point the claims read gets the claims' longer runs, every other point the
    /// sweep's, the abuse runs theirs; `hybrid-st` is in no live table.
    #[test]
    fn the_claims_point_gets_the_longer_runs() {
        let args = Args {
            tables: Some(vec![Tables::Clients, Tables::Abuse]),
            sweep: Some(vec![100, 1000, 5000]),
            ..Args::default()
        };
        let params = resolve(&args, Preset::Default).expect("default");
        assert!(params.slots != params.sweep_slots && params.abuse_slots != params.slots);
        let plan = tables(&params, Variant::ALL);
        assert_eq!(plan.iter().map(|t| t.rows.len()).sum::<usize>(), 3 * 5 + 5);
        for table in &plan {
            for row in &table.rows {
                assert_ne!(row.variant, Variant::HybridSt.to_string(), "{}", row.label);
                let point = Point {
                    table: table.id.clone(),
                    variant: row.variant.clone(),
                    label: row.label.clone(),
                    axis_value: row.axis_value,
                    point: row.point.clone(),
                };
                let Spec::Live { clients, slots, abuse, .. } = point.decode::<Spec>().expect("a spec") else {
                    panic!("{}: not a live row", row.label);
                };
                let want = match (abuse, clients == params.clients) {
                    (true, _) => params.abuse_slots,
                    (false, true) => params.slots,
                    (false, false) => params.sweep_slots,
                };
                assert_eq!(slots, want, "{}", row.label);
            }
        }
    }
}
