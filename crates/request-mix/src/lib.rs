//! # request-mix
//!
//! **Question:** for a service whose requests mix CPU work and waiting on another service,
//! where does the answer flip between threads, async tasks and a hybrid, and with how many
//! requests in flight?
//!
//! A server takes requests over loopback TCP from clients in a load-generator process. Each
//! request spends `cpu` µs of real CPU work (BLAKE3, calibrated to this machine) and makes
//! one call to a downstream service, a real loopback server in a process of its own, which
//! answers after the rest of a fixed 1 ms budget; then the server replies with a digest of
//! both. Every run answers a fixed number of requests with N in flight (closed loop), so
//! every variant answers the same requests and must return the same digest. The map sweeps
//! the CPU share of the budget (0 to 1000 µs) against N (16, 256, 1024 by default): one table per N,
//! judged by requests per second, each cell's tail beside it.
//!
//! The variants (declared in [`variants`]), and why each exists:
//! - `thread-per-connection`: blocking std::net, a thread per client connection with its own
//!   blocking downstream connection: the classic server.
//! - `thread-pool`: a fixed pool of blocking threads (16 per core by default), fed by one
//!   epoll reader: bounded threads, but a request waiting downstream holds one.
//! - `tokio-inline`: a task per connection, the CPU inline between awaits.
//! - `tokio-spawn-blocking`: the same, the CPU in `spawn_blocking`.
//! - `tokio-rayon`: async IO, the CPU on rayon, awaited through a oneshot: the framework's
//!   recommended hybrid.
//! - `thread-per-core`: a current-thread runtime per core, each with its own
//!   `SO_REUSEPORT` listener, the CPU inline.
//!
//! The case's parts, as every case has them: [`variants`], [`tables`] (the map's tables),
//! [`params`] (options, sizes, the calibration), [`run`] (one run, and the two load
//! generators' bodies), [`figures`] and [`findings`] (the books, the verdicts, one function
//! per claim). The servers under test are in [`servers`]; the wire, the CPU kernel, the
//! downstream service and the clients in [`service`].

pub mod figures;
pub mod findings;
pub mod params;
pub mod run;
pub mod servers;
pub mod service;
pub mod tables;
pub mod variants;

use casebook::{Case, CaseInfo, ClaimId, ClaimResult, Ctx, GenCtx, LoadSpec, Needs, Preset, Report, Table, UsageError};

use crate::{
    params::{Args, Params, Spec},
    variants::Variant,
};

pub struct RequestMix;

impl Case for RequestMix {
    type Args = Args;
    type Params = Params;
    type Shared = ();
    type Variant = Variant;
    type Spec = Spec;

    const INFO: CaseInfo = CaseInfo {
        name: "request-mix",
        question: env!("CARGO_PKG_DESCRIPTION"),
        claims: &[ClaimId::AsyncIo, ClaimId::ThreadsCpu, ClaimId::AsyncManyConns, ClaimId::StartAsync],
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        params::resolve(args, preset)
    }

    fn needs(params: &Params, variants: &[Variant]) -> Needs {
        params::needs(params, variants)
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

    fn verdicts(_params: &Params, report: &Report) -> Vec<String> {
        findings::verdicts::verdicts(report)
    }

    fn check(_params: &Params, report: &Report) -> Vec<String> {
        findings::checks::check(report)
    }
}
