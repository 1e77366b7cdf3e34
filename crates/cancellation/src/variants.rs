//! The variants, declared once, and how each model starts its workers and what it does when
//! asked to stop.
//!
//! Each function returns the variant's stop request as a closure. The run calls it once,
//! at the request, and then watches the [`Ledger`](crate::workers::Ledger), not the variant,
//! to see what actually stopped.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::{JoinHandle as ThreadHandle, Thread},
    time::Instant,
};

use anyhow::Context;
use tokio::{
    runtime::Handle,
    sync::oneshot,
    task::{JoinHandle, JoinSet},
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::workers::{StepKind, Worker};

casebook::variants! {
    /// The ways to stop concurrent work, in the order the tables list them.
    pub enum Variant {
        DropJoinhandle = "drop-joinhandle" (Async): "drop the JoinHandle, as the framework's example does: it detaches the task",
        Abort = "abort" (Async): "JoinHandle::abort on every task: the standard way to stop a spawned task",
        AbortYield = "abort-yield" (Async): "CPU steps with yield_now between them, then abort: the fix for CPU loops",
        JoinsetDrop = "joinset-drop" (Async): "tasks owned by a JoinSet, stopped by dropping the set",
        Token = "token" (Async): "a CancellationToken watched in every step: cooperative, graceful shutdown",
        DropFuture = "drop-future" (Async): "unspawned futures dropped by select!: what 'dropping cancels' really means",
        SpawnBlockingAbort = "spawn-blocking-abort" (Hybrid): "blocking loops on spawn_blocking, then abort: async trying to cancel a thread",
        ThreadFlag = "thread-flag" (Threads): "an OS thread per worker polling an AtomicBool between steps",
        ThreadSignal = "thread-signal" (Threads): "an OS thread per worker parked between steps, woken at once by the stop's unpark",
    }
}

impl Variant {
    /// The step kinds this variant has a form for: each is a row of that kind's table.
    pub fn kinds(self) -> &'static [StepKind] {
        use Variant::*;
        match self {
            DropJoinhandle | JoinsetDrop | DropFuture | SpawnBlockingAbort | ThreadSignal => &[StepKind::Io],
            AbortYield => &[StepKind::Cpu],
            Abort | Token | ThreadFlag => &[StepKind::Io, StepKind::Cpu],
        }
    }

    /// Whether the variant runs on a tokio runtime (the others use plain OS threads).
    pub fn needs_runtime(self) -> bool {
        !matches!(self, Variant::ThreadFlag | Variant::ThreadSignal)
    }
}

/// A started variant.
pub struct Started {
    /// The variant's stop request, called once.
    pub cancel: Box<dyn FnOnce() + Send>,
    /// How the variant itself would wait for a clean shutdown, if it has a way: called once
    /// the request is issued, never past the instant it is given; true if everything it
    /// waited for ended by then. The run still judges stopping from the ledger, not from this.
    pub wait: Option<Box<dyn FnOnce(Instant) -> bool + Send>>,
    /// The OS threads it started, if any: joined after the deadline when they all stopped,
    /// left to die with the process when they did not.
    pub threads: Vec<ThreadHandle<()>>,
}

impl Started {
    /// Stopped by `cancel` alone: no wait of its own, no threads to join.
    fn new(cancel: impl FnOnce() + Send + 'static) -> Self {
        Started { cancel: Box::new(cancel), wait: None, threads: Vec::new() }
    }
}

/// Starts `workers` the way `variant` does, with steps of `kind`.
pub fn start(
    variant: Variant,
    kind: StepKind,
    runtime: Option<&Handle>,
    workers: Vec<Worker>,
) -> anyhow::Result<Started> {
    use {StepKind::*, Variant::*};
    let runtime = || runtime.context("this variant needs a runtime");
    Ok(match (variant, kind) {
        (DropJoinhandle, Io) => drop_joinhandle(runtime()?, workers),
        (Abort, Io) => abort(runtime()?, workers, Worker::io_task),
        (Abort, Cpu) => abort(runtime()?, workers, Worker::cpu_task),
        (AbortYield, Cpu) => abort(runtime()?, workers, Worker::cpu_task_yielding),
        (JoinsetDrop, Io) => joinset_drop(runtime()?, workers),
        (Token, Io) => token(runtime()?, workers, Worker::io_task_until),
        (Token, Cpu) => token(runtime()?, workers, Worker::cpu_task_checking),
        (DropFuture, Io) => drop_future(runtime()?, workers),
        (SpawnBlockingAbort, Io) => spawn_blocking_abort(runtime()?, workers),
        (ThreadFlag, Io) => thread_flag(workers, Worker::io_thread_flag)?,
        (ThreadFlag, Cpu) => thread_flag(workers, Worker::cpu_thread_flag)?,
        (ThreadSignal, Io) => thread_signal(workers)?,
        (variant, kind) => anyhow::bail!("variant {variant} has no {kind:?} form"),
    })
}

// ANCHOR: drop_joinhandle
/// What the framework's example does: keep the `JoinHandle`s, then drop them to "cancel".
/// Dropping a `JoinHandle` detaches the task; it keeps running.
fn drop_joinhandle(runtime: &Handle, workers: Vec<Worker>) -> Started {
    let handles: Vec<JoinHandle<()>> = workers.into_iter().map(|worker| runtime.spawn(worker.io_task())).collect();
    Started::new(move || drop(handles))
}
// ANCHOR_END: drop_joinhandle

