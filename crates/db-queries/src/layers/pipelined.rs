//! `async-pipelined` (Postgres): `tokio-postgres` on a few connections, shared by every
//! request at once.
//!
//! There is no pool and no waiting for a connection: each request takes the next connection
//! in turn and sends its query right away, behind whatever else that connection has in flight.
//! `tokio-postgres` writes queries as they come and matches replies in order, so N requests on
//! one connection cost one round trip's wait, not N. A connection the server drops is replaced
//! by the first request that finds it dead, once, and the request is retried on the new one.

use std::sync::{
    Arc, RwLock,
    atomic::{AtomicUsize, Ordering},
};

use super::Pools;
use crate::{
    server::{
        Serve,
        books::{ServerBooks, with_retry},
    },
    store::{fault::Fault, fixture::Target, postgres::PgAsync},
    workload::{Request, protocol::ErrorKind},
};

struct Slot {
    conn: RwLock<Arc<PgAsync>>,
    /// Held while replacing a dead connection, so only one request reconnects.
    replacing: tokio::sync::Mutex<()>,
}

pub struct Pipelined {
    slots: Vec<Slot>,
    next: AtomicUsize,
    config: tokio_postgres::Config,
}

impl Pipelined {
    pub async fn open(target: &Target, pools: Pools, application: &str) -> Result<Pipelined, Fault> {
        let Some(db) = target.pg_for_variants() else {
            return Err(Fault::new(ErrorKind::Query, "async-pipelined has no SQLite form"));
        };
        let config = db.config(application);
        let conns =
            futures::future::try_join_all((0..pools.pipelines.max(1)).map(|_| PgAsync::connect(&config))).await?;
        let slots = conns
            .into_iter()
            .map(|c| Slot { conn: RwLock::new(Arc::new(c)), replacing: tokio::sync::Mutex::new(()) })
            .collect();
        Ok(Pipelined { slots, next: AtomicUsize::new(0), config })
    }

    /// Replaces `dead` in `slot` unless another request already has. A failed reconnect leaves
    /// the dead one: the next request through it fails, is counted, and tries again.
    async fn replace(&self, slot: &Slot, dead: &Arc<PgAsync>) {
        let _replacing = slot.replacing.lock().await;
        if !Arc::ptr_eq(&slot.conn.read().expect("slot lock"), dead) {
            return;
        }
        if let Ok(fresh) = PgAsync::connect(&self.config).await {
            *slot.conn.write().expect("slot lock") = Arc::new(fresh);
        }
    }
}

impl Serve for Pipelined {
    // ANCHOR: handle
    async fn serve(&self, books: &ServerBooks, request: Request) -> Result<u64, Fault> {
        with_retry(books, || async {
            let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len()];
            let conn = Arc::clone(&slot.conn.read().expect("slot lock"));
            let result = conn.serve(request).await;
            if matches!(&result, Err(f) if f.kind == ErrorKind::ConnectionLost) || conn.is_closed() {
                self.replace(slot, &conn).await;
            }
            result
        })
        .await
    }
    // ANCHOR_END: handle

    async fn close(self) {}
}
