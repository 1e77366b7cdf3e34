//! One run, end to end: the server side (runtime, data layer, front end, and the background
//! job if the row has one) and, for tests, the whole run in one process.
//!
//! The harness runs the two sides in two processes: the measured child starts a
//! [`ServerSide`], a load generator process runs a [`Generator`], and only the
//! wait for the load to drain is timed. [`run_in_process`] puts both in one process (the
//! generator on a thread of its own) for the tests.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::{
    dataset::Dataset,
    driver::LoadPlan,
    fixture::Target,
    generator::{Generator, LoadReport},
    job::{Job, JobPlan, JobTally},
    layers::{Layer, Pools, ServerBooks, ServerTally, Variant, engine_of},
    server::Server,
    workload::Mix,
};

/// What the server of one run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServeSpec {
    pub variant: Variant,
    pub pools: Pools,
    /// The background job beside the requests, if the row has one.
    pub job: Option<JobPlan>,
    /// The front end's cap on client connections.
    pub max_connections: usize,
    /// Async worker threads of the server's runtime.
    pub workers: usize,
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
        anyhow::ensure!(
            spec.variant.runs_on(engine_of(target)),
            "{} has no {} form",
            spec.variant.name(),
            engine_of(target).name()
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(spec.workers.max(1))
            .thread_name("server")
            .enable_all()
            .build()?;
        let books = Arc::new(ServerBooks::default());
        let layer = runtime
            .block_on(Layer::open(spec.variant, target, spec.pools, Arc::clone(&books)))
            .map_err(|f| anyhow::anyhow!("{}: cannot open the data layer: {f}", spec.variant.name()))?;
        let server = runtime.block_on(layer.serve(Arc::clone(&books), spec.max_connections))?;
        let job = match spec.job {
            Some(plan) => Some(
                runtime.block_on(Job::start(plan, target)).map_err(|f| anyhow::anyhow!("cannot start the job: {f}"))?,
            ),
            None => None,
        };
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
