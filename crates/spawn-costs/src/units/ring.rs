//! The switching experiment: K units in a ring pass a token M times; time per hand-off. The
//! ring is built (every unit started and waiting) before the caller's measured region and
//! torn down after it, so the region's CPU time and context switches belong to the
//! hand-offs alone, not to spawning and joining K units.

use std::{
    sync::{Arc, mpsc as std_mpsc},
    time::Instant,
};

use anyhow::Context;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::{runtime::Runtime, sync::mpsc};

use super::{
    gate::{Gate, Tally},
    park::thread_builder,
    runtime::{Origin, in_one_task, poll_until},
};

/// One lap of the token: what the caller's measured region returns, and what one run of
/// [`Driver::ring`](crate::variants::Driver::ring) saw.
#[derive(Debug)]
pub struct Lap {
    /// The count the token carried when it stopped: hand-offs between units.
    pub handoffs: u64,
    /// From the injection of the token until its last hand-off arrived.
    pub elapsed_s: f64,
}

/// The token passing itself, handed to the caller so that it can wrap exactly this part in
/// its measured region (`|lap| ctx.measure(lap)`).
pub type LapFn<'a> = &'a mut dyn FnMut() -> anyhow::Result<Lap>;

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

pub fn thread_ring<T>(stack: Option<usize>, units: usize, handoffs: u64, timed: T) -> anyhow::Result<Lap>
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
        match thread_builder(stack).spawn(move || {
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
    drop((senders, done_tx));
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
    drop((inject, done_rx));
    for handle in handles {
        let _ = handle.join();
    }
    outcome
}

/// A ring of async units, built but not yet running: unit `i` reads inbox `i` and writes to
/// inbox `i + 1`. Returns the sender that injects the token, the receiver of the last count,
/// the tally the units arrive in, and the units, for the caller to spawn or to poll.
fn async_ring(
    units: usize,
    handoffs: u64,
) -> (mpsc::Sender<u64>, mpsc::Receiver<u64>, Arc<Tally>, Vec<impl Future<Output = ()> + Send>) {
    let (senders, inboxes): (Vec<_>, Vec<_>) = (0..units).map(|_| mpsc::channel::<u64>(1)).unzip();
    let (done_tx, done_rx) = mpsc::channel(1);
    let tally = Arc::new(Tally::new(units as u64));
    let ring = inboxes
        .into_iter()
        .enumerate()
        .map(|(index, inbox)| {
            let next = senders[(index + 1) % units].clone();
            ring_task_unit(Arc::clone(&tally), inbox, next, handoffs, done_tx.clone())
        })
        .collect();
    (senders[0].clone(), done_rx, tally, ring)
}

pub fn task_ring<T>(runtime: &Runtime, origin: Origin, units: usize, handoffs: u64, timed: T) -> anyhow::Result<Lap>
where
    T: FnOnce(LapFn<'_>) -> anyhow::Result<Lap>,
{
    // Built and lapped from where the park experiment spawns: for `tokio-multi`, a lap
    // started from `block_on` would inject the token through the shared queue and wake a
    // worker for it, which is `tokio-multi-main`'s path, not the worker's.
    let build = async move {
        let (inject, done_rx, tally, ring) = async_ring(units, handoffs);
        let handles: Vec<_> = ring.into_iter().map(tokio::spawn).collect();
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
    drop((inject, done_rx));
    runtime.block_on(futures::future::join_all(handles));
    outcome
}

pub fn future_ring<T>(runtime: &Runtime, units: usize, handoffs: u64, timed: T) -> anyhow::Result<Lap>
where
    T: FnOnce(LapFn<'_>) -> anyhow::Result<Lap>,
{
    let (inject, mut done_rx, tally, ring) = async_ring(units, handoffs);
    let mut set: FuturesUnordered<_> = ring.into_iter().collect();
    in_one_task(runtime, poll_until(&mut set, || tally.arrived() >= units as u64));
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
    drop((inject, done_rx));
    in_one_task(runtime, async { while set.next().await.is_some() {} });
    outcome
}
