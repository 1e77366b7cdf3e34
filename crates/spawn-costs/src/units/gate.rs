//! How a run knows its units are really there: every unit counts itself in when it starts
//! and out when it ends, so a run reports how many were alive at once and how many ran to
//! their end, not merely how many spawn calls returned. [`Gate`] for threads, [`Tally`] for
//! tasks and futures.

use std::{
    sync::{
        Condvar, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread::{self, JoinHandle},
};

use tokio::sync::Notify;

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

    pub fn arrive(&self) {
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == self.expected {
            self.all_arrived.notify_one();
        }
    }

    pub fn leave(&self) {
        self.left.fetch_add(1, Ordering::AcqRel);
    }

    pub async fn all_arrived(&self) {
        if self.expected > 0 {
            self.all_arrived.notified().await;
        }
    }

    /// Units counted in and not yet out.
    pub fn parked(&self) -> u64 {
        self.arrived() - self.left()
    }

    pub fn arrived(&self) -> u64 {
        self.arrived.load(Ordering::Acquire)
    }

    pub fn left(&self) -> u64 {
        self.left.load(Ordering::Acquire)
    }
}
