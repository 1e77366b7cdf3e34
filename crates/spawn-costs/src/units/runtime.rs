//! How async units are driven: from which thread a tokio variant's own code spawns (a
//! worker or `block_on`), and how one task drives a whole set of futures.

use std::{future::Future, task::Poll};

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::runtime::Runtime;

/// Where a tokio variant's own code runs: the loop that spawns the units, and the ring's lap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
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
    pub fn run<F>(self, runtime: &Runtime, work: F) -> anyhow::Result<F::Output>
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

/// Polls `set` until `done()` holds (or the set is empty). `FuturesUnordered` polls only the
/// futures that were woken, and yields to its caller every few dozen polls.
pub async fn poll_until<F>(set: &mut FuturesUnordered<F>, mut done: impl FnMut() -> bool)
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
pub fn in_one_task<F: Future>(runtime: &Runtime, work: F) -> F::Output {
    runtime.block_on(tokio::task::coop::unconstrained(work))
}
// ANCHOR_END: in_one_task
