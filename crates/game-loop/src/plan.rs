//! The tables: the client sweep, the heavy simulation, the abuse run, and the replays; and
//! which rows this machine can hold.

use casebook::{
    Axis, Column, Measure, PlotSpec, Primary, Row, Table, figure::CORES_BUSY, format::thousands, limits::Readings,
};

use crate::{
    caps::client_cap,
    figures::*,
    params::{Params, RowSpec, Tables},
    variants::Variant,
};

pub const CLIENTS_TABLE: &str = "clients";
pub const HEAVY_TABLE: &str = "heavy";
pub const ABUSE_TABLE: &str = "abuse";
pub const REPLAY_SMALL_TABLE: &str = "replay-small";
pub const REPLAY_TABLE: &str = "replay";

/// The clients sweep: every model. `hybrid-st` differs from the hybrid only in its executor,
/// so it has one row, at `--clients`.
pub const SWEEP_VARIANTS: [Variant; 5] =
    [Variant::Hybrid, Variant::AllAsync, Variant::SingleThreadPoll, Variant::ThreadPerClient, Variant::HybridTcp];
/// The heavy table is about where the simulation runs; the TCP variants place it exactly as
/// the hybrid does.
pub const HEAVY_VARIANTS: [Variant; 4] =
    [Variant::Hybrid, Variant::HybridSt, Variant::AllAsync, Variant::SingleThreadPoll];
pub const ABUSE_VARIANTS: [Variant; 5] = SWEEP_VARIANTS;
/// One row per way of running the schedule: multi-threaded executor, single-threaded
/// executor, and single-threaded with no `par_iter`.
pub const REPLAY_VARIANTS: [Variant; 3] = [Variant::Hybrid, Variant::HybridSt, Variant::SingleThreadPoll];
/// The small world of the first replay table: where the executor's hand-off can cost more
/// than the systems.
pub const SMALL_WORLD: (u32, u32) = (500, 10);

