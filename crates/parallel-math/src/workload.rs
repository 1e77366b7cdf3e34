//! The variants themselves: nine ways to compute every item of a [`Workload`], and their names.
//!
//! A workload is a list of independent items (Mandelbrot rows, n-body accelerations). A
//! *pass* computes all of them; a [`Job`] is one or more passes (one render, several
//! simulation steps). Each variant below is a pass written the way someone fluent in that
//! model would write it; the `granularity` is how many items one unit of concurrency (a
//! thread, a task, a rayon chunk) takes.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use rayon::prelude::*;

pub const SEQUENTIAL: &str = "sequential";
pub const THREADS_STATIC: &str = "threads-static";
pub const THREADS_SHARED_COUNTER: &str = "threads-shared-counter";
pub const THREAD_PER_ITEM: &str = "thread-per-item";
pub const RAYON: &str = "rayon";
pub const TOKIO_SPAWN: &str = "tokio-spawn";
pub const TOKIO_SPAWN_BLOCKING: &str = "tokio-spawn-blocking";
pub const TOKIO_SPAWN_BLOCKING_UNBOUNDED: &str = "tokio-spawn-blocking-unbounded";
pub const TOKIO_RAYON: &str = "tokio-rayon";

/// The variants with a unit size, which the granularity sweep varies.
pub const SWEPT: [&str; 6] =
    [THREAD_PER_ITEM, RAYON, TOKIO_SPAWN, TOKIO_SPAWN_BLOCKING, TOKIO_SPAWN_BLOCKING_UNBOUNDED, TOKIO_RAYON];

/// Independent items computed by a pure function of their index.
pub trait Workload: Send + Sync + 'static {
    type Item: Send + Default + Clone + 'static;
    fn item_count(&self) -> usize;
    fn compute(&self, index: usize) -> Self::Item;
}

/// Work made of passes: a render is one pass, a simulation is one pass per step.
pub trait Job {
    type W: Workload;
    /// The next pass's input, or `None` when the job is done.
    fn next_pass(&mut self) -> Option<Arc<Self::W>>;
    /// Takes a finished pass's items, in index order.
    fn absorb(&mut self, items: Vec<<Self::W as Workload>::Item>);
    /// The job's answer, for checking that every variant computed the same thing.
    fn digest(&self) -> String;
}

/// Drives a job with a blocking pass.
pub fn drive<J: Job>(job: &mut J, mut pass: impl FnMut(Arc<J::W>) -> Vec<<J::W as Workload>::Item>) {
    while let Some(input) = job.next_pass() {
        let items = pass(input);
        job.absorb(items);
    }
}

/// Drives a job with an async pass, from inside a runtime.
pub async fn drive_async<J, F>(job: &mut J, mut pass: impl FnMut(Arc<J::W>) -> F) -> anyhow::Result<()>
where
    J: Job,
    F: Future<Output = anyhow::Result<Vec<<J::W as Workload>::Item>>>,
{
    while let Some(input) = job.next_pass() {
        let items = pass(input).await?;
        job.absorb(items);
    }
    Ok(())
}

fn fill<W: Workload>(workload: &W, first: usize, out: &mut [W::Item]) {
    for (offset, slot) in out.iter_mut().enumerate() {
        *slot = workload.compute(first + offset);
    }
}

fn compute_range<W: Workload>(workload: &W, first: usize, count: usize) -> Vec<W::Item> {
    (first..(first + count).min(workload.item_count())).map(|i| workload.compute(i)).collect()
}

// ANCHOR: sequential
/// The baseline: one thread, a plain loop.
pub fn sequential<W: Workload>(workload: &W) -> Vec<W::Item> {
    (0..workload.item_count()).map(|i| workload.compute(i)).collect()
}
// ANCHOR_END: sequential

