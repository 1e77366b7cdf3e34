//! One run of one row, both its sides: the set-up (databases, proxy), the server side in the
//! measured child (runtime, data layer, front end, and the background job if the row has one),
//! and its load generator (the clients and the audit, in a process of their own).
//!
//! The harness runs the two sides in two processes, and only the wait for the load to drain is
//! timed. [`run_in_process`] puts both in one process (the generator on a thread of its own)
//! for the tests.

use std::{
    net::{SocketAddr, ToSocketAddrs},
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use casebook::{Ctx, GenCtx, LoadSpec, Plan, Row, Setup, VariantSet, model::figure};
use serde::{Deserialize, Serialize};

use crate::{
    figures::*,
    load::{Generator, LoadReport, driver::LoadPlan},
    params::{Params, Spec, UrlOrigin},
    server::{
        Server,
        books::{ServerBooks, ServerTally},
        job::{Job, JobTally},
    },
    store::{
        fixture::{self, Engine, PgFixture, SqliteFixture, Target},
        pgbench,
        postgres::PgTarget,
        proxy::DelayProxy,
    },
    variants::{ServeSpec, Variant},
    workload::{Mix, dataset::Dataset, protocol::ErrorKind},
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
    /// Where a row connects: through the proxy for a remote row (the audit always goes direct).
    fn target(&self, engine: Engine, remote: bool) -> anyhow::Result<Target> {
        Ok(match engine {
            Engine::Sqlite => {
                Target::Sqlite { path: self.sqlite.clone().context("the set-up made no SQLite database")? }
            }
            Engine::Postgres => Target::Postgres {
                db: self.postgres.clone().context("the set-up made no Postgres schema")?,
                proxy_port: remote
                    .then(|| self.proxy_port.context("the set-up started no delaying proxy"))
                    .transpose()?,
            },
        })
    }
}

/// Whether any runnable row's spec says so.
fn any_row(plan: &Plan, f: impl Fn(&Spec) -> bool) -> bool {
    plan.runs_any(|_, r| spec_of(r).is_some_and(|s| f(&s)))
}

fn spec_of(row: &Row) -> Option<Spec> {
    serde_json::from_value(row.point.clone()).ok()
}

/// Seeds what the selected rows need, and nothing else: the SQLite file, the Postgres schema
/// (skipping the Postgres rows when the server is unreachable and nobody insisted), the
/// delaying proxy. Each is owned by the returned `Setup`, so every exit path removes it.
pub fn setup(params: &Params, plan: &mut Plan, dir: &Path) -> anyhow::Result<Setup<Shared>> {
    let mut shared = Shared::default();
    let mut owned: Vec<Box<dyn Send>> = Vec::new();
    if any_row(plan, |s| s.engine == Engine::Sqlite) {
        let sqlite = SqliteFixture::create(dir, &params.dataset, &casebook::interrupted)?;
        shared.sqlite = Some(sqlite.path.clone());
        owned.push(Box::new(sqlite));
    }
    if let Some(choice) = &params.postgres
        && any_row(plan, |s| s.engine == Engine::Postgres)
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
        && any_row(plan, |s| s.remote)
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
    if plan.runs_variant(Variant::Pgbench)
        && let Err(why) = pgbench::available()
    {
        plan.skip_where(|_, r| r.variant == Variant::Pgbench.name(), &why);
    }
    Ok(owned.into_iter().fold(Setup::new(shared), |setup, thing| setup.owning(thing)))
}

/// What the server side counted.
#[derive(Clone, Debug)]
pub struct ServerReport {
    pub tally: ServerTally,
    pub job: Option<JobTally>,
}

/// A running server with its data layer open.
pub struct ServerSide {
    runtime: tokio::runtime::Runtime,
    server: Server,
    books: Arc<ServerBooks>,
    job: Option<Job>,
}

impl ServerSide {
    pub fn start(spec: &ServeSpec, target: &Target) -> anyhow::Result<ServerSide> {
        let engine = target.engine();
        anyhow::ensure!(spec.layer.runs_on(engine), "{} has no {} form", spec.layer, engine.name());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(spec.workers.max(1))
            .thread_name("server")
            .enable_all()
            .build()?;
        let books = Arc::new(ServerBooks::default());
        let server = runtime.block_on(spec.layer.serve(target, spec, Arc::clone(&books)))?;
        let job = spec.job.map(|plan| runtime.block_on(Job::start(plan, target))).transpose();
        let job = job.map_err(|f| anyhow::anyhow!("cannot start the job: {f}"))?;
        Ok(ServerSide { runtime, server, books, job })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Blocks until `clients` connections have come and gone, or `limit` has passed; false
    /// if it gave up.
    pub fn wait_drained(&self, clients: usize, limit: Duration) -> bool {
        self.runtime.block_on(async { tokio::time::timeout(limit, self.server.drained(clients)).await.is_ok() })
    }

    /// Stops the job and the server, closes the data layer, and hands over the books.
    pub fn finish(self) -> ServerReport {
        let ServerSide { runtime, server, books, job } = self;
        let job = job.map(|job| runtime.block_on(job.stop()));
        runtime.block_on(server.shutdown());
        // Anything the layer left running (r2d2 helpers, sqlx's workers) is stopped here.
        runtime.shutdown_timeout(Duration::from_secs(5));
        ServerReport { tally: books.tally(), job }
    }
}

// ANCHOR: execute
/// One run of one row, in the child: open the data layer, start the server and its load
/// generator (which connects every client before it says it is ready), and time only the
/// load: from the go to the moment the last client has hung up.
pub fn execute(params: &Params, shared: &Shared, variant: Variant, spec: Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
    let Some(layer) = variant.layer() else { return pgbench_row(params, shared, &spec, ctx) };
    let plan = params.load_plan(spec.in_flight, spec.open_rate);
    let limit = plan.duration + plan.warmup + 2 * plan.request_timeout;
    let serve = ServeSpec {
        layer,
        pools: params.pools(spec.engine),
        job: spec.job.map(|placement| params.job(placement)),
        max_connections: spec.in_flight + 16,
        // No client of the generator is idle for longer than the whole run.
        client_timeout: limit,
        workers: params.workers,
    };
    let server = ServerSide::start(&serve, &shared.target(spec.engine, spec.remote)?)?;
    // The generator is handed the server's port and the row's spec.
    let mut load = ctx.start_load(&(server.addr().port(), spec))?;
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
    ctx.figure(CLIENTS_CUT, tally.cut as f64);
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
fn pgbench_row(params: &Params, shared: &Shared, spec: &Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
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

/// The load generator, in its own process: take the audit's snapshot, connect every client,
/// say ready; on the go, offer the load; then reconcile the writes and record it all.
pub fn generate(params: &Params, shared: &Shared, spec: &LoadSpec, generator: &mut GenCtx) -> anyhow::Result<()> {
    let (port, spec): (u16, Spec) = spec.decode()?;
    let target = shared.target(spec.engine, false)?;
    let mix = if spec.points_only { Mix::POINT_READS } else { params.mix };
    let plan = params.load_plan(spec.in_flight, spec.open_rate);
    let prepared = Generator::prepare(SocketAddr::from(([127, 0, 0, 1], port)), &target, params.dataset, mix, plan)?;
    generator.ready()?;
    if !generator.wait_go() {
        return Ok(());
    }
    let report = prepared.run()?;
    record_load(generator, &report)
}

fn record_load(generator: &mut GenCtx, report: &LoadReport) -> anyhow::Result<()> {
    let d = &report.driven;
    generator.figure(REQUESTS_PER_S, d.requests_per_s());
    generator.figure(REPLIES, d.replies as f64);
    generator.histogram(LATENCY, &d.latency)?;
    generator.figure(ERRORS, d.errors.values().sum::<u64>() as f64);
    for kind in ErrorKind::ALL {
        generator.figure(errors_of(kind), d.errors.get(&kind).copied().unwrap_or(0) as f64);
    }
    generator.figure(WRITES_ACKED, report.audit.acked as f64);
    generator.figure(LOST, report.audit.lost as f64);
    generator.figure(DOUBLED, report.audit.doubled() as f64);
    generator.figure(AMBIGUOUS, report.audit.ambiguous as f64);
    generator.figure(AUDIT_RETRIES, report.audit.retries as f64);
    if d.head_complete() {
        generator.note(HEAD_DIGEST, format!("{:016x}", d.head_digest));
    }
    if let Some(problem) = &d.first_problem {
        generator.note(FIRST_PROBLEM, problem.clone());
    }
    Ok(())
}

/// Both sides of one run in this process: for tests, and for a quick look without the harness.
pub fn run_in_process(
    spec: &ServeSpec,
    target: &Target,
    dataset: Dataset,
    mix: Mix,
    plan: LoadPlan,
) -> anyhow::Result<(LoadReport, ServerReport)> {
    let server = ServerSide::start(spec, target)?;
    let (addr, target) = (server.addr(), target.clone());
    let started = Instant::now();
    let generator = std::thread::Builder::new()
        .name("load-generator".into())
        .spawn(move || Generator::prepare(addr, &target, dataset, mix, plan)?.run())
        .context("cannot start the load generator thread")?;
    let load = generator.join().map_err(|_| anyhow::anyhow!("the load generator panicked"));
    let limit = (plan.duration + plan.request_timeout).saturating_sub(started.elapsed()) + Duration::from_secs(5);
    let drained = server.wait_drained(if load.as_ref().is_ok_and(|l| l.is_ok()) { plan.connections } else { 0 }, limit);
    let report = server.finish();
    let load = load??;
    anyhow::ensure!(drained, "the server still had clients {limit:?} after the load ended");
    Ok((load, report))
}
