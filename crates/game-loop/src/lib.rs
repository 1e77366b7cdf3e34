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
//! The variants (declared in [`variants`]), and why each exists:
//! - `hybrid` ([`servers::hybrid`]): the framework's advice: the simulation on its own
//!   thread, the network on tokio tasks, flume channels between.
//! - `hybrid-st` ([`servers::hybrid`]): the same with Bevy's single-threaded executor, because
//!   on a small world the multi-threaded executor's hand-off per system can cost more than
//!   the systems; measured in the replay tables, where no network blurs it.
//! - `all-async` ([`servers::all_async`]): the simulation as a tokio task on the network's
//!   runtime.
//! - `single-thread-poll` ([`servers::poll`]): one thread drains a non-blocking socket, ticks
//!   and sends, as the renet and lightyear crates do.
//! - `thread-per-client` ([`servers::tcp_threads`]): TCP, a blocking reader and writer thread
//!   per client, capped by what the machine can hold ([`servers::caps`]).
//! - `hybrid-tcp` ([`servers::tcp_async`]): the same TCP server with tasks in place of
//!   threads, so the connection model can be told apart from the transport.
//!
//! The case's parts, as every case has them: [`variants`] (the enum, and which server each
//! starts), [`tables`] (the client sweep, the heavy simulation, the abuse run, the replays),
//! [`params`] (options and sizes), [`run`] (one run, and the load generator's body),
//! [`figures`] (what a run records) and [`findings`] (the claims, the verdicts and the books
//! every run must balance). The scenario lives in four folders: [`sim`] (the world, its
//! schedule, the fixed tick, replays), [`net`] (the wire format and loopback sockets),
//! [`servers`] (the six servers and what they share) and [`bots`] (the load generator).

pub mod bots;
pub mod figures;
pub mod findings;
pub mod net;
pub mod params;
pub mod run;
pub mod servers;
pub mod sim;
pub mod tables;
pub mod variants;

use casebook::{Case, CaseInfo, ClaimId, ClaimResult, Ctx, GenCtx, LoadSpec, Needs, Preset, Report, Table, UsageError};

use crate::{
    params::{Args, Params, Spec},
    variants::Variant,
};

pub struct GameLoop;

impl Case for GameLoop {
    type Args = Args;
    type Params = Params;
    type Shared = ();
    type Variant = Variant;
    type Spec = Spec;

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
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        params::resolve(args, preset)
    }

    /// The largest run: the world, and every client's buffers on the server's side.
    fn needs(params: &Params, _variants: &[Variant]) -> Needs {
        let clients = params.sweep.iter().copied().chain([params.clients]).max().unwrap_or(0);
        Needs::default().memory(
            "the world and every client's buffers",
            u64::from(params.entities) * 512 + u64::from(clients) * (128 << 10),
        )
    }

    fn plan(params: &Params, variants: &[Variant]) -> Vec<Table> {
        tables::tables(params, variants)
    }

    fn run(params: &Params, _shared: &(), variant: Variant, spec: Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
        run::execute(params, variant, spec, ctx)
    }

    fn load(_params: &Params, _shared: &(), spec: &LoadSpec, generator: &mut GenCtx) -> anyhow::Result<()> {
        run::load(spec, generator)
    }

    fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
        findings::claims::claims(params, report)
    }

    fn verdicts(params: &Params, report: &Report) -> Vec<String> {
        findings::verdicts::verdicts(params, report)
    }

    fn check(params: &Params, report: &Report) -> Vec<String> {
        findings::checks::check(params, report)
    }
}
