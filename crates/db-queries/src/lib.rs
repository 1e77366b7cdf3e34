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
//! The variants (declared in [`variants`], each data layer in [`layers`]), and why each exists:
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
//! - `job-on-thread`, `job-on-async`: the hybrid-web reading, `async-pool` with a periodic
//!   aggregate rebuild ([`server::job`]) on a thread of its own or on the async workers.
//! - `pgbench`: the anchor, `pgbench` on the same table ([`store::pgbench`]).
//!
//! Remote Postgres is a delaying TCP proxy ([`store::proxy`]).
//!
//! The case's parts, as every case has them: [`variants`] (the enum and the dispatch into the
//! data layers), [`tables`] (the tables), [`params`] (options, sizes and the caps they resolve
//! to), [`run`] (the set-up, one measured run's server side and its load generator),
//! [`figures`] (what a run records) and [`findings`] (checks, verdicts, one function per claim).
//! The scenario:
//! - [`workload`]: the requests, each a pure function of its id; the seeded data they read;
//!   the wire frames and the error kinds both sides count.
//! - [`store`]: each engine's schema, settings and queries, per client library; how their
//!   errors map to the counted kinds; the fixtures a run creates and always removes; pgbench
//!   and the delaying proxy.
//! - [`layers`]: the data layers, one file each.
//! - [`server`]: the front end (listener, shutdown, connection cap, handlers), its books, the
//!   background job.
//! - [`load`]: the load generator: clients in closed and open loop, reply checks, latency
//!   histograms, and the audit of the writes.

pub mod figures;
pub mod findings;
pub mod layers;
pub mod load;
pub mod params;
pub mod run;
pub mod server;
pub mod store;
pub mod tables;
pub mod variants;
pub mod workload;

use std::path::Path;

use casebook::{
    Case, CaseInfo, ClaimId, ClaimResult, Ctx, GenCtx, LoadSpec, Needs, Plan, Preset, Report, Setup, Table,
};

use crate::{
    params::{Args, Params, Spec},
    run::Shared,
    variants::Variant,
};

pub struct DbQueries;

impl Case for DbQueries {
    type Args = Args;
    type Params = Params;
    type Shared = Shared;
    type Variant = Variant;
    type Spec = Spec;

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
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, casebook::UsageError> {
        params::resolve(args, preset)
    }

    fn needs(params: &Params, variants: &[Variant]) -> Needs {
        params.needs(variants)
    }

    fn plan(params: &Params, variants: &[Variant]) -> Vec<Table> {
        tables::tables(params, variants)
    }

    fn setup(params: &Params, plan: &mut Plan, dir: &Path) -> anyhow::Result<Setup<Shared>> {
        run::setup(params, plan, dir)
    }

    fn run(params: &Params, shared: &Shared, variant: Variant, spec: Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
        run::execute(params, shared, variant, spec, ctx)
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
