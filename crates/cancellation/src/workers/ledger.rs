//! The books every run keeps, independent of the variant under test.
//!
//! A variant only decides how workers are started and how they are told to stop. Whether
//! they *did* stop is read here, from three sources that do not depend on each other's word:
//! the [`Guard`]s' own `Drop` (a counter and a per-worker timestamp), each worker's step
//! count, and the directory of temp files on disk. The accounting checks in the case compare
//! them, so a variant cannot lose a worker without the report saying so.

use std::{
    fs, io,
    path::{Path, PathBuf},
    sync::{
        Arc, Condvar, Mutex, RwLock,
        atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

/// What one step of a worker is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// Wait for something: a 1 ms timer in async code, a blocking sleep or wait in threads.
    Io,
    /// Compute: microseconds of arithmetic (16 µs on the reference machine), no await inside.
    Cpu,
}

/// How long a step takes and how many steps make a worker's whole job.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct StepPlan {
    pub kind: StepKind,
    /// Length of one IO-like wait.
    pub io_step: Duration,
    /// Iterations of arithmetic in one CPU-like step.
    pub cpu_iterations: u32,
    /// Steps after which a worker ends on its own. For IO steps this is a safety net far
    /// beyond the deadline, so that even a leaked worker cannot run forever; for CPU steps it
    /// is the length of the job, which is what a task without yield points cannot be
    /// stopped short of.
    pub job_steps: u32,
}

/// Per-worker record, written only by that worker and its guard.
#[derive(Debug, Default)]
struct Slot {
    steps: AtomicU32,
    started_at_ns: AtomicU64,
    /// Set when the worker finished its whole job by itself.
    completed: AtomicBool,
    /// Nanoseconds since the ledger's origin, plus one, when the guard was dropped; zero while
    /// the guard is still held.
    stopped_at_ns: AtomicU64,
}

/// The shared books of one run.
#[derive(Debug)]
pub struct Ledger {
    origin: Instant,
    /// Where the guards' files live: one per guard still held.
    dir: PathBuf,
    /// The file every guard's file is a hard link to (see [`Guard`]).
    template: PathBuf,
    plan: StepPlan,
    slots: Box<[Slot]>,
    total_steps: AtomicU64,
    guards_created: AtomicUsize,
    guards_dropped: AtomicUsize,
    /// Guards whose own `Drop` found their file and removed it; the rest of the files a run
    /// creates can only have been removed by the case's [`Ledger::sweep`].
    files_removed_by_guards: AtomicUsize,
    /// Guards take it shared while they remove their file and count themselves; a snapshot
    /// takes it exclusively, so the counters and the directory are read as one state.
    books: RwLock<()>,
    all_dropped: (Mutex<()>, Condvar),
    /// Workers wait on this before their first step, so every worker exists (and every temp
    /// file is on disk) before any of them starts, whatever the scheduler does meanwhile.
    gate: (Mutex<bool>, Condvar),
    gate_async: tokio::sync::watch::Sender<bool>,
}

impl Ledger {
    /// Books for `workers` workers, keeping their files under `scratch`.
    pub fn new(scratch: &Path, workers: usize, plan: StepPlan) -> io::Result<Arc<Ledger>> {
        let dir = scratch.join("guards");
        fs::create_dir_all(&dir)?;
        let template = scratch.join("guard-template.tmp");
        fs::write(&template, b"held by a worker of the cancellation case\n")?;
        Ok(Arc::new(Ledger {
            origin: Instant::now(),
            dir,
            template,
            plan,
            slots: (0..workers).map(|_| Slot::default()).collect(),
            total_steps: AtomicU64::new(0),
            guards_created: AtomicUsize::new(0),
            guards_dropped: AtomicUsize::new(0),
            files_removed_by_guards: AtomicUsize::new(0),
            books: RwLock::new(()),
            all_dropped: (Mutex::new(()), Condvar::new()),
            gate: (Mutex::new(false), Condvar::new()),
            gate_async: tokio::sync::watch::Sender::new(false),
        }))
    }

    pub fn workers(&self) -> usize {
        self.slots.len()
    }

    /// Creates every worker with its guard (and its temp file).
    pub fn hire(self: &Arc<Self>) -> io::Result<Vec<Worker>> {
        (0..self.workers()).map(|id| Ok(Worker { guard: Guard::new(self, id)? })).collect()
    }

