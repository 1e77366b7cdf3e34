//! `async-batched`: the `sqlx` pool, with concurrent point reads coalesced into one query.
//!
//! Point reads go to a queue. One task takes the first waiting read, waits for a free slot
//! (one per pooled connection), then takes every read that queued meanwhile, up to
//! [`Pools::max_batch`], and runs them as one `= ANY($1)` query (SQLite: `IN (json_each(?))`).
//! No timer: a read never waits for a batch to fill, only for a connection, which it would
//! have waited for anyway; the busier the pool, the bigger the batches. Range reads and writes
//! go straight to the pool.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::{
    sync::{Semaphore, mpsc, oneshot},
    task::JoinHandle,
};

use super::{
    Pools,
    async_pool::{AsyncPool, Kind, settle},
};
use crate::{
    server::{
        Serve,
        books::{ServerBooks, with_retry},
    },
    store::{fault::Fault, fixture::Target, postgres, sqlite},
    workload::{Request, protocol::ErrorKind},
};

/// A point read waiting for its batch.
struct Waiting {
    account: i64,
    since: Instant,
    reply: oneshot::Sender<Result<u64, Fault>>,
}

pub struct Batched {
    inner: AsyncPool,
    queue: mpsc::UnboundedSender<Waiting>,
    task: JoinHandle<()>,
}

impl Batched {
    pub async fn open(
        target: &Target,
        pools: Pools,
        application: &str,
        books: Arc<ServerBooks>,
    ) -> Result<Batched, Fault> {
        let inner = AsyncPool::open(target, pools, application).await?;
        let (queue, waiting) = mpsc::unbounded_channel();
        let slots = Arc::new(Semaphore::new(pools.connections as usize));
        let readers = inner.kind.clone();
        let task =
            tokio::spawn(batch_loop(waiting, slots, pools.max_batch.max(1), pools.acquire_timeout, readers, books));
        Ok(Batched { inner, queue, task })
    }
}

impl Serve for Batched {
    async fn serve(&self, books: &ServerBooks, request: Request) -> Result<u64, Fault> {
        match request {
            Request::Point { account } => {
                let (reply, replied) = oneshot::channel();
                self.queue
                    .send(Waiting { account, since: Instant::now(), reply })
                    .map_err(|_| Fault::new(ErrorKind::Query, "the batcher has stopped"))?;
                replied.await.unwrap_or_else(|_| Err(Fault::new(ErrorKind::Query, "the batcher dropped a read")))
            }
            other => self.inner.serve(books, other).await,
        }
    }

    async fn close(self) {
        drop(self.queue);
        let _ = self.task.await;
        self.inner.close().await;
    }
}

// ANCHOR: batch_loop
async fn batch_loop(
    mut waiting: mpsc::UnboundedReceiver<Waiting>,
    slots: Arc<Semaphore>,
    max_batch: usize,
    acquire_timeout: Duration,
    readers: Kind,
    books: Arc<ServerBooks>,
) {
    while let Some(first) = waiting.recv().await {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { break };
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match waiting.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        // A read that waited past the acquire timeout fails as a pool timeout would.
        let (batch, late): (Vec<Waiting>, Vec<Waiting>) =
            batch.into_iter().partition(|w| w.since.elapsed() <= acquire_timeout);
        for w in late {
            let waited = w.since.elapsed();
            books.waited(waited);
            let _ = w.reply.send(Err(Fault::new(ErrorKind::PoolTimeout, format!("waited {waited:?} for a batch"))));
        }
        if batch.is_empty() {
            continue;
        }
        books.batch(batch.len());
        for w in &batch {
            books.waited(w.since.elapsed());
        }
        let (readers, books) = (readers.clone(), Arc::clone(&books));
        tokio::spawn(async move {
            let mut accounts: Vec<i64> = batch.iter().map(|w| w.account).collect();
            accounts.sort_unstable();
            accounts.dedup();
            let found = with_retry(&books, || read_batch(&readers, &accounts)).await;
            drop(slot);
            for w in batch {
                let result = match &found {
                    Ok(digests) => digests
                        .get(&w.account)
                        .copied()
                        .ok_or_else(|| Fault::new(ErrorKind::Query, format!("account {} not found", w.account))),
                    Err(fault) => Err(fault.clone()),
                };
                let _ = w.reply.send(result);
            }
        });
    }
}
// ANCHOR_END: batch_loop

async fn read_batch(readers: &Kind, accounts: &[i64]) -> Result<HashMap<i64, u64>, Fault> {
    match readers {
        Kind::Sqlite { reads, .. } => sqlite::points_async(&mut *reads.acquire().await?, accounts).await,
        Kind::Postgres { pool } => {
            let mut conn = pool.acquire().await?;
            let result = postgres::points_sqlx(&mut conn, accounts).await;
            settle(&mut conn, &result);
            result
        }
    }
}
