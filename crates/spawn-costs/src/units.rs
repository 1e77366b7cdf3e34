//! The units of concurrency, written the way someone fluent in each model would write them,
//! and the two experiments every table is built from:
//!
//! - [`Driver::park`]: start N units that each arrive and then wait for one release signal;
//!   time the spawning, the arrival of the last one and the joining, and read the process's
//!   memory before the first spawn and once all N are parked. Creation, residency and
//!   capacity are all this experiment, read differently.
//! - [`Driver::ring`]: K units in a ring pass a token M times; time per hand-off. The ring
//!   is built (every unit started and waiting) before the caller's measured region and torn
//!   down after it, so the region's CPU time and context switches belong to the hand-offs
//!   alone, not to spawning and joining K units.
//!
//! Every unit counts itself in and out ([`Gate`] for threads, [`Tally`] for tasks and
//! futures), so a run reports how many units were alive at once and how many finished,
//! not merely how many spawn calls returned.

use std::{
    future::Future,
    io,
    sync::{
        Arc, Condvar, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
        mpsc as std_mpsc,
    },
    task::Poll,
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

use anyhow::Context;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::{
    runtime::Runtime,
    sync::{Notify, mpsc, watch},
};

/// Which kind of unit a variant spawns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Futures polled by one task through `FuturesUnordered`.
    FuturesInTask,
    /// `tokio::spawn` on the multi-thread runtime, from a task on one of its workers.
    TokioMulti,
    /// `tokio::spawn` on the multi-thread runtime, from the thread in `block_on`.
    TokioMultiMain,
    /// `tokio::spawn` on the current-thread runtime.
    TokioCurrent,
    /// OS threads; `None` is the default stack (what `thread::spawn` uses).
    Threads { stack: Option<usize> },
}

/// Where a tokio variant's own code runs: the loop that spawns the units, and the ring's lap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// A task on a worker, as a server's accept loop would be. On the multi-thread runtime
    /// its spawns go to that worker's own queue (its LIFO slot first), which the other
    /// worker steals from.
    Worker,
    /// The thread in `block_on`, as the body of `#[tokio::main]` is. On the multi-thread
    /// runtime that thread is not a worker, so every spawn and every wake-up it causes goes
    /// through the runtime's shared injection queue and may unpark a sleeping worker. On the
    /// current-thread runtime `block_on` holds the scheduler, so it is the same path as a
    /// task's, and only `tokio-multi` gets a row for each.
    BlockOn,
}

impl Origin {
    /// Runs `work` from this origin and waits for it. From a worker, `block_on` does nothing
    /// but wait on the task's handle: one wake-up at the end, outside any per-unit figure.
    fn run<F>(self, runtime: &Runtime, work: F) -> anyhow::Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Ok(match self {
            Origin::Worker => runtime.block_on(async { tokio::spawn(work).await })?,
            Origin::BlockOn => runtime.block_on(work),
        })
    }
}

impl Kind {
    fn origin(self) -> Origin {
        match self {
            Kind::TokioMultiMain => Origin::BlockOn,
            _ => Origin::Worker,
        }
    }
}

/// A thread's gate. Arrivals are counted under a mutex, and the driver sleeps on a
/// condition variable until the last one; the release is a flag plus `Thread::unpark` for
/// each thread, the primitive std's own channels block on. Waking every thread through one
/// condition variable would make them all fight for its mutex on the way out, and the join
/// figure would measure that convoy instead of the threads.
#[derive(Debug)]
pub struct Gate {
    arrivals: Mutex<Arrivals>,
    all_arrived: Condvar,
    released: AtomicBool,
    left: AtomicU64,
}

#[derive(Debug)]
struct Arrivals {
    expected: u64,
    arrived: u64,
}

