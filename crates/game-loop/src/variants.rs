//! The variants, declared once: where the simulation runs, where the networking runs, and how
//! the two talk. Each one's server lives in [`crate::servers`]; [`Variant::start`] is the one
//! place that says which, and the helpers below say which tables each belongs to.

use crate::{
    net::protocol::Transport,
    servers::{
        all_async, hybrid, poll,
        spec::{Server, ServerSpec, runtime},
        tcp_async, tcp_threads,
    },
    sim::{
        replay::replay,
        simulation::{InputLog, SimConfig},
        systems::Executor,
        world::WorldConfig,
    },
};

casebook::variants! {
    /// Where the simulation and the networking live, in the order the tables list them.
    pub enum Variant {
        Hybrid = "hybrid" (Hybrid): "the simulation on its own thread with Bevy's multi-threaded executor, UDP on tokio tasks, flume channels between",
        HybridSt = "hybrid-st" (Hybrid): "the hybrid with Bevy's single-threaded executor: what the executor's per-system hand-off costs",
        AllAsync = "all-async" (Async): "the simulation as a tokio task woken by a timer, on the same runtime as the UDP tasks",
        SingleThreadPoll = "single-thread-poll" (Sequential): "one thread: drain a non-blocking UDP socket, tick, send; how renet and lightyear do it",
        ThreadPerClient = "thread-per-client" (Threads): "TCP with a blocking reader and writer thread per client, the simulation on its own thread",
        HybridTcp = "hybrid-tcp" (Hybrid): "TCP with a reader and writer task per client on tokio, the simulation on its own thread: thread-per-client's transport with tasks",
    }
}

impl Variant {
    pub fn transport(self) -> Transport {
        match self {
            Variant::ThreadPerClient | Variant::HybridTcp => Transport::Tcp,
            _ => Transport::Udp,
        }
    }

    /// How the variant runs the schedule. The hybrid, all-async and both TCP variants run
    /// the same simulation (Bevy's default, multi-threaded executor with `par_iter`), so that
    /// what differs between them is only where it runs and how the network reaches it.
    pub fn sim(self) -> SimConfig {
        match self {
            Variant::HybridSt => SimConfig { executor: Executor::Single, parallel: true },
            Variant::SingleThreadPoll => SimConfig { executor: Executor::Single, parallel: false },
            _ => SimConfig { executor: Executor::Multi, parallel: true },
        }
    }

    /// In the clients sweep and the abuse table: every model. `hybrid-st` differs from the
    /// hybrid only in its executor, which the replay tables measure with no network; live,
    /// its rows read as the hybrid's and cost a sixth of a default run.
    pub fn sweeps(self) -> bool {
        self != Variant::HybridSt
    }

    /// In the heavy table, which is about where the simulation runs: the TCP variants place
    /// it exactly as the hybrid does, and `hybrid-st` differs from it in the executor alone.
    pub fn heavy(self) -> bool {
        self.transport() == Transport::Udp && self != Variant::HybridSt
    }

    /// In the replay tables: one row per way of running the schedule (multi-threaded
    /// executor, single-threaded executor, single-threaded with no `par_iter`).
    pub fn replays(self) -> bool {
        matches!(self, Variant::Hybrid | Variant::HybridSt | Variant::SingleThreadPoll)
    }

    /// Binds 127.0.0.1 and brings the variant's network side up; [`Server::run`] plays.
    pub fn start(self, spec: ServerSpec) -> anyhow::Result<Server> {
        let how = self.sim();
        match self {
            Variant::Hybrid | Variant::HybridSt => hybrid::start(spec, how),
            Variant::AllAsync => all_async::start(spec, how),
            Variant::SingleThreadPoll => poll::start(spec, how),
            Variant::ThreadPerClient => tcp_threads::start(spec, how),
            Variant::HybridTcp => tcp_async::start(spec, how),
        }
    }

    /// Replays a recorded log through the variant's simulation where the variant runs it: on
    /// a thread of its own, as a task on a multi-threaded tokio runtime, or on the calling
    /// thread for `single-thread-poll`; with the variant's executor. Returns the digest.
    pub fn replay(self, world: WorldConfig, log: &InputLog) -> anyhow::Result<u64> {
        let how = self.sim();
        match self {
            Variant::SingleThreadPoll => Ok(replay(world, how, log)),
            Variant::AllAsync => {
                let runtime = runtime("replay")?;
                let log = log.clone();
                Ok(runtime.block_on(runtime.spawn(async move { replay(world, how, &log) }))?)
            }
            _ => std::thread::scope(|scope| {
                scope.spawn(|| replay(world, how, log)).join().map_err(|_| anyhow::anyhow!("the replay panicked"))
            }),
        }
    }
}
