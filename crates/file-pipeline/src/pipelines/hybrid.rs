//! `hybrid`: tokio owns the coordination and the file IO, rayon the CPU work, and `flume`
//! bridges them. Its CPU side and read stage serve `io-uring` too, so that the two rows
//! differ only in how files are read and written.

use std::{future::Future, io, path::PathBuf, sync::Arc};

use anyhow::Context;
use flume::{Receiver, Sender};
use futures::{StreamExt, TryStreamExt};
use rayon::iter::{ParallelBridge, ParallelIterator};

use crate::inbox::{listing::Job, manifest::Record};
use crate::pipelines::{Done, Pipeline, Read, finish, tasks::runtime};
use crate::{work, work::Work};

// ANCHOR: cpu_side
/// The CPU side of the hybrid shapes: rayon pulls read files from the channel
/// (`par_bridge`) and hands the results back. Runs until `from_io` is closed and drained.
pub fn start_cpu_side(work: Work, from_io: Receiver<Read>, to_io: Sender<Done>) {
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
/// The hybrid shapes' read stage: takes jobs from the source and reads up to `in_flight`
/// files at once with `read` (given the path and the size, if the listing knows it), sending
/// each to the CPU side, waiting when the channel is full: that is the backpressure. A read
/// error has nothing for the CPU to do and goes straight to the writer.
pub async fn read_stage<Fut>(
    pipeline: &Pipeline,
    source: Receiver<Job>,
    (to_cpu, to_writer): (Sender<Read>, Sender<Done>),
    read: impl Fn(PathBuf, Option<u64>) -> Fut,
) -> anyhow::Result<()>
where
    Fut: Future<Output = io::Result<Vec<u8>>>,
{
    let reads =
        source.into_stream().map(Ok::<_, anyhow::Error>).try_for_each_concurrent(pipeline.settings.in_flight, |job| {
            let (to_cpu, to_writer) = (to_cpu.clone(), to_writer.clone());
            let bytes = read(pipeline.inbox.join(&job.name), job.size);
            async move {
                match bytes.await {
                    Ok(bytes) => to_cpu.send_async((job.name, Ok(bytes))).await?,
                    Err(e) => to_writer.send_async((job.name, Err(e))).await?,
                }
                Ok(())
            }
        });
    reads.await.context("the pipeline stopped taking files")
}

/// Tokio reads (the stage above), rayon hashes and compresses, and the results come back
/// over another channel to a writer task. `flume` works on both sides, so neither side
/// blocks the other's threads. As tokio's `fs` documentation advises, each file's blocking
/// calls are batched into one `spawn_blocking`: `tokio::fs::read` for the read; the write,
/// rename and manifest line together.
pub fn pipeline(pipeline: &Arc<Pipeline>, source: Receiver<Job>) -> anyhow::Result<()> {
    let (to_cpu, cpu_in) = pipeline.settings.capacity.channel::<Read>();
    let (to_writer, writer_in) = pipeline.settings.capacity.channel::<Done>();
    start_cpu_side(pipeline.settings.work, cpu_in, to_writer.clone());
    let read = read_stage(pipeline, source, (to_cpu, to_writer), |path, _| tokio::fs::read(path));
    // One writer, as in `threads`: files created in one directory from several threads at
    // once serialise on the directory's lock, and the waiters spin on it. It owns its
    // receiver, so a failed writer closes the channel and stops the rest.
    let write = async move {
        while let Ok((name, done)) = writer_in.recv_async().await {
            let pipeline = Arc::clone(pipeline);
            tokio::task::spawn_blocking(move || {
                let record = match done {
                    Ok(processed) => finish(&pipeline, &name, processed)?,
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