// ANCHOR: threads_static
/// Scoped OS threads, one equal contiguous chunk each: no pool, no stealing.
pub fn threads_static<W: Workload>(workload: &W, threads: usize) -> Vec<W::Item> {
    let mut out = vec![W::Item::default(); workload.item_count()];
    let chunk = workload.item_count().div_ceil(threads).max(1);
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
pub fn threads_shared_counter<W: Workload>(workload: &W, threads: usize, granularity: usize) -> Vec<W::Item> {
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
pub fn thread_per_item<W: Workload>(workload: &W, granularity: usize) -> Vec<W::Item> {
    let mut out = vec![W::Item::default(); workload.item_count()];
    std::thread::scope(|scope| {
        for (index, slice) in out.chunks_mut(granularity).enumerate() {
            scope.spawn(move || fill(workload, index * granularity, slice));
        }
    });
    out
}
// ANCHOR_END: thread_per_item

// ANCHOR: rayon
/// Rayon's work-stealing pool: idle workers steal chunks from busy ones.
pub fn rayon_pass<W: Workload>(pool: &rayon::ThreadPool, workload: &W, granularity: usize) -> Vec<W::Item> {
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
pub async fn tokio_spawn<W: Workload>(workload: Arc<W>, granularity: usize) -> anyhow::Result<Vec<W::Item>> {
    let handles: Vec<_> = (0..workload.item_count())
        .step_by(granularity)
        .map(|first| {
            let workload = Arc::clone(&workload);
            tokio::spawn(async move { compute_range(&*workload, first, granularity) })
        })
        .collect();
    let mut out = Vec::with_capacity(workload.item_count());
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
pub async fn tokio_spawn_blocking<W: Workload>(
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
    let mut out = Vec::with_capacity(workload.item_count());
    for handle in handles {
        out.extend(handle.await?);
    }
    Ok(out)
}

/// The advice taken literally: one `spawn_blocking` per unit, all at once. Tokio's blocking
/// pool grows a thread for every unit that finds no idle one, up to 512.
pub async fn tokio_spawn_blocking_unbounded<W: Workload>(
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
    let mut out = Vec::with_capacity(workload.item_count());
    for handle in handles {
        out.extend(handle.await?);
    }
    Ok(out)
}
// ANCHOR_END: tokio_spawn_blocking

// ANCHOR: tokio_rayon
/// The hybrid: async code hands the whole pass to rayon and awaits a oneshot channel, so
/// the async workers stay free while rayon's pool does the CPU work.
pub async fn tokio_rayon<W: Workload>(
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

#[cfg(test)]
mod tests {
    use super::*;

    struct Squares(usize);
    impl Workload for Squares {
        type Item = u64;
        fn item_count(&self) -> usize {
            self.0
        }
        fn compute(&self, index: usize) -> u64 {
            (index as u64) * (index as u64)
        }
    }

    fn expected(n: usize) -> Vec<u64> {
        (0..n as u64).map(|i| i * i).collect()
    }

    #[test]
    fn every_pass_computes_every_item_in_order() {
        let pool = Arc::new(rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        for n in [0, 1, 7, 100] {
            let w = Arc::new(Squares(n));
            assert_eq!(sequential(&*w), expected(n));
            assert_eq!(threads_static(&*w, 3), expected(n));
            for g in [1, 3, 200] {
                assert_eq!(threads_shared_counter(&*w, 3, g), expected(n), "shared counter n={n} g={g}");
            }
            for g in [1, 3, 200] {
                assert_eq!(thread_per_item(&*w, g), expected(n), "thread-per-item n={n} g={g}");
                assert_eq!(rayon_pass(&pool, &*w, g), expected(n), "rayon n={n} g={g}");
                let spawned = runtime.block_on(tokio_spawn(Arc::clone(&w), g)).unwrap();
                assert_eq!(spawned, expected(n), "tokio-spawn n={n} g={g}");
                let blocking = runtime.block_on(tokio_spawn_blocking(Arc::clone(&w), g, 2)).unwrap();
                assert_eq!(blocking, expected(n), "spawn-blocking n={n} g={g}");
                let unbounded = runtime.block_on(tokio_spawn_blocking_unbounded(Arc::clone(&w), g)).unwrap();
                assert_eq!(unbounded, expected(n), "spawn-blocking unbounded n={n} g={g}");
                let hybrid = runtime.block_on(tokio_rayon(Arc::clone(&pool), Arc::clone(&w), g)).unwrap();
                assert_eq!(hybrid, expected(n), "tokio-rayon n={n} g={g}");
            }
        }
    }
}
