//! The thread-based variants, and the two entry points every variant is run through.
//!
//! A variant consumes a *source*: a channel of [`Job`]s. In batch mode it is filled from the
//! listing and closed before the run starts; in watch mode the watcher feeds it and closes it
//! when the watch stops. So each variant has one body for both modes, except `rayon`, whose
//! batch form is the `par_iter` over the listing that a rayon user would write.

use std::{
    collections::VecDeque,
    fs, io,
    sync::{Arc, Mutex},
    thread,
};

use anyhow::Context;
use flume::Receiver;
use rayon::prelude::*;

use crate::{
    Pipeline, Variant,
    inbox::{Job, Listing},
    manifest::Record,
    tasks, uring,
    work::{self, Processed},
};

/// Runs `variant` over a listed inbox. Everything here is the measured work; the listing is
/// taken before it.
pub fn batch(variant: Variant, pipeline: &Arc<Pipeline>, listing: &Listing) -> anyhow::Result<()> {
    for (name, failure) in &listing.refused {
        pipeline.manifest.record(name.clone(), Record::failed(*failure, failure.describe()))?;
    }
    if variant == Variant::Rayon {
        return rayon_batch(pipeline, &listing.files);
    }
    let (jobs, source) = flume::unbounded();
    for job in &listing.files {
        jobs.send(job.clone()).expect("the receiver is held here");
    }
    drop(jobs);
    drain(variant, pipeline, source)
}

/// Runs `variant` until `source` is closed and everything taken from it is recorded.
pub fn drain(variant: Variant, pipeline: &Arc<Pipeline>, source: Receiver<Job>) -> anyhow::Result<()> {
    match variant {
        Variant::Sequential => sequential(pipeline, source),
        Variant::Threads => threads(pipeline, source),
        Variant::ThreadPerFile => thread_per_file(pipeline, source),
        Variant::Rayon => rayon_fed(pipeline, source),
        Variant::AsyncNaive => tasks::naive(pipeline, source),
        Variant::AsyncSpawnBlocking => tasks::spawn_blocking(pipeline, source),
        Variant::Hybrid => tasks::hybrid(pipeline, source),
        Variant::IoUring => uring::pipeline(pipeline, source),
    }
}

// ANCHOR: sequential
/// One thread, one file at a time, start to end.
fn sequential(pipeline: &Pipeline, source: Receiver<Job>) -> anyhow::Result<()> {
    for job in source.iter() {
        work::handle(pipeline, job.name)?;
    }
    Ok(())
}
// ANCHOR_END: sequential

/// What travels from the reader to the CPU pool, and from the pool to the writer.
type Read = (String, io::Result<Vec<u8>>);
type Done = (String, io::Result<Processed>);

// ANCHOR: threads
/// A reader thread, a pool of CPU workers and a writer thread, joined by channels of
/// `pipeline.capacity`. A failing stage drops its channel ends, which ends the others.
fn threads(pipeline: &Arc<Pipeline>, source: Receiver<Job>) -> anyhow::Result<()> {
    let (to_pool, pool_in) = pipeline.capacity.channel::<Read>();
    let (to_writer, writer_in) = pipeline.capacity.channel::<Done>();
    thread::scope(|s| {
        let reader = thread::Builder::new().name("reader".into()).spawn_scoped(s, move || {
            for job in source.iter() {
                let bytes = fs::read(pipeline.inbox.join(&job.name));
                if to_pool.send((job.name, bytes)).is_err() {
                    break;
                }
            }
        })?;
        let mut pool = Vec::with_capacity(pipeline.workers);
        for _ in 0..pipeline.workers {
            let (pool_in, to_writer) = (pool_in.clone(), to_writer.clone());
            pool.push(thread::Builder::new().name("cpu".into()).spawn_scoped(s, move || {
                for (name, bytes) in pool_in.iter() {
                    let done = bytes.and_then(|bytes| work::process(&bytes, pipeline.work));
                    if to_writer.send((name, done)).is_err() {
                        break;
                    }
                }
            })?);
        }
        drop((pool_in, to_writer));
        let writer = thread::Builder::new().name("writer".into()).spawn_scoped(s, move || -> io::Result<()> {
            for (name, done) in writer_in.iter() {
                let record = match done {
                    Ok(processed) => work::finish(pipeline, &name, processed)?,
                    Err(e) => Record::read_error(&e),
                };
                pipeline.manifest.record(name, record)?;
            }
            Ok(())
        })?;
        let written = writer.join().expect("the writer does not panic");
        reader.join().expect("the reader does not panic");
        pool.into_iter().for_each(|t| t.join().expect("a worker does not panic"));
        written.context("the writer failed")
    })
}
// ANCHOR_END: threads

// ANCHOR: thread_per_file
/// A new OS thread for every file, as many at once as the machine allows
/// (`pipeline.thread_cap`); past that, the oldest is joined before the next starts.
fn thread_per_file(pipeline: &Arc<Pipeline>, source: Receiver<Job>) -> anyhow::Result<()> {
    let mut running: VecDeque<thread::JoinHandle<io::Result<()>>> = VecDeque::new();
    let join = |t: thread::JoinHandle<io::Result<()>>| t.join().expect("a file thread does not panic");
    for job in source.iter() {
        while running.front().is_some_and(|t| t.is_finished()) {
            join(running.pop_front().expect("checked"))?;
        }
        if running.len() >= pipeline.thread_cap {
            join(running.pop_front().expect("the cap is at least 1"))?;
        }
        loop {
            let (pipeline, name) = (Arc::clone(pipeline), job.name.clone());
            match thread::Builder::new().name("file".into()).spawn(move || work::handle(&pipeline, name)) {
                Ok(t) => break running.push_back(t),
                // The machine said no before our estimate of its limit did: wait for one.
                Err(e) => match running.pop_front() {
                    Some(t) => join(t)?,
                    None => return Err(e).context("cannot start a thread for a file"),
                },
            }
        }
    }
    running.into_iter().try_for_each(join)?;
    Ok(())
}
// ANCHOR_END: thread_per_file

// ANCHOR: rayon
/// Batch: a parallel iterator over the listing, each file start to end on a pool thread.
fn rayon_batch(pipeline: &Pipeline, files: &[Job]) -> anyhow::Result<()> {
    files.par_iter().try_for_each(|job| work::handle(pipeline, job.name.clone()))?;
    Ok(())
}

/// Watch: the watcher's jobs are spawned into the pool as they come. `in_place_scope` keeps
/// the loop that waits for jobs on this thread, so it never takes a pool thread from the CPU
/// work, and waits for every spawned job before returning.
fn rayon_fed(pipeline: &Pipeline, source: Receiver<Job>) -> anyhow::Result<()> {
    let failed: Mutex<Option<io::Error>> = Mutex::new(None);
    rayon::in_place_scope(|scope| {
        for job in source.iter() {
            if failed.lock().expect("not poisoned").is_some() {
                break;
            }
            let failed = &failed;
            scope.spawn(move |_| {
                if let Err(e) = work::handle(pipeline, job.name) {
                    failed.lock().expect("not poisoned").get_or_insert(e);
                }
            });
        }
    });
    match failed.into_inner().expect("not poisoned") {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}
// ANCHOR_END: rayon
