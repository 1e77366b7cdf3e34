//! The data layers: the variants. The server's front end hands each request to one of these
//! (each implements [`Serve`](crate::server::Serve)) and replies with what it returns;
//! everything that differs between rows lives here.
//!
//! Every variant runs the same SQL (see [`sqlite`](crate::store::sqlite) and
//! [`postgres`](crate::store::postgres)) over the same number of database connections
//! ([`Pools::connections`]): on SQLite that many readers plus one writer (WAL lets readers run
//! beside a single writer; a second writer would only wait on the lock), on Postgres that many
//! connections for everything. What differs is the model that waits for them.

pub mod async_pool;
pub mod batcher;
pub mod blocking;
pub mod over_blocking;
pub mod per_request;
pub mod pipelined;
pub mod thread_pool;

use std::time::Duration;

use serde::{Deserialize, Serialize};

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
