//! `thread-pool`: worker threads, each owning one blocking connection, fed by a `flume` queue.
//!
//! The classic threaded data layer: as many threads as connections, each taking the next job
//! from a shared queue, running it on its own connection and sending the result back on a
//! oneshot channel to the async handler that waits for it. On SQLite the writes have a queue
//! and a thread of their own (the single writer). The time a job spends in the queue is the
//! pool wait, and a job that waited longer than the acquire timeout fails as a pool timeout
//! would. A thread whose connection is lost opens a fresh one and runs the job again.

use std::{
    sync::{Arc, mpsc},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use tokio::sync::oneshot;

use super::{Pools, blocking::BlockingConn};
use crate::{
    server::{
        Serve,
        books::{RETRIES, ServerBooks},
    },
    store::{fault::Fault, fixture::Target, postgres::PgConn, sqlite},
    workload::{Request, RequestKind, protocol::ErrorKind},
};

struct Job {
    request: Request,
    since: Instant,
    reply: oneshot::Sender<Result<u64, Fault>>,
}

/// Opens a worker's connection: at start, and again when one is lost.
type Opener<C> = Arc<dyn Fn() -> Result<C, Fault> + Send + Sync>;

pub struct ThreadPool {
    reads: flume::Sender<Job>,
    /// On Postgres, the same queue as `reads`.
    writes: flume::Sender<Job>,
    threads: Vec<JoinHandle<()>>,
}

impl ThreadPool {
    pub async fn open(
        target: &Target,
        pools: Pools,
        application: &str,
        books: Arc<ServerBooks>,
    ) -> Result<ThreadPool, Fault> {
        let (reads, read_jobs) = flume::unbounded();
        let mut threads = Vec::new();
        let (ready, readiness) = mpsc::channel();
        let writes = match target {
            Target::Sqlite { path } => {
                let (read_path, path, busy) = (path.clone(), path.clone(), pools.busy_timeout);
                let reader: Opener<rusqlite::Connection> = Arc::new(move || Ok(sqlite::open(&read_path, false, busy)?));
                for _ in 0..pools.connections {
                    threads.push(spawn_worker(read_jobs.clone(), Arc::clone(&reader), &books, &pools, ready.clone())?);
                }
                let writer: Opener<rusqlite::Connection> = Arc::new(move || Ok(sqlite::open(&path, true, busy)?));
                let (writes, write_jobs) = flume::unbounded();
                threads.push(spawn_worker(write_jobs, writer, &books, &pools, ready.clone())?);
                writes
            }
            Target::Postgres { .. } => {
                let config = target.pg_for_variants().expect("a Postgres target").blocking_config(application);
                let opener: Opener<PgConn> = Arc::new(move || PgConn::connect(&config));
                for _ in 0..pools.connections {
                    threads.push(spawn_worker(read_jobs.clone(), Arc::clone(&opener), &books, &pools, ready.clone())?);
                }
                reads.clone()
            }
        };
        drop(ready);
        let expected = threads.len();
        let pool = ThreadPool { reads, writes, threads };
        // Every worker reports whether it connected; the first failure fails the open.
        let connected = tokio::task::spawn_blocking(move || {
            (0..expected).try_for_each(|_| {
                readiness.recv().unwrap_or_else(|_| Err(Fault::new(ErrorKind::Query, "a worker died")))
            })
        })
        .await
        .unwrap_or_else(|_| Err(Fault::new(ErrorKind::Query, "the readiness wait panicked")));
        match connected {
            Ok(()) => Ok(pool),
            Err(fault) => {
                pool.close().await;
                Err(fault)
            }
        }
    }
}

impl Serve for ThreadPool {
    // ANCHOR: handle
    async fn serve(&self, _: &ServerBooks, request: Request) -> Result<u64, Fault> {
        let queue = if request.kind() == RequestKind::Write { &self.writes } else { &self.reads };
        let (reply, replied) = oneshot::channel();
        queue
            .send(Job { request, since: Instant::now(), reply })
            .map_err(|_| Fault::new(ErrorKind::Query, "the worker threads have stopped"))?;
        replied.await.unwrap_or_else(|_| Err(Fault::new(ErrorKind::Query, "a worker thread dropped a job")))
    }
    // ANCHOR_END: handle

    /// Closes the queues and joins the workers (each finishes the job it has).
    async fn close(self) {
        let ThreadPool { reads, writes, threads } = self;
        drop((reads, writes));
        let _ = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        })
        .await;
    }
}

fn spawn_worker<C: BlockingConn>(
    jobs: flume::Receiver<Job>,
    open: Opener<C>,
    books: &Arc<ServerBooks>,
    pools: &Pools,
    ready: mpsc::Sender<Result<(), Fault>>,
) -> Result<JoinHandle<()>, Fault> {
    let (books, timeout) = (Arc::clone(books), pools.acquire_timeout);
    std::thread::Builder::new()
        .name("db-worker".into())
        .spawn(move || worker(jobs, open, &books, timeout, ready))
        .map_err(|e| Fault::new(ErrorKind::Spawn, e.to_string()))
}

// ANCHOR: worker
fn worker<C: BlockingConn>(
    jobs: flume::Receiver<Job>,
    open: Opener<C>,
    books: &ServerBooks,
    acquire_timeout: Duration,
    ready: mpsc::Sender<Result<(), Fault>>,
) {
    let mut conn = match open() {
        Ok(conn) => {
            let _ = ready.send(Ok(()));
            Some(conn)
        }
        Err(fault) => {
            let _ = ready.send(Err(fault));
            return;
        }
    };
    drop(ready);
    while let Ok(job) = jobs.recv() {
        let waited = job.since.elapsed();
        books.waited(waited);
        // Waited past the acquire timeout: fail it as a pool would, rather than run it late.
        if waited > acquire_timeout {
            let _ = job.reply.send(Err(Fault::new(ErrorKind::PoolTimeout, format!("queued for {waited:?}"))));
            continue;
        }
        let mut tries = 0;
        let result = loop {
            let attempt = match conn.as_mut() {
                Some(c) => c.serve(&job.request),
                None => open().and_then(|c| conn.insert(c).serve(&job.request)),
            };
            match attempt {
                Err(fault) if fault.is_retryable() && tries < RETRIES => {
                    tries += 1;
                    books.retried();
                    conn = None;
                }
                result => break result,
            }
        };
        let _ = job.reply.send(result);
    }
}
// ANCHOR_END: worker
