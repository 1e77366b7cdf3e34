//! What the two TCP variants share: the message a connection sends the simulation, what a
//! reader does with each frame, the simulation thread's loop, and the cap on connections.
//!
//! Each connection has a bounded queue of snapshots, drained by its writer (a thread or a
//! task). The simulation only ever `try_send`s into it: a client that stops reading fills
//! its own queue and loses its own snapshots, counted, while every other client and the tick
//! go on.

use std::{
    io::{self, ErrorKind},
    os::fd::AsFd,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use flume::TrySendError;

use crate::{
    net::protocol::{DecodeError, Input, MAX_MESSAGE},
    servers::{
        books::{Count, NetBook},
        host::Host,
        spec::ServerSpec,
    },
    sim::clock::{TickBook, run_ticks},
};

/// How a client's snapshots reach its connection: the sending end of its queue.
pub type Route = flume::Sender<Vec<u8>>;

/// What a connection tells the simulation.
pub enum Msg {
    Input(Input, Route),
    /// The connection that spoke for this client closed.
    Leave(u32, Route),
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

/// A connection's reader, whether a thread or a task runs it: each frame is decoded (a
/// malformed one is counted) and handed to the simulation without waiting.
pub struct Reader<'a> {
    route: Route,
    inbox: &'a flume::Sender<Msg>,
    book: &'a NetBook,
    /// The client the connection last spoke for: it leaves when the connection ends.
    client: Option<u32>,
    /// Where the next frame's bytes go.
    pub body: [u8; MAX_MESSAGE],
}

impl<'a> Reader<'a> {
    pub fn new(route: Route, inbox: &'a flume::Sender<Msg>, book: &'a NetBook) -> Self {
        Reader { route, inbox, book, client: None, body: [0; MAX_MESSAGE] }
    }

    /// One attempt at a frame: its length in `body`, `None` for a prefix announcing more
    /// than any valid message, or the error. False once the connection is done: the client
    /// closed it, went silent past the limit, or sent a frame too long to be one of ours.
    pub fn take(&mut self, read: io::Result<Option<usize>>) -> bool {
        match read {
            Ok(Some(len)) => {
                if let Some(input) = self.book.read_input(&self.body[..len]) {
                    self.client = Some(input.client);
                    if let Err(TrySendError::Full(_)) = self.inbox.try_send(Msg::Input(input, self.route.clone())) {
                        self.book.bump(Count::InboxFull);
                    }
                }
                true
            }
            Ok(None) => {
                self.book.malformed(DecodeError::Oversized);
                self.book.bump(Count::ClosedMalformed);
                false
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                self.book.bump(Count::ClosedSilent);
                false
            }
            // The client closed or reset the connection, or the server is shutting down.
            Err(_) => false,
        }
    }

    /// The connection ended: the client it spoke for leaves.
    pub fn finish(self) {
        if let Some(client) = self.client {
            let _ = self.inbox.try_send(Msg::Leave(client, self.route));
        }
    }
}

/// The simulation thread of both TCP variants, run on the calling thread with the world
/// built before.
pub fn simulate(
    mut host: Host<Route>,
    slots: u64,
    inbox: &flume::Receiver<Msg>,
    book: &NetBook,
) -> (Host<Route>, TickBook) {
    let ticks = run_ticks(slots, || {
        for msg in inbox.try_iter() {
            match msg {
                Msg::Input(input, route) => host.input(input, route),
                Msg::Leave(client, route) => host.leave(client, &route),
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
    });
    (host, ticks)
}

/// Counts open connections against the machine's safe cap.
#[derive(Debug)]
pub struct Admission {
    open: Arc<AtomicUsize>,
    cap: usize,
}

/// One admitted connection's place under the cap, given back exactly once: when the last
/// thread or task holding it ends, or when a start that failed drops it.
#[derive(Debug)]
pub struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    pub fn new(cap: usize) -> Self {
        Admission { open: Arc::default(), cap }
    }

    pub fn admit(&self) -> Option<Slot> {
        let cap = self.cap;
        let admitted = self.open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < cap).then_some(n + 1));
        admitted.is_ok().then(|| Slot(Arc::clone(&self.open)))
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_stops_at_the_cap_and_reopens_when_a_slot_is_dropped() {
        let gate = Admission::new(2);
        let (first, _second) = (gate.admit().expect("one"), gate.admit().expect("two"));
        assert!(gate.admit().is_none());
        drop(first);
        assert!(gate.admit().is_some());
        assert_eq!(gate.open(), 1, "the third slot was dropped at once");
    }
}
