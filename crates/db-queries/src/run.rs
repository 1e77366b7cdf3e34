//! The case's life in the harness: the set-up (databases, proxy), one measured run (the
//! server side, in the child), and its load generator (the clients and the audit, in a
//! process of their own).

use std::{
    net::{SocketAddr, ToSocketAddrs},
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use casebook::{Ctx, GenCtx, LoadSpec, Plan, Point, Row, Setup, figure};
use serde::{Deserialize, Serialize};

use crate::{
    PGBENCH,
    driver::LoadPlan,
    figures::*,
    fixture::{self, PgFixture, SqliteFixture, Target},
    generator::{Generator, LoadReport},
    layers::Engine,
    params::{Params, UrlOrigin},
    pgbench,
    plan::{RowSpec, layer_of},
    postgres::PgTarget,
    protocol::ErrorKind,
    proxy::DelayProxy,
    scenario::{ServeSpec, ServerReport, ServerSide},
    workload::Mix,
};

/// What the set-up hands every run and load generator.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Shared {
    /// The seeded SQLite file, if any row uses SQLite.
    pub sqlite: Option<PathBuf>,
    /// The seeded Postgres schema, password included, if any row uses Postgres.
    pub postgres: Option<PgTarget>,
    /// The delaying proxy's port on 127.0.0.1, if any row goes through it.
    pub proxy_port: Option<u16>,
}

impl Shared {
    /// Where a row's variant connects: through the proxy for a remote row.
    fn target(&self, spec: &RowSpec) -> anyhow::Result<Target> {
        Ok(match spec.engine {
            Engine::Sqlite => {
                Target::Sqlite { path: self.sqlite.clone().context("the set-up made no SQLite database")? }
            }
            Engine::Postgres => Target::Postgres {
                db: self.postgres.clone().context("the set-up made no Postgres schema")?,
                proxy_port: if spec.remote {
                    Some(self.proxy_port.context("the set-up started no delaying proxy")?)
                } else {
                    None
                },
            },
        })
    }

    /// Where the audit connects: always direct.
    fn audit_target(&self, engine: Engine) -> anyhow::Result<Target> {
        self.target(&RowSpec { remote: false, ..closed(engine) })
    }
}

fn closed(engine: Engine) -> RowSpec {
    RowSpec { engine, in_flight: 1, points_only: false, remote: false, job: None, open_rate: None }
}

fn spec_of(row: &Row) -> Option<RowSpec> {
    serde_json::from_value(row.point.clone()).ok()
}

/// Whether any runnable row matches.
fn any_row(plan: &Plan, f: impl Fn(&Row, &RowSpec) -> bool) -> bool {
    plan.tables.iter().flat_map(|t| t.runnable()).any(|r| spec_of(r).is_some_and(|s| f(r, &s)))
}

// ANCHOR: setup
/// Seeds what the selected rows need, and nothing else: the SQLite file, the Postgres schema
/// (skipping the Postgres rows when the server is unreachable and nobody insisted), the
/// delaying proxy. Each is owned by the returned `Setup`, so every exit path removes it.
pub fn setup(params: &Params, plan: &mut Plan, dir: &Path) -> anyhow::Result<Setup<Shared>> {
    let mut shared = Shared::default();
    let mut owned: Vec<Box<dyn Send>> = Vec::new();
    if any_row(plan, |_, s| s.engine == Engine::Sqlite) {
        let sqlite = SqliteFixture::create(dir, &params.dataset, &casebook::interrupted)?;
        shared.sqlite = sqlite.target().sqlite_path().map(Path::to_path_buf);
        owned.push(Box::new(sqlite));
    }
    if let Some(choice) = &params.postgres
        && any_row(plan, |_, s| s.engine == Engine::Postgres)
    {
        let server = choice.target();
        match fixture::connect(&server) {
            Ok(_) => {
                let pg = PgFixture::create(&server, &params.dataset, &casebook::interrupted)?;
                shared.postgres = Some(pg.target().clone());
                owned.push(Box::new(pg));
            }
            Err(e) if choice.origin == UrlOrigin::Flag || choice.required => return Err(e),
            Err(e) => {
                let why = format!("{:#}", e).replace('\n', " ");
                plan.skip_where(|_, r| spec_of(r).is_some_and(|s| s.engine == Engine::Postgres), &why);
            }
        }
    }
    if let Some(db) = &shared.postgres
        && any_row(plan, |_, s| s.remote)
    {
        let upstream: SocketAddr = (db.host.as_str(), db.port)
            .to_socket_addrs()?
            .next()
            .with_context(|| format!("{}:{} resolves to no address", db.host, db.port))?;
        let proxy = DelayProxy::start(upstream, Duration::from_micros(params.remote_rtt_us / 2))
            .context("cannot start the delaying proxy")?;
        shared.proxy_port = Some(proxy.port());
        owned.push(Box::new(proxy));
    }
    if any_row(plan, |r, _| r.variant == PGBENCH)
        && let Err(why) = pgbench::available()
    {
        plan.skip_where(|_, r| r.variant == PGBENCH, &why);
    }
    Ok(owned.into_iter().fold(Setup::new(shared), |setup, thing| setup.owning(thing)))
}
// ANCHOR_END: setup

/// What a run hands its load generator.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct LoadRequest {
    pub port: u16,
    pub engine: Engine,
    pub points_only: bool,
    pub plan: LoadPlan,
}

