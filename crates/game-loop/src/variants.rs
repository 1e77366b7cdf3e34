//! The variants: where the simulation runs, where the networking runs, and how the two
//! talk. Each is declared once here; its server lives in a module of its own.
//!
//! A server is started in two steps so that a harness can wrap only the game loop: [`start`]
//! binds the socket and brings the network side up (TCP variants accept connections from
//! then on), and [`Server::run`] runs the fixed-tick loop for the configured number of ticks,
//! then shuts everything down and returns the [`ServerReport`].

use std::{collections::HashSet, net::SocketAddr, time::Duration};

use serde::{Deserialize, Serialize};

use crate::{
    all_async,
    books::{NetBook, ServerReport},
    clock::TickBook,
    host::Host,
    hybrid, net, poll,
    replay::replay,
    sim::{InputLog, SimConfig},
    systems::Executor,
    tcp_async, tcp_threads,
    world::WorldConfig,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Variant {
    Hybrid,
    HybridSt,
    AllAsync,
    SingleThreadPoll,
    ThreadPerClient,
    HybridTcp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Variant {
    pub const ALL: [Variant; 6] = [
        Variant::Hybrid,
        Variant::HybridSt,
        Variant::AllAsync,
        Variant::SingleThreadPoll,
        Variant::ThreadPerClient,
        Variant::HybridTcp,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Variant::Hybrid => "hybrid",
            Variant::HybridSt => "hybrid-st",
            Variant::AllAsync => "all-async",
            Variant::SingleThreadPoll => "single-thread-poll",
            Variant::ThreadPerClient => "thread-per-client",
            Variant::HybridTcp => "hybrid-tcp",
        }
    }

    /// Why the variant exists, in a line.
    pub const fn why(self) -> &'static str {
        match self {
            Variant::Hybrid => {
                "the simulation on its own thread with Bevy's multi-threaded executor, UDP on tokio tasks, flume channels between"
            }
            Variant::HybridSt => {
                "the hybrid with Bevy's single-threaded executor: what the executor's per-system hand-off costs"
            }
            Variant::AllAsync => {
                "the simulation as a tokio task woken by a timer, on the same runtime as the UDP tasks"
            }
            Variant::SingleThreadPoll => {
                "one thread: drain a non-blocking UDP socket, tick, send; how renet and lightyear do it"
            }
            Variant::ThreadPerClient => {
                "TCP with a blocking reader and writer thread per client, the simulation on its own thread"
            }
            Variant::HybridTcp => {
                "TCP with a reader and writer task per client on tokio, the simulation on its own thread: thread-per-client's transport with tasks"
            }
        }
    }

    pub fn from_name(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }

    pub const fn transport(self) -> Transport {
        match self {
            Variant::ThreadPerClient | Variant::HybridTcp => Transport::Tcp,
            _ => Transport::Udp,
        }
    }

    /// How the variant runs the schedule. The hybrid, all-async and both TCP variants run
    /// the same simulation (Bevy's default, multi-threaded executor with `par_iter`), so that
    /// what differs between them is only where it runs and how the network reaches it.
    pub const fn sim(self) -> SimConfig {
        match self {
            Variant::HybridSt => SimConfig { executor: Executor::Single, parallel: true },
            Variant::SingleThreadPoll => SimConfig { executor: Executor::Single, parallel: false },
            _ => SimConfig { executor: Executor::Multi, parallel: true },
        }
    }

    /// OS threads a connected client costs the server.
    pub const fn threads_per_client(self) -> u64 {
        match self {
            Variant::ThreadPerClient => 2,
            _ => 0,
        }
    }
}

/// Replays a recorded log through `variant`'s simulation where the variant runs it: on a
/// thread of its own, as a task on a multi-threaded tokio runtime, or on the calling thread
/// for `single-thread-poll`; with the variant's executor. Returns the world's digest.
pub fn replay_as(variant: Variant, world: WorldConfig, log: &InputLog) -> anyhow::Result<u64> {
    let how = variant.sim();
    match variant {
        Variant::SingleThreadPoll => Ok(replay(world, how, log)),
        Variant::AllAsync => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let log = log.clone();
            Ok(runtime.block_on(runtime.spawn(async move { replay(world, how, &log) }))?)
        }
        _ => std::thread::scope(|scope| {
            scope.spawn(|| replay(world, how, log)).join().map_err(|_| anyhow::anyhow!("the replay panicked"))
        }),
    }
}

