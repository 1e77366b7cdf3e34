//! `hybrid`: tokio coordinates, rayon does the CPU work, and `flume` bridges them. Its CPU
//! side serves `io-uring` too, so that the two rows differ only in how files are read and
//! written.

use std::{io, sync::Arc};

use anyhow::Context;
use flume::{Receiver, Sender};
use rayon::iter::{ParallelBridge, ParallelIterator};
use tokio::task::spawn_blocking;

use crate::inbox::listing::Job;
use crate::pipelines::{Done, Pipeline, Read, record_done, tasks::runtime};
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
/// Three stages, as in `threads`, joined by channels of `settings.capacity`: a full channel
/// is the backpressure. tokio waits: for jobs from the source and for the CPU side's
/// results, holding no thread while it does. Its file IO is blocking calls on its blocking
/// pool, as `tokio::fs`'s are, but batched as tokio's `fs` documentation advises: each hop
/// reads, or writes and records, every file that is waiting (up to `in_flight`), where
/// `tokio::fs` would hop once per call. One writer, as in `threads`: files created in one
/// directory from several threads at once serialise on the directory's lock, and the
/// waiters spin on it.
pub fn pipeline(pipeline: &Arc<Pipeline>, source: Receiver<Job>) -> anyhow::Result<()> {
    let settings = pipeline.settings;
    let (to_cpu, cpu_in) = settings.capacity.channel::<Read>();
    let (to_writer, writer_in) = settings.capacity.channel::<Done>();
    start_cpu_side(settings.work, cpu_in, to_writer);
    let read = async {
        while let Some(jobs) = waiting(&source, settings.in_flight).await {
            let (pipeline, to_cpu) = (Arc::clone(pipeline), to_cpu.clone());
            spawn_blocking(move || {
                jobs.into_iter().try_for_each(|job| {
                    let bytes = work::read_input(&pipeline.inbox.join(&job.name));
                    to_cpu.send((job.name, bytes))
                })
            })
            .await
            .expect("reading does not panic")
            .context("the pipeline stopped taking files")?;
        }
        drop(to_cpu);
        Ok(())
    };
    // It owns its receiver, so a failed writer closes the channel and stops the rest.
    let write = async move {
        while let Some(done) = waiting(&writer_in, settings.in_flight).await {
            let pipeline = Arc::clone(pipeline);
            spawn_blocking(move || done.into_iter().try_for_each(|done| record_done(&pipeline, done)))
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

/// Waits for one item, then takes those already waiting behind it, `most` in all; `None`
/// once the channel is closed and empty.
async fn waiting<T>(from: &Receiver<T>, most: usize) -> Option<Vec<T>> {
    let first = from.recv_async().await.ok()?;
    Some(std::iter::once(first).chain(from.try_iter().take(most - 1)).collect())
}
// ANCHOR_END: hybrid
