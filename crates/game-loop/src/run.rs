//! One run of one row, in the harness's child process, and the load generator's body in its
//! own process.
//!
//! A live run starts the server (its network side comes up, TCP accepts), starts the bots'
//! process and waits until every bot is connected, then measures only the game itself: the
//! go to the bots and the server's whole tick loop. The server's CPU is this process's; the
//! bots' is theirs, recorded apart.

use std::time::{Duration, Instant};

use anyhow::Context;
use casebook::{Ctx, GenCtx, LoadSpec, Point, limits::Readings};

use crate::{
    books::ServerReport,
    bots::{self, BotReport, BotSpec},
    caps::client_cap,
    clock::PERIOD,
    figures::*,
    params::{ABUSE_SHARE, Params, RowSpec, SEED},
    protocol::DecodeError,
    replay::{replay, replay_timed, scripted_log},
    variants::{self, CLIENT_QUEUE, ServerSpec, TCP_SEND_BUFFER, Transport, Variant},
};

pub fn execute(params: &Params, point: &Point, ctx: &mut Ctx) -> anyhow::Result<()> {
    let variant = Variant::from_name(&point.variant).with_context(|| format!("unknown variant {}", point.variant))?;
    match point.decode::<RowSpec>()? {
        RowSpec::Live { clients, sim_cost, abuse } => live(params, variant, clients, sim_cost, abuse, ctx),
        RowSpec::Replay { entities, clients, ticks } => replayed(params, variant, entities, clients, ticks, ctx),
    }
}

/// What the bots of one live row do.
pub fn bot_spec(params: &Params, variant: Variant, server: std::net::SocketAddr, clients: u32, abuse: bool) -> BotSpec {
    let share = |n: u32| if abuse { (n / ABUSE_SHARE).max(1) } else { 0 };
    let udp = variant.transport() == Transport::Udp;
    BotSpec {
        server,
        transport: variant.transport(),
        clients,
        input_hz: 30,
        threads: params.bot_threads_for(clients),
        vanish: share(clients),
        vanish_after: params.vanish_after(),
        slow: if udp { 0 } else { share(clients) },
        flood_per_s: if abuse && udp { params.flood_per_s } else { 0 },
        flood_for: params.flood_for(),
        seed: SEED,
    }
}

// ANCHOR: live
fn live(
    params: &Params,
    variant: Variant,
    clients: u32,
    sim_cost: u32,
    abuse: bool,
    ctx: &mut Ctx,
) -> anyhow::Result<()> {
    let cap = client_cap(variant, &Readings::without_probe(), u64::from(clients));
    let spec = ServerSpec {
        world: params.world(params.entities, sim_cost, abuse),
        slots: params.slots_for(abuse),
        // The abuse runs keep their input log to replay it afterwards.
        record_log: abuse,
        max_connections: cap.units as usize,
        client_queue: CLIENT_QUEUE,
        tcp_send_buffer: TCP_SEND_BUFFER,
    };
    let server = variants::start(variant, spec)?;
    let mut load = ctx.start_load(&bot_spec(params, variant, server.addr(), clients, abuse))?;
    let report = ctx.measure(|| -> anyhow::Result<ServerReport> {
        load.go()?;
        server.run()
    })?;
    load.stop()?;
    load.finish(ctx)?;
    // ANCHOR_END: live
    if variant.transport() == Transport::Tcp {
        ctx.note(CLIENT_CAP, format!("{} ({})", cap.units, cap.set_by));
    }
    if let Some(log) = &report.log {
        let matches = replay(spec.world, variant.sim(), log) == report.digest;
        ctx.figure(REPLAY_MATCHES, if matches { 1.0 } else { 0.0 });
    }
    record_server(ctx, &report);
    Ok(())
}