// ANCHOR: abort
/// `JoinHandle::abort`: the runtime drops the task's future at its next `.await`, or at once
/// if it is not running.
fn abort<F>(runtime: &Handle, workers: Vec<Worker>, task: fn(Worker) -> F) -> Started
where
    F: Future<Output = ()> + Send + 'static,
{
    let handles: Vec<JoinHandle<()>> = workers.into_iter().map(|worker| runtime.spawn(task(worker))).collect();
    Started::new(move || handles.iter().for_each(JoinHandle::abort))
}
// ANCHOR_END: abort

// ANCHOR: joinset_drop
/// A `JoinSet` owns its tasks: dropping the set aborts every task still in it.
fn joinset_drop(runtime: &Handle, workers: Vec<Worker>) -> Started {
    let mut set = JoinSet::new();
    for worker in workers {
        set.spawn_on(worker.io_task(), runtime);
    }
    Started::new(move || drop(set))
}
// ANCHOR_END: joinset_drop

// ANCHOR: token
/// Cooperative cancellation: every task watches a `CancellationToken` and ends itself, and a
/// `TaskTracker` is how the shutdown then waits for them all, bounded by the deadline.
fn token<F>(runtime: &Handle, workers: Vec<Worker>, task: fn(Worker, CancellationToken) -> F) -> Started
where
    F: Future<Output = ()> + Send + 'static,
{
    let token = CancellationToken::new();
    let tracker = TaskTracker::new();
    for worker in workers {
        tracker.spawn_on(task(worker, token.clone()), runtime);
    }
    // No more tasks will join: `wait` can only end once the tracker is closed and empty.
    tracker.close();
    let runtime = runtime.clone();
    let wait = move |until: Instant| {
        runtime.block_on(async { tokio::time::timeout_at(until.into(), tracker.wait()).await.is_ok() })
    };
    Started { wait: Some(Box::new(wait)), ..Started::new(move || token.cancel()) }
}
// ANCHOR_END: token

// ANCHOR: drop_future
/// No task per worker: one task drives all the workers' futures together and races them
/// against a stop signal. When the signal wins, `select!` drops the losing branch, and with
/// it every worker's future, on the spot.
fn drop_future(runtime: &Handle, workers: Vec<Worker>) -> Started {
    let (stop, stopped) = oneshot::channel::<()>();
    runtime.spawn(async move {
        let all_workers = futures::future::join_all(workers.into_iter().map(Worker::io_task));
        tokio::select! {
            _ = all_workers => {}
            _ = stopped => {}
        }
    });
    Started::new(move || {
        let _ = stop.send(());
    })
}
// ANCHOR_END: drop_future

// ANCHOR: spawn_blocking_abort
/// Blocking work moved to tokio's blocking pool, then aborted like any task. A closure that
/// has started cannot be interrupted; only those still queued are dropped.
fn spawn_blocking_abort(runtime: &Handle, workers: Vec<Worker>) -> Started {
    let handles: Vec<JoinHandle<()>> =
        workers.into_iter().map(|worker| runtime.spawn_blocking(move || worker.io_blocking())).collect();
    Started::new(move || handles.iter().for_each(JoinHandle::abort))
}
// ANCHOR_END: spawn_blocking_abort

// ANCHOR: thread_flag
/// One OS thread per worker, all polling one `AtomicBool` between steps.
fn thread_flag(workers: Vec<Worker>, body: fn(Worker, &AtomicBool)) -> anyhow::Result<Started> {
    let stop = Arc::new(AtomicBool::new(false));
    let threads = spawn_threads(workers, "flag-worker", &stop, body)?;
    Ok(Started { threads, ..Started::new(move || stop.store(true, Ordering::Relaxed)) })
}
// ANCHOR_END: thread_flag

// ANCHOR: thread_signal
/// One OS thread per worker, each parked between steps. The stop sets the flag and then
/// unparks every thread by its own handle, so each blocked thread wakes at once.
fn thread_signal(workers: Vec<Worker>) -> anyhow::Result<Started> {
    let stop = Arc::new(AtomicBool::new(false));
    let threads = spawn_threads(workers, "signal-worker", &stop, Worker::io_thread_signal)?;
    let wake: Vec<Thread> = threads.iter().map(|t| t.thread().clone()).collect();
    let cancel = move || {
        // The flag first: a thread that wakes for any reason must find it set.
        stop.store(true, Ordering::Release);
        wake.iter().for_each(Thread::unpark);
    };
    Ok(Started { threads, ..Started::new(cancel) })
}
// ANCHOR_END: thread_signal

/// One named OS thread per worker, each running `body` with the shared stop flag.
fn spawn_threads(
    workers: Vec<Worker>,
    name: &str,
    stop: &Arc<AtomicBool>,
    body: fn(Worker, &AtomicBool),
) -> anyhow::Result<Vec<ThreadHandle<()>>> {
    workers
        .into_iter()
        .map(|worker| {
            let stop = Arc::clone(stop);
            std::thread::Builder::new().name(name.into()).spawn(move || body(worker, &stop))
        })
        .collect::<std::io::Result<Vec<_>>>()
        .context("cannot start a worker thread")
}
