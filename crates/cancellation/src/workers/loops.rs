//! The workers' loops: the same job written once per execution model.
//!
//! Each loop owns its [`Worker`] (and so its guard) for its whole life. None of them does any
//! cleanup by hand: when the loop returns, or its future is dropped, or its thread exits, the
//! guard's `Drop` removes the temp file. That is the point: in Rust, cleanup is the same
//! destructor in every model, and the only question is whether the worker actually ends.

use std::{
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;

use super::ledger::{Worker, crunch};

impl Worker {
    fn io_step(&self) -> Duration {
        self.plan().io_step
    }

    fn cpu_step(&self, seed: u64) -> u64 {
        crunch(seed, self.plan().cpu_iterations)
    }

    // ANCHOR: io_task
    /// An IO-bound task: every step awaits a timer, the stand-in for a read or a request.
    /// Each `.await` is a point where the runtime may drop the future instead of resuming it.
    pub async fn io_task(self) {
        self.wait_for_start_async().await;
        loop {
            tokio::time::sleep(self.io_step()).await;
            if !self.step_done() {
                break;
            }
        }
    }
    // ANCHOR_END: io_task

    // ANCHOR: io_task_until
    /// The same task, written to be told to stop: it races every step against the token.
    pub async fn io_task_until(self, token: CancellationToken) {
        self.wait_for_start_async().await;
        loop {
            tokio::select! {
                // Checked first, so a cancelled worker never starts another step.
                biased;
                () = token.cancelled() => break,
                () = tokio::time::sleep(self.io_step()) => {
                    if !self.step_done() {
                        break;
                    }
                }
            }
        }
    }
    // ANCHOR_END: io_task_until

    // ANCHOR: io_blocking
    /// The IO loop for a thread: every step blocks the thread. Nothing in it listens for a stop.
    pub fn io_blocking(self) {
        self.wait_for_start();
        loop {
            std::thread::sleep(self.io_step());
            if !self.step_done() {
                break;
            }
        }
    }
    // ANCHOR_END: io_blocking

    // ANCHOR: io_thread_flag
    /// A thread that polls a shared flag between blocking steps: it notices a stop only when
    /// its current blocking call returns.
    pub fn io_thread_flag(self, stop: &AtomicBool) {
        self.wait_for_start();
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(self.io_step());
            if !self.step_done() {
                break;
            }
        }
    }
    // ANCHOR_END: io_thread_flag

    // ANCHOR: io_thread_signal
    /// A thread whose blocking wait is also its stop signal: each step parks the thread for
    /// the step's length, and the stop sets the flag and unparks this thread, so a blocked
    /// thread returns at once instead of finishing its step. Each thread is woken on its own:
    /// there is no shared lock for a thousand of them to queue on.
    pub fn io_thread_signal(self, stop: &AtomicBool) {
        self.wait_for_start();
        loop {
            let step_ends = Instant::now() + self.io_step();
            // `park_timeout` may return early, spuriously or for an unpark: only the flag or
            // the end of the step ends the wait.
            loop {
                if stop.load(Ordering::Acquire) {
                    return;
                }
                let now = Instant::now();
                if now >= step_ends {
                    break;
                }
                std::thread::park_timeout(step_ends - now);
            }
            if !self.step_done() {
                break;
            }
        }
    }
    // ANCHOR_END: io_thread_signal

    // ANCHOR: cpu_task
    /// A CPU-bound task as it is usually written: a loop of arithmetic with no `.await` in it.
    /// Once polled, it runs to the end of its job in that one poll.
    pub async fn cpu_task(self) {
        self.wait_for_start_async().await;
        let mut seed = self.id() as u64;
        loop {
            seed = self.cpu_step(seed);
            if !self.step_done() {
                break;
            }
        }
    }
    // ANCHOR_END: cpu_task

    // ANCHOR: cpu_task_yielding
    /// The honest fix: hand the worker thread back after every step, which also gives the
    /// runtime a point at which an aborted task can be dropped.
    pub async fn cpu_task_yielding(self) {
        self.wait_for_start_async().await;
        let mut seed = self.id() as u64;
        loop {
            seed = self.cpu_step(seed);
            if !self.step_done() {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    // ANCHOR_END: cpu_task_yielding

    // ANCHOR: cpu_task_checking
    /// A CPU-bound task that checks a token between steps. It still never yields, so it still
    /// holds its worker thread while it runs, but it ends within one step of the request.
    pub async fn cpu_task_checking(self, token: CancellationToken) {
        self.wait_for_start_async().await;
        let mut seed = self.id() as u64;
        while !token.is_cancelled() {
            seed = self.cpu_step(seed);
            if !self.step_done() {
                break;
            }
        }
    }
    // ANCHOR_END: cpu_task_checking

    // ANCHOR: cpu_thread_flag
    /// A CPU-bound thread checking a shared flag between steps.
    pub fn cpu_thread_flag(self, stop: &AtomicBool) {
        self.wait_for_start();
        let mut seed = self.id() as u64;
        while !stop.load(Ordering::Relaxed) {
            seed = self.cpu_step(seed);
            if !self.step_done() {
                break;
            }
        }
    }
    // ANCHOR_END: cpu_thread_flag
}
