//! One run of one row, in the harness's child process, and the two load generators' bodies,
//! each in a process of its own.
//!
//! A run starts the downstream service (a load generator: it listens, and writes its port
//! in the run's scratch directory before it says it is ready), then the variant's server,
//! then the clients (a second load generator, which connects every client before it is
//! ready), and waits until the server holds every connection with its downstream
//! connection open. Only then does the measured region start: the go, and the server's
//! whole life until the clients, done with their requests, have all hung up.

use std::time::Duration;

use anyhow::Context;
use casebook::{
    Ctx, GenCtx, LoadSpec,
    run::limits::{Readings, fd_budget},
};
use serde::{Deserialize, Serialize};

use crate::{
    figures::*,
    params::{BUDGET_US, Params, Spec},
    servers::{ServerSpec, Tally},
    service::{
        clients::{ClientReport, ClientSpec, Clients},
        downstream::{Downstream, DownstreamReport, DownstreamSpec},
        work,
    },
    variants::Variant,
};

/// What a run asks of each load generator it starts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum LoadRole {
    Downstream(DownstreamSpec),
    Clients(ClientSpec),
}

/// Where the downstream generator leaves its port for the run (in the run's scratch).
const PORT_FILE: &str = "downstream.port";
/// How long the server may take to accept every connection and open its downstream ones.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

// ANCHOR: execute
pub fn execute(params: &Params, variant: Variant, spec: Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
    let units = params.units(spec.cpu_us);
    ctx.figure(UNIT_NS, params.unit_ns);
    ctx.figure(CPU_PER_REQUEST, work::time_units(units));
    let mut downstream =
        ctx.start_load(&LoadRole::Downstream(DownstreamSpec { answer_first: params.downstream_answers }))?;
    let port: u16 = std::fs::read_to_string(ctx.scratch().join(PORT_FILE))
        .context("the downstream left no port")?
        .trim()
        .parse()
        .context("the downstream's port file is not a port")?;
    let (max_connections, set_by) = max_connections(params, variant);
    let server = variant.start(&ServerSpec {
        downstream: ([127, 0, 0, 1], port).into(),
        cores: params.cores,
        pool_threads: params.pool_threads,
        downstream_timeout: Duration::from_millis(params.downstream_timeout_ms),
        max_connections,
    })?;
    let mut clients = ctx.start_load(&LoadRole::Clients(ClientSpec {
        server: server.addr(),
        connections: spec.in_flight,
        requests: spec.requests,
        units,
        wait_us: BUDGET_US - spec.cpu_us,
        budget_us: u64::from(BUDGET_US),
        vanish: spec.vanish,
        cut: spec.cut,
    }))?;
    let connections = u64::from(spec.in_flight + spec.vanish + spec.cut);
    anyhow::ensure!(
        server.wait_ready(connections, READY_TIMEOUT),
        "the server did not take its {connections} connections within {} s: {:?}",
        READY_TIMEOUT.as_secs(),
        server.tally()
    );
    ctx.measure(|| -> anyhow::Result<()> {
        downstream.go()?;
        clients.go()?;
        server.wait_idle(connections);
        Ok(())
    })?;
    clients.finish(ctx)?;
    downstream.stop()?;
    downstream.finish(ctx)?;
    record_server(ctx, &server.shutdown());
    ctx.note(MAX_CONNECTIONS, format!("{max_connections} ({set_by})"));
    let digest = ctx.recorded().notes(DIGEST).first().cloned().context("the clients reported no digest")?;
    ctx.digest(digest);
    Ok(())
}
// ANCHOR_END: execute

/// The most connections the server may hold: what its descriptor limit leaves room for.
fn max_connections(params: &Params, variant: Variant) -> (u64, String) {
    let pool = if variant == Variant::ThreadPool { params.pool_threads as u64 } else { 0 };
    match fd_budget(&Readings::without_probe()) {
        Some(fds) => (fds.saturating_sub(pool) / variant.fds_per_connection(), "RLIMIT_NOFILE".into()),
        None => (u64::MAX, "no descriptor limit read".into()),
    }
}

fn record_server(ctx: &mut Ctx, tally: &Tally) {
    ctx.figure(ACCEPTED, tally.accepted as f64);
    ctx.figure(REFUSED, tally.refused as f64);
    ctx.figure(SERVED, tally.served as f64);
    ctx.figure(CUT_OFF, tally.cut_off as f64);
    ctx.figure(DOWNSTREAM_TIMEOUTS, tally.downstream_timeouts as f64);
    ctx.figure(DOWNSTREAM_ERRORS, tally.downstream_errors as f64);
}

// ANCHOR: load
/// A load generator's body: the downstream service until the run says stop, or the clients
/// until their requests are answered.
pub fn load(spec: &LoadSpec, generator: &mut GenCtx) -> anyhow::Result<()> {
    match spec.decode::<LoadRole>()? {
        LoadRole::Downstream(spec) => {
            let downstream = Downstream::start(spec)?;
            std::fs::write(generator.scratch().join(PORT_FILE), downstream.addr().port().to_string())?;
            generator.ready()?;
            generator.wait_go();
            while !generator.should_stop() {
                std::thread::sleep(Duration::from_millis(5));
            }
            record_downstream(generator, &downstream.stop())
        }
        LoadRole::Clients(spec) => {
            let clients = Clients::connect(&spec)?;
            generator.ready()?;
            if generator.wait_go() {
                record_clients(generator, &clients.run())?;
            }
            Ok(())
        }
    }
}
// ANCHOR_END: load

fn record_downstream(generator: &mut GenCtx, report: &DownstreamReport) -> anyhow::Result<()> {
    generator.figure(DOWNSTREAM_CONNECTIONS, report.connections as f64);
    generator.figure(DOWNSTREAM_ANSWERED, report.answered as f64);
    generator.figure(DOWNSTREAM_UNANSWERED, report.unanswered as f64);
    generator.histogram(DOWNSTREAM_LATE, &report.late)
}

fn record_clients(generator: &mut GenCtx, report: &ClientReport) -> anyhow::Result<()> {
    let elapsed = report.elapsed.as_secs_f64();
    generator.figure(REQUESTS_PER_S, if elapsed > 0.0 { report.ok as f64 / elapsed } else { 0.0 });
    generator.histogram(LATENCY, &report.latency)?;
    generator.figure(CONNECTIONS, f64::from(report.connected));
    generator.figure(CONNECT_FAILURES, f64::from(report.connect_failures));
    generator.figure(OK, report.ok as f64);
    generator.figure(GATEWAY_TIMEOUTS, report.timeouts as f64);
    generator.figure(GATEWAY_ERRORS, report.errors as f64);
    generator.figure(BAD_REPLIES, report.bad as f64);
    generator.figure(LOST, report.lost as f64);
    generator.figure(UNSENT, report.unsent as f64);
    generator.figure(CLOSED_EARLY, f64::from(report.closed_early));
    generator.note(DIGEST, format!("{:016x}", report.digest));
    Ok(())
}
