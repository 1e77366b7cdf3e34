//! The data layers: the variants. The server's front end hands each request to one of these
//! and replies with what it returns; everything that differs between rows lives here.
//!
//! Every variant runs the same SQL (see [`sqlite`](crate::sqlite) and
//! [`postgres`](crate::postgres)) over the same number of database connections
//! ([`Pools::connections`]): on SQLite that many readers plus one writer (WAL lets readers run
//! beside a single writer; a second writer would only wait on the lock), on Postgres that many
//! connections for everything. What differs is the model that waits for them.

mod async_pool;
mod batcher;
mod blocking;
mod over_blocking;
mod per_request;
mod pipelined;
mod thread_pool;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::{fault::Fault, fixture::Target, protocol::ErrorKind, server::Server, workload::Request};

pub const ASYNC_POOL: &str = "async-pool";
pub const ASYNC_BATCHED: &str = "async-batched";
pub const ASYNC_PIPELINED: &str = "async-pipelined";
pub const THREAD_POOL: &str = "thread-pool";
pub const THREAD_PER_REQUEST: &str = "thread-per-request";
pub const ASYNC_OVER_BLOCKING: &str = "async-over-blocking";

/// A data layer's model, typed. Its name is declared once, above.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Variant {
    /// A `sqlx` pool: async all the way down (on SQLite, sqlx runs a thread per connection).
    AsyncPool,
    /// The `sqlx` pool, with concurrent point reads coalesced into one query.
    AsyncBatched,
    /// `tokio-postgres` on a few connections, concurrent queries pipelined (Postgres only).
    AsyncPipelined,
    /// Worker threads, each owning a blocking connection, fed by a `flume` queue.
    ThreadPool,
    /// A new OS thread per request, with a connection from an `r2d2` pool.
    ThreadPerRequest,
    /// `rusqlite` calls in `spawn_blocking` from async handlers (SQLite only).
    AsyncOverBlocking,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub const fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "Postgres",
        }
    }
}

impl Variant {
    pub const ALL: [Variant; 6] = [
        Variant::AsyncPool,
        Variant::AsyncBatched,
        Variant::AsyncPipelined,
        Variant::ThreadPool,
        Variant::ThreadPerRequest,
        Variant::AsyncOverBlocking,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Variant::AsyncPool => ASYNC_POOL,
            Variant::AsyncBatched => ASYNC_BATCHED,
            Variant::AsyncPipelined => ASYNC_PIPELINED,
            Variant::ThreadPool => THREAD_POOL,
            Variant::ThreadPerRequest => THREAD_PER_REQUEST,
            Variant::AsyncOverBlocking => ASYNC_OVER_BLOCKING,
        }
    }

    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }

    /// Whether the variant has a form on this engine: pipelining is a Postgres protocol
    /// feature, and `spawn_blocking` over a C library is the SQLite question.
    pub const fn runs_on(self, engine: Engine) -> bool {
        !matches!(
            (self, engine),
            (Variant::AsyncPipelined, Engine::Sqlite) | (Variant::AsyncOverBlocking, Engine::Postgres)
        )
    }

    /// Whether it starts an OS thread per request in flight (for the thread cap).
    pub const fn thread_per_request(self) -> bool {
        matches!(self, Variant::ThreadPerRequest)
    }
}

/// How many database connections a layer may hold, and how long a request waits for one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pools {
    /// Connections for requests: SQLite readers (plus one writer), or Postgres connections.
    pub connections: u32,
    /// Connections the pipelined variant multiplexes every request over.
    pub pipelines: u32,
    /// The longest a request waits for a connection before it fails as a pool timeout.
    pub acquire_timeout: Duration,
    /// The most point reads one batch carries.
    pub max_batch: usize,
    /// How long SQLite waits on a locked file before `SQLITE_BUSY`.
    pub busy_timeout: Duration,
}

/// How often a request that lost its connection is tried again, on a fresh one.
pub const RETRIES: u32 = 2;

