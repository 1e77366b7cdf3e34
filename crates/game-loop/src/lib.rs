//! # game-loop
//!
//! **Question:** a game server must simulate at a fixed tick and talk to many clients: where
//! should the simulation and the networking live, and what does each choice do to tick timing
//! and client latency?
//!
//! The server is a small authoritative game: a `bevy_ecs` world of wandering, colliding
//! entities (10,000 by default) stepped at a fixed 64 Hz, one avatar per client steered by the
//! client's latest input, and a snapshot per client per tick of the entities near its avatar.
//! Bots in a separate load-generator process send inputs at 30 Hz over 127.0.0.1 and measure
//! the time from each input to the first snapshot that acknowledges it.
//!
//! The variants (in [`variants`]), and why each exists:
//! - `hybrid` ([`hybrid`]): the framework's advice: the simulation on its own thread, the
//!   network on tokio tasks, flume channels between.
//! - `hybrid-st` ([`hybrid`]): the same with Bevy's single-threaded executor, because on a
//!   small world the multi-threaded executor's hand-off per system can cost more than the
//!   systems.
//! - `all-async` ([`all_async`]): the simulation as a tokio task on the network's runtime.
//! - `single-thread-poll` ([`poll`]): one thread drains a non-blocking socket, ticks and
//!   sends, as the renet and lightyear crates do.
//! - `thread-per-client` ([`tcp_threads`]): TCP, a blocking reader and writer thread per
//!   client, capped by what the machine can hold ([`caps`]).
//! - `hybrid-tcp` ([`tcp_async`]): the same TCP server with tasks in place of threads, so the
//!   connection model can be told apart from the transport.
//!
//! Where the rest lives:
//! - [`world`], [`systems`], [`grid`]: the simulation: components, the schedule, the spatial
//!   grid. Fixed-point positions and an order-free grid make it deterministic on any executor.
//! - [`sim`]: the world plus the clients' sessions, the inbox that orders inputs by client,
//!   and the input log a run can be replayed from.
//! - [`clock`]: the fixed tick, and how lateness, merged and missed ticks are counted.
//! - [`host`]: the part every server shares: inbox, simulation, routes to clients.
//! - [`protocol`]: the wire format; decoding is total.
//! - [`bots`], [`flood`]: the load generator's body: the bots, and malformed datagrams.
//! - [`books`], [`net`]: the counters a server keeps, and loopback sockets.
//! - [`params`], [`plan`], [`run`], [`figures`], [`findings`], [`caps`]: the case on the
//!   harness: options and sizes, the tables, one run (and the load generator's body), what a
//!   run records, what the figures say, and how many clients this machine can hold.

pub mod accounting;
pub mod all_async;
pub mod books;
pub mod bot;
pub mod bots;
pub mod caps;
pub mod clock;
pub mod figures;
pub mod findings;
pub mod flood;
pub mod grid;
pub mod host;
pub mod hybrid;
pub mod net;
pub mod params;
pub mod plan;
pub mod poll;
pub mod protocol;
pub mod replay;
pub mod run;
pub mod sim;
pub mod systems;
pub mod tcp;
pub mod tcp_async;
pub mod tcp_threads;
pub mod variants;
pub mod world;

use casebook::{
    Case, CaseInfo, ClaimId, ClaimResult, Ctx, GenCtx, LoadSpec, Model, Needs, Point, Preset, Report, Table, UsageError,
};

pub use crate::params::{Args, Params, RowSpec, Tables};
use crate::variants::Variant;

pub struct GameLoop;

const fn variant(v: Variant, model: Model) -> casebook::Variant {
    casebook::Variant { name: v.name(), model, why: v.why() }
}

impl Case for GameLoop {
    type Args = Args;
    type Params = Params;
    type Shared = ();

    const INFO: CaseInfo = CaseInfo {
        name: "game-loop",
        question: env!("CARGO_PKG_DESCRIPTION"),
        claims: &[
            ClaimId::HybridGame,
            ClaimId::RealtimeProgress,
            ClaimId::AsyncManyConns,
            ClaimId::NoThreadPerRequest,
            ClaimId::HybridCoordination,
        ],
        variants: &[
            variant(Variant::Hybrid, Model::Hybrid),
            variant(Variant::HybridSt, Model::Hybrid),
            variant(Variant::AllAsync, Model::Async),
            variant(Variant::SingleThreadPoll, Model::Sequential),
            variant(Variant::ThreadPerClient, Model::Threads),
            variant(Variant::HybridTcp, Model::Hybrid),
        ],
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        params::resolve(args, preset)
    }

    /// The largest run: the world, and every client's buffers on the server's side.
    fn needs(params: &Params, _variants: &[&'static casebook::Variant]) -> Needs {
        let clients = params.sweep.iter().copied().chain([params.clients]).max().unwrap_or(0);
        Needs::default().memory(
            "the world and every client's buffers",
            u64::from(params.entities) * 512 + u64::from(clients) * (128 << 10),
        )
    }

    fn plan(params: &Params, variants: &[&'static casebook::Variant]) -> Vec<Table> {
        plan::tables(params, variants)
    }

    fn run(params: &Params, _shared: &(), point: &Point, ctx: &mut Ctx) -> anyhow::Result<()> {
        run::execute(params, point, ctx)
    }

    fn load(_params: &Params, _shared: &(), spec: &LoadSpec, generator: &mut GenCtx) -> anyhow::Result<()> {
        run::load(spec, generator)
    }

    fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
        findings::claims(params, report)
    }

    fn verdicts(params: &Params, report: &Report) -> Vec<String> {
        findings::verdicts(params, report)
    }

    fn check(params: &Params, report: &Report) -> Vec<String> {
        findings::check(params, report)
    }
}
