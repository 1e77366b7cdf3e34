//! `thread-per-request`: a new OS thread for every request, with a connection from an `r2d2`
//! pool. The anti-pattern, written the way it is usually written.
//!
//! It is simple and each request is ordinary blocking code. Its costs are what the rows
//! measure: a thread created and destroyed per request, and under load as many threads as
//! requests in flight, nearly all of them parked on the pool's lock waiting for one of a few
//! connections. A failed `spawn` is counted, never a crash.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use r2d2_sqlite::SqliteConnectionManager;
use tokio::sync::oneshot;

use super::{
    Pools,
    blocking::{self, PgManager, serve_pooled},
};
use crate::{
    server::{Serve, books::ServerBooks},
    store::{fault::Fault, fixture::Target},
    workload::{Request, RequestKind, protocol::ErrorKind},
};

pub enum Pooled {
    Sqlite { reads: r2d2::Pool<SqliteConnectionManager>, writes: r2d2::Pool<SqliteConnectionManager> },
    Postgres { pool: r2d2::Pool<PgManager> },
}

pub struct PerRequest {
    pooled: Arc<Pooled>,
    books: Arc<ServerBooks>,
    acquire_timeout: Duration,
}

/// Builds the `r2d2` pools for a target. `r2d2` connects synchronously, so this runs on the
/// blocking pool.
pub async fn open_pools(target: &Target, pools: Pools, application: &str) -> Result<Pooled, Fault> {
    let (target, application) = (target.clone(), application.to_owned());
    tokio::task::spawn_blocking(move || match &target {
        Target::Sqlite { path } => {
            let (reads, writes) = blocking::sqlite_pools(path, &pools)?;
            Ok(Pooled::Sqlite { reads, writes })
        }
        Target::Postgres { .. } => {
            let db = target.pg_for_variants().expect("a Postgres target");
            Ok(Pooled::Postgres { pool: blocking::pg_pool(&db, &application, &pools)? })
        }
    })
    .await
    .unwrap_or_else(|_| Err(Fault::new(ErrorKind::Query, "opening the pools panicked")))
}

impl Pooled {
    /// Drops the pools where blocking is allowed: a blocking Postgres client closes its
    /// connection with a runtime of its own, which cannot start inside the server's.
    pub async fn close(pooled: Arc<Pooled>) {
        let _ = tokio::task::spawn_blocking(move || drop(pooled)).await;
    }

    /// Serves a request on this thread, waiting for a connection as long as the pool allows;
    /// also says when the connection came (see [`serve_pooled`]).
    pub fn serve(
        &self,
        books: &ServerBooks,
        request: &Request,
        acquire_timeout: Duration,
    ) -> (Result<u64, Fault>, Option<Instant>) {
        match self {
            Pooled::Sqlite { writes, .. } if request.kind() == RequestKind::Write => {
                serve_pooled(writes, books, request, acquire_timeout)
            }
            Pooled::Sqlite { reads, .. } => serve_pooled(reads, books, request, acquire_timeout),
            Pooled::Postgres { pool } => serve_pooled(pool, books, request, acquire_timeout),
        }
    }
}

impl PerRequest {
    pub async fn open(
        target: &Target,
        pools: Pools,
        application: &str,
        books: Arc<ServerBooks>,
    ) -> Result<PerRequest, Fault> {
        let pooled = Arc::new(open_pools(target, pools, application).await?);
        Ok(PerRequest { pooled, books, acquire_timeout: pools.acquire_timeout })
    }
}

impl Serve for PerRequest {
    // ANCHOR: handle
    async fn serve(&self, books: &ServerBooks, request: Request) -> Result<u64, Fault> {
        let since = Instant::now();
        let (reply, replied) = oneshot::channel();
        let (pooled, shared, timeout) = (Arc::clone(&self.pooled), Arc::clone(&self.books), self.acquire_timeout);
        std::thread::Builder::new()
            .name("request".into())
            .spawn(move || {
                let _ = reply.send(pooled.serve(&shared, &request, timeout));
            })
            .map_err(|e| Fault::new(ErrorKind::Spawn, e.to_string()))?;
        let (result, came) =
            replied.await.unwrap_or_else(|_| (Err(Fault::new(ErrorKind::Query, "a request thread died")), None));
        if let Some(came) = came {
            books.waited(came.saturating_duration_since(since));
        }
        result
    }
    // ANCHOR_END: handle

    async fn close(self) {
        Pooled::close(self.pooled).await;
    }
}
