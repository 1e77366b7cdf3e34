//! The variants, declared once, and the one place that says which pipeline each runs.
//!
//! A pipeline consumes a *source*: a channel of [`Job`]s. In batch mode it is filled from the
//! listing and closed before the run starts; in watch mode the watcher feeds it and closes it
//! when the watch stops. So each variant has one body for both modes ([`Variant::drain`]),
//! except `rayon`, whose batch form is the `par_iter` over the listing that a rayon user
//! would write.

use std::sync::Arc;

use flume::Receiver;

use crate::inbox::{listing::Job, listing::Listing, manifest::Record};
use crate::pipelines::{Pipeline, hybrid, rayon, sequential, tasks, threads, uring};

casebook::variants! {
    /// The ways to build the pipeline, in the order the tables list them.
    pub enum Variant {
        Sequential = "sequential" (Sequential): "one thread and std::fs, file after file: the baseline",
        Threads = "threads" (Threads): "a reader thread, a CPU pool sized to the cores and a writer, joined by bounded flume channels",
        ThreadPerFile = "thread-per-file" (Threads): "a new OS thread per file, as many as the machine allows: the anti-pattern named for IO",
        Rayon = "rayon" (Threads): "par_iter over the listing (batch); the watcher spawns into the pool (watch)",
        AsyncNaive = "async-naive" (Async): "a tokio task per file, tokio::fs, hashing and compression inline: what people write first",
        AsyncSpawnBlocking = "async-spawn-blocking" (Async): "the same tasks with the CPU work in spawn_blocking: the textbook fix",
        Hybrid = "hybrid" (Hybrid): "tokio reads, writes and coordinates; rayon hashes and compresses; flume bridges them",
        IoUring = "io-uring" (Hybrid): "the hybrid with every file operation on io_uring (tokio-uring): real async file IO",
        B3sum = "b3sum" (Anchor): "the BLAKE3 team's b3sum over the same files: the bar for hash-only throughput",
    }
}

impl Variant {
    /// The variants with channels between their stages: what the capacity sweep measures.
    pub const SWEPT_BY_CAPACITY: [Variant; 2] = [Variant::Threads, Variant::Hybrid];

    /// Whether it is one of our pipelines; `b3sum` is not, and has a row only beside the
    /// hash-only ones.
    pub fn is_pipeline(self) -> bool {
        self != Variant::B3sum
    }

    /// Runs the pipeline over a listed inbox. Everything here is the measured work; the
    /// listing is taken before it.
    pub fn batch(self, pipeline: &Arc<Pipeline>, listing: &Listing) -> anyhow::Result<()> {
        for (name, failure) in &listing.refused {
            pipeline.manifest.record(name.clone(), Record::refused(*failure))?;
        }
        if self == Variant::Rayon {
            return rayon::batch(pipeline, &listing.files);
        }
        let (jobs, source) = flume::unbounded();
        for job in &listing.files {
            jobs.send(job.clone()).expect("the receiver is held here");
        }
        drop(jobs);
        self.drain(pipeline, source)
    }

    /// Runs the pipeline until `source` is closed and everything taken from it is recorded.
    pub fn drain(self, pipeline: &Arc<Pipeline>, source: Receiver<Job>) -> anyhow::Result<()> {
        match self {
            Variant::Sequential => sequential::pipeline(pipeline, source),
            Variant::Threads => threads::staged(pipeline, source),
            Variant::ThreadPerFile => threads::per_file(pipeline, source),
            Variant::Rayon => rayon::fed(pipeline, source),
            Variant::AsyncNaive => tasks::per_file(pipeline, source, tasks::naive_file),
            Variant::AsyncSpawnBlocking => tasks::per_file(pipeline, source, tasks::spawn_blocking_file),
            Variant::Hybrid => hybrid::pipeline(pipeline, source),
            Variant::IoUring => uring::pipeline(pipeline, source),
            Variant::B3sum => anyhow::bail!("b3sum is not a pipeline: it hashes a listed inbox on its own"),
        }
    }
}
