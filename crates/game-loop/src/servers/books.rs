//! What the server's network side counted: tallies shared by its threads or tasks. Nothing
//! here decides anything; the findings read it.

use std::{
    ops::Index,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
};

use crate::net::protocol::{DecodeError, Input, decode_input};

/// What the network side counts, besides malformed datagrams by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    /// Inputs decoded and handed toward the simulation.
    Inputs,
    /// Inputs dropped because the queue to the simulation was full.
    InboxFull,
    /// Snapshots written to a socket.
    Sent,
    /// Snapshots dropped before a socket: a full per-client or per-tick queue, or a socket
    /// that would have blocked. The tick never waits for a client.
    Dropped,
    SendErrors,
    RecvErrors,
    /// `single-thread-poll`: ticks whose read stopped at the per-tick cap with datagrams
    /// still queued in the socket.
    LeftQueued,
    /// TCP connections accepted, refused over the cap, and closed by the server.
    Accepted,
    Refused,
    ClosedSilent,
    ClosedMalformed,
}

const COUNTS: usize = Count::ClosedMalformed as usize + 1;

/// Relaxed atomics: each is a tally read once after the run, never a signal between threads.
#[derive(Debug, Default)]
pub struct NetBook {
    counts: [AtomicU64; COUNTS],
    malformed: [AtomicU64; DecodeError::KINDS.len()],
    /// The first tick whose snapshot (for anyone) was dropped, kept as `!tick` so that
    /// `fetch_max` keeps the earliest and 0 means none yet.
    first_drop: AtomicU64,
}

impl NetBook {
    pub fn bump(&self, count: Count) {
        self.counts[count as usize].fetch_add(1, Relaxed);
    }

    /// Counts `n` snapshots of `tick` dropped before a socket.
    pub fn dropped_at(&self, tick: u32, n: u64) {
        self.counts[Count::Dropped as usize].fetch_add(n, Relaxed);
        self.first_drop.fetch_max(!u64::from(tick), Relaxed);
    }

    pub fn malformed(&self, error: DecodeError) {
        self.malformed[error.index()].fetch_add(1, Relaxed);
    }

    /// Decodes a datagram or frame: an input, or `None` with the reason counted.
    pub fn read_input(&self, bytes: &[u8]) -> Option<Input> {
        match decode_input(bytes) {
            Ok(input) => {
                self.bump(Count::Inputs);
                Some(input)
            }
            Err(error) => {
                self.malformed(error);
                None
            }
        }
    }

    pub fn counts(&self) -> NetCounts {
        let first_drop = self.first_drop.load(Relaxed);
        NetCounts {
            counts: std::array::from_fn(|i| self.counts[i].load(Relaxed)),
            malformed: std::array::from_fn(|i| self.malformed[i].load(Relaxed)),
            first_drop_tick: (first_drop != 0).then_some(!first_drop as u32),
        }
    }
}

/// The plain numbers of a [`NetBook`]: `counts[Count::Sent]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetCounts {
    counts: [u64; COUNTS],
    /// By kind, in [`DecodeError::KINDS`] order.
    pub malformed: [u64; DecodeError::KINDS.len()],
    pub first_drop_tick: Option<u32>,
}

impl Index<Count> for NetCounts {
    type Output = u64;

    fn index(&self, count: Count) -> &u64 {
        &self.counts[count as usize]
    }
}

impl NetCounts {
    pub fn malformed_total(&self) -> u64 {
        self.malformed.iter().sum()
    }

    pub fn malformed_of(&self, kind: DecodeError) -> u64 {
        self.malformed[kind.index()]
    }
}
