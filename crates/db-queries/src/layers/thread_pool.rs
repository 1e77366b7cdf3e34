//! `thread-pool`: worker threads, each owning one blocking connection, fed by a `flume` queue.
//!
//! The classic threaded data layer: as many threads as connections, each taking the next job
//! from a shared queue, running it on its own connection and sending the result back on a
//! oneshot channel to the async handler that waits for it. On SQLite the writes have a queue
//! and a thread of their own (the single writer). The time a job spends in the queue is the
//! pool wait, and a job that waited longer than the acquire timeout fails as a pool timeout
//! would. A thread whose connection is lost opens a fresh one and runs the job again.

use std::{
    sync::Arc,
    thread::JoinHandle,
    time::{Duration, Instant},
};

use tokio::sync::oneshot;

use super::{Pools, blocking::BlockingConn};
use crate::{
    server::{
        Serve,
        books::{ServerBooks, retry},
    },
    store::{fault::Fault, fixture::Target, postgres::PgConn, sqlite},
    workload::{Request, protocol::ErrorKind},
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
        let (ready, mut readiness) = tokio::sync::mpsc::unbounded_channel();
        let mut spawner = Spawner { books, acquire_timeout: pools.acquire_timeout, ready, threads: Vec::new() };
        let writes = match target {
            Target::Sqlite { path } => {
                let (read_path, path, busy) = (path.clone(), path.clone(), pools.busy_timeout);
                spawner.spawn(pools.connections, &read_jobs, move || Ok(sqlite::open(&read_path, false, busy)?))?;
                let (writes, write_jobs) = flume::unbounded();
                spawner.spawn(1, &write_jobs, move || Ok(sqlite::open(&path, true, busy)?))?;
                writes
            }
            Target::Postgres { .. } => {
                let config = target.pg_for_variants().expect("a Postgres target").blocking_config(application);
                spawner.spawn(pools.connections, &read_jobs, move || PgConn::connect(&config))?;
                reads.clone()
            }
        };
        let pool = ThreadPool { reads, writes, threads: spawner.threads };
        // Only the workers hold senders now: one that dies before it reports ends the wait.
        drop(spawner.ready);
        // Every worker reports whether it connected; the first failure fails the open.
        for _ in 0..pool.threads.len() {
            if let Err(fault) =
                readiness.recv().await.unwrap_or_else(|| Err(Fault::new(ErrorKind::Query, "a worker died")))
            {
                pool.close().await;
                return Err(fault);
            }
        }
        Ok(pool)
    }
}

/// Starts workers, keeping their handles.
struct Spawner {
    books: Arc<ServerBooks>,
    acquire_timeout: Duration,
    ready: Ready,
    threads: Vec<JoinHandle<()>>,
}

/// Where a worker says whether it connected.
type Ready = tokio::sync::mpsc::UnboundedSender<Result<(), Fault>>;

impl Spawner {
    /// Starts `n` workers on `jobs`, each opening its connection with `open`.
    fn spawn<C: BlockingConn>(
        &mut self,
        n: u32,
        jobs: &flume::Receiver<Job>,
        open: impl Fn() -> Result<C, Fault> + Send + Sync + 'static,
    ) -> Result<(), Fault> {
        let open: Opener<C> = Arc::new(open);
        for _ in 0..n {
            let (jobs, open, books, ready) =
                (jobs.clone(), Arc::clone(&open), Arc::clone(&self.books), self.ready.clone());
            let timeout = self.acquire_timeout;
            let thread = std::thread::Builder::new()
                .name("db-worker".into())
                .spawn(move || worker(jobs, open, &books, timeout, ready))
                .map_err(|e| Fault::new(ErrorKind::Spawn, e.to_string()))?;
            self.threads.push(thread);
        }
        Ok(())
    }
}

impl Serve for ThreadPool {
    // ANCHOR: handle
    async fn serve(&self, _: &ServerBooks, request: Request) -> Result<u64, Fault> {
        let queue = if request.is_write() { &self.writes } else { &self.reads };
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

// ANCHOR: worker
fn worker<C: BlockingConn>(
    jobs: flume::Receiver<Job>,
    open: Opener<C>,
    books: &ServerBooks,
    acquire_timeout: Duration,
    ready: Ready,
) {
    let opened = open();
    let _ = ready.send(opened.as_ref().map(drop).map_err(Fault::clone));
    drop(ready);
    let Ok(mut conn) = opened.map(Some) else { return };
    while let Ok(job) = jobs.recv() {
        let waited = job.since.elapsed();
        books.waited(waited);
        // Waited past the acquire timeout: fail it as a pool would, rather than run it late.
        if waited > acquire_timeout {
            let _ = job.reply.send(Err(Fault::new(ErrorKind::PoolTimeout, format!("queued for {waited:?}"))));
            continue;
        }
        // Called again only after a lost connection: that one is dropped, a fresh one opened.
        let mut again = false;
        let result = retry(books, || {
            if std::mem::replace(&mut again, true) {
                conn = None;
            }
            match conn.as_mut() {
                Some(c) => c.serve(&job.request),
                None => open().and_then(|c| conn.insert(c).serve(&job.request)),
            }
        });
        let _ = job.reply.send(result);
    }
}
// ANCHOR_END: worker
