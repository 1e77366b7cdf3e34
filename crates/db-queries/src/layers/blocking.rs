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
    server::books::{RETRIES, ServerBooks},
    store::{
        fault::{self, Fault},
        postgres::{self, PgConn, PgTarget},
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
        match conn.is_closed() {
            true => Err(Fault::new(ErrorKind::ConnectionLost, "connection closed")),
            false => Ok(()),
        }
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

/// SQLite's pools: `connections` read-only connections and one writer. Blocking: call it
/// from a thread, not from async code.
pub fn sqlite_pools(
    path: &std::path::Path,
    pools: &Pools,
) -> Result<(r2d2::Pool<SqliteConnectionManager>, r2d2::Pool<SqliteConnectionManager>), Fault> {
    let helper = helper();
    let busy = pools.busy_timeout;
    let manager = |flags| {
        SqliteConnectionManager::file(path)
            .with_flags(flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(move |c| sqlite::configure(c, busy))
    };
    let reads = builder(pools.connections, &helper)
        .build(manager(OpenFlags::SQLITE_OPEN_READ_ONLY))
        .map_err(fault::from_r2d2)?;
    let writes = builder(1, &helper).build(manager(OpenFlags::SQLITE_OPEN_READ_WRITE)).map_err(fault::from_r2d2)?;
    Ok((reads, writes))
}

/// Postgres' pool: `connections` connections for everything. Blocking.
pub fn pg_pool(target: &PgTarget, application: &str, pools: &Pools) -> Result<r2d2::Pool<PgManager>, Fault> {
    builder(pools.connections, &helper())
        .build(PgManager { config: target.blocking_config(application) })
        .map_err(fault::from_r2d2)
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
    let (mut tries, mut came) = (0, None);
    let result = loop {
        let mut conn = match pool.get_timeout(acquire_timeout) {
            Ok(conn) => conn,
            Err(e) => break Err(fault::from_r2d2(e)),
        };
        came.get_or_insert_with(Instant::now);
        match conn.serve(request) {
            Err(fault) if fault.is_retryable() && tries < RETRIES => {
                tries += 1;
                books.retried();
                // r2d2 checks `has_broken` when the connection returns and discards it.
            }
            result => break result,
        }
    };
    (result, came)
}