fn record_server(ctx: &mut Ctx, report: &ServerReport) {
    let ticks = &report.ticks;
    ctx.histogram(TICK_LATENESS, &ticks.lateness);
    ctx.histogram(TICK_DURATION, &ticks.duration);
    ctx.figure(TICKS, ticks.ticks as f64);
    ctx.figure(MERGED, ticks.merged as f64);
    ctx.figure(MISSED, ticks.missed as f64);
    ctx.figure(TICK_RATE, ticks.summary().rate_hz);
    let slots = (ticks.ticks + ticks.missed).max(1);
    ctx.figure(ON_TIME, ticks.ticks.saturating_sub(ticks.merged) as f64 / slots as f64);
    let net = &report.net;
    ctx.figure(INPUTS_RECEIVED, net.inputs as f64);
    ctx.figure(INBOX_FULL, net.inbox_full as f64);
    ctx.figure(SNAPSHOTS_BUILT, report.sim.snapshots as f64);
    ctx.figure(SNAPSHOTS_SENT, net.sent as f64);
    ctx.figure(SNAPSHOTS_DROPPED, net.dropped as f64);
    ctx.figure(SEND_ERRORS, net.send_errors as f64);
    ctx.figure(MALFORMED, net.malformed_total() as f64);
    for kind in DecodeError::KINDS {
        ctx.figure(malformed_of(kind), net.malformed_of(kind) as f64);
    }
    if let Some(drops) = report.kernel_drops {
        ctx.figure(SERVER_KERNEL_DROPS, drops as f64);
    }
    ctx.figure(CONNECTIONS_REFUSED, net.refused as f64);
    ctx.figure(CLOSED_SILENT, net.closed_silent as f64);
    ctx.figure(JOINED, report.sim.joined as f64);
    ctx.figure(TIMED_OUT, report.sim.timed_out as f64);
    ctx.figure(LEFT, report.sim.left as f64);
    ctx.figure(CLIENTS_AT_END, report.clients_at_end as f64);
}

// ANCHOR: load
/// The load generator's body: connect every bot, say ready, run them from the go until the
/// run says stop, then record what they saw.
pub fn load(spec: &LoadSpec, generator: &mut GenCtx) -> anyhow::Result<()> {
    let spec: BotSpec = spec.decode()?;
    let bots = bots::prepare(&spec)?;
    generator.ready()?;
    if !generator.wait_go() {
        return Ok(());
    }
    let started = Instant::now();
    let report = bots.run(|| generator.should_stop())?;
    record_bots(generator, &report, started.elapsed())
}
// ANCHOR_END: load

fn record_bots(generator: &mut GenCtx, report: &BotReport, ran: Duration) -> anyhow::Result<()> {
    generator.histogram(INPUT_LATENCY, &report.latency)?;
    generator.histogram(JITTER, &report.jitter)?;
    generator.histogram(SEND_LAG, &report.send_lag)?;
    generator.figure(BOTS, f64::from(report.connected));
    generator.figure(CONNECT_FAILURES, f64::from(report.connect_failures));
    generator.figure(INPUTS_SENT, report.inputs_sent as f64);
    generator.figure(SNAPSHOTS_RECEIVED, report.snapshots as f64);
    generator.figure(LOST, report.lost as f64);
    generator.figure(LATE, report.late as f64);
    generator.figure(BOT_MALFORMED, (report.malformed + report.wrong_client) as f64);
    if let Some(drops) = report.kernel_drops {
        generator.figure(BOT_KERNEL_DROPS, drops as f64);
    }
    generator.figure(VANISHED, f64::from(report.vanished));
    generator.figure(SLOW, f64::from(report.slow));
    generator.figure(FLOOD_SENT, report.flood.iter().sum::<u64>() as f64);
    for kind in DecodeError::KINDS {
        generator.figure(flood_of(kind), report.flood[kind.index()] as f64);
    }
    generator.figure(BOT_CPU, report.cpu.as_secs_f64());
    generator.figure(BOT_CORES, report.cpu.as_secs_f64() / ran.as_secs_f64().max(1e-9));
    Ok(())
}

// ANCHOR: replayed
/// A scripted log through the variant's own way of running the schedule, every tick timed.
fn replayed(
    params: &Params,
    variant: Variant,
    entities: u32,
    clients: u32,
    ticks: u32,
    ctx: &mut Ctx,
) -> anyhow::Result<()> {
    let world = params.world(entities, 0, false);
    let log = scripted_log(clients, ticks, 30, SEED);
    let replayed = ctx.measure(|| replay_timed(world, variant.sim(), &log));
    ctx.histogram(REPLAY_TICK, &replayed.tick);
    ctx.digest(format!("{:016x}", replayed.digest));
    Ok(())
}
// ANCHOR_END: replayed

/// A tick period in µs, for the checks and claims that compare lateness with it.
pub fn period_us() -> f64 {
    PERIOD.as_micros() as f64
}