// ANCHOR: execute
/// One run of one row, in the child: open the data layer, start the server and its load
/// generator (which connects every client before it says it is ready), and time only the
/// load: from the go to the moment the last client has hung up.
pub fn execute(params: &Params, shared: &Shared, point: &Point, ctx: &mut Ctx) -> anyhow::Result<()> {
    let spec: RowSpec = point.decode()?;
    if point.variant == PGBENCH {
        return pgbench_row(params, shared, &spec, ctx);
    }
    let layer = layer_of(&point.variant).with_context(|| format!("unknown variant {}", point.variant))?;
    let serve = ServeSpec {
        variant: layer,
        pools: params.pools(spec.engine),
        job: spec.job.map(|placement| params.job(placement)),
        max_connections: spec.in_flight + 16,
        workers: params.workers,
    };
    let server = ServerSide::start(&serve, &shared.target(&spec)?)?;
    let plan = params.load_plan(spec.in_flight, spec.open_rate);
    let request = LoadRequest { port: server.addr().port(), engine: spec.engine, points_only: spec.points_only, plan };
    let mut load = ctx.start_load(&request)?;
    let limit = plan.duration + plan.warmup + 2 * plan.request_timeout;
    let drained = ctx.measure(|| -> anyhow::Result<bool> {
        load.go()?;
        Ok(server.wait_drained(spec.in_flight, limit))
    })?;
    // The generator's audit runs now, after the load: untimed.
    let finished = load.finish(ctx);
    let report = server.finish();
    finished?;
    anyhow::ensure!(drained, "the load did not end within {limit:?}");
    record_server(ctx, &report)
}
// ANCHOR_END: execute

fn record_server(ctx: &mut Ctx, report: &ServerReport) -> anyhow::Result<()> {
    let tally = &report.tally;
    if let Some(waits) = &tally.pool_wait {
        ctx.histogram(POOL_WAIT, waits);
    }
    ctx.figure(RETRIES, tally.retries as f64);
    if tally.batches > 0 {
        ctx.figure(MEAN_BATCH, tally.batched as f64 / tally.batches as f64);
    }
    if let Some(error) = &tally.first_error {
        ctx.note(SERVER_ERROR, error.clone());
    }
    if let Some(job) = &report.job {
        ctx.figure(REBUILDS, job.rebuilds as f64);
        if !job.rebuild_time.is_empty() {
            ctx.histogram(REBUILD_TIME, &job.rebuild_time);
        }
        anyhow::ensure!(job.first_error.is_none(), "the background job failed: {:?}", job.first_error);
    }
    let recorded = ctx.recorded();
    let replies = recorded.figure(REPLIES).unwrap_or(0.0).max(1.0);
    let cpu = recorded.figure(figure::USER_CPU).unwrap_or(0.0) + recorded.figure(figure::SYSTEM_CPU).unwrap_or(0.0);
    let switches = recorded.figure(figure::VOLUNTARY_CS);
    let head = recorded.notes(HEAD_DIGEST).first().cloned();
    ctx.figure(CPU_PER_REQUEST, cpu / replies);
    if let Some(switches) = switches {
        ctx.figure(SWITCHES_PER_REQUEST, switches / replies);
    }
    if let Some(head) = head {
        ctx.digest(head);
    }
    Ok(())
}

/// The anchor: `pgbench` with as many clients as the variants have requests in flight.
fn pgbench_row(params: &Params, shared: &Shared, spec: &RowSpec, ctx: &mut Ctx) -> anyhow::Result<()> {
    let db = shared.postgres.as_ref().context("the set-up made no Postgres schema")?;
    let dir = ctx.scratch().to_path_buf();
    let run = ctx.measure(|| {
        pgbench::run(db, params.dataset.accounts, spec.in_flight, params.workers, params.duration(), &dir)
    })?;
    ctx.figure(REQUESTS_PER_S, run.tps);
    ctx.figure(REPLIES, run.transactions as f64);
    ctx.figure(ERRORS, run.failed as f64);
    if let Some(ms) = run.latency_avg_ms {
        ctx.figure(PGBENCH_LATENCY, ms / 1000.0);
    }
    Ok(())
}

// ANCHOR: generate
/// The load generator, in its own process: take the audit's snapshot, connect every client,
/// say ready; on the go, offer the load; then reconcile the writes and record it all.
pub fn generate(params: &Params, shared: &Shared, spec: &LoadSpec, generator: &mut GenCtx) -> anyhow::Result<()> {
    let request: LoadRequest = spec.decode()?;
    let target = shared.audit_target(request.engine)?;
    let mix = if request.points_only { Mix::POINT_READS } else { params.mix };
    let server = SocketAddr::from(([127, 0, 0, 1], request.port));
    let prepared = Generator::prepare(server, &target, params.dataset, mix, request.plan)?;
    generator.ready()?;
    if !generator.wait_go() {
        return Ok(());
    }
    let report = prepared.run()?;
    record_load(generator, &report)
}
// ANCHOR_END: generate

fn record_load(generator: &mut GenCtx, report: &LoadReport) -> anyhow::Result<()> {
    let d = &report.driven;
    generator.figure(REQUESTS_PER_S, d.requests_per_s());
    generator.figure(REPLIES, d.replies as f64);
    generator.histogram(LATENCY, &d.latency)?;
    generator.figure(ERRORS, d.errors_total() as f64);
    for kind in ErrorKind::ALL {
        generator.figure(errors_of(kind), d.errors.get(&kind).copied().unwrap_or(0) as f64);
    }
    generator.figure(WRITES_ACKED, report.audit.acked as f64);
    generator.figure(LOST, report.audit.lost as f64);
    generator.figure(DOUBLED, report.audit.doubled() as f64);
    if d.head_complete {
        generator.note(HEAD_DIGEST, format!("{:016x}", d.head_digest));
    }
    if let Some(problem) = &d.first_problem {
        generator.note(FIRST_PROBLEM, problem.clone());
    }
    Ok(())
}