    /// A timestamp on the ledger's clock.
    pub fn now_ns(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    pub fn open_gate(&self) {
        *lock(&self.gate.0) = true;
        self.gate.1.notify_all();
        self.gate_async.send_replace(true);
    }

    pub fn total_steps(&self) -> u64 {
        self.total_steps.load(Ordering::SeqCst)
    }

    pub fn guards_dropped(&self) -> usize {
        self.guards_dropped.load(Ordering::SeqCst)
    }

    /// Temp files removed by their own guard's `Drop`, as opposed to the case's sweep.
    pub fn files_removed_by_guards(&self) -> usize {
        self.files_removed_by_guards.load(Ordering::SeqCst)
    }

    /// Blocks until every guard has been dropped or `deadline` passes.
    pub fn wait_all_dropped(&self, deadline: Instant) {
        let (lock_, condvar) = &self.all_dropped;
        let timeout = deadline.saturating_duration_since(Instant::now());
        let some_held = |_: &mut ()| self.guards_dropped() < self.workers();
        drop(condvar.wait_timeout_while(lock(lock_), timeout, some_held));
    }

    /// The state of every worker and guard at one instant, relative to the cancel request.
    pub fn snapshot(&self, requested_ns: u64) -> io::Result<Snapshot> {
        let _books = self.books.write().unwrap_or_else(|e| e.into_inner());
        let mut snapshot = Snapshot {
            guards_created: self.guards_created.load(Ordering::SeqCst),
            guards_dropped: self.guards_dropped(),
            files_left: count_files(&self.dir)?,
            total_steps: self.total_steps(),
            ..Snapshot::default()
        };
        for slot in self.slots.iter() {
            // Both stamps are stored plus one: zero means "not yet".
            let [stopped, started] =
                [&slot.stopped_at_ns, &slot.started_at_ns].map(|t| t.load(Ordering::SeqCst).checked_sub(1));
            let started_before = started.is_some_and(|started| started < requested_ns);
            snapshot.started_before_request += usize::from(started_before);
            match stopped {
                None => {
                    snapshot.still_held += 1;
                    snapshot.held_started += usize::from(started_before);
                }
                Some(stopped) if stopped < requested_ns => snapshot.stopped_before_request += 1,
                Some(stopped) => {
                    snapshot.latencies_ns.push(stopped - requested_ns);
                    if slot.completed.load(Ordering::SeqCst) {
                        snapshot.whole_job_after_request += 1;
                    } else if started_before {
                        snapshot.cut_short += 1;
                    }
                }
            }
        }
        Ok(snapshot)
    }

    /// Removes whatever temp files leaked workers still hold, so a run never leaves litter.
    /// Their guards may still drop later; removing a missing file is then a no-op.
    pub fn sweep(&self) -> io::Result<usize> {
        fs::read_dir(&self.dir)?.try_fold(0, |removed, entry| match fs::remove_file(entry?.path()) {
            Ok(()) => Ok(removed + 1),
            // Its guard got there first: a late drop is not litter.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(removed),
            Err(e) => Err(e),
        })
    }

    pub fn files_left(&self) -> io::Result<usize> {
        count_files(&self.dir)
    }

    /// Removes the template; after [`Ledger::sweep`], the last of the run's files.
    pub fn remove_template(&self) -> io::Result<()> {
        fs::remove_file(&self.template)
    }
}

/// What [`Ledger::snapshot`] saw.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub guards_created: usize,
    pub guards_dropped: usize,
    /// Workers whose guard has not been dropped: still running, stuck, or (an aborted task
    /// or closure that never started) still queued, waiting for a thread to drop it.
    pub still_held: usize,
    /// Of those, the workers that had begun their first step before the request: the ones
    /// that are actually still running, not merely not yet dropped.
    pub held_started: usize,
    pub files_left: usize,
    pub total_steps: u64,
    /// Workers that ended before the request (only CPU jobs short enough to finish).
    pub stopped_before_request: usize,
    /// Workers that had begun their first step when the request came.
    pub started_before_request: usize,
    /// Request-to-drop time of every worker that stopped after the request.
    pub latencies_ns: Vec<u64>,
    /// Workers that had started before the request and were stopped in the middle of their job.
    pub cut_short: usize,
    /// Workers that stopped after the request only because their whole job was done.
    pub whole_job_after_request: usize,
}

