//! The variants, declared once, and the pass each one is: nine ways to compute every item
//! of a [`Workload`], each written the way someone fluent in that model would write it. The
//! `granularity` is how many items one unit of concurrency (a thread, a task, a rayon chunk)
//! takes. [`Variant::drive`] is the one place that says which pass a variant runs.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use anyhow::Context;
use rayon::prelude::*;
use tokio::task::JoinHandle;

use crate::workloads::{Job, Workload, compute_range, drive, drive_async, fill};

casebook::variants! {
    /// How a pass computes every item, in the order the tables list them.
    pub enum Variant {
        Sequential = "sequential" (Sequential): "the baseline: one thread, a plain loop",
        ThreadsStatic = "threads-static" (Threads): "scoped threads, one equal chunk per core: the simplest parallel code",
        ThreadsSharedCounter = "threads-shared-counter" (Threads): "scoped threads taking rows from a shared atomic counter: balancing without stealing",
        ThreadPerItem = "thread-per-item" (Threads): "a new OS thread per row or body block, every pass: the unpooled anti-pattern",
        Rayon = "rayon" (Threads): "rayon's work-stealing pool: the expert default for data parallelism",
        TokioSpawn = "tokio-spawn" (Async): "tokio::spawn per unit with no yield point: tempting in an async codebase",
        TokioSpawnBlocking = "tokio-spawn-blocking" (Async): "spawn_blocking per unit, at most one per core at a time: the framework's advice, done well",
        TokioSpawnBlockingUnbounded = "tokio-spawn-blocking-unbounded" (Async): "spawn_blocking for every unit at once: the advice taken literally",
        TokioRayon = "tokio-rayon" (Hybrid): "async hands the pass to rayon and awaits a oneshot: the recommended hybrid",
    }
}

/// What the passes run on, built and warmed before the clock starts ([`crate::run`]).
pub struct Pools {
    pub threads: usize,
    /// Runs the async variants' passes, and the probe beside every variant.
    pub runtime: tokio::runtime::Runtime,
    /// Rayon's pool, only for the variants that [use it](Variant::uses_rayon).
    pub rayon: Option<Arc<rayon::ThreadPool>>,
}

impl Variant {
    /// Whether it has a unit size, which the granularity sweep varies.
    pub fn swept(self) -> bool {
        !matches!(self, Variant::Sequential | Variant::ThreadsStatic | Variant::ThreadsSharedCounter)
    }

    /// Whether it runs on rayon's pool: only these get one, so that no row carries idle
    /// threads it never asked for in its thread count.
    pub fn uses_rayon(self) -> bool {
        matches!(self, Variant::Rayon | Variant::TokioRayon)
    }

    /// Whether it hands units to tokio's blocking pool, whose first threads are started
    /// before the clock so that it pays for them no more than the other pools do.
    pub fn uses_blocking_pool(self) -> bool {
        matches!(self, Variant::TokioSpawnBlocking | Variant::TokioSpawnBlockingUnbounded)
    }

    /// Units of concurrency one pass over `items` creates: threads for the thread
    /// variants, tasks for the async ones, rayon chunks for rayon.
    fn units(self, items: usize, threads: usize, granularity: usize) -> usize {
        match self {
            Variant::Sequential => 1,
            Variant::ThreadsStatic | Variant::ThreadsSharedCounter => threads.min(items),
            _ => items.div_ceil(granularity),
        }
    }

    /// Runs `job` to its end with this variant's pass, `granularity` items per unit, and
    /// returns the units of concurrency it created.
    pub fn drive<J: Job>(self, job: &mut J, pools: &Pools, granularity: usize) -> anyhow::Result<usize> {
        use Variant::*;
        let (threads, runtime) = (pools.threads, &pools.runtime);
        let rayon = || pools.rayon.clone().context("this variant needs rayon's pool");
        let passes = match self {
            Sequential => drive(job, |w| sequential(&*w)),
            ThreadsStatic => drive(job, |w| threads_static(&*w, threads)),
            ThreadsSharedCounter => drive(job, |w| threads_shared_counter(&*w, threads, granularity)),
            ThreadPerItem => drive(job, |w| thread_per_item(&*w, granularity)),
            Rayon => rayon().map(|pool| drive(job, |w| rayon_pass(&pool, &*w, granularity)))?,
            TokioSpawn => runtime.block_on(drive_async(job, |w| tokio_spawn(w, granularity)))?,
            TokioSpawnBlocking => {
                runtime.block_on(drive_async(job, |w| tokio_spawn_blocking(w, granularity, threads)))?
            }
            TokioSpawnBlockingUnbounded => {
                runtime.block_on(drive_async(job, |w| tokio_spawn_blocking_unbounded(w, granularity)))?
            }
            TokioRayon => {
                let pool = rayon()?;
                runtime.block_on(drive_async(job, |w| tokio_rayon(Arc::clone(&pool), w, granularity)))?
            }
        };
        Ok(passes.into_iter().map(|items| self.units(items, threads, granularity)).sum())
    }
}

// ANCHOR: sequential
/// The baseline: one thread, a plain loop.
fn sequential<W: Workload>(workload: &W) -> Vec<W::Item> {
    (0..workload.item_count()).map(|i| workload.compute(i)).collect()
}
// ANCHOR_END: sequential

// ANCHOR: threads_static
/// Scoped OS threads, one equal contiguous chunk each: no pool, no stealing.
fn threads_static<W: Workload>(workload: &W, threads: usize) -> Vec<W::Item> {
    scoped_chunks(workload, workload.item_count().div_ceil(threads).max(1))
}

