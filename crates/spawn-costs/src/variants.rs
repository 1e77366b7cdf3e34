//! The variants, declared once, and the one place each becomes code: the [`Driver`] that
//! builds a variant's runtime and runs each experiment with its units.

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::runtime::Runtime;

use crate::units::{
    park::{Creation, Parked, park_futures, park_os_threads, park_tasks},
    ring::{Lap, LapFn, future_ring, task_ring, thread_ring},
    runtime::Origin,
};

casebook::variants! {
    /// The units of concurrency, in the order the tables list them.
    pub enum Variant {
        /// Many futures in one task's `FuturesUnordered`, what `join_all` does for large sets.
        FuturesInTask = "futures-in-task" (Async): "futures polled by one task via FuturesUnordered: no scheduler per unit, the floor",
        /// Spawned from a task on a worker, as an accept loop spawns.
        TokioMulti = "tokio-multi" (Async): "tokio::spawn on the multi-thread runtime: what #[tokio::main] gives you, spawning from a task",
        TokioMultiMain = "tokio-multi-main" (Async): "the same, spawning from #[tokio::main]'s body (block_on, no worker): every spawn via the shared queue",
        TokioCurrent = "tokio-current" (Async): "tokio::spawn on a current-thread runtime: tasks with no cross-thread wake-ups",
        /// The default stack is 2 MiB unless `RUST_MIN_STACK` says otherwise.
        Threads = "threads" (Threads): "std::thread::spawn with the default 2 MiB stack",
        /// 64 KiB unless `--small-stack-kib` says otherwise.
        ThreadsSmallStack = "threads-small-stack" (Threads): "thread::Builder::stack_size(64 KiB): the usual tuning for many threads",
    }
}

/// The tokio variants, in the order a claim prefers them: what `#[tokio::main]` gives first.
pub const TOKIO_TASKS: [Variant; 3] = [Variant::TokioMulti, Variant::TokioMultiMain, Variant::TokioCurrent];
/// The OS-thread variants, the default stack first.
pub const THREAD_VARIANTS: [Variant; 2] = [Variant::Threads, Variant::ThreadsSmallStack];

impl Variant {
    /// The unit its cap is about, as a skipped row's reason names it.
    pub fn unit(self) -> &'static str {
        match self {
            Variant::Threads => "thread",
            Variant::ThreadsSmallStack => "small-stack thread",
            _ => "task",
        }
    }
}

/// A variant ready to run units: its runtime (if any) is built and warm before any
/// experiment starts, and shut down when the driver is dropped, so that no parked task can
/// keep a child process alive.
#[derive(Debug)]
pub struct Driver {
    variant: Variant,
    /// Its threads' stack size; `None` is the default (what `thread::spawn` uses).
    stack: Option<usize>,
    runtime: Option<Runtime>,
}

impl Driver {
    /// `small_stack` is the stack, in bytes, of `threads-small-stack`'s threads.
    pub fn new(variant: Variant, small_stack: usize) -> anyhow::Result<Driver> {
        use Variant::*;
        let runtime = match variant {
            FuturesInTask | TokioCurrent => Some(tokio::runtime::Builder::new_current_thread().enable_all().build()?),
            TokioMulti | TokioMultiMain => Some(tokio::runtime::Builder::new_multi_thread().enable_all().build()?),
            Threads | ThreadsSmallStack => None,
        };
        match &runtime {
            // Let every worker start, allocate (and so take its malloc arena) and run
            // something before the clock starts or the baseline is read.
            Some(runtime) => runtime.block_on(async {
                let warm = (0..64).map(|_| {
                    tokio::spawn(async {
                        std::hint::black_box(vec![0u8; 64]);
                        tokio::task::yield_now().await;
                    })
                });
                futures::future::join_all(warm).await;
            }),
            None => casebook::run::limits::warm_allocator_arenas(),
        }
        let stack = (variant == ThreadsSmallStack).then_some(small_stack);
        Ok(Driver { variant, stack, runtime })
    }

    fn runtime(&self) -> anyhow::Result<&Runtime> {
        self.runtime.as_ref().context("this kind of unit needs a runtime")
    }

    /// Where a tokio variant's own code runs: `#[tokio::main]`'s body for `tokio-multi-main`,
    /// a task on a worker for the others.
    fn origin(&self) -> Origin {
        if self.variant == Variant::TokioMultiMain { Origin::BlockOn } else { Origin::Worker }
    }

    /// Starts `target` parked units, samples memory at the plateau if `sample`, releases
    /// them and joins them. A failed thread spawn stops the spawning; the caller decides
    /// whether that is a failure (creation, residency) or the answer (capacity).
    pub fn park(&self, target: u64, sample: bool) -> anyhow::Result<Parked> {
        use Variant::*;
        match self.variant {
            Threads | ThreadsSmallStack => Ok(park_os_threads(self.stack, target, sample)),
            TokioMulti | TokioMultiMain | TokioCurrent => park_tasks(self.runtime()?, self.origin(), target, sample),
            FuturesInTask => Ok(park_futures(self.runtime()?, target, sample)),
        }
    }

    /// The creation experiment: a cold batch of `target` units, then warm batches until
    /// `max_warm` have run or the warm ones have taken `budget` (at least one runs). One
    /// batch of tasks on two cores is a millisecond or a few, which a preemption or an
    /// unlucky wake-up can double; the median of several in one process sees past that. A
    /// batch that fails to start every unit ends the experiment, and the caller reports it.
    pub fn create(&self, target: u64, max_warm: usize, budget: Duration) -> anyhow::Result<Creation> {
        let cold = self.park(target, false)?;
        let mut warm = Vec::new();
        let started = Instant::now();
        let mut failed = cold.spawn_error.is_some();
        while !failed && warm.len() < max_warm.max(1) && (warm.is_empty() || started.elapsed() < budget) {
            let batch = self.park(target, false)?;
            failed = batch.spawn_error.is_some();
            warm.push(batch);
        }
        Ok(Creation { cold, warm })
    }

    /// Builds a ring of `units`, every unit started and waiting on its inbox; then calls
    /// `timed` with the lap (the token passed `handoffs` times), which it must run once;
    /// then tears the ring down, whether or not the lap ran or succeeded.
    pub fn ring<T>(&self, units: usize, handoffs: u64, timed: T) -> anyhow::Result<Lap>
    where
        T: FnOnce(LapFn<'_>) -> anyhow::Result<Lap>,
    {
        use Variant::*;
        anyhow::ensure!(units >= 2, "a ring needs at least two units");
        anyhow::ensure!(handoffs >= 1, "a ring needs at least one hand-off");
        match self.variant {
            Threads | ThreadsSmallStack => thread_ring(self.stack, units, handoffs, timed),
            TokioMulti | TokioMultiMain | TokioCurrent => {
                task_ring(self.runtime()?, self.origin(), units, handoffs, timed)
            }
            FuturesInTask => future_ring(self.runtime()?, units, handoffs, timed),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
