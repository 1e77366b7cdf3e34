//! One run of one row, in the harness's child process, and the load generator's body in its
//! own process.
//!
//! A live run starts the server (its network side comes up, TCP accepts, the world is built),
//! starts the bots' process and waits until every bot is connected, then measures only the
//! game itself: the go to the bots and the server's whole tick loop; the server's shutdown
//! and the world's hash come after. The server's CPU is this process's; the bots' is theirs,
//! recorded apart.

use std::{net::SocketAddr, time::Instant};

use casebook::{Ctx, GenCtx, LoadSpec, run::limits::Readings};

use crate::{
    bots::{
        bot::BotReport,
        fleet::{self, BotSpec},
    },
    figures::*,
    net::protocol::{DecodeError, Transport},
    params::{ABUSE_SHARE, Params, SEED, Spec},
    servers::{
        books::Count,
        caps::client_cap,
        spec::{Played, ServerReport, ServerSpec},
    },
    sim::{
        replay::{play_log, replay, scripted_log},
        simulation::Sim,
    },
    variants::Variant,
};

pub fn execute(params: &Params, variant: Variant, spec: Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
    match spec {
        Spec::Live { clients, slots, sim_cost, abuse } => live(params, variant, clients, slots, sim_cost, abuse, ctx),
        Spec::Replay { entities, clients, ticks } => {
            // A scripted log through the variant's own way of running the schedule, every
            // tick timed; the world is built before the measured region and hashed after it.
            let mut sim = Sim::new(params.world(entities, 0, false), variant.sim(), false);
            let log = scripted_log(clients, ticks, 30, SEED);
            let ticks = ctx.measure(|| play_log(&mut sim, &log));
            ctx.histogram(REPLAY_TICK, &ticks.0);
            ctx.digest(format!("{:016x}", sim.digest()));
            Ok(())
        }
    }
}

/// What the bots of one live row do.
pub fn bot_spec(params: &Params, variant: Variant, server: SocketAddr, clients: u32, abuse: bool) -> BotSpec {
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
    slots: u64,
    sim_cost: u32,
    abuse: bool,
    ctx: &mut Ctx,
) -> anyhow::Result<()> {
    let cap = client_cap(variant, &Readings::without_probe(), u64::from(clients));
    // The abuse runs keep their input log to replay it afterwards.
    let spec = ServerSpec::new(params.world(params.entities, sim_cost, abuse), slots, abuse, cap.units as usize);
    let server = variant.start(spec)?;
    let mut load = ctx.start_load(&bot_spec(params, variant, server.addr(), clients, abuse))?;
    // The world was built by `start`; the shutdown, the joins and the world's hash come
    // after the measured region, the same for every variant.
    let played = ctx.measure(|| -> anyhow::Result<Played> {
        load.go()?;
        server.play()
    })?;
    let report = played.finish()?;
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
    let (ticks, net, sim) = (&report.ticks, &report.net, &report.sim);
    ctx.histogram(TICK_LATENESS, &ticks.lateness.0);
    ctx.histogram(TICK_DURATION, &ticks.duration.0);
    ctx.figure(TICKS, ticks.ticks as f64);
    ctx.figure(MERGED, ticks.merged as f64);
    ctx.figure(MISSED, ticks.missed as f64);
    ctx.figure(TICK_RATE, ticks.rate_hz());
    let slots = (ticks.ticks + ticks.missed).max(1);
    ctx.figure(ON_TIME, ticks.ticks.saturating_sub(ticks.merged) as f64 / slots as f64);
    ctx.figure(INPUTS_RECEIVED, net[Count::Inputs] as f64);
    ctx.figure(INBOX_FULL, net[Count::InboxFull] as f64);
    ctx.figure(WRONG_ROUTE, report.wrong_route as f64);
    ctx.figure(LEFT_QUEUED, net[Count::LeftQueued] as f64);
    ctx.figure(SNAPSHOTS_BUILT, sim.snapshots as f64);
    ctx.figure(SNAPSHOTS_SENT, net[Count::Sent] as f64);
    ctx.figure(SNAPSHOTS_DROPPED, net[Count::Dropped] as f64);
    ctx.figure(SEND_ERRORS, net[Count::SendErrors] as f64);
    ctx.figure(MALFORMED, net.malformed_total() as f64);
    for kind in DecodeError::KINDS {
        ctx.figure(MALFORMED_BY_KIND[kind.index()], net.malformed_of(kind) as f64);
    }
    if let Some(drops) = report.kernel_drops {
        ctx.figure(SERVER_KERNEL_DROPS, drops as f64);
    }
    ctx.figure(CONNECTIONS_REFUSED, net[Count::Refused] as f64);
    ctx.figure(CLOSED_SILENT, net[Count::ClosedSilent] as f64);
    ctx.figure(JOINED, sim.joined as f64);
    ctx.figure(TIMED_OUT, sim.timed_out as f64);
    ctx.figure(LEFT, sim.left as f64);
    ctx.figure(CLIENTS_AT_END, report.clients_at_end as f64);
}

// ANCHOR: load
/// The load generator's body: connect every bot, say ready, run them from the go until the
/// run says stop, then record what they saw.
pub fn load(spec: &LoadSpec, generator: &mut GenCtx) -> anyhow::Result<()> {
    let spec: BotSpec = spec.decode()?;
    let bots = fleet::prepare(&spec)?;
    generator.ready()?;
    if !generator.wait_go() {
        return Ok(());
    }
    let started = Instant::now();
    let report = bots.run(|| generator.should_stop())?;
    let ran = started.elapsed();
    record_bots(generator, &report)?;
    generator.figure(BOT_CORES, report.cpu.as_secs_f64() / ran.as_secs_f64().max(1e-9));
    Ok(())
}
// ANCHOR_END: load

fn record_bots(generator: &mut GenCtx, report: &BotReport) -> anyhow::Result<()> {
    generator.histogram(INPUT_LATENCY, &report.latency.0)?;
    generator.histogram(JITTER, &report.jitter.0)?;
    generator.histogram(SEND_LAG, &report.send_lag.0)?;
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
        generator.figure(FLOOD_BY_KIND[kind.index()], report.flood[kind.index()] as f64);
    }
    generator.figure(BOT_CPU, report.cpu.as_secs_f64());
    Ok(())
}
