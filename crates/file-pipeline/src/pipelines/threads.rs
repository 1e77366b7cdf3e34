//! The OS-thread pipelines: `threads` (staged, with channels between a reader, a CPU pool and
//! a writer) and `thread-per-file`, and how many threads the machine allows the latter.

use std::{collections::VecDeque, io, sync::Arc, thread};

use anyhow::Context;
use flume::Receiver;

use crate::inbox::listing::Job;
use crate::pipelines::{Done, Pipeline, Read, handle, record_done};
use crate::work;

// ANCHOR: threads
/// A reader thread, a pool of CPU workers and a writer thread, joined by channels of
/// `settings.capacity`. A failing stage drops its channel ends, which ends the others.
pub fn staged(pipeline: &Arc<Pipeline>, source: Receiver<Job>) -> anyhow::Result<()> {
    let settings = pipeline.settings;
    let (to_pool, pool_in) = settings.capacity.channel::<Read>();
    let (to_writer, writer_in) = settings.capacity.channel::<Done>();
    thread::scope(|s| {
        let reader = thread::Builder::new().name("reader".into()).spawn_scoped(s, move || {
            for job in source.iter() {
                let bytes = work::read_input(&pipeline.inbox.join(&job.name));
                if to_pool.send((job.name, bytes)).is_err() {
                    break;
                }
            }
        })?;
        let mut pool = Vec::with_capacity(settings.workers);
        for _ in 0..settings.workers {
            let (pool_in, to_writer) = (pool_in.clone(), to_writer.clone());
            pool.push(thread::Builder::new().name("cpu".into()).spawn_scoped(s, move || {
                for (name, bytes) in pool_in.iter() {
                    let done = bytes.and_then(|bytes| work::process(&bytes, settings.work));
                    if to_writer.send((name, done)).is_err() {
                        break;
                    }
                }
            })?);
        }
        drop((pool_in, to_writer));
        let writer = thread::Builder::new()
            .name("writer".into())
            .spawn_scoped(s, move || writer_in.iter().try_for_each(|done| record_done(pipeline, done)))?;
        let written = writer.join().expect("the writer does not panic");
        reader.join().expect("the reader does not panic");
        pool.into_iter().for_each(|t| t.join().expect("a worker does not panic"));
        written.context("the writer failed")
    })
}
// ANCHOR_END: threads

// ANCHOR: thread_per_file
/// A new OS thread for every file, as many at once as the machine allows
/// (`settings.thread_cap`); past that, the oldest is joined before the next starts.
pub fn per_file(pipeline: &Arc<Pipeline>, source: Receiver<Job>) -> anyhow::Result<()> {
    let mut running: VecDeque<thread::JoinHandle<io::Result<()>>> = VecDeque::new();
    let join = |t: thread::JoinHandle<io::Result<()>>| t.join().expect("a file thread does not panic");
    for job in source.iter() {
        while running.front().is_some_and(|t| t.is_finished()) {
            join(running.pop_front().expect("checked"))?;
        }
        if running.len() >= pipeline.settings.thread_cap {
            join(running.pop_front().expect("the cap is at least 1"))?;
        }
        loop {
            let (pipeline, name) = (Arc::clone(pipeline), job.name.clone());
            match thread::Builder::new().name("file".into()).spawn(move || handle(&pipeline, name)) {
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

/// How many threads `thread-per-file` may run at once: the harness's safe cap for threads
/// with the default stack, from every kernel limit it can read (memory maps, pids, tasks,
/// the cgroup's pids, `RLIMIT_NPROC`), each with headroom for the rest of the machine. Read
/// from the kernel at run time, never assumed.
pub fn thread_cap() -> usize {
    let readings = casebook::run::limits::Readings::without_probe();
    casebook::run::limits::thread_budget(&readings, casebook::model::plan::DEFAULT_STACK).units.clamp(1, 1 << 20)
        as usize
}
