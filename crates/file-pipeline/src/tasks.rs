//! The tokio-based variants.
//!
//! Every `tokio::fs` call is a `spawn_blocking` hop: the runtime hands the blocking syscall to
//! its blocking pool and wakes the task when it is done (tokio's own documentation says so).
//! That is the price these variants pay for "async file IO", and the io_uring row is there
//! to show what the same shape costs without it.
//!
//! The two task-per-file variants bound the files in flight with a semaphore of
//! `pipeline.in_flight` permits; the hybrid reads and writes up to that many files at once
//! and joins its stages with channels of `pipeline.capacity`, like `threads`.

use std::{future::Future, io, sync::Arc};

use anyhow::Context;
use flume::Receiver;
use futures::{StreamExt, TryStreamExt};
use rayon::iter::{ParallelBridge, ParallelIterator};
use tokio::{sync::Semaphore, task::JoinSet};

use crate::{
    Pipeline,
    inbox::Job,
    manifest::Record,
    work::{self, Processed},
};

/// A multi-threaded runtime with one worker per core, as `#[tokio::main]` would build.
fn runtime(pipeline: &Pipeline) -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(pipeline.workers)
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")
}

/// A task per file, at most `in_flight` at once, each running `each` to the end.
async fn task_per_file<F, Fut>(pipeline: &Arc<Pipeline>, source: Receiver<Job>, each: F) -> anyhow::Result<()>
where
    F: Fn(Arc<Pipeline>, Job) -> Fut,
    Fut: Future<Output = io::Result<()>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(pipeline.in_flight));
    let mut tasks = JoinSet::new();
    while let Ok(job) = source.recv_async().await {
        let permit = Arc::clone(&permits).acquire_owned().await.expect("the semaphore is never closed");
        let task = each(Arc::clone(pipeline), job);
        tasks.spawn(async move {
            let done = task.await;
            drop(permit);
            done
        });
        while let Some(finished) = tasks.try_join_next() {
            finished.expect("a file task does not panic")?;
        }
    }
    while let Some(finished) = tasks.join_next().await {
        finished.expect("a file task does not panic")?;
    }
    Ok(())
}

/// Batch and watch: `async-naive`.
pub fn naive(pipeline: &Arc<Pipeline>, source: Receiver<Job>) -> anyhow::Result<()> {
    runtime(pipeline)?.block_on(task_per_file(pipeline, source, naive_file))
}

// ANCHOR: naive
/// What people write first: `tokio::fs` to read and write, and the hashing and compression
/// right there in the task, on a runtime worker.
async fn naive_file(pipeline: Arc<Pipeline>, job: Job) -> io::Result<()> {
    let record = match tokio::fs::read(pipeline.inbox.join(&job.name)).await {
        Err(e) => Record::read_error(&e),
        Ok(bytes) => {
            let processed = work::process(&bytes, pipeline.work)?;
            write_out(&pipeline, &job.name, processed).await?
        }
    };
    pipeline.manifest.record(job.name, record)
}
// ANCHOR_END: naive

/// Batch and watch: `async-spawn-blocking`.
pub fn spawn_blocking(pipeline: &Arc<Pipeline>, source: Receiver<Job>) -> anyhow::Result<()> {
    runtime(pipeline)?.block_on(task_per_file(pipeline, source, spawn_blocking_file))
}

// ANCHOR: spawn_blocking
/// The textbook fix: the same task, with the CPU work moved to the blocking pool.
async fn spawn_blocking_file(pipeline: Arc<Pipeline>, job: Job) -> io::Result<()> {
    let record = match tokio::fs::read(pipeline.inbox.join(&job.name)).await {
        Err(e) => Record::read_error(&e),
        Ok(bytes) => {
            let work = pipeline.work;
            let processed = tokio::task::spawn_blocking(move || work::process(&bytes, work))
                .await
                .expect("hashing does not panic")?;
            write_out(&pipeline, &job.name, processed).await?
        }
    };
    pipeline.manifest.record(job.name, record)
}
// ANCHOR_END: spawn_blocking

