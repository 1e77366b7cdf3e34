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

use std::{
    fs::File,
    os::unix::fs::FileExt,
    path::Path,
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::bridge::latency_histogram;

/// The forms of table 3b.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Background {
    /// `std::thread::spawn`, handle dropped.
    DetachedThread,
    /// `tokio::spawn`, handle dropped, runtime dropped when `main` returns.
    DetachedTask,
    /// `std::thread::scope`: every job joined before the scope ends.
    ThreadScope,
    /// A `JoinSet` drained before `main` returns.
    JoinSet,
}

impl Background {
    pub const ALL: [Background; 4] =
        [Background::DetachedThread, Background::DetachedTask, Background::ThreadScope, Background::JoinSet];

    pub const fn name(self) -> &'static str {
        match self {
            Background::DetachedThread => "detached-thread",
            Background::DetachedTask => "detached-task",
            Background::ThreadScope => "thread-scope",
            Background::JoinSet => "joinset",
        }
    }

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

const MAGIC: u32 = 0x6a6f_6273; // "jobs"
const HEADER: u64 = 16;
const SLOT: u64 = 8;

/// The job ledger file: `[magic, jobs, submitted, main_returned]`, then per job
/// `[started, steps done]`, all little-endian `u32`.
#[derive(Debug)]
pub struct Ledger {
    file: File,
}

impl Ledger {
    /// Creates a zeroed ledger for `jobs` jobs at `path`.
    pub fn create(path: &Path, jobs: u32) -> anyhow::Result<()> {
        let file = File::create(path).with_context(|| format!("cannot create the job ledger {}", path.display()))?;
        file.set_len(HEADER + SLOT * u64::from(jobs))?;
        file.write_all_at(&[MAGIC.to_le_bytes(), jobs.to_le_bytes()].concat(), 0)?;
        Ok(())
    }

    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open the job ledger {}", path.display()))?;
        Ok(Ledger { file })
    }

    fn put(&self, offset: u64, value: u32) -> std::io::Result<()> {
        self.file.write_all_at(&value.to_le_bytes(), offset)
    }

    fn started(&self, job: u32) -> std::io::Result<()> {
        self.put(HEADER + SLOT * u64::from(job), 1)
    }

    fn step_done(&self, job: u32, steps: u32) -> std::io::Result<()> {
        self.put(HEADER + SLOT * u64::from(job) + 4, steps)
    }

    fn main_returns(&self, submitted: u32) -> std::io::Result<()> {
        self.put(8, submitted)?;
        self.put(12, 1)
    }
}

/// Whether the program has written that its `main` is returning.
pub fn main_has_returned(path: &Path) -> anyhow::Result<bool> {
    let mut flag = [0u8; 4];
    File::open(path)
        .and_then(|file| file.read_exact_at(&mut flag, 12))
        .with_context(|| format!("cannot read the job ledger {}", path.display()))?;
    Ok(u32::from_le_bytes(flag) == 1)
}

/// What the ledger says once the program is gone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobTally {
    pub jobs: u32,
    pub submitted: u32,
    pub main_returned: bool,
    pub never_started: u32,
    /// Started, but stopped before their last step.
    pub cut_short: u32,
    pub completed: u32,
}

impl JobTally {
    pub fn read(path: &Path, steps: u32) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read the job ledger {}", path.display()))?;
        let word = |offset: usize| bytes.get(offset..offset + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        anyhow::ensure!(word(0) == Some(MAGIC), "{} is not a job ledger", path.display());
        let jobs = word(4).unwrap_or(0);
        let mut tally = JobTally {
            jobs,
            submitted: word(8).unwrap_or(0),
            main_returned: word(12) == Some(1),
            ..JobTally::default()
        };
        for job in 0..jobs as usize {
            let slot = HEADER as usize + job * SLOT as usize;
            let (started, done) = (word(slot).context("a short ledger")?, word(slot + 4).context("a short ledger")?);
            match (started, done) {
                (0, _) => tally.never_started += 1,
                (_, done) if done >= steps => tally.completed += 1,
                _ => tally.cut_short += 1,
            }
        }
        Ok(tally)
    }

    /// Jobs handed off that did not finish: never started or cut short.
    pub fn lost(&self) -> u32 {
        self.submitted.saturating_sub(self.completed)
    }
}

/// What the program measured about itself.
#[derive(Clone, Debug)]
pub struct ProgramReport {
    /// How long each hand-off (the spawn call) took, in ns.
    pub submit_ns: Histogram<u64>,
    pub submitted: u32,
    /// From the last hand-off until `main` returns: what shutting down waited for.
    pub shutdown: Duration,
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
/// then end the process at once, as returning from `main` does.
pub fn program(kind: Background, spec: &JobsSpec, ledger_path: &Path) -> anyhow::Result<ProgramReport> {
    let ledger = Arc::new(Ledger::open(ledger_path)?);
    let mut submit_ns = latency_histogram();
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
    Ok(ProgramReport { submit_ns, submitted: spec.jobs, shutdown })
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
