//! The units of concurrency, written the way someone fluent in each model would write them,
//! and the experiments every table is built from:
//!
//! - [`park`]: start N units that each arrive and then wait for one release signal; time the
//!   spawning, the arrival of the last one and the joining, and read the process's memory
//!   before the first spawn and once all N are parked. Creation, residency and capacity are
//!   all this experiment, read differently; creation repeats it in one process
//!   ([`Driver::create`]).
//! - [`ring`]: K units in a ring pass a token M times; time per hand-off.
//!
//! Every unit counts itself in and out ([`gate`]), the memory figures are in [`memory`], and
//! [`runtime`] says where a tokio variant's own code runs. [`Driver`] picks the experiment's
//! version for each [`Kind`] of unit and owns the runtime it needs.

pub mod gate;
pub mod memory;
pub mod park;
pub mod ring;
pub mod runtime;

use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::runtime::Runtime;

use self::{
    park::{Parked, park_futures, park_os_threads, park_tasks},
    ring::{Lap, LapFn, Ring, future_ring, task_ring, thread_ring},
    runtime::Origin,
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

impl Kind {
    fn origin(self) -> Origin {
        match self {
            Kind::TokioMultiMain => Origin::BlockOn,
            _ => Origin::Worker,
        }
    }
}

/// One run of the creation experiment: the same N units parked, released and joined several
/// times in one process.
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
    pub fn batches(&self) -> impl Iterator<Item = &Parked> {
        std::iter::once(&self.cold).chain(&self.warm)
    }
}

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
            None => casebook::run::limits::warm_allocator_arenas(),
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
            Kind::Threads { stack } => Ok(park_os_threads(stack, target, sample)),
            Kind::TokioMulti | Kind::TokioMultiMain | Kind::TokioCurrent => {
                park_tasks(self.runtime()?, self.kind.origin(), target, sample)
            }
            Kind::FuturesInTask => Ok(park_futures(self.runtime()?, target, sample)),
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
