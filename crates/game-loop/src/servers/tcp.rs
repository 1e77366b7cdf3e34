//! What the two TCP variants share: the message a connection sends the simulation, what a
//! reader does with a frame, the simulation thread's loop, and the cap on connections.
//!
//! Each connection has a bounded queue of snapshots, drained by its writer (a thread or a
//! task). The simulation only ever `try_send`s into it: a client that stops reading fills
//! its own queue and loses its own snapshots, counted, while every other client and the tick
//! go on.

use std::{
    os::fd::AsFd,
    sync::atomic::{AtomicUsize, Ordering},
    time::Instant,
};

use flume::TrySendError;

use crate::{
    net::protocol::Input,
    servers::{
        books::{Count, NetBook},
        host::Host,
        spec::ServerSpec,
    },
    sim::{
        clock::{TickBook, TickClock, sleep_until},
        simulation::SimConfig,
    },
};

/// How a client's snapshots reach its connection: the sending end of its queue.
pub type Route = flume::Sender<Vec<u8>>;

/// What a connection tells the simulation.
pub enum Msg {
    Input(Input, Route),
    Leave(u32),
}

/// Sets a freshly accepted connection up as the spec says: no Nagle delay, and a fixed send
/// buffer.
pub fn tune(stream: &impl AsFd, spec: &ServerSpec) {
    let socket = socket2::SockRef::from(stream);
    let _ = socket.set_tcp_nodelay(true);
    if spec.tcp_send_buffer > 0 {
        let _ = socket.set_send_buffer_size(spec.tcp_send_buffer);
    }
}

/// A reader's frame: decoded (a malformed one is counted) and handed to the simulation
/// without waiting. Returns the client an input came from.
pub fn deliver(frame: &[u8], route: &Route, inbox: &flume::Sender<Msg>, book: &NetBook) -> Option<u32> {
    let input = book.read_input(frame)?;
    if let Err(TrySendError::Full(_)) = inbox.try_send(Msg::Input(input, route.clone())) {
        book.bump(Count::InboxFull);
    }
    Some(input.client)
}

/// The simulation thread of both TCP variants, run on the calling thread.
pub fn simulate(
    spec: &ServerSpec,
    how: SimConfig,
    inbox: &flume::Receiver<Msg>,
    book: &NetBook,
) -> (Host<Route>, TickBook) {
    let mut host = Host::new(spec, how);
    let mut clock = TickClock::new(Instant::now(), spec.slots);
    while let Some(due) = clock.next(Instant::now()) {
        sleep_until(due);
        let started = Instant::now();
        clock.begin(due, started);
        for msg in inbox.try_iter() {
            match msg {
                Msg::Input(input, route) => host.input(input, route),
                Msg::Leave(client) => host.leave(client),
            }
        }
        let tick = host.sim.tick();
        // ANCHOR: tcp_tick
        host.tick(|route, bytes| match route.try_send(bytes) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => book.dropped_at(tick, 1),
            // The connection is closing; its client leaves at the next tick.
            Err(TrySendError::Disconnected(_)) => {}
        });
        // ANCHOR_END: tcp_tick
        clock.end(started, Instant::now());
    }
    (host, clock.finish())
}

/// Counts open connections against the machine's safe cap.
#[derive(Debug)]
pub struct Admission {
    open: AtomicUsize,
    cap: usize,
}

impl Admission {
    pub fn new(cap: usize) -> Self {
        Admission { open: AtomicUsize::new(0), cap }
    }

    pub fn admit(&self) -> bool {
        self.open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.cap).then_some(n + 1)).is_ok()
    }

    pub fn release(&self) {
        self.open.fetch_sub(1, Ordering::AcqRel);
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_stops_at_the_cap_and_reopens_on_release() {
        let gate = Admission::new(2);
        assert!(gate.admit() && gate.admit());
        assert!(!gate.admit());
        gate.release();
        assert!(gate.admit());
        assert_eq!(gate.open(), 2);
    }
}