/// What a server run is asked to do.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct ServerSpec {
    pub world: WorldConfig,
    /// How many tick slots the run lasts: its length in time is `slots × 15.625 ms`.
    pub slots: u64,
    /// Keep every applied event, for a replay.
    pub record_log: bool,
    /// TCP: connections beyond this are refused (the machine's safe cap).
    pub max_connections: usize,
    /// TCP: snapshots queued per client before newer ones are dropped.
    pub client_queue: usize,
    /// TCP: each connection's kernel send buffer, fixed so thousands of connections cannot
    /// grow to megabytes each (autotuning off); 0 leaves the kernel's default.
    pub tcp_send_buffer: usize,
}

impl ServerSpec {
    /// TCP: how long a connection may stay silent before the server closes it: twice the
    /// simulation's timeout, so that the simulation drops the client first and the two
    /// counts stay apart.
    pub fn silence_limit(&self) -> Duration {
        crate::clock::PERIOD * self.world.timeout_ticks.saturating_mul(2).max(2)
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

/// A started server: the network side is up; the tick loop has not begun.
pub struct Server {
    variant: Variant,
    addr: SocketAddr,
    inner: Inner,
}

enum Inner {
    Hybrid(hybrid::Started),
    AllAsync(all_async::Started),
    Poll(poll::Started),
    Threads(tcp_threads::Started),
    Tasks(tcp_async::Started),
}

/// Binds 127.0.0.1 and brings the variant's network side up.
pub fn start(variant: Variant, spec: ServerSpec) -> anyhow::Result<Server> {
    let how = variant.sim();
    let inner = match variant {
        Variant::Hybrid | Variant::HybridSt => Inner::Hybrid(hybrid::start(spec, how)?),
        Variant::AllAsync => Inner::AllAsync(all_async::start(spec, how)?),
        Variant::SingleThreadPoll => Inner::Poll(poll::start(spec, how)?),
        Variant::ThreadPerClient => Inner::Threads(tcp_threads::start(spec, how)?),
        Variant::HybridTcp => Inner::Tasks(tcp_async::start(spec, how)?),
    };
    let addr = match &inner {
        Inner::Hybrid(s) => s.addr,
        Inner::AllAsync(s) => s.addr,
        Inner::Poll(s) => s.addr,
        Inner::Threads(s) => s.addr,
        Inner::Tasks(s) => s.addr,
    };
    Ok(Server { variant, addr, inner })
}

impl Server {
    /// Where clients reach it: always 127.0.0.1.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// Runs the tick loop to its end, shuts the server down and reports.
    pub fn run(self) -> anyhow::Result<ServerReport> {
        let variant = self.variant;
        Ok(match self.inner {
            Inner::Hybrid(s) => s.run()?.report(variant),
            Inner::AllAsync(s) => s.run()?.report(variant),
            Inner::Poll(s) => s.run()?.report(variant),
            Inner::Threads(s) => s.run()?.report(variant),
            Inner::Tasks(s) => s.run()?.report(variant),
        })
    }
}

/// The kernel's drop count for the server's UDP port.
pub fn kernel_drops(port: u16) -> Option<u64> {
    net::udp_drops(&HashSet::from([port]))
}

/// What a variant's run leaves behind, before it becomes a report.
pub struct Finished<R> {
    pub host: Host<R>,
    pub ticks: TickBook,
    pub book: std::sync::Arc<NetBook>,
    /// UDP: datagrams the kernel dropped at the server's socket, read before it closed.
    pub kernel_drops: Option<u64>,
}

impl<R> Finished<R> {
    pub fn report(mut self, variant: Variant) -> ServerReport {
        ServerReport {
            variant,
            kernel_drops: self.kernel_drops,
            sim: self.host.sim.counts(),
            net: self.book.counts(),
            digest: self.host.sim.digest(),
            log: self.host.sim.take_log(),
            clients_at_end: self.host.sim.clients(),
            ticks: self.ticks,
        }
    }
}