fn count_files(dir: &Path) -> io::Result<usize> {
    fs::read_dir(dir)?.try_fold(0, |count, entry| entry.map(|_| count + 1))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

// ANCHOR: guard
/// A resource every worker holds for its whole life: a temp file that its `Drop` removes.
/// Whether this `Drop` ran is the case's definition of "cleaned up".
///
/// Each guard's file is a new name hard-linked to one template. On the reference VM a new
/// inode costs 0.5-0.75 ms (a link about 12 µs), which would make creating 1,000 files the
/// bulk of every run; a name is as good a resource as an inode here: it exists until the
/// guard unlinks it, and anyone can count what is left.
#[derive(Debug)]
pub struct Guard {
    id: usize,
    path: PathBuf,
    ledger: Arc<Ledger>,
}

impl Guard {
    fn new(ledger: &Arc<Ledger>, id: usize) -> io::Result<Guard> {
        let path = ledger.dir.join(format!("worker-{id}.tmp"));
        fs::hard_link(&ledger.template, &path)?;
        ledger.guards_created.fetch_add(1, Ordering::SeqCst);
        Ok(Guard { id, path, ledger: Arc::clone(ledger) })
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let ledger = &self.ledger;
        // The drop is the cancel event: stamp it before the unlink, which is the cleanup being
        // accounted, not the stop. A thousand unlinks in one directory queue on its lock, and
        // timing them would give every variant the same filesystem floor.
        let stopped_at_ns = ledger.now_ns() + 1;
        let dropped = {
            let _books = ledger.books.read().unwrap_or_else(|e| e.into_inner());
            // A missing file means the case already swept it after the deadline.
            if fs::remove_file(&self.path).is_ok() {
                ledger.files_removed_by_guards.fetch_add(1, Ordering::SeqCst);
            }
            ledger.slots[self.id].stopped_at_ns.store(stopped_at_ns, Ordering::SeqCst);
            ledger.guards_dropped.fetch_add(1, Ordering::SeqCst) + 1
        };
        if dropped == ledger.workers() {
            let (lock_, condvar) = &ledger.all_dropped;
            let _held = lock(lock_);
            condvar.notify_all();
        }
    }
}
// ANCHOR_END: guard

/// One unit of concurrent work: it owns its guard, so wherever the worker ends (its loop
/// returns, its future is dropped, its thread exits) the guard ends with it.
#[derive(Debug)]
pub struct Worker {
    guard: Guard,
}

impl Worker {
    fn ledger(&self) -> &Ledger {
        &self.guard.ledger
    }

    fn slot(&self) -> &Slot {
        &self.ledger().slots[self.guard.id]
    }

    pub fn plan(&self) -> StepPlan {
        self.ledger().plan
    }

    /// Waits for the run to open the gate, from a blocking thread.
    pub fn wait_for_start(&self) {
        let (open, changed) = &self.ledger().gate;
        drop(changed.wait_while(lock(open), |open| !*open));
        self.mark_started();
    }

    /// Waits for the run to open the gate, from a task.
    pub async fn wait_for_start_async(&self) {
        let mut open = self.ledger().gate_async.subscribe();
        // The sender lives in the ledger, which this worker keeps alive: this cannot fail.
        let _ = open.wait_for(|open| *open).await;
        self.mark_started();
    }

    fn mark_started(&self) {
        self.slot().started_at_ns.store(self.ledger().now_ns() + 1, Ordering::SeqCst);
    }

    /// Records one finished step; false once the whole job is done.
    pub fn step_done(&self) -> bool {
        self.ledger().total_steps.fetch_add(1, Ordering::SeqCst);
        let steps = self.slot().steps.fetch_add(1, Ordering::SeqCst) + 1;
        if steps >= self.ledger().plan.job_steps {
            self.slot().completed.store(true, Ordering::SeqCst);
            false
        } else {
            true
        }
    }

    /// The worker's number, 0..N.
    pub fn id(&self) -> usize {
        self.guard.id
    }
}

/// One CPU-like step: arithmetic the optimiser cannot skip, with no await inside.
pub fn crunch(seed: u64, iterations: u32) -> u64 {
    let mut x = seed | 1;
    for _ in 0..iterations {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x)
}
