//! The park experiment, which the creation, residency and capacity tables all read: start N
//! units that each count themselves in and wait for one release signal; time the spawning,
//! the arrival of the last one and the joining, and read the process's memory before the
//! first spawn and once all N are parked.

use std::{
    io,
    sync::Arc,
    thread::{self, JoinHandle},
    time::Instant,
};

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::{runtime::Runtime, sync::watch};

use super::{
    gate::{Gate, Tally},
    memory::Memory,
    runtime::{Origin, in_one_task, poll_until},
};

// ANCHOR: thread_unit
/// A parked thread: counted in, then asleep in the kernel until released. Its cost is the
/// thread itself: a stack, a guard page, a signal stack, a kernel task.
fn thread_unit(gate: &Gate) {
    gate.arrive_and_wait();
}
// ANCHOR_END: thread_unit

// ANCHOR: task_unit
/// A parked task or future: counted in, then awaiting a shared `watch` channel. The same
/// `async fn` is a spawned tokio task in three variants and a future inside one task in the
/// fourth, so the four differ only in who polls it and from where it was spawned.
async fn task_unit(tally: Arc<Tally>, mut release: watch::Receiver<bool>) {
    tally.arrive();
    // An error means the sender is gone, which also means "stop".
    let _ = release.wait_for(|released| *released).await;
    tally.leave();
}
// ANCHOR_END: task_unit

/// What one run of [`Driver::park`](crate::variants::Driver::park) saw.
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

/// One run of the creation experiment ([`Driver::create`](crate::variants::Driver::create)):
/// the same N units parked, released and joined several times in one process.
#[derive(Debug)]
pub struct Creation {
    /// The first batch, in a process that had spawned none of these units yet: it also pays
    /// for first touching the memory the units take.
    pub cold: Parked,
    /// The batches after it, which reuse what the cold one freed: a program that spawns all
    /// the time. Never empty unless the cold batch failed to start every unit.
    pub warm: Vec<Parked>,
}

impl Creation {
    /// Every batch, the cold one first.
    pub fn batches(&self) -> impl Iterator<Item = &Parked> + Clone {
        std::iter::once(&self.cold).chain(&self.warm)
    }
}

/// Parks `target` OS threads with `stack` bytes of stack (`None`: the default).
pub fn park_os_threads(stack: Option<usize>, target: u64, sample: bool) -> Parked {
    park_threads(target, sample, |gate| thread_builder(stack).spawn(move || thread_unit(&gate)))
}

/// A builder for a thread with `stack` bytes of stack (`None`: the default).
pub(super) fn thread_builder(stack: Option<usize>) -> thread::Builder {
    let builder = thread::Builder::new();
    match stack {
        Some(bytes) => builder.stack_size(bytes),
        None => builder,
    }
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

pub fn park_tasks(runtime: &Runtime, origin: Origin, target: u64, sample: bool) -> anyhow::Result<Parked> {
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
            exited: tally.left(),
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

pub fn park_futures(runtime: &Runtime, target: u64, sample: bool) -> Parked {
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
        poll_until(&mut set, || tally.arrived() >= target).await;
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
            exited: tally.left(),
            spawn_s,
            ready_s,
            join_s: release_at.elapsed().as_secs_f64(),
            baseline,
            plateau,
            spawn_error: None,
        }
    })
}