/// The harness's variant of this name, if it was selected.
fn selected(variants: &[&'static casebook::Variant], variant: Variant) -> Option<&'static casebook::Variant> {
    variants.iter().copied().find(|v| v.name == variant.name())
}

/// A live row, skipped with the reason when this machine cannot hold its clients.
fn live_row(
    variant: &'static casebook::Variant,
    which: Variant,
    at: Option<f64>,
    spec: RowSpec,
    readings: &Readings,
) -> Row {
    let clients = match spec {
        RowSpec::Live { clients, .. } => clients,
        RowSpec::Replay { clients, .. } => clients,
    };
    let row = match at {
        Some(x) => Row::at(variant, x, spec),
        None => Row::new(variant, spec),
    };
    let cap = client_cap(which, readings, u64::from(clients));
    if cap.units < u64::from(clients) {
        row.skip(format!(
            "{} clients are above this machine's safe cap of {} for {} ({}: {})",
            thousands(u64::from(clients)),
            thousands(cap.units),
            which.name(),
            cap.set_by,
            cap.detail
        ))
    } else {
        row
    }
}

fn live_columns() -> Vec<Column> {
    vec![
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
    ]
}

const LATENESS_NOTE: &str = "late: how long after its scheduled start (every 15.625 ms) each tick began; on time: share of the run's tick slots that began less than a period late and were not dropped. input: from a bot sending input s to the first snapshot acknowledging s. snaps lost: ticks whose snapshot never reached a bot; snaps late: snapshots more than a period behind their due time. server cores: CPU of the measured server process over its run; bots' cores: the bots' threads over theirs, in their own process (the harness's whole-process load-generator figures are in the JSON).";

pub fn tables(params: &Params, variants: &[&'static casebook::Variant]) -> Vec<Table> {
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
        tables.push(replay_table(params, variants, REPLAY_SMALL_TABLE, SMALL_WORLD));
        tables.push(replay_table(params, variants, REPLAY_TABLE, (params.entities, params.clients)));
    }
    tables.retain(|t| !t.rows.is_empty());
    tables
}

fn clients_table(params: &Params, variants: &[&'static casebook::Variant], readings: &Readings) -> Table {
    let mut table = Table::new(
        CLIENTS_TABLE,
        &format!("Clients over UDP or TCP, {} entities, {} s of 64 Hz ticks per run", params.entities, params.seconds),
    );
    for which in SWEEP_VARIANTS {
        let Some(variant) = selected(variants, which) else { continue };
        for &clients in &params.sweep {
            let spec = RowSpec::Live { clients, sim_cost: 0, abuse: false };
            table.rows.push(live_row(variant, which, Some(f64::from(clients)), spec, readings));
        }
    }
    if let Some(variant) = selected(variants, Variant::HybridSt) {
        let spec = RowSpec::Live { clients: params.clients, sim_cost: 0, abuse: false };
        table.rows.push(live_row(variant, Variant::HybridSt, Some(f64::from(params.clients)), spec, readings));
    }
    table.axis = Some(Axis::new("clients").log());
    table.baseline_if_present(Variant::Hybrid.name());
    table.columns = live_columns();
    table.primary = Primary::lower(Measure::quantile(INPUT_LATENCY, 0.99));
    table.digests_must_agree = false;
    table.repeat = Some(params.live_repeat);
    table.plots = vec![
        PlotSpec::Primary,
        PlotSpec::log_y(Measure::quantile(TICK_LATENESS, 0.99)),
        PlotSpec::of(ON_TIME),
        PlotSpec::of(CORES_BUSY),
        PlotSpec::of(BOT_CORES),
    ];
    table.note = format!(
        "{LATENESS_NOTE} hybrid-st runs only at {} clients. Each live run's world differs (which tick an input lands on depends on timing), so these rows have no common digest; the replay tables check determinism.",
        params.clients
    );
    table
}

fn heavy_table(params: &Params, variants: &[&'static casebook::Variant]) -> Table {
    let mut table = Table::new(
        HEAVY_TABLE,
        &format!(
            "A heavy simulation: {} entities with {} rounds of extra work each per tick (about {:.0}% of every core's tick budget here), {} clients over UDP",
            params.entities,
            params.sim_cost_rounds,
            params.sim_cost_share * 100.0,
            params.clients
        ),
    );
    for which in HEAVY_VARIANTS {
        if let Some(variant) = selected(variants, which) {
            let spec = RowSpec::Live { clients: params.clients, sim_cost: params.sim_cost_rounds, abuse: false };
            table.rows.push(Row::new(variant, spec));
        }
    }
    table.baseline_if_present(Variant::Hybrid.name());
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
    table.repeat = Some(params.live_repeat);
    table.note = format!(
        "tick: from a tick's start to the end of its work (inputs in, schedule run, snapshots handed out); missed: ticks dropped when the backlog passed 250 ms. {LATENESS_NOTE}"
    );
    table
}

fn abuse_table(params: &Params, variants: &[&'static casebook::Variant], readings: &Readings) -> Table {
    let mut table = Table::new(
        ABUSE_TABLE,
        &format!(
            "Under abuse, {} clients, {} s runs: {} malformed datagrams/s (UDP), 1 in {} bots vanishing without a goodbye, 1 in {} TCP bots never reading",
            params.clients,
            params.abuse_seconds,
            params.flood_per_s,
            crate::params::ABUSE_SHARE,
            crate::params::ABUSE_SHARE
        ),
    );
    for which in ABUSE_VARIANTS {
        if let Some(variant) = selected(variants, which) {
            let spec = RowSpec::Live { clients: params.clients, sim_cost: 0, abuse: true };
            table.rows.push(live_row(variant, which, None, spec, readings));
        }
    }
    table.baseline_if_present(Variant::Hybrid.name());
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

fn replay_table(params: &Params, variants: &[&'static casebook::Variant], id: &str, world: (u32, u32)) -> Table {
    let (entities, clients) = world;
    let ticks = params.slots as u32;
    let mut table = Table::new(
        id,
        &format!(
            "Replay with no network: {entities} entities, {clients} scripted clients, {ticks} ticks as fast as they run"
        ),
    );
    for which in REPLAY_VARIANTS {
        if let Some(variant) = selected(variants, which) {
            table.rows.push(Row::new(variant, RowSpec::Replay { entities, clients, ticks }));
        }
    }
    table.baseline_if_present(Variant::Hybrid.name());
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