/// What the server side counts while it serves.
#[derive(Debug)]
pub struct ServerBooks {
    /// Time from a request's arrival at the data layer to the moment it had a connection (or
    /// a worker, or a batch slot), in µs.
    pool_wait: Mutex<Histogram<u64>>,
    errors: [AtomicU64; ErrorKind::ALL.len()],
    retries: AtomicU64,
    batches: AtomicU64,
    batched: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Default for ServerBooks {
    fn default() -> Self {
        ServerBooks {
            pool_wait: Mutex::new(casebook::latency::histogram()),
            errors: Default::default(),
            retries: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            batched: AtomicU64::new(0),
            first_error: Mutex::new(None),
        }
    }
}

/// A duration in whole µs, at least 1 (the histogram's floor).
pub fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, 3_600_000_000)
}

/// A summary of the server's books, for the report.
#[derive(Clone, Debug, Default)]
pub struct ServerTally {
    pub pool_wait: Option<Histogram<u64>>,
    pub errors: Vec<(ErrorKind, u64)>,
    pub retries: u64,
    pub batches: u64,
    pub batched: u64,
    pub first_error: Option<String>,
}

impl ServerBooks {
    pub fn waited(&self, d: Duration) {
        let _ = self.pool_wait.lock().expect("books lock").record(micros(d));
    }

    pub fn failed(&self, fault: &Fault) {
        self.errors[ErrorKind::ALL.iter().position(|k| *k == fault.kind).expect("every kind is listed")]
            .fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_error.lock().expect("books lock");
        if first.is_none() {
            *first = Some(fault.to_string());
        }
    }

    pub fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub fn batch(&self, size: usize) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.batched.fetch_add(size as u64, Ordering::Relaxed);
    }

    pub fn tally(&self) -> ServerTally {
        let pool_wait = self.pool_wait.lock().expect("books lock").clone();
        ServerTally {
            pool_wait: (!pool_wait.is_empty()).then_some(pool_wait),
            errors: ErrorKind::ALL
                .iter()
                .zip(&self.errors)
                .map(|(k, n)| (*k, n.load(Ordering::Relaxed)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            retries: self.retries.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            batched: self.batched.load(Ordering::Relaxed),
            first_error: self.first_error.lock().expect("books lock").clone(),
        }
    }
}

/// Runs `attempt` again, up to [`RETRIES`] times, when it lost its connection.
pub async fn with_retry<T, F, Fut>(books: &ServerBooks, mut attempt: F) -> Result<T, Fault>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Fault>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(fault) if fault.is_retryable() && tries < RETRIES => {
                tries += 1;
                books.retried();
            }
            result => return result,
        }
    }
}

/// One variant's data layer, open and ready.
pub enum Layer {
    AsyncPool(async_pool::AsyncPool),
    Batched(batcher::Batched),
    /// Boxed: it carries a connection config, several times the size of the others.
    Pipelined(Box<pipelined::Pipelined>),
    ThreadPool(thread_pool::ThreadPool),
    PerRequest(per_request::PerRequest),
    OverBlocking(over_blocking::OverBlocking),
}

impl Layer {
    /// Opens the variant's connections (all of them, so no request pays for a connect). Runs
    /// inside the server's runtime.
    pub async fn open(
        variant: Variant,
        target: &Target,
        pools: Pools,
        books: Arc<ServerBooks>,
    ) -> Result<Layer, Fault> {
        let application = application_name(variant);
        Ok(match variant {
            Variant::AsyncPool => Layer::AsyncPool(async_pool::AsyncPool::open(target, pools, &application).await?),
            Variant::AsyncBatched => {
                let inner = async_pool::AsyncPool::open(target, pools, &application).await?;
                Layer::Batched(batcher::Batched::new(inner, pools, books))
            }
            Variant::AsyncPipelined => {
                Layer::Pipelined(Box::new(pipelined::Pipelined::open(target, pools, &application).await?))
            }
            Variant::ThreadPool => {
                Layer::ThreadPool(thread_pool::ThreadPool::open(target, pools, &application, books).await?)
            }
            Variant::ThreadPerRequest => {
                Layer::PerRequest(per_request::PerRequest::open(target, pools, &application, books).await?)
            }
            Variant::AsyncOverBlocking => {
                Layer::OverBlocking(over_blocking::OverBlocking::open(target, pools, books).await?)
            }
        })
    }