impl Gate {
    pub fn new(expected: u64) -> Self {
        Gate {
            arrivals: Mutex::new(Arrivals { expected, arrived: 0 }),
            all_arrived: Condvar::new(),
            released: AtomicBool::new(false),
            left: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Arrivals> {
        // No code holding this lock can panic, so a poisoned lock still holds good counts.
        self.arrivals.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ANCHOR: arrive_and_wait
    /// Counts this thread in, then sleeps until released.
    pub fn arrive_and_wait(&self) {
        {
            let mut arrivals = self.lock();
            arrivals.arrived += 1;
            if arrivals.arrived == arrivals.expected {
                self.all_arrived.notify_one();
            }
        }
        // `park` may return spuriously, and returns at once if the unpark came first.
        while !self.released.load(Ordering::Acquire) {
            thread::park();
        }
        self.left.fetch_add(1, Ordering::AcqRel);
    }
    // ANCHOR_END: arrive_and_wait

    /// Waits until `expected` threads have arrived (fewer than planned when a spawn failed)
    /// and returns how many were parked at once: arrived and not yet gone.
    pub fn wait_for_arrivals(&self, expected: u64) -> u64 {
        let mut arrivals = self.lock();
        arrivals.expected = expected;
        while arrivals.arrived < expected {
            arrivals = self.all_arrived.wait(arrivals).unwrap_or_else(PoisonError::into_inner);
        }
        arrivals.arrived - self.left.load(Ordering::Acquire)
    }

    /// Releases every waiting thread: the flag first, then one wake-up each.
    pub fn release<'a>(&self, threads: impl IntoIterator<Item = &'a JoinHandle<()>>) {
        self.released.store(true, Ordering::Release);
        for handle in threads {
            handle.thread().unpark();
        }
    }

    pub fn left(&self) -> u64 {
        self.left.load(Ordering::Acquire)
    }
}

/// The task-side counterpart of [`Gate`]'s counts: atomics, and a `Notify` that the last
/// unit to arrive fires (it stores a permit, so the driver cannot miss it).
#[derive(Debug)]
pub struct Tally {
    expected: u64,
    arrived: AtomicU64,
    left: AtomicU64,
    all_arrived: Notify,
}

impl Tally {
    pub fn new(expected: u64) -> Self {
        Tally { expected, arrived: AtomicU64::new(0), left: AtomicU64::new(0), all_arrived: Notify::new() }
    }

    fn arrive(&self) {
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.expected {
            self.all_arrived.notify_one();
        }
    }

    fn leave(&self) {
        self.left.fetch_add(1, Ordering::AcqRel);
    }

    async fn all_arrived(&self) {
        if self.expected > 0 {
            self.all_arrived.notified().await;
        }
    }

    fn parked(&self) -> u64 {
        self.arrived.load(Ordering::Acquire) - self.left.load(Ordering::Acquire)
    }
}

// ANCHOR: thread_unit
/// A parked thread: counted in, then asleep in the kernel until released. Its cost is the
/// thread itself: a stack, a guard page, a signal stack, a kernel task.
fn thread_unit(gate: &Gate) {
    gate.arrive_and_wait();
}
// ANCHOR_END: thread_unit

// ANCHOR: task_unit
/// A parked task or future: counted in, then awaiting a shared `watch` channel. The same
/// `async fn` is a spawned tokio task in two variants and a future inside one task in the
/// third, so the three differ only in who polls it.
async fn task_unit(tally: Arc<Tally>, mut release: watch::Receiver<bool>) {
    tally.arrive();
    // An error means the sender is gone, which also means "stop".
    let _ = release.wait_for(|released| *released).await;
    tally.leave();
}
// ANCHOR_END: task_unit

/// The process's memory at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Memory {
    /// Pages actually in RAM (RSS).
    pub resident: f64,
    /// Address space reserved (VSZ), touched or not.
    pub virtual_size: f64,
    /// `KernelStack` from `/proc/meminfo`: machine-wide, so other programs add noise.
    pub kernel_stack: Option<f64>,
    /// This process's page tables (`VmPTE`).
    pub page_tables: Option<f64>,
}

impl Memory {
    /// `None` where `/proc/self/statm` cannot be read: a figure that was not read is missing,
    /// never zero (a zero baseline would charge the whole process to the units).
    pub fn now() -> Option<Memory> {
        let (resident, virtual_size) = casebook::procfs::memory_self()?;
        Some(Memory {
            resident: resident as f64,
            virtual_size: virtual_size as f64,
            kernel_stack: crate::limits::kib_field("/proc/meminfo", "KernelStack:").map(|b| b as f64),
            page_tables: crate::limits::kib_field("/proc/self/status", "VmPTE:").map(|b| b as f64),
        })
    }