/// A scoped OS thread for every `chunk` items, each filling its own slice of the output.
fn scoped_chunks<W: Workload>(workload: &W, chunk: usize) -> Vec<W::Item> {
    let mut out = vec![W::Item::default(); workload.item_count()];
    std::thread::scope(|scope| {
        for (index, slice) in out.chunks_mut(chunk).enumerate() {
            scope.spawn(move || fill(workload, index * chunk, slice));
        }
    });
    out
}
// ANCHOR_END: threads_static

// ANCHOR: threads_shared_counter
/// Scoped OS threads, one per core, that take the next `granularity` items from a shared
/// atomic counter until none are left: dynamic load balancing with no pool and no stealing,
/// the control that tells what rayon's stealing adds beyond it.
fn threads_shared_counter<W: Workload>(workload: &W, threads: usize, granularity: usize) -> Vec<W::Item> {
    let next = AtomicUsize::new(0);
    let pieces: Vec<(usize, Vec<W::Item>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let next = &next;
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let first = next.fetch_add(granularity, Ordering::Relaxed);
                        if first >= workload.item_count() {
                            break done;
                        }
                        done.push((first, compute_range(workload, first, granularity)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    let mut out = vec![W::Item::default(); workload.item_count()];
    for (first, items) in pieces {
        for (offset, item) in items.into_iter().enumerate() {
            out[first + offset] = item;
        }
    }
    out
}
// ANCHOR_END: threads_shared_counter

// ANCHOR: thread_per_item
/// A fresh OS thread for every `granularity` items, every pass: what "pool your threads"
/// warns against, and what a quick `thread::spawn` in a loop turns into.
fn thread_per_item<W: Workload>(workload: &W, granularity: usize) -> Vec<W::Item> {
    scoped_chunks(workload, granularity)
}
// ANCHOR_END: thread_per_item

// ANCHOR: rayon
/// Rayon's work-stealing pool: idle workers steal chunks from busy ones.
fn rayon_pass<W: Workload>(pool: &rayon::ThreadPool, workload: &W, granularity: usize) -> Vec<W::Item> {
    let mut out = vec![W::Item::default(); workload.item_count()];
    pool.install(|| {
        out.par_chunks_mut(granularity)
            .enumerate()
            .for_each(|(index, slice)| fill(workload, index * granularity, slice));
    });
    out
}
// ANCHOR_END: rayon

// ANCHOR: tokio_spawn
/// One `tokio::spawn` per unit, on the async worker threads, with no yield point inside:
/// the tempting anti-pattern. Throughput can look fine; everything else on the runtime waits.
async fn tokio_spawn<W: Workload>(workload: Arc<W>, granularity: usize) -> anyhow::Result<Vec<W::Item>> {
    let handles: Vec<_> = (0..workload.item_count())
        .step_by(granularity)
        .map(|first| {
            let workload = Arc::clone(&workload);
            tokio::spawn(async move { compute_range(&*workload, first, granularity) })
        })
        .collect();
    joined(handles, workload.item_count()).await
}

/// Every unit's items, awaited in order.
async fn joined<T>(handles: Vec<JoinHandle<Vec<T>>>, items: usize) -> anyhow::Result<Vec<T>> {
    let mut out = Vec::with_capacity(items);
    for handle in handles {
        out.extend(handle.await?);
    }
    Ok(out)
}
// ANCHOR_END: tokio_spawn

// ANCHOR: tokio_spawn_blocking
/// The same units through `spawn_blocking`, the framework's advice, written as an expert
/// would: a semaphore with one permit per core keeps at most that many on tokio's blocking
/// pool at once, so the pool does not grow a thread per unit.
async fn tokio_spawn_blocking<W: Workload>(
    workload: Arc<W>,
    granularity: usize,
    cores: usize,
) -> anyhow::Result<Vec<W::Item>> {
    let permits = Arc::new(tokio::sync::Semaphore::new(cores));
    let mut handles = Vec::with_capacity(workload.item_count().div_ceil(granularity));
    for first in (0..workload.item_count()).step_by(granularity) {
        let permit = Arc::clone(&permits).acquire_owned().await?;
        let workload = Arc::clone(&workload);
        handles.push(tokio::task::spawn_blocking(move || {
            let _permit = permit;
            compute_range(&*workload, first, granularity)
        }));
    }
    joined(handles, workload.item_count()).await
}

/// The advice taken literally: one `spawn_blocking` per unit, all at once. Tokio's blocking
/// pool grows a thread for every unit that finds no idle one, up to 512.
async fn tokio_spawn_blocking_unbounded<W: Workload>(
    workload: Arc<W>,
    granularity: usize,
) -> anyhow::Result<Vec<W::Item>> {
    let handles: Vec<_> = (0..workload.item_count())
        .step_by(granularity)
        .map(|first| {
            let workload = Arc::clone(&workload);
            tokio::task::spawn_blocking(move || compute_range(&*workload, first, granularity))
        })
        .collect();
    joined(handles, workload.item_count()).await
}
// ANCHOR_END: tokio_spawn_blocking

// ANCHOR: tokio_rayon
/// The hybrid: async code hands the whole pass to rayon and awaits a oneshot channel, so
/// the async workers stay free while rayon's pool does the CPU work.
async fn tokio_rayon<W: Workload>(
    pool: Arc<rayon::ThreadPool>,
    workload: Arc<W>,
    granularity: usize,
) -> anyhow::Result<Vec<W::Item>> {
    let (done, result) = tokio::sync::oneshot::channel();
    let worker_pool = Arc::clone(&pool);
    pool.spawn(move || {
        let items = rayon_pass(&worker_pool, &*workload, granularity);
        // The receiver is gone only if the awaiting task was dropped; nobody wants the items then.
        let _ = done.send(items);
    });
    Ok(result.await?)
}
// ANCHOR_END: tokio_rayon
