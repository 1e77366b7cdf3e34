//! # db-queries
//!
//! **Question:** for a service whose requests are a few database queries each, should the
//! data layer be an async pool, a thread pool, or a thread per request, and does the answer
//! change between embedded SQLite and networked Postgres?
//!
//! A small service answers requests over loopback TCP: 80% read an account by primary key,
//! 15% count and sum an account's orders in a month, 5% insert an order and credit the
//! account in one transaction. A load generator in another process keeps N requests in flight
//! (closed loop) or sends them at a fixed rate (open loop, latency from when each was due),
//! checks every reply against what the seeded data says, and after the run reconciles every
//! acknowledged write with the database. The front end (listener, handlers, wire protocol) is
//! the same async code in every row; the variants are the data layer behind it.
//!
//! The variants (in [`layers`]), and why each exists:
//! - `async-pool`: a `sqlx` pool, the default an async service reaches for. On SQLite, `sqlx`
//!   runs every connection on a thread of its own behind its futures.
//! - `async-batched`: the same pool, with concurrent point reads coalesced into one
//!   `= ANY($1)` query: the framework's "batching async operations pays".
//! - `async-pipelined` (Postgres): `tokio-postgres` on two connections, every request's query
//!   pipelined behind the others: batching done by the protocol instead of the SQL.
//! - `thread-pool`: worker threads with a blocking connection each (`rusqlite`, `postgres`),
//!   fed by a `flume` queue: the classic threaded data layer.
//! - `thread-per-request`: a new OS thread per request with a connection from an `r2d2` pool:
//!   the anti-pattern, written the way it is usually written.
//! - `async-over-blocking` (SQLite): `rusqlite` in `spawn_blocking` from async handlers, the
//!   usual answer when a C library has no async binding, against `sqlx`'s own threads.
//!
//! Beside them, the hybrid-web reading runs `async-pool` with a periodic aggregate rebuild
//! ([`job`]) on a thread of its own or on the async workers, and an anchor row runs `pgbench`
//! ([`pgbench`]) on the same table. Remote Postgres is a delaying TCP proxy ([`proxy`]).
//!
//! Where everything lives. The case as the harness sees it:
//! - [`params`]: options and the sizes and caps they resolve to; [`plan`]: the tables;
//!   [`run`]: the set-up, one measured run (the server side) and its load generator;
//!   [`figures`]: what a run records; [`findings`]: checks, verdicts, one function per claim.
//!
//! The scenario:
//! - [`dataset`]: the seeded data as pure functions of a seed, so replies are checkable.
//! - [`workload`]: the requests, each a pure function of its id.
//! - [`protocol`]: the wire frames and the error kinds both sides count.
//! - [`server`]: the front end: listener, shutdown, connection cap, handlers.
//! - [`layers`]: the variants, and the server's books (pool wait, errors, retries, batches).
//! - [`sqlite`], [`postgres`]: each engine's schema, settings and queries, per client library.
//! - [`fault`]: how each library's errors map to the counted kinds.
//! - [`driver`]: the clients: closed and open loop, reply checks, latency histograms;
//!   [`generator`]: the load generator's process, from the audit's snapshot to its books.
//! - [`audit`]: the write reconciliation: lost and doubled writes.
//! - [`fixture`]: the databases a run creates and always removes.
//! - [`scenario`]: one run's server side, and a whole run in one process for tests.

pub mod audit;
pub mod dataset;
pub mod driver;
pub mod fault;
pub mod figures;
pub mod findings;
pub mod fixture;
pub mod generator;
pub mod job;
pub mod layers;
pub mod params;
pub mod pgbench;
pub mod plan;
pub mod postgres;
pub mod protocol;
pub mod proxy;
pub mod run;
pub mod scenario;
pub mod server;
pub mod sqlite;
pub mod workload;

use std::path::Path;

use casebook::{
    Case, CaseInfo, ClaimId, ClaimResult, Ctx, GenCtx, LoadSpec, Model, Needs, Plan, Point, Preset, Report, Setup,
    Table, UsageError, Variant,
};

