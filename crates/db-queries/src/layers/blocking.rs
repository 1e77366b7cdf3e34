//! What the thread variants share: a blocking connection that serves any request, and the
//! `r2d2` pools they take such connections from.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use r2d2::ManageConnection;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::OpenFlags;
use scheduled_thread_pool::ScheduledThreadPool;

use super::Pools;
use crate::{
    server::books::{ServerBooks, retry},
    store::{
        fault::{self, Fault},
        fixture::Target,
        postgres::{self, PgConn},
        sqlite,
    },
    workload::{Request, protocol::ErrorKind},
};

/// A connection a thread can serve a request on, start to finish.
pub trait BlockingConn: Send + 'static {
    fn serve(&mut self, request: &Request) -> Result<u64, Fault>;
}

impl BlockingConn for rusqlite::Connection {
    fn serve(&mut self, request: &Request) -> Result<u64, Fault> {
        sqlite::serve(self, request)
    }
}

impl BlockingConn for PgConn {
    fn serve(&mut self, request: &Request) -> Result<u64, Fault> {
        PgConn::serve(self, request)
    }
}

impl std::error::Error for Fault {}

/// An `r2d2` manager for Postgres connections that carry their prepared statements (the
/// `r2d2_postgres` crate hands out bare clients, which would prepare on every query).
#[derive(Debug)]
pub struct PgManager {
    config: ::postgres::Config,
}

impl ManageConnection for PgManager {
    type Connection = PgConn;
    type Error = Fault;

    fn connect(&self) -> Result<PgConn, Fault> {
        PgConn::connect(&self.config)
    }

    /// A checked-out connection is trusted; a lost one fails its query and is retried.
    fn is_valid(&self, conn: &mut PgConn) -> Result<(), Fault> {
        if conn.is_closed() { Err(Fault::new(ErrorKind::ConnectionLost, "connection closed")) } else { Ok(()) }
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.is_closed()
    }
}

/// r2d2's maintenance threads: one is plenty for pools that never shrink.
fn helper() -> Arc<ScheduledThreadPool> {
    Arc::new(ScheduledThreadPool::builder().num_threads(1).thread_name_pattern("r2d2-helper-{}").build())
}

fn builder<M: ManageConnection>(size: u32, helper: &Arc<ScheduledThreadPool>) -> r2d2::Builder<M> {
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(size))
        // Opening the pool waits this long for its connections; a request's wait for one is
        // bounded by the acquire timeout, in `serve_pooled`.
        .connection_timeout(postgres::CONNECT_TIMEOUT)
        .test_on_check_out(false)
        .idle_timeout(None)
        .max_lifetime(None)
        .thread_pool(Arc::clone(helper))
}

/// The `r2d2` pools of a target: on SQLite `connections` read-only connections and one
/// writer, on Postgres `connections` connections for everything.
pub enum Pooled {
    Sqlite { reads: r2d2::Pool<SqliteConnectionManager>, writes: r2d2::Pool<SqliteConnectionManager> },
    Postgres { pool: r2d2::Pool<PgManager> },
}

impl Pooled {
    /// Builds the pools. `r2d2` connects synchronously, so this runs on the blocking pool.
    pub async fn open(target: &Target, pools: Pools, application: &str) -> Result<Pooled, Fault> {
        let (target, application) = (target.clone(), application.to_owned());
        tokio::task::spawn_blocking(move || {
            let helper = helper();
            Ok(match &target {
                Target::Sqlite { path } => {
                    let busy = pools.busy_timeout;
                    let manager = |flags| {
                        SqliteConnectionManager::file(path)
                            .with_flags(flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                            .with_init(move |c| sqlite::configure(c, busy))
                    };
                    let reads = builder(pools.connections, &helper).build(manager(OpenFlags::SQLITE_OPEN_READ_ONLY));
                    let writes = builder(1, &helper).build(manager(OpenFlags::SQLITE_OPEN_READ_WRITE));
                    Pooled::Sqlite {
                        reads: reads.map_err(fault::from_r2d2)?,
                        writes: writes.map_err(fault::from_r2d2)?,
                    }
                }
                Target::Postgres { .. } => {
                    let config = target.pg_for_variants().expect("a Postgres target").blocking_config(&application);
                    let pool = builder(pools.connections, &helper).build(PgManager { config });
                    Pooled::Postgres { pool: pool.map_err(fault::from_r2d2)? }
                }
            })
        })
        .await
        .unwrap_or_else(|_| Err(Fault::new(ErrorKind::Query, "opening the pools panicked")))
    }

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
            Pooled::Sqlite { writes, .. } if request.is_write() => {
                serve_pooled(writes, books, request, acquire_timeout)
            }
            Pooled::Sqlite { reads, .. } => serve_pooled(reads, books, request, acquire_timeout),
            Pooled::Postgres { pool } => serve_pooled(pool, books, request, acquire_timeout),
        }
    }
}

/// Serves `request` on a connection from `pool`, taking a fresh one if the first was lost.
/// Returns the result and when the first connection came, if one did: the caller counts the
/// wait, on a thread of the runtime's (see [`ServerBooks::waited`]).
pub fn serve_pooled<M>(
    pool: &r2d2::Pool<M>,
    books: &ServerBooks,
    request: &Request,
    acquire_timeout: Duration,
) -> (Result<u64, Fault>, Option<Instant>)
where
    M: ManageConnection,
    M::Connection: BlockingConn,
{
    let mut came = None;
    let result = retry(books, || {
        let mut conn = pool.get_timeout(acquire_timeout).map_err(fault::from_r2d2)?;
        came.get_or_insert_with(Instant::now);
        // A lost connection is discarded: r2d2 checks `has_broken` when it returns.
        conn.serve(request)
    });
    (result, came)
}
