//! What every server is given and hands back, whichever variant it is: the spec of a run, the
//! sizes of its queues, the started server, and its report.

use std::{collections::HashSet, net::SocketAddr, time::Duration};

use anyhow::Context;
use casebook::host::cpus::usable_cores;
use serde::{Deserialize, Serialize};

use crate::{
    net::sockets::udp_drops,
    servers::{
        books::{NetBook, NetCounts},
        host::Host,
    },
    sim::{
        clock::{PERIOD, TickBook},
        simulation::{InputLog, SimCounts},
        world::WorldConfig,
    },
};

/// What a server run is asked to do.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct ServerSpec {
    pub world: WorldConfig,
    /// How many tick slots the run lasts: its length in time is `slots × 15.625 ms`.
    pub slots: u64,
    /// Keep every applied event, for a replay.
    pub record_log: bool,
    /// Inputs held between the network and the simulation ([`INBOX_CAPACITY`]); for
    /// `single-thread-poll`, the most datagrams one tick reads.
    pub inbox: usize,
    /// TCP: connections beyond this are refused (the machine's safe cap).
    pub max_connections: usize,
    /// TCP: snapshots queued per client before newer ones are dropped.
    pub client_queue: usize,
    /// TCP: each connection's kernel send buffer, fixed so thousands of connections cannot
    /// grow to megabytes each (autotuning off); 0 leaves the kernel's default.
    pub tcp_send_buffer: usize,
}

impl ServerSpec {
    /// A run of `slots` ticks of `world`, with the case's queue and buffer sizes.
    pub fn new(world: WorldConfig, slots: u64, record_log: bool, max_connections: usize) -> ServerSpec {
        let (inbox, client_queue, tcp_send_buffer) = (INBOX_CAPACITY, CLIENT_QUEUE, TCP_SEND_BUFFER);
        ServerSpec { world, slots, record_log, max_connections, inbox, client_queue, tcp_send_buffer }
    }

    /// TCP: how long a connection may stay silent before the server closes it: twice the
    /// simulation's timeout, so that the simulation drops the client first and the two
    /// counts stay apart.
    pub fn silence_limit(&self) -> Duration {
        PERIOD * self.world.timeout_ticks.saturating_mul(2).max(2)
    }
}

/// Inputs held between the network and the simulation: many ticks' worth at thousands of
/// clients; when it is full, inputs are dropped and counted, never waited for.
pub const INBOX_CAPACITY: usize = 1 << 16;
/// Ticks' worth of snapshot batches the simulation may queue ahead of the UDP send task.
pub const OUTBOX_BATCHES: usize = 4;
/// Snapshots queued per TCP client: a quarter of a second at 64 Hz; older ones would be
/// stale by the time they were sent.
pub const CLIENT_QUEUE: usize = 16;
/// A TCP connection's send buffer (the kernel doubles it for its own bookkeeping): a few
/// dozen snapshots, half a second of them.
pub const TCP_SEND_BUFFER: usize = 16 * 1024;

/// A started server, in three steps so that a run measures only the game: [`Variant::start`]
/// brings the network side up (a TCP server accepts from then on) and builds the world;
/// [`Server::play`] runs the fixed-tick loop for the spec's slots, the measured region; and
/// [`Played::finish`] shuts the network down, joins what it started and hashes the world.
///
/// [`Variant::start`]: crate::variants::Variant::start
pub struct Server {
    addr: SocketAddr,
    play: Box<dyn FnOnce() -> anyhow::Result<Played> + Send>,
}

/// A server whose ticks are done: what is left is to stop it and report.
pub struct Played(Box<dyn FnOnce() -> anyhow::Result<ServerReport> + Send>);

impl Server {
    /// `play` runs the ticks and returns what stops the server afterwards.
    pub fn new(addr: SocketAddr, play: impl FnOnce() -> anyhow::Result<Played> + Send + 'static) -> Server {
        Server { addr, play: Box::new(play) }
    }

    /// Where clients reach it: always 127.0.0.1.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn play(self) -> anyhow::Result<Played> {
        (self.play)()
    }

    /// All of it at once, for tests.
    pub fn run(self) -> anyhow::Result<ServerReport> {
        self.play()?.finish()
    }
}

impl Played {
    pub fn new(finish: impl FnOnce() -> anyhow::Result<ServerReport> + Send + 'static) -> Played {
        Played(Box::new(finish))
    }

    pub fn finish(self) -> anyhow::Result<ServerReport> {
        (self.0)()
    }
}

/// Everything one server run hands back.
#[derive(Debug)]
pub struct ServerReport {
    pub ticks: TickBook,
    pub sim: SimCounts,
    pub net: NetCounts,
    /// The world's hash after the last tick.
    pub digest: u64,
    /// The applied events themselves, when the run was asked to keep them.
    pub log: Option<InputLog>,
    pub clients_at_end: usize,
    /// Inputs and goodbyes that claimed a client id another address or connection holds.
    pub wrong_route: u64,
    /// UDP: datagrams the kernel dropped at the server's full receive queue, read from
    /// `/proc/net/udp` before the socket closed.
    pub kernel_drops: Option<u64>,
}

impl ServerReport {
    pub fn new<R>(mut host: Host<R>, ticks: TickBook, book: &NetBook, kernel_drops: Option<u64>) -> ServerReport {
        ServerReport {
            ticks,
            sim: host.sim.counts(),
            net: book.counts(),
            digest: host.sim.digest(),
            log: host.sim.take_log(),
            clients_at_end: host.sim.clients(),
            wrong_route: host.wrong_route,
            kernel_drops,
        }
    }
}

/// The kernel's drop count at a UDP server's port.
pub fn kernel_drops(addr: SocketAddr) -> Option<u64> {
    udp_drops(&HashSet::from([addr.port()]))
}

/// The tokio side of the async variants: a multi-threaded runtime with a worker per core this
/// run may use, as `#[tokio::main]` would build, its threads named `name`.
pub fn runtime(name: &str) -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(usable_cores())
        .enable_all()
        .thread_name(name)
        .build()
        .context("cannot start the tokio runtime")
}
