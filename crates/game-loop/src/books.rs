//! What the server counted: the network side's counters, shared by its threads or tasks, and
//! the report a run hands back. Nothing here decides anything; `findings` reads it.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::{Deserialize, Serialize};

use crate::{
    clock::TickBook,
    protocol::{DecodeError, DecodeKind, Input, decode_input},
    sim::{InputLog, SimCounts},
    variants::Variant,
};

/// The network side's counters. Relaxed atomics: each is a tally read once after the run,
/// never a signal between threads.
#[derive(Debug)]
pub struct NetBook {
    /// Datagrams (UDP) or frames (TCP) read.
    pub received: AtomicU64,
    /// Inputs decoded and handed toward the simulation.
    pub inputs: AtomicU64,
    malformed: [AtomicU64; DecodeError::KINDS.len()],
    /// Inputs dropped because the queue to the simulation was full.
    pub inbox_full: AtomicU64,
    /// Snapshots written to a socket.
    pub sent: AtomicU64,
    /// Snapshots dropped before a socket: a full per-client or per-tick queue, or a socket
    /// that would have blocked. The tick never waits for a client.
    pub dropped: AtomicU64,
    pub send_errors: AtomicU64,
    pub recv_errors: AtomicU64,
    /// TCP connections accepted, refused over the cap, and closed by the server.
    pub accepted: AtomicU64,
    pub refused: AtomicU64,
    pub closed_silent: AtomicU64,
    pub closed_malformed: AtomicU64,
    /// The first tick whose snapshot (for anyone) was dropped, `u64::MAX` until one is.
    first_drop_tick: AtomicU64,
}

impl Default for NetBook {
    fn default() -> Self {
        NetBook {
            received: AtomicU64::new(0),
            inputs: AtomicU64::new(0),
            malformed: Default::default(),
            inbox_full: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            send_errors: AtomicU64::new(0),
            recv_errors: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            closed_silent: AtomicU64::new(0),
            closed_malformed: AtomicU64::new(0),
            first_drop_tick: AtomicU64::new(u64::MAX),
        }
    }
}

impl NetBook {
    /// Counts `n` snapshots of `tick` dropped before a socket.
    pub fn dropped_at(&self, tick: u32, n: u64) {
        self.dropped.fetch_add(n, Relaxed);
        self.first_drop_tick.fetch_min(u64::from(tick), Relaxed);
    }

    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub fn malformed(&self, error: DecodeError) {
        Self::bump(&self.malformed[error.kind().index()]);
    }

    /// Counts a datagram or frame and decodes it: an input, or `None` with the reason counted.
    pub fn read_input(&self, bytes: &[u8]) -> Option<Input> {
        Self::bump(&self.received);
        match decode_input(bytes) {
            Ok(input) => {
                Self::bump(&self.inputs);
                Some(input)
            }
            Err(error) => {
                self.malformed(error);
                None
            }
        }
    }

    pub fn counts(&self) -> NetCounts {
        let get = |c: &AtomicU64| c.load(Relaxed);
        NetCounts {
            received: get(&self.received),
            inputs: get(&self.inputs),
            malformed: std::array::from_fn(|i| get(&self.malformed[i])),
            inbox_full: get(&self.inbox_full),
            sent: get(&self.sent),
            dropped: get(&self.dropped),
            send_errors: get(&self.send_errors),
            recv_errors: get(&self.recv_errors),
            accepted: get(&self.accepted),
            refused: get(&self.refused),
            closed_silent: get(&self.closed_silent),
            closed_malformed: get(&self.closed_malformed),
            first_drop_tick: u32::try_from(get(&self.first_drop_tick)).ok(),
        }
    }
}

/// The plain numbers of a [`NetBook`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetCounts {
    pub received: u64,
    pub inputs: u64,
    /// By [`DecodeKind`], in [`DecodeError::KINDS`] order.
    pub malformed: [u64; DecodeError::KINDS.len()],
    pub inbox_full: u64,
    pub sent: u64,
    pub dropped: u64,
    pub send_errors: u64,
    pub recv_errors: u64,
    pub accepted: u64,
    pub refused: u64,
    pub closed_silent: u64,
    pub closed_malformed: u64,
    pub first_drop_tick: Option<u32>,
}

impl NetCounts {
    pub fn malformed_total(&self) -> u64 {
        self.malformed.iter().sum()
    }

    pub fn malformed_of(&self, kind: DecodeKind) -> u64 {
        self.malformed[kind.index()]
    }
}

/// Everything one server run hands back.
#[derive(Debug)]
pub struct ServerReport {
    pub variant: Variant,
    pub ticks: TickBook,
    pub sim: SimCounts,
    pub net: NetCounts,
    /// The world's hash after the last tick.
    pub digest: u64,
    /// The applied events themselves, when the run was asked to keep them.
    pub log: Option<InputLog>,
    pub clients_at_end: usize,
    /// Datagrams the kernel dropped because the server's receive queue was full (UDP only,
    /// from `/proc/net/udp`).
    pub kernel_drops: Option<u64>,
}
