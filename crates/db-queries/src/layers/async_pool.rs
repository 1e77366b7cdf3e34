//! `async-pool`: a `sqlx` pool, the default an async Rust service reaches for.
//!
//! Each request acquires a connection, runs its query and releases it. On SQLite, `sqlx`
//! gives every connection a worker thread of its own and hands it commands over a channel: the
//! async API is a front for threads, which is part of what this row measures. The pools skip
//! `sqlx`'s ping before each acquire (it would cost a round trip per request); a connection
//! that turns out to be dead fails its query, is closed, and the request is retried. The ping
//! `sqlx` 0.9 sends before it puts a released connection back has no setting: it stays, and
//! the connection is free again one round trip after the query.

use std::time::{Duration, Instant};

use sqlx::{
    Database, Pool,
    pool::{PoolConnection, PoolOptions},
    postgres::Postgres,
    sqlite::Sqlite,
};

use super::Pools;
use crate::{
    server::{
        Serve,
        books::{ServerBooks, with_retry},
    },
    store::{fault::Fault, fixture::Target, postgres, sqlite},
    workload::{Request, protocol::ErrorKind},
};

pub struct AsyncPool {
    pools: Pools,
    pub kind: Kind,
}

#[derive(Clone)]
pub enum Kind {
    /// Readers, and a pool of one writer.
    Sqlite {
        reads: Pool<Sqlite>,
        writes: Pool<Sqlite>,
    },
    Postgres {
        pool: Pool<Postgres>,
    },
}

// ANCHOR: pool_options
fn options<DB: Database>(size: u32) -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(size)
        .min_connections(size)
        // sqlx's own timeout also bounds opening a connection; a request's wait for one is
        // bounded by the acquire timeout, in `acquire`.
        .acquire_timeout(postgres::CONNECT_TIMEOUT)
        .test_before_acquire(false)
        .idle_timeout(None)
        .max_lifetime(None)
}
// ANCHOR_END: pool_options

/// Acquires a connection within `timeout`, counting the wait.
pub async fn acquire<DB: Database>(
    pool: &Pool<DB>,
    timeout: Duration,
    books: &ServerBooks,
) -> Result<PoolConnection<DB>, Fault> {
    let since = Instant::now();
    let conn = tokio::time::timeout(timeout, pool.acquire())
        .await
        .map_err(|_| Fault::new(ErrorKind::PoolTimeout, format!("no connection within {timeout:?}")))??;
    books.waited(since.elapsed());
    Ok(conn)
}

/// A connection whose query lost it is closed rather than returned to the pool.
pub fn settle<DB: Database, T>(conn: &mut PoolConnection<DB>, result: &Result<T, Fault>) {
    if matches!(result, Err(f) if f.kind == ErrorKind::ConnectionLost) {
        conn.close_on_drop();
    }
}

/// Holds every connection at once, so the pool has opened them all before the load.
async fn warm<DB: Database>(pool: Pool<DB>, size: u32) -> Result<Pool<DB>, Fault> {
    let held = futures::future::try_join_all((0..size).map(|_| pool.acquire())).await?;
    drop(held);
    Ok(pool)
}

impl AsyncPool {
    pub async fn open(target: &Target, pools: Pools, application: &str) -> Result<AsyncPool, Fault> {
        let kind = match target {
            Target::Sqlite { path } => {
                let reads = options(pools.connections)
                    .connect_with(sqlite::sqlx_options(path, false, pools.busy_timeout))
                    .await?;
                let writes = options(1).connect_with(sqlite::sqlx_options(path, true, pools.busy_timeout)).await?;
                Kind::Sqlite { reads: warm(reads, pools.connections).await?, writes }
            }
            Target::Postgres { .. } => {
                let db = target.pg_for_variants().expect("a Postgres target");
                let pool = options(pools.connections)
                    .connect_with(db.sqlx_options(application))
                    .await
                    .map_err(|e| postgres::refused(e.into()))?;
                Kind::Postgres { pool: warm(pool, pools.connections).await.map_err(postgres::refused)? }
            }
        };
        Ok(AsyncPool { pools, kind })
    }
}

impl Serve for AsyncPool {
    // ANCHOR: handle
    async fn serve(&self, books: &ServerBooks, request: Request) -> Result<u64, Fault> {
        let timeout = self.pools.acquire_timeout;
        with_retry(books, || async {
            match &self.kind {
                Kind::Sqlite { reads, writes } => {
                    let pool = if request.is_write() { writes } else { reads };
                    sqlite::serve_async(&mut *acquire(pool, timeout, books).await?, request).await
                }
                Kind::Postgres { pool } => {
                    let mut conn = acquire(pool, timeout, books).await?;
                    let result = postgres::serve_sqlx(&mut conn, request).await;
                    settle(&mut conn, &result);
                    result
                }
            }
        })
        .await
    }
    // ANCHOR_END: handle

    async fn close(self) {
        match &self.kind {
            Kind::Sqlite { reads, writes } => {
                reads.close().await;
                writes.close().await;
            }
            Kind::Postgres { pool } => pool.close().await,
        }
    }
}