    /// Samples until resident memory stops moving: the plateau.
    pub fn plateau() -> Option<Memory> {
        let mut last = Memory::now()?;
        for _ in 0..PLATEAU_SAMPLES {
            thread::sleep(PLATEAU_EVERY);
            let next = Memory::now()?;
            if settled(&last, &next) {
                return Some(next);
            }
            last = next;
        }
        Some(last)
    }

    /// [`Memory::plateau`] for async code: the wait between samples must not block a worker.
    pub async fn plateau_async() -> Option<Memory> {
        let mut last = Memory::now()?;
        for _ in 0..PLATEAU_SAMPLES {
            tokio::time::sleep(PLATEAU_EVERY).await;
            let next = Memory::now()?;
            if settled(&last, &next) {
                return Some(next);
            }
            last = next;
        }
        Some(last)
    }

    /// `(self - baseline) / units`, field by field; `None` for no units, since dividing by
    /// a made-up 1 would report the whole difference as one unit's cost.
    pub fn per_unit(&self, baseline: &Memory, units: u64) -> Option<Memory> {
        if units == 0 {
            return None;
        }
        let n = units as f64;
        let diff = |now: Option<f64>, before: Option<f64>| Some((now? - before?) / n);
        Some(Memory {
            resident: (self.resident - baseline.resident) / n,
            virtual_size: (self.virtual_size - baseline.virtual_size) / n,
            kernel_stack: diff(self.kernel_stack, baseline.kernel_stack),
            page_tables: diff(self.page_tables, baseline.page_tables),
        })
    }
}

/// Up to 20 ms of sampling: parked units allocate nothing, so RSS is flat within a sample
/// or two; the loop only waits out pages still being faulted in by the last units to start.
const PLATEAU_SAMPLES: usize = 10;
const PLATEAU_EVERY: Duration = Duration::from_millis(2);

fn settled(last: &Memory, next: &Memory) -> bool {
    (next.resident - last.resident).abs() <= 0.001 * last.resident.max(1.0)
}

/// What one run of [`Driver::park`] saw.
#[derive(Debug)]
pub struct Parked {
    pub target: u64,
    /// Spawn calls that succeeded.
    pub spawned: u64,
    /// Units counted in while none had yet been released: all of them alive at once.
    pub alive_at_once: u64,
    /// Units that ran to their end after the release.
    pub exited: u64,
    /// From the first spawn call until the last one returned.
    pub spawn_s: f64,
    /// From the first spawn call until the last unit had started and parked.
    pub ready_s: f64,
    /// From the release until every unit had been joined.
    pub join_s: f64,
    /// Memory just before the first spawn, if it could be read.
    pub baseline: Option<Memory>,
    /// Memory with every unit parked, when asked for and readable.
    pub plateau: Option<Memory>,
    /// Why spawning stopped short of `target`, if it did.
    pub spawn_error: Option<io::Error>,
}

/// What one run of [`Driver::ring`] saw.
#[derive(Debug)]
pub struct Ring {
    pub units: usize,
    /// The count the token carried when it stopped: hand-offs between units.
    pub handoffs: u64,
    /// From the injection of the token until its last hand-off arrived.
    pub elapsed_s: f64,
}

/// One lap of the token: what the caller's measured region returns.
#[derive(Debug)]
pub struct Lap {
    pub handoffs: u64,
    pub elapsed_s: f64,
}

/// The token passing itself, handed to the caller so that it can wrap exactly this part in
/// its measured region (`|lap| ctx.measure(lap)`).
pub type LapFn<'a> = &'a mut dyn FnMut() -> anyhow::Result<Lap>;

/// A prepared way of running units: the runtime (if any) is built and warm before any
/// experiment starts, and shut down when the driver is dropped, so that no parked task can
/// keep a child process alive.
#[derive(Debug)]
pub struct Driver {
    kind: Kind,
    runtime: Option<Runtime>,
}

impl Driver {
    pub fn new(kind: Kind) -> anyhow::Result<Driver> {
        let runtime = match kind {
            Kind::FuturesInTask | Kind::TokioCurrent => {
                Some(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
            }
            Kind::TokioMulti | Kind::TokioMultiMain => {
                Some(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
            }
            Kind::Threads { .. } => None,
        };
        match &runtime {
            // Let every worker start, allocate (and so take its malloc arena) and run
            // something before the clock starts or the baseline is read.
            Some(runtime) => runtime.block_on(async {
                let warm: Vec<_> = (0..64)
                    .map(|_| {
                        tokio::spawn(async {
                            std::hint::black_box(vec![0u8; 64]);
                            tokio::task::yield_now().await;
                        })
                    })
                    .collect();
                for handle in warm {
                    let _ = handle.await;
                }
            }),
            None => warm_allocator_arenas(),
        }
        Ok(Driver { kind, runtime })
    }

    fn runtime(&self) -> anyhow::Result<&Runtime> {
        self.runtime.as_ref().context("this kind of unit needs a runtime")
    }

    /// Starts `target` parked units, samples memory at the plateau if `sample`, releases
    /// them and joins them. A failed thread spawn stops the spawning; the caller decides
    /// whether that is a failure (creation, residency) or the answer (capacity).
    pub fn park(&self, target: u64, sample: bool) -> anyhow::Result<Parked> {
        match self.kind {
            Kind::Threads { stack } => Ok(park_threads(target, sample, |gate| {
                let mut builder = thread::Builder::new();
                if let Some(bytes) = stack {
                    builder = builder.stack_size(bytes);
                }
                builder.spawn(move || thread_unit(&gate))
            })),
            Kind::TokioMulti | Kind::TokioMultiMain | Kind::TokioCurrent => {
                park_tasks(self.runtime()?, self.kind.origin(), target, sample)
            }
            Kind::FuturesInTask => Ok(park_futures(self.runtime()?, target, sample)),
        }
    }

    /// Builds a ring of `units`, every unit started and waiting on its inbox; then calls
    /// `timed` with the lap (the token passed `handoffs` times), which it must run once;
    /// then tears the ring down, whether or not the lap ran or succeeded.
    pub fn ring<T>(&self, units: usize, handoffs: u64, timed: T) -> anyhow::Result<Ring>
    where
        T: FnOnce(LapFn<'_>) -> anyhow::Result<Lap>,
    {
        anyhow::ensure!(units >= 2, "a ring needs at least two units");
        anyhow::ensure!(handoffs >= 1, "a ring needs at least one hand-off");
        let lap = match self.kind {
            Kind::Threads { stack } => thread_ring(stack, units, handoffs, timed)?,
            Kind::TokioMulti | Kind::TokioMultiMain | Kind::TokioCurrent => {
                task_ring(self.runtime()?, self.kind.origin(), units, handoffs, timed)?
            }
            Kind::FuturesInTask => future_ring(self.runtime()?, units, handoffs, timed)?,
        };
        Ok(Ring { units, handoffs: lap.handoffs, elapsed_s: lap.elapsed_s })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Stack of the arena warm-up threads: small enough that glibc will not hand their cached
/// stacks to the measured threads (it only reuses a cached stack at least as large).
const WARM_STACK: usize = 32 * 1024;

/// Makes glibc create all of its malloc arenas (8 per core on 64-bit) now, before any
/// baseline is taken. Each arena reserves 64 MiB of address space the first time a new
/// thread allocates; left to happen inside a measurement, that would be charged to the
/// first threads measured. Enough threads allocate while alive at once to use them all up.
pub fn warm_allocator_arenas() {
    // SAFETY: sysconf has no preconditions.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as u64;
    park_threads((8 * cpus).min(512), false, |gate| {
        thread::Builder::new().stack_size(WARM_STACK).spawn(move || {
            std::hint::black_box(vec![0u8; 64]);
            gate.arrive_and_wait();
        })
    });
}

/// The threads' park experiment. `spawn` starts one thread that calls
/// [`Gate::arrive_and_wait`]; it is a parameter so that tests can make it fail.
pub fn park_threads<S>(target: u64, sample: bool, mut spawn: S) -> Parked
where
    S: FnMut(Arc<Gate>) -> io::Result<JoinHandle<()>>,
{
    let gate = Arc::new(Gate::new(target));
    let mut handles = Vec::with_capacity(usize::try_from(target).unwrap_or(0).min(1 << 20));
    let mut spawn_error = None;
    let baseline = Memory::now();
    let start = Instant::now();
    for _ in 0..target {
        match spawn(Arc::clone(&gate)) {
            Ok(handle) => handles.push(handle),
            Err(error) => {
                spawn_error = Some(error);
                break;
            }
        }
    }
    let spawn_s = start.elapsed().as_secs_f64();
    let spawned = handles.len() as u64;
    let alive_at_once = gate.wait_for_arrivals(spawned);
    let ready_s = start.elapsed().as_secs_f64();
    let plateau = if sample { Memory::plateau() } else { None };
    let released = Instant::now();
    gate.release(&handles);
    for handle in handles {
        // A thread that panicked is not counted as exited; the case's checks report it.
        let _ = handle.join();
    }
    Parked {
        target,
        spawned,
        alive_at_once,
        exited: gate.left(),
        spawn_s,
        ready_s,
        join_s: released.elapsed().as_secs_f64(),
        baseline,
        plateau,
        spawn_error,
    }
}

fn park_tasks(runtime: &Runtime, origin: Origin, target: u64, sample: bool) -> anyhow::Result<Parked> {
    // Everything from the first spawn to the last join runs at `origin`, so the spawns take
    // that origin's path into the scheduler.
    let driver = async move {
        let tally = Arc::new(Tally::new(target));
        let (release, released) = watch::channel(false);
        let mut handles = Vec::with_capacity(target as usize);
        let baseline = Memory::now();
        let start = Instant::now();
        for _ in 0..target {
            handles.push(tokio::spawn(task_unit(Arc::clone(&tally), released.clone())));
        }
        let spawn_s = start.elapsed().as_secs_f64();
        tally.all_arrived().await;
        let alive_at_once = tally.parked();
        let ready_s = start.elapsed().as_secs_f64();
        let plateau = if sample { Memory::plateau_async().await } else { None };
        let release_at = Instant::now();
        release.send_replace(true);
        for handle in handles {
            let _ = handle.await;
        }
        Parked {
            target,
            spawned: target,
            alive_at_once,
            exited: tally.left.load(Ordering::Acquire),
            spawn_s,
            ready_s,
            join_s: release_at.elapsed().as_secs_f64(),
            baseline,
            plateau,
            spawn_error: None,
        }
    };
    origin.run(runtime, driver)
}

/// Polls `set` until `done()` holds (or the set is empty). `FuturesUnordered` polls only the
/// futures that were woken, and yields to its caller every few dozen polls.
async fn poll_until<F>(set: &mut FuturesUnordered<F>, mut done: impl FnMut() -> bool)
where
    F: Future<Output = ()>,
{
    std::future::poll_fn(|cx| {
        loop {
            if done() {
                return Poll::Ready(());
            }
            match set.poll_next_unpin(cx) {
                Poll::Ready(Some(())) => continue,
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending if done() => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await
}

// ANCHOR: in_one_task
/// Drives one task's own set of futures with tokio's cooperative budget switched off. Under
/// the budget, once a task has spent its 128 units every budgeted future it polls returns
/// `Pending` and has its wake-up deferred; `FuturesUnordered` cannot tell that from a real
/// `Pending`, so it goes on to poll every other ready future in the set, and draining N
/// ready futures costs O(N²) (rust-lang/futures-rs#2053, #2526). Releasing 100k parked
/// futures took a minute that way on our two-core machine instead of tens of milliseconds.
fn in_one_task<F: Future>(runtime: &Runtime, work: F) -> F::Output {
    runtime.block_on(tokio::task::coop::unconstrained(work))
}
// ANCHOR_END: in_one_task

fn park_futures(runtime: &Runtime, target: u64, sample: bool) -> Parked {
    in_one_task(runtime, async move {
        let tally = Arc::new(Tally::new(target));
        let (release, released) = watch::channel(false);
        let mut set = FuturesUnordered::new();
        let baseline = Memory::now();
        let start = Instant::now();
        for _ in 0..target {
            set.push(task_unit(Arc::clone(&tally), released.clone()));
        }
        let spawn_s = start.elapsed().as_secs_f64();
        poll_until(&mut set, || tally.arrived.load(Ordering::Acquire) >= target).await;
        let alive_at_once = tally.parked();
        let ready_s = start.elapsed().as_secs_f64();
        let plateau = if sample { Memory::plateau_async().await } else { None };
        let release_at = Instant::now();
        release.send_replace(true);
        while set.next().await.is_some() {}
        Parked {
            target,
            spawned: target,
            alive_at_once,
            exited: tally.left.load(Ordering::Acquire),
            spawn_s,
            ready_s,
            join_s: release_at.elapsed().as_secs_f64(),
            baseline,
            plateau,
            spawn_error: None,
        }
    })
}

// ANCHOR: thread_ring_unit
/// One thread of the ring: block on its inbox, pass the count on, stop at the last
/// hand-off. Every hand-off wakes a sleeping thread: a trip through the kernel scheduler.
fn ring_thread_unit(
    inbox: std_mpsc::Receiver<u64>,
    next: std_mpsc::SyncSender<u64>,
    last: u64,
    done: std_mpsc::Sender<u64>,
) {
    while let Ok(count) = inbox.recv() {
        if count >= last {
            let _ = done.send(count);
            return;
        }
        if next.send(count + 1).is_err() {
            return;
        }
    }
}
// ANCHOR_END: thread_ring_unit

// ANCHOR: task_ring_unit
/// One task (or future) of the ring: the same loop over `tokio::sync::mpsc`. A hand-off
/// wakes the next unit inside the runtime, with no system call when it stays on one worker.
async fn ring_task_unit(
    tally: Arc<Tally>,
    mut inbox: mpsc::Receiver<u64>,
    next: mpsc::Sender<u64>,
    last: u64,
    done: mpsc::Sender<u64>,
) {
    tally.arrive();
    while let Some(count) = inbox.recv().await {
        if count >= last {
            let _ = done.send(count).await;
            return;
        }
        if next.send(count + 1).await.is_err() {
            return;
        }
    }
}
// ANCHOR_END: task_ring_unit

// Tearing a ring down. Each unit holds the sender of the next one's inbox, so the senders
// form a cycle and no inbox closes on its own: a ring whose lap never ran would wait
// forever. So teardown always offers the stop count (`last`) to the first unit, then drops
// the driver's inject sender and done receiver. Every unit then ends either by receiving
// `last` or by finding its inbox closed behind a unit that ended, and the joins return.

fn thread_ring<T>(stack: Option<usize>, units: usize, handoffs: u64, timed: T) -> anyhow::Result<Lap>
where
    T: FnOnce(LapFn<'_>) -> anyhow::Result<Lap>,
{
    let (senders, inboxes): (Vec<_>, Vec<_>) = (0..units).map(|_| std_mpsc::sync_channel::<u64>(1)).unzip();
    let inject = senders[0].clone();
    let (done_tx, done_rx) = std_mpsc::channel();
    let gate = Arc::new(Gate::new(units as u64));
    let mut handles = Vec::with_capacity(units);
    let mut spawn_error = None;
    for (index, inbox) in inboxes.into_iter().enumerate() {
        let next = senders[(index + 1) % units].clone();
        let done = done_tx.clone();
        let gate = Arc::clone(&gate);
        let mut builder = thread::Builder::new();
        if let Some(bytes) = stack {
            builder = builder.stack_size(bytes);
        }
        match builder.spawn(move || {
            gate.arrive_and_wait();
            ring_thread_unit(inbox, next, handoffs, done);
        }) {
            Ok(handle) => handles.push(handle),
            Err(error) => {
                spawn_error = Some(error);
                break;
            }
        }
    }
    drop(senders);
    drop(done_tx);
    gate.wait_for_arrivals(handles.len() as u64);
    gate.release(&handles);
    let outcome = match spawn_error {
        Some(error) => Err(anyhow::anyhow!("could start only {} of {units} ring threads: {error}", handles.len())),
        None => timed(&mut || {
            let start = Instant::now();
            inject.send(0).map_err(|_| anyhow::anyhow!("the ring's first thread is gone"))?;
            let count = done_rx.recv().map_err(|_| anyhow::anyhow!("the ring stopped before its last hand-off"))?;
            Ok(Lap { handoffs: count, elapsed_s: start.elapsed().as_secs_f64() })
        }),
    };
    let _ = inject.try_send(handoffs);
    drop(inject);
    drop(done_rx);
    for handle in handles {
        let _ = handle.join();
    }
    outcome
}

/// The channels of a ring of async units: unit `i` reads `inboxes[i]` and writes to
/// `senders[i + 1]`.
type RingChannels = (Vec<mpsc::Sender<u64>>, Vec<mpsc::Receiver<u64>>);

fn ring_channels(units: usize) -> RingChannels {
    (0..units).map(|_| mpsc::channel::<u64>(1)).unzip()
}

fn task_ring<T>(runtime: &Runtime, origin: Origin, units: usize, handoffs: u64, timed: T) -> anyhow::Result<Lap>
where
    T: FnOnce(LapFn<'_>) -> anyhow::Result<Lap>,
{
    // Built and lapped from where the park experiment spawns: for `tokio-multi`, a lap
    // started from `block_on` would inject the token through the shared queue and wake a
    // worker for it, which is `tokio-multi-main`'s path, not the worker's.
    let build = async move {
        let (senders, inboxes) = ring_channels(units);
        let inject = senders[0].clone();
        let (done_tx, done_rx) = mpsc::channel(1);
        let tally = Arc::new(Tally::new(units as u64));
        let mut handles = Vec::with_capacity(units);
        for (index, inbox) in inboxes.into_iter().enumerate() {
            handles.push(tokio::spawn(ring_task_unit(
                Arc::clone(&tally),
                inbox,
                senders[(index + 1) % units].clone(),
                handoffs,
                done_tx.clone(),
            )));
        }
        drop(senders);
        drop(done_tx);
        tally.all_arrived().await;
        (inject, done_rx, handles)
    };
    let (inject, done_rx, handles) = origin.run(runtime, build)?;
    // The lap may run as a task, so it owns its ends: a clone of the inject sender, and the
    // done receiver, which it drops when it ends (teardown needs only the inject sender).
    let mut done_rx = Some(done_rx);
    let outcome = timed(&mut || {
        let lap_inject = inject.clone();
        let mut done_rx = done_rx.take().context("a ring runs one lap")?;
        origin.run(runtime, async move {
            let start = Instant::now();
            lap_inject.send(0).await.map_err(|_| anyhow::anyhow!("the ring's first task is gone"))?;
            let count = done_rx.recv().await.context("the ring stopped before its last hand-off")?;
            Ok(Lap { handoffs: count, elapsed_s: start.elapsed().as_secs_f64() })
        })?
    });
    let _ = inject.try_send(handoffs);
    drop(inject);
    drop(done_rx);
    runtime.block_on(async {
        for handle in handles {
            let _ = handle.await;
        }
    });
    outcome
}

fn future_ring<T>(runtime: &Runtime, units: usize, handoffs: u64, timed: T) -> anyhow::Result<Lap>
where
    T: FnOnce(LapFn<'_>) -> anyhow::Result<Lap>,
{
    let (senders, inboxes) = ring_channels(units);
    let inject = senders[0].clone();
    let (done_tx, mut done_rx) = mpsc::channel(1);
    let tally = Arc::new(Tally::new(units as u64));
    let mut set = FuturesUnordered::new();
    for (index, inbox) in inboxes.into_iter().enumerate() {
        set.push(ring_task_unit(
            Arc::clone(&tally),
            inbox,
            senders[(index + 1) % units].clone(),
            handoffs,
            done_tx.clone(),
        ));
    }
    drop(senders);
    drop(done_tx);
    in_one_task(runtime, poll_until(&mut set, || tally.arrived.load(Ordering::Acquire) >= units as u64));
    let outcome = timed(&mut || {
        in_one_task(runtime, async {
            let start = Instant::now();
            // Capacity 1 and an empty inbox: this cannot wait.
            inject.try_send(0).map_err(|_| anyhow::anyhow!("the ring's first future is gone"))?;
            let mut count = None;
            poll_until(&mut set, || {
                count = count.or_else(|| done_rx.try_recv().ok());
                count.is_some()
            })
            .await;
            let count = count.context("the ring stopped before its last hand-off")?;
            Ok(Lap { handoffs: count, elapsed_s: start.elapsed().as_secs_f64() })
        })
    });
    let _ = inject.try_send(handoffs);
    drop(inject);
    drop(done_rx);
    in_one_task(runtime, async { while set.next().await.is_some() {} });
    outcome
}
