//! A starting gate that threads and tasks wait at alike, so a measured region begins only
//! once every party of a run exists and is waiting, whatever the scheduler did meanwhile.

use std::sync::{Condvar, Mutex, MutexGuard};

use tokio::sync::watch;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    #[default]
    Closed,
    Go,
    /// The run was abandoned before it began: whoever waits returns at once, doing nothing.
    Abandoned,
}

/// How many parties have arrived, and the state, under one lock and one condition variable.
#[derive(Debug, Default)]
pub struct Gate {
    inner: Mutex<(usize, State)>,
    changed: Condvar,
    /// The state again for tasks, which must not block their worker on a condition variable.
    state_async: watch::Sender<State>,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, (usize, State)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_while(&self, waiting: impl FnMut(&mut (usize, State)) -> bool) -> MutexGuard<'_, (usize, State)> {
        self.changed.wait_while(self.lock(), waiting).unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one party as ready, without waiting for the gate.
    pub fn arrive(&self) {
        self.lock().0 += 1;
        self.changed.notify_all();
    }

    /// From a thread: arrives and waits; true to go, false if the run was abandoned.
    pub fn arrive_and_wait(&self) -> bool {
        self.arrive();
        self.wait_while(|(_, state)| *state == State::Closed).1 == State::Go
    }

    /// From a task: the same, awaiting instead of blocking.
    pub async fn arrive_and_wait_async(&self) -> bool {
        self.arrive();
        let mut state = self.state_async.subscribe();
        // The sender lives in the gate, which the caller borrows: the wait cannot fail.
        let go = state.wait_for(|s| *s != State::Closed).await.map(|s| *s == State::Go);
        go.unwrap_or(false)
    }

    /// Parties that have arrived so far.
    pub fn arrived(&self) -> usize {
        self.lock().0
    }

    /// Blocks until `parties` have arrived.
    pub fn wait_for_arrivals(&self, parties: usize) {
        drop(self.wait_while(|(arrived, _)| *arrived < parties));
    }

    pub fn open(&self) {
        self.leave_closed(State::Go);
    }

    /// Releases every waiter with nothing to do; used when a run is torn down unstarted.
    pub fn abandon(&self) {
        self.leave_closed(State::Abandoned);
    }

    /// The gate leaves `Closed` once, for good.
    fn leave_closed(&self, to: State) {
        let mut inner = self.lock();
        if inner.1 == State::Closed {
            inner.1 = to;
            drop(inner);
            self.changed.notify_all();
            self.state_async.send_replace(to);
        }
    }
}
