//! Table 3b: fire-and-forget background jobs, and what happens to them when `main` returns.
//!
//! A program's main loop does its own work and, after each piece, hands a small background
//! job off (flush a log line, send a metric): a few short waits, each followed by a write.
//! When the main loop is done, `main` returns. Whatever the jobs were doing at that moment
//! is the question: a detached thread dies with the process, a detached task is dropped with
//! the runtime, and a structured form (`thread::scope`, `JoinSet`) waits for its jobs.
//!
//! The books must outlive the program, so they are a file: a header the program writes and
//! one slot per job that the job itself updates after every step with `pwrite`. Once the
//! write returns, the step is in the page cache and stays there when the process dies, so
//! reading the file afterwards counts exactly which jobs never started, which were cut short
//! and which completed. The program runs in a process of its own, so that "`main` returned"
//! really means the process exited.

mod ledger;

use std::{
    path::Path,
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

pub use ledger::{JobTally, Ledger, main_has_returned};

pub use crate::variants::Background;

impl Background {
    /// Whether the form waits for its jobs before `main` returns.
    pub const fn structured(self) -> bool {
        matches!(self, Background::ThreadScope | Background::JoinSet)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsSpec {
    pub jobs: u32,
    /// Steps in one job, each a wait of `step` followed by a ledger write.
    pub steps: u32,
    pub step: Duration,
    /// The main loop's own work between two hand-offs.
    pub submit_every: Duration,
}

/// One background job. A failed ledger write ends the job early, so it is counted as cut
/// short: the books never claim a step they cannot show.
fn job_blocking(ledger: &Ledger, id: u32, spec: &JobsSpec) {
    if ledger.started(id).is_err() {
        return;
    }
    for step in 1..=spec.steps {
        thread::sleep(spec.step);
        if ledger.step_done(id, step).is_err() {
            return;
        }
    }
}

async fn job_async(ledger: Arc<Ledger>, id: u32, spec: JobsSpec) {
    if ledger.started(id).is_err() {
        return;
    }
    for step in 1..=spec.steps {
        tokio::time::sleep(spec.step).await;
        if ledger.step_done(id, step).is_err() {
            return;
        }
    }
}

/// The program's `main`, in the given form: runs the main loop, handing off one job per
/// piece of work, and returns when `main` would. For the detached forms the caller must
/// then end the process at once, as returning from `main` does. Returns what
/// [`HAND_OFF`](crate::figures::HAND_OFF) and [`SHUTDOWN_WAIT`](crate::figures::SHUTDOWN_WAIT) record.
pub fn program(kind: Background, spec: &JobsSpec, ledger_path: &Path) -> anyhow::Result<(Histogram<u64>, Duration)> {
    let ledger = Arc::new(Ledger::open(ledger_path)?);
    let mut submit_ns = casebook::stats::latency::histogram_ns();
    let last_submit = match kind {
        Background::DetachedThread => detached_thread(&ledger, spec, &mut submit_ns)?,
        Background::ThreadScope => thread_scope(&ledger, spec, &mut submit_ns)?,
        Background::DetachedTask | Background::JoinSet => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_time()
                .build()
                .context("cannot start the tokio runtime")?;
            let last = runtime.block_on(async_main(kind, &ledger, spec, &mut submit_ns))?;
            // What `#[tokio::main]` does when `main`'s future returns: tasks still running
            // are dropped at their next await.
            drop(runtime);
            last
        }
    };
    let shutdown = last_submit.elapsed();
    ledger.main_returns(spec.jobs).context("cannot write the job ledger")?;
    Ok((submit_ns, shutdown))
}

fn timed<T>(submit_ns: &mut Histogram<u64>, spawn: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let spawned = spawn();
    submit_ns.saturating_record(start.elapsed().as_nanos() as u64);
    spawned
}

// ANCHOR: detached_thread
fn detached_thread(ledger: &Arc<Ledger>, spec: &JobsSpec, submit_ns: &mut Histogram<u64>) -> anyhow::Result<Instant> {
    for id in 0..spec.jobs {
        let (ledger, spec_) = (Arc::clone(ledger), *spec);
        // The handle is dropped: nobody will wait for this thread.
        timed(submit_ns, || thread::Builder::new().spawn(move || job_blocking(&ledger, id, &spec_)))
            .context("cannot start a job thread")?;
        thread::sleep(spec.submit_every);
    }
    Ok(Instant::now())
}
// ANCHOR_END: detached_thread

// ANCHOR: thread_scope
fn thread_scope(ledger: &Arc<Ledger>, spec: &JobsSpec, submit_ns: &mut Histogram<u64>) -> anyhow::Result<Instant> {
    thread::scope(|scope| {
        for id in 0..spec.jobs {
            timed(submit_ns, || thread::Builder::new().spawn_scoped(scope, move || job_blocking(ledger, id, spec)))
                .context("cannot start a job thread")?;
            thread::sleep(spec.submit_every);
        }
        // The scope joins every job before it returns.
        Ok(Instant::now())
    })
}
// ANCHOR_END: thread_scope

// ANCHOR: async_main
async fn async_main(
    kind: Background,
    ledger: &Arc<Ledger>,
    spec: &JobsSpec,
    submit_ns: &mut Histogram<u64>,
) -> anyhow::Result<Instant> {
    let mut set = tokio::task::JoinSet::new();
    for id in 0..spec.jobs {
        let job = job_async(Arc::clone(ledger), id, *spec);
        match kind {
            // The handle is dropped: the task is detached.
            Background::DetachedTask => drop(timed(submit_ns, || tokio::spawn(job))),
            _ => drop(timed(submit_ns, || set.spawn(job))),
        }
        tokio::time::sleep(spec.submit_every).await;
    }
    let last_submit = Instant::now();
    // A JoinSet is drained before `main` returns; dropping it instead would abort its tasks.
    while let Some(joined) = set.join_next().await {
        joined.context("a background job panicked")?;
    }
    Ok(last_submit)
}
// ANCHOR_END: async_main