use crate::layers::{ASYNC_BATCHED, ASYNC_OVER_BLOCKING, ASYNC_PIPELINED, ASYNC_POOL, THREAD_PER_REQUEST, THREAD_POOL};
pub use crate::{
    params::{Args, Params},
    run::Shared,
};

pub const JOB_ON_THREAD: &str = "job-on-thread";
pub const JOB_ON_ASYNC: &str = "job-on-async";
pub const PGBENCH: &str = "pgbench";

pub const SQLITE_POINTS: &str = "sqlite-points";
pub const POSTGRES_POINTS: &str = "postgres-points";
pub const SQLITE_SWEEP: &str = "sqlite-sweep";
pub const POSTGRES_SWEEP: &str = "postgres-sweep";
pub const POSTGRES_REMOTE: &str = "postgres-remote";
pub const HYBRID_TABLE: &str = "hybrid-web";

pub struct DbQueries;

impl Case for DbQueries {
    type Args = Args;
    type Params = Params;
    type Shared = Shared;

    const INFO: CaseInfo = CaseInfo {
        name: "db-queries",
        question: env!("CARGO_PKG_DESCRIPTION"),
        claims: &[
            ClaimId::AsyncIo,
            ClaimId::ThreadsBlockingC,
            ClaimId::NoThreadPerRequest,
            ClaimId::BatchAsync,
            ClaimId::HybridWeb,
            ClaimId::AsyncLowMemory,
            ClaimId::AsyncManyConns,
            ClaimId::SpawnBlocking,
        ],
        variants: &[
            Variant {
                name: ASYNC_POOL,
                model: Model::Async,
                why: "a sqlx pool: what an async service reaches for first (on SQLite, sqlx runs a thread per connection)",
            },
            Variant {
                name: ASYNC_BATCHED,
                model: Model::Async,
                why: "the sqlx pool with concurrent point reads coalesced into one = ANY($1) query",
            },
            Variant {
                name: ASYNC_PIPELINED,
                model: Model::Async,
                why: "tokio-postgres on a few connections, every request's query pipelined behind the others",
            },
            Variant {
                name: THREAD_POOL,
                model: Model::Threads,
                why: "worker threads with a blocking connection each (rusqlite, postgres), fed by a flume queue",
            },
            Variant {
                name: THREAD_PER_REQUEST,
                model: Model::Threads,
                why: "a new OS thread per request with a connection from an r2d2 pool: the anti-pattern",
            },
            Variant {
                name: ASYNC_OVER_BLOCKING,
                model: Model::Hybrid,
                why: "rusqlite in spawn_blocking from async handlers: what people do without an async binding",
            },
            Variant {
                name: JOB_ON_THREAD,
                model: Model::Hybrid,
                why: "async requests with the background rebuild on a thread of its own",
            },
            Variant {
                name: JOB_ON_ASYNC,
                model: Model::Async,
                why: "async requests with the same rebuild as a task on the async workers",
            },
            Variant {
                name: PGBENCH,
                model: Model::Anchor,
                why: "pgbench running the same point read on the same table: the ceiling",
            },
        ],
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        params::resolve(args, preset)
    }

    fn needs(params: &Params, variants: &[&'static Variant]) -> Needs {
        params.needs(variants)
    }

    fn plan(params: &Params, variants: &[&'static Variant]) -> Vec<Table> {
        plan::tables(params, variants)
    }

    fn setup(params: &Params, plan: &mut Plan, dir: &Path) -> anyhow::Result<Setup<Shared>> {
        run::setup(params, plan, dir)
    }

    fn run(params: &Params, shared: &Shared, point: &Point, ctx: &mut Ctx) -> anyhow::Result<()> {
        run::execute(params, shared, point, ctx)
    }

    fn load(params: &Params, shared: &Shared, spec: &LoadSpec, generator: &mut GenCtx) -> anyhow::Result<()> {
        run::generate(params, shared, spec, generator)
    }

    fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
        findings::claims(params, report)
    }

    fn verdicts(params: &Params, report: &Report) -> Vec<String> {
        findings::verdicts(params, report)
    }

    fn check(_params: &Params, report: &Report) -> Vec<String> {
        findings::check(report)
    }
}