async fn write_out(pipeline: &Pipeline, name: &str, processed: Processed) -> io::Result<Record> {
    if let Some(compressed) = &processed.compressed {
        work::write_output_async(&pipeline.outbox, name, compressed).await?;
    }
    Ok(processed.record())
}

/// Between the hybrid's stages: a file read (or its read error), then a file processed.
pub(crate) type Read = (String, io::Result<Vec<u8>>);
pub(crate) type Done = (String, io::Result<Processed>);

// ANCHOR: cpu_side
/// The CPU side of the hybrid shapes: rayon pulls read files from the channel
/// (`par_bridge`) and hands the results back. Runs until `from_io` is closed and drained.
pub(crate) fn start_cpu_side(work: crate::Work, from_io: Receiver<Read>, to_io: flume::Sender<Done>) {
    rayon::spawn(move || {
        from_io.into_iter().par_bridge().for_each_with(to_io, |to_io, (name, bytes)| {
            let done = bytes.and_then(|bytes| work::process(&bytes, work));
            // A closed channel means the IO side has failed and is returning its error.
            let _ = to_io.send((name, done));
        });
    });
}
// ANCHOR_END: cpu_side

// ANCHOR: hybrid
/// Tokio owns the coordination and the IO: it takes jobs from the source, reads up to
/// `in_flight` files at once and sends them (waiting when the channel is full: that is the
/// backpressure) to rayon, which hashes and compresses; the results come back over another
/// channel to a writer task. `flume` works on both sides, so neither side blocks the other's
/// threads. As tokio's `fs` documentation advises, each file's blocking calls are batched
/// into one `spawn_blocking`: `tokio::fs::read` for the read; the write, rename and manifest
/// line together.
pub fn hybrid(pipeline: &Arc<Pipeline>, source: Receiver<Job>) -> anyhow::Result<()> {
    let (to_cpu, cpu_in) = pipeline.capacity.channel::<Read>();
    let (to_writer, writer_in) = pipeline.capacity.channel::<Done>();
    start_cpu_side(pipeline.work, cpu_in, to_writer.clone());
    let in_flight = pipeline.in_flight;
    let read = async move {
        let reads = source.into_stream().map(Ok::<_, anyhow::Error>).try_for_each_concurrent(in_flight, |job| {
            let (pipeline, to_cpu, to_writer) = (Arc::clone(pipeline), to_cpu.clone(), to_writer.clone());
            async move {
                match tokio::fs::read(pipeline.inbox.join(&job.name)).await {
                    Ok(bytes) => to_cpu.send_async((job.name, Ok(bytes))).await?,
                    // Nothing for the CPU to do: straight to the writer.
                    Err(e) => to_writer.send_async((job.name, Err(e))).await?,
                }
                Ok(())
            }
        });
        reads.await.context("the pipeline stopped taking files")
    };
    // One writer, as in `threads`: files created in one directory from several threads at
    // once serialise on the directory's lock, and the waiters spin on it. It owns its
    // receiver, so a failed writer closes the channel and stops the rest.
    let write = async move {
        while let Ok((name, done)) = writer_in.recv_async().await {
            let pipeline = Arc::clone(pipeline);
            tokio::task::spawn_blocking(move || {
                let record = match done {
                    Ok(processed) => work::finish(&pipeline, &name, processed)?,
                    Err(e) => Record::read_error(&e),
                };
                pipeline.manifest.record(name, record)
            })
            .await
            .expect("writing does not panic")?;
        }
        Ok::<_, io::Error>(())
    };
    runtime(pipeline)?.block_on(async {
        let (read, write) = tokio::join!(read, write);
        write.context("the writer failed")?;
        read
    })
}
// ANCHOR_END: hybrid
