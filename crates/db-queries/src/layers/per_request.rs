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

use tokio::sync::oneshot;

use super::{Pools, blocking::Pooled};
use crate::{
    server::{Serve, books::ServerBooks},
    store::{fault::Fault, fixture::Target},
    workload::{Request, protocol::ErrorKind},
};

pub struct PerRequest {
    pooled: Arc<Pooled>,
    books: Arc<ServerBooks>,
    acquire_timeout: Duration,
}

impl PerRequest {
    pub async fn open(
        target: &Target,
        pools: Pools,
        application: &str,
        books: Arc<ServerBooks>,
    ) -> Result<PerRequest, Fault> {
        let pooled = Arc::new(Pooled::open(target, pools, application).await?);
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
