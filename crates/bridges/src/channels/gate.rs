//! A starting gate that threads and tasks wait at alike, so a measured region begins only
//! once every party of a run exists and is waiting, whatever the scheduler did meanwhile.

use std::sync::{Condvar, Mutex, MutexGuard};

use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed,
    Go,
    /// The run was abandoned before it began: whoever waits returns at once, doing nothing.
    Abandoned,
}

#[derive(Debug)]
pub struct Gate {
    arrived: Mutex<usize>,
    arrivals: Condvar,
    state: Mutex<State>,
    changed: Condvar,
    /// The same state for tasks, which must not block their worker on a condition variable.
    state_async: watch::Sender<State>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            arrived: Mutex::new(0),
            arrivals: Condvar::new(),
            state: Mutex::new(State::Closed),
            changed: Condvar::new(),
            state_async: watch::Sender::new(State::Closed),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Gate {
    /// Counts one party as ready, without waiting for the gate.
    pub fn arrive(&self) {
        *lock(&self.arrived) += 1;
        self.arrivals.notify_all();
    }

    /// From a thread: arrives and waits; true to go, false if the run was abandoned.
    pub fn arrive_and_wait(&self) -> bool {
        self.arrive();
        let mut state = lock(&self.state);
        while *state == State::Closed {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        *state == State::Go
    }

    /// From a task: the same, awaiting instead of blocking.
    pub async fn arrive_and_wait_async(&self) -> bool {
        self.arrive();
        let mut state = self.state_async.subscribe();
        // The sender lives in the gate, which the caller borrows: the wait cannot fail.
        let go = state.wait_for(|s| *s != State::Closed).await.map(|s| *s == State::Go);
        go.unwrap_or(false)
    }

    /// Blocks until `parties` have arrived.
    pub fn wait_for_arrivals(&self, parties: usize) {
        let mut arrived = lock(&self.arrived);
        while *arrived < parties {
            arrived = self.arrivals.wait(arrived).unwrap_or_else(|e| e.into_inner());
        }
    }

    pub fn open(&self) {
        self.set(State::Go);
    }

    /// Releases every waiter with nothing to do; used when a run is torn down unstarted.
    pub fn abandon(&self) {
        let mut state = lock(&self.state);
        if *state == State::Closed {
            *state = State::Abandoned;
            drop(state);
            self.changed.notify_all();
            self.state_async.send_replace(State::Abandoned);
        }
    }

    fn set(&self, to: State) {
        *lock(&self.state) = to;
        self.changed.notify_all();
        self.state_async.send_replace(to);
    }
}