    /// Starts the server's front end over this layer. Each variant gets a front end compiled for
    /// it alone, so a connection's task holds that variant's request future and no other's:
    /// the memory each model needs per request in flight is its own.
    pub async fn serve(self, books: Arc<ServerBooks>, max_connections: usize) -> std::io::Result<Server> {
        match self {
            Layer::AsyncPool(l) => Server::start(l, books, max_connections).await,
            Layer::Batched(l) => Server::start(l, books, max_connections).await,
            Layer::Pipelined(l) => Server::start(*l, books, max_connections).await,
            Layer::ThreadPool(l) => Server::start(l, books, max_connections).await,
            Layer::PerRequest(l) => Server::start(l, books, max_connections).await,
            Layer::OverBlocking(l) => Server::start(l, books, max_connections).await,
        }
    }
}

/// What the front end needs of a data layer.
pub trait Serve: Send + Sync + 'static {
    /// Serves one request: its result's digest, or why it failed.
    fn serve<'a>(
        &'a self,
        books: &'a ServerBooks,
        request: Request,
    ) -> impl Future<Output = Result<u64, Fault>> + Send + 'a;

    /// Closes the layer's connections and joins its threads.
    fn close(self) -> impl Future<Output = ()> + Send;
}

impl Serve for async_pool::AsyncPool {
    fn serve<'a>(
        &'a self,
        books: &'a ServerBooks,
        request: Request,
    ) -> impl Future<Output = Result<u64, Fault>> + Send + 'a {
        self.handle(books, request)
    }
    async fn close(self) {
        async_pool::AsyncPool::close(&self).await
    }
}

impl Serve for batcher::Batched {
    fn serve<'a>(
        &'a self,
        books: &'a ServerBooks,
        request: Request,
    ) -> impl Future<Output = Result<u64, Fault>> + Send + 'a {
        self.handle(books, request)
    }
    fn close(self) -> impl Future<Output = ()> + Send {
        batcher::Batched::close(self)
    }
}

impl Serve for pipelined::Pipelined {
    fn serve<'a>(
        &'a self,
        books: &'a ServerBooks,
        request: Request,
    ) -> impl Future<Output = Result<u64, Fault>> + Send + 'a {
        self.handle(books, request)
    }
    async fn close(self) {}
}

impl Serve for thread_pool::ThreadPool {
    fn serve<'a>(
        &'a self,
        _: &'a ServerBooks,
        request: Request,
    ) -> impl Future<Output = Result<u64, Fault>> + Send + 'a {
        self.handle(request)
    }
    fn close(self) -> impl Future<Output = ()> + Send {
        thread_pool::ThreadPool::close(self)
    }
}

impl Serve for per_request::PerRequest {
    fn serve<'a>(
        &'a self,
        _: &'a ServerBooks,
        request: Request,
    ) -> impl Future<Output = Result<u64, Fault>> + Send + 'a {
        self.handle(request)
    }
    fn close(self) -> impl Future<Output = ()> + Send {
        per_request::PerRequest::close(self)
    }
}

impl Serve for over_blocking::OverBlocking {
    fn serve<'a>(
        &'a self,
        _: &'a ServerBooks,
        request: Request,
    ) -> impl Future<Output = Result<u64, Fault>> + Send + 'a {
        self.handle(request)
    }
    fn close(self) -> impl Future<Output = ()> + Send {
        over_blocking::OverBlocking::close(self)
    }
}

/// What a variant's Postgres connections call themselves: the variant and this process, so a
/// test (or a curious DBA) can find exactly this server's connections in `pg_stat_activity`.
pub fn application_name(variant: Variant) -> String {
    format!("casebook-dbq-{}-{}", variant.name(), std::process::id())
}

/// The engine a target is.
pub fn engine_of(target: &Target) -> Engine {
    match target {
        Target::Sqlite { .. } => Engine::Sqlite,
        Target::Postgres { .. } => Engine::Postgres,
    }
}

fn unsupported(variant: Variant, engine: Engine) -> Fault {
    Fault::new(ErrorKind::Query, format!("{} has no {} form", variant.name(), engine.name()))
}
