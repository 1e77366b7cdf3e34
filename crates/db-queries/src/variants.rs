//! The variants, declared once, and the dispatch: each data layer opened and served by the
//! same front end. The hybrid-web rows run `async-pool` beside a background job; the anchor
//! is `pgbench`, which has no server of ours at all.

use std::{sync::Arc, time::Duration};

use crate::{
    layers::{Pools, async_pool, batcher, over_blocking, per_request, pipelined, thread_pool},
    server::{Server, books::ServerBooks, job::JobPlan},
    store::fixture::{Engine, Target},
};

casebook::variants! {
    /// The data layers, then the hybrid-web rows and the anchor, in the order tables list them.
    pub enum Variant {
        AsyncPool = "async-pool" (Async): "a sqlx pool: what an async service reaches for first (on SQLite, sqlx runs a thread per connection)",
        AsyncBatched = "async-batched" (Async): "the sqlx pool with concurrent point reads coalesced into one = ANY($1) query",
        AsyncPipelined = "async-pipelined" (Async): "tokio-postgres on a few connections, every request's query pipelined behind the others",
        ThreadPool = "thread-pool" (Threads): "worker threads with a blocking connection each (rusqlite, postgres), fed by a flume queue",
        ThreadPerRequest = "thread-per-request" (Threads): "a new OS thread per request with a connection from an r2d2 pool: the anti-pattern",
        AsyncOverBlocking = "async-over-blocking" (Hybrid): "rusqlite in spawn_blocking from async handlers: what people do without an async binding",
        JobOnThread = "job-on-thread" (Hybrid): "async requests with the background rebuild on a thread of its own",
        JobOnAsync = "job-on-async" (Async): "async requests with the same rebuild as a task on the async workers",
        Pgbench = "pgbench" (Anchor): "pgbench running the same point read on the same table: the ceiling",
    }
}

use Variant::*;

impl Variant {
    /// The data layer the variant's server runs: the hybrid-web rows run `async-pool`'s, the
    /// anchor has none.
    pub fn layer(self) -> Option<Variant> {
        match self {
            JobOnThread | JobOnAsync => Some(AsyncPool),
            Pgbench => None,
            layer => Some(layer),
        }
    }

    /// Whether the variant is a data layer with a form on this engine (a row of the point-read
    /// and sweep tables): pipelining is a Postgres protocol feature, and `spawn_blocking` over
    /// a C library is the SQLite question.
    pub fn runs_on(self, engine: Engine) -> bool {
        match self {
            AsyncPipelined => engine == Engine::Postgres,
            AsyncOverBlocking => engine == Engine::Sqlite,
            AsyncPool | AsyncBatched | ThreadPool | ThreadPerRequest => true,
            JobOnThread | JobOnAsync | Pgbench => false,
        }
    }

    /// What the data layer's Postgres connections call themselves: the layer and this process,
    /// so a test (or a curious DBA) can find exactly this server's connections in
    /// `pg_stat_activity`.
    pub fn application_name(self) -> String {
        format!("casebook-dbq-{self}-{}", std::process::id())
    }

    /// Opens this data layer's connections (all of them, so no request pays for a connect)
    /// and starts the front end over it, on the current runtime. Each layer gets a front end
    /// compiled for it alone, so a connection's task holds that layer's request future and no
    /// other's: the memory each model needs per request in flight is its own.
    pub async fn serve(self, target: &Target, spec: &ServeSpec, books: Arc<ServerBooks>) -> anyhow::Result<Server> {
        let pools = spec.pools;
        let name = self.application_name();
        macro_rules! start {
            ($layer:expr) => {{
                let layer = $layer.await.map_err(|f| anyhow::anyhow!("{self}: cannot open the data layer: {f}"))?;
                Server::start(layer, books, spec.max_connections, spec.client_timeout).await?
            }};
        }
        Ok(match self {
            AsyncPool => start!(async_pool::AsyncPool::open(target, pools, &name)),
            AsyncBatched => start!(batcher::Batched::open(target, pools, &name, Arc::clone(&books))),
            AsyncPipelined => start!(pipelined::Pipelined::open(target, pools, &name)),
            ThreadPool => start!(thread_pool::ThreadPool::open(target, pools, &name, Arc::clone(&books))),
            ThreadPerRequest => start!(per_request::PerRequest::open(target, pools, &name, Arc::clone(&books))),
            AsyncOverBlocking => start!(over_blocking::OverBlocking::open(target, pools, Arc::clone(&books))),
            JobOnThread | JobOnAsync | Pgbench => anyhow::bail!("{self} is not a data layer"),
        })
    }
}

/// What the server of one run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServeSpec {
    /// The data layer: a variant that is one (see [`Variant::layer`]).
    pub layer: Variant,
    pub pools: Pools,
    /// The background job beside the requests, if the row has one.
    pub job: Option<JobPlan>,
    /// The front end's cap on client connections.
    pub max_connections: usize,
    /// A client silent, or not reading, this long is cut off.
    pub client_timeout: Duration,
    /// Async worker threads of the server's runtime.
    pub workers: usize,
}
