//! The task-per-file variants on tokio: `async-naive` and `async-spawn-blocking`.
//!
//! Every `tokio::fs` call is a `spawn_blocking` hop: the runtime hands the blocking syscall to
//! its blocking pool and wakes the task when it is done (tokio's own documentation says so).
//! That is the price these variants pay for "async file IO", and the io_uring row is there
//! to show what the same shape costs without it. The files in flight are bounded by a
//! semaphore of `settings.in_flight` permits.

use std::{future::Future, io, sync::Arc};

use anyhow::Context;
use flume::Receiver;
use tokio::{sync::Semaphore, task::JoinSet};

use crate::inbox::{listing::Job, manifest::Record};
use crate::{pipelines::Pipeline, work, work::Processed};

/// A multi-threaded runtime with one worker per core, as `#[tokio::main]` would build.
pub fn runtime(pipeline: &Pipeline) -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(pipeline.settings.workers)
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")
}

/// Batch and watch: a task per file on a runtime of its own, at most `in_flight` at once,
/// each running `each` (`naive_file` or `spawn_blocking_file`) to the end.
pub fn per_file<F, Fut>(pipeline: &Arc<Pipeline>, source: Receiver<Job>, each: F) -> anyhow::Result<()>
where
    F: Fn(Arc<Pipeline>, Job) -> Fut,
    Fut: Future<Output = io::Result<()>> + Send + 'static,
{
    runtime(pipeline)?.block_on(async {
        let permits = Arc::new(Semaphore::new(pipeline.settings.in_flight));
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
    })
}

// ANCHOR: naive
/// What people write first: `tokio::fs` to read and write, and the hashing and compression
/// right there in the task, on a runtime worker.
pub async fn naive_file(pipeline: Arc<Pipeline>, job: Job) -> io::Result<()> {
    let record = match work::read_input_async(pipeline.inbox.join(&job.name)).await {
        Err(e) => Record::read_error(&e),
        Ok(bytes) => {
            let processed = work::process(&bytes, pipeline.settings.work)?;
            write_out(&pipeline, &job.name, processed).await?
        }
    };
    pipeline.manifest.record(job.name, record)
}
// ANCHOR_END: naive

// ANCHOR: spawn_blocking
/// The textbook fix: the same task, with the CPU work moved to the blocking pool.
pub async fn spawn_blocking_file(pipeline: Arc<Pipeline>, job: Job) -> io::Result<()> {
    let record = match work::read_input_async(pipeline.inbox.join(&job.name)).await {
        Err(e) => Record::read_error(&e),
        Ok(bytes) => {
            let work = pipeline.settings.work;
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
        work::output::write_output_async(&pipeline.outbox, name, compressed).await?;
    }
    Ok(processed.record())
}
