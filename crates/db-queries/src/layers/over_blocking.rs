//! `async-over-blocking` (SQLite): `rusqlite`, a blocking C library, called through
//! `spawn_blocking` from async handlers, the usual answer when a library has no async binding.
//!
//! Written as an expert would: a request first waits, asynchronously, for a slot (one per
//! pooled connection, so the wait is the pool wait and costs no thread), and only then moves to
//! tokio's blocking pool with its connection. Without the slots every request in flight would
//! occupy a blocking thread parked on the pool's lock, up to tokio's 512.
//! It is the counterpart of `sqlx`-sqlite, which does the same thing inside the library: a
//! worker thread per connection behind an async API.

use std::{sync::Arc, time::Instant};

use tokio::sync::Semaphore;

use super::{Pools, blocking::Pooled};
use crate::{
    server::{Serve, books::ServerBooks},
    store::{fault::Fault, fixture::Target},
    workload::{Request, protocol::ErrorKind},
};

pub struct OverBlocking {
    pooled: Arc<Pooled>,
    read_slots: Arc<Semaphore>,
    write_slots: Arc<Semaphore>,
    pools: Pools,
    books: Arc<ServerBooks>,
}

impl OverBlocking {
    pub async fn open(target: &Target, pools: Pools, books: Arc<ServerBooks>) -> Result<OverBlocking, Fault> {
        let Target::Sqlite { .. } = target else {
            return Err(Fault::new(ErrorKind::Query, "async-over-blocking has no Postgres form"));
        };
        Ok(OverBlocking {
            pooled: Arc::new(Pooled::open(target, pools, "").await?),
            read_slots: Arc::new(Semaphore::new(pools.connections as usize)),
            write_slots: Arc::new(Semaphore::new(1)),
            pools,
            books,
        })
    }
}

impl Serve for OverBlocking {
    // ANCHOR: handle
    async fn serve(&self, _: &ServerBooks, request: Request) -> Result<u64, Fault> {
        let slots = if request.is_write() { &self.write_slots } else { &self.read_slots };
        let since = Instant::now();
        let slot = tokio::time::timeout(self.pools.acquire_timeout, Arc::clone(slots).acquire_owned())
            .await
            .map_err(|_| Fault::new(ErrorKind::PoolTimeout, "no connection came free in time"))?
            .map_err(|_| Fault::new(ErrorKind::Query, "the pool is closed"))?;
        self.books.waited(since.elapsed());
        let (pooled, books, timeout) = (Arc::clone(&self.pooled), Arc::clone(&self.books), self.pools.acquire_timeout);
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            // The wait counted is the slot's, above.
            pooled.serve(&books, &request, timeout).0
        })
        .await
        .unwrap_or_else(|_| Err(Fault::new(ErrorKind::Query, "a blocking task panicked")))
    }
    // ANCHOR_END: handle

    async fn close(self) {
        Pooled::close(self.pooled).await;
    }
}
