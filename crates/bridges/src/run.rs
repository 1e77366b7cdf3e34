//! One run of one row, the fire-and-forget program (the load generator's body), and the
//! minimal loops the set-up times. Each run builds its threads, tasks and runtime first;
//! only the work is inside `ctx.measure`, and the teardown (joins, runtime shutdown) after it.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::Context;
use casebook::{Ctx, GenCtx, LoadSpec, Plan, VariantSet, model::figure};
use serde::{Deserialize, Serialize};

use crate::{
    background::{self, JobTally, Ledger},
    book::{self, Listing, Mode, StreamSpec, listings::Tick},
    channels::{
        Capacity, Direction,
        books::Msg,
        bridge::{self, BridgeSpec},
        raw::{self, REFERENCE_CAPACITY},
    },
    figures::*,
    mixing::{self, Mixing},
    params::{Params, Spec},
    tables::THREAD_TO_THREAD,
    variants::{Form, Variant},
};

/// What the set-up hands every run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Shared {
    /// Messages per second of each channel's minimal loop, timed in the parent before any
    /// run (median of [`MINIMAL_LOOP_RUNS`]); only for channels whose reference row runs.
    pub minimal_loop: Vec<(Variant, f64)>,
}

/// Timed runs of each minimal loop, after one untimed warm-up: the median, as the row's
/// figure is the median of its runs.
pub const MINIMAL_LOOP_RUNS: usize = 7;

/// Times the minimal loop of every channel whose thread-to-thread bounded(1024) row is
/// planned. It runs here, in the parent, before any child exists: outside the harness's
/// child processes, its sampling and its measured region, which is what the reference is for.
pub fn time_minimal_loops(params: &Params, plan: &Plan) -> anyhow::Result<Shared> {
    let mut shared = Shared::default();
    let messages = u32::try_from(params.messages).context("too many messages for one producer")?;
    for (variant, channel) in Variant::ALL.iter().filter_map(|v| Some((*v, v.channel()?))) {
        let key = (variant, REFERENCE_CAPACITY as f64).into();
        if plan.runs_any(|t, r| t.is(THREAD_TO_THREAD) && r.is(&key)) {
            raw::minimal_loop(channel, messages)?;
            let rates =
                (0..MINIMAL_LOOP_RUNS).map(|_| raw::minimal_loop(channel, messages)).collect::<Result<Vec<_>, _>>()?;
            let median = casebook::stats::median(&rates).context("no minimal-loop rate")?;
            shared.minimal_loop.push((variant, median));
        }
    }
    Ok(shared)
}

pub fn execute(params: &Params, shared: &Shared, variant: Variant, spec: Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
    match (variant.form(), spec) {
        (Form::Listing(listing), Spec::Book) => stream(params, listing, Mode::Book, ctx),
        (Form::Listing(listing), Spec::Drift) => {
            stream(params, listing, Mode::Drift { run_for: params.drift_for }, ctx)
        }
        (Form::Channel(channel), Spec::Bridge { direction, capacity, producers }) => {
            let per_producer =
                u32::try_from(params.messages_at(capacity) / u64::from(producers)).context("too many messages")?;
            let queue_limit = params.guard.max_items(size_of::<Msg>() as u64);
            let spec =
                BridgeSpec { channel, direction, capacity, producers, per_producer, drop_after: None, queue_limit };
            bridge(shared, variant, spec, ctx)
        }
        (Form::Mixing(form), Spec::Plain) => mix(params, form, ctx),
        (Form::Background(_), Spec::Plain) => fire_and_forget(params, variant, ctx),
        (_, spec) => anyhow::bail!("{variant} has no row of {spec:?}"),
    }
}

/// User plus system CPU of the measured region, as the harness recorded it.
fn measured_cpu(ctx: &Ctx) -> f64 {
    let recorded = ctx.recorded();
    recorded.figure(figure::USER_CPU).unwrap_or(0.0) + recorded.figure(figure::SYSTEM_CPU).unwrap_or(0.0)
}

fn stream(params: &Params, listing: Listing, mode: Mode, ctx: &mut Ctx) -> anyhow::Result<()> {
    let pace = if mode == Mode::Book { params.book } else { params.drift };
    let queue_limit = params.guard.max_items((size_of::<Tick>() + pace.payload_bytes) as u64);
    let spec = StreamSpec { listing, pace, mode, capacity: params.fix_capacity, queue_limit };
    let mut prepared = book::prepare(&spec)?;
    let outcome = ctx.measure(|| prepared.execute())?;
    drop(prepared);
    let books = &outcome.books;
    ctx.figure(LETTERS_SEEN, books.letters.len() as f64);
    ctx.figure(INTERVALS_SEEN, books.counts.len() as f64);
    ctx.figure(TIMEOUTS, f64::from(books.timeouts));
    ctx.figure(INTERVALS_MADE, outcome.produced as f64);
    ctx.figure(INTERVALS_TAKEN, outcome.taken as f64);
    ctx.figure(LEFT_QUEUED, outcome.final_depth as f64);
    ctx.figure(QUEUE_GROWTH, outcome.final_depth as f64 / outcome.elapsed.as_secs_f64().max(1e-9));
    ctx.figure(RSS_GROWTH, outcome.rss_end as f64 - outcome.rss_start as f64);
    guard_hit(ctx, outcome.guard_hit);
    if !books.age_us.is_empty() {
        ctx.histogram(INTERVAL_AGE, &books.age_us);
    }
    ctx.digest(outcome.digest());
    Ok(())
}

/// Whether an unbounded queue reached the memory guard: a figure, and a note saying why the
/// producers stopped early when it did.
fn guard_hit(ctx: &mut Ctx, hit: bool) {
    ctx.figure(GUARD_HIT, if hit { 1.0 } else { 0.0 });
    if hit {
        ctx.note(STOPPED_BY, STOPPED_BY_GUARD);
    }
}

fn bridge(shared: &Shared, variant: Variant, spec: BridgeSpec, ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut prepared = bridge::prepare(&spec)?;
    let outcome = ctx.measure(|| prepared.execute())?;
    drop(prepared);
    let d = &outcome.delivery;
    ctx.figure(MESSAGES_PER_S, outcome.messages_per_s());
    ctx.figure(CPU_PER_MESSAGE, measured_cpu(ctx) * 1e9 / d.received.max(1) as f64);
    ctx.figure(EXPECTED, spec.total() as f64);
    ctx.figure(SENT, d.sent as f64);
    ctx.figure(RECEIVED, d.received as f64);
    ctx.figure(MISSING, d.missing as f64);
    ctx.figure(SURPLUS, d.surplus as f64);
    ctx.figure(LATE, d.late as f64);
    ctx.figure(EARLY, d.early as f64);
    if let Some(depth) = outcome.peak_depth {
        ctx.figure(PEAK_DEPTH, depth as f64);
    }
    guard_hit(ctx, outcome.guard_hit);
    if !outcome.latency_ns.is_empty() {
        ctx.histogram(LATENCY, &outcome.latency_histogram());
    }
    // The channel's minimal loop timed in the parent, for its reference row only.
    let reference = (spec.direction, spec.capacity, spec.producers)
        == (Direction::THREAD_TO_THREAD, Capacity::Bounded(REFERENCE_CAPACITY), 1);
    if let Some(&(_, rate)) = shared.minimal_loop.iter().find(|(v, _)| reference && *v == variant) {
        ctx.figure(MINIMAL_LOOP, rate);
        // The paired reference: the same channel's minimal loop, in this process, now that
        // the measured bridge and its threads are gone.
        let messages = u32::try_from(spec.total()).context("too many messages for one producer")?;
        ctx.figure(MINIMAL_LOOP_PAIRED, raw::minimal_loop(spec.channel, messages)?);
    }
    if spec.producers > 1 {
        ctx.note(DIRECTION, spec.direction.to_string());
    }
    ctx.digest(d.digest());
    Ok(())
}

fn mix(params: &Params, form: Mixing, ctx: &mut Ctx) -> anyhow::Result<()> {
    let mut prepared = mixing::prepare(form, &params.mix)?;
    let outcome = ctx.measure(|| prepared.execute())?;
    drop(prepared);
    ctx.figure(PER_CALL, outcome.elapsed.as_nanos() as f64 / f64::from(outcome.calls.max(1)));
    ctx.figure(CPU_PER_CALL, measured_cpu(ctx) * 1e9 / f64::from(outcome.calls.max(1)));
    ctx.digest(outcome.digest());
    Ok(())
}

/// What the load generator is told: which `main` to play, and where its ledger is.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProgramSpec {
    pub form: Variant,
    pub ledger: PathBuf,
}

/// How long `main` may take before the run gives up on it: the whole program, twice over,
/// and a minute more for a machine under load.
fn program_deadline(params: &Params) -> Duration {
    let jobs = &params.jobs;
    2 * (jobs.submit_every * jobs.jobs + jobs.step * jobs.steps) + Duration::from_secs(60)
}

// ANCHOR: fire_and_forget
fn fire_and_forget(params: &Params, form: Variant, ctx: &mut Ctx) -> anyhow::Result<()> {
    let ledger = ctx.scratch().join("jobs.ledger");
    Ledger::create(&ledger, params.jobs.jobs)?;
    let mut program = ctx.start_load(&ProgramSpec { form, ledger: ledger.clone() })?;
    let deadline = program_deadline(params);
    // Measured: from `go` until the program's `main` says it is returning.
    ctx.measure(|| -> anyhow::Result<()> {
        program.go()?;
        let start = Instant::now();
        while !background::main_has_returned(&ledger)? {
            anyhow::ensure!(start.elapsed() < deadline, "the program's main did not return within {deadline:?}");
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    })?;
    // Then the process exits, taking whatever it detached with it; the ledger is read after.
    program.finish(ctx)?;
    let tally = JobTally::read(&ledger, params.jobs.steps)?;
    record_tally(ctx, &tally);
    let cpu = ctx.recorded().figure(figure::LOADGEN_CPU).unwrap_or(0.0);
    ctx.figure(CPU_PER_JOB, cpu * 1e9 / f64::from(tally.submitted.max(1)));
    Ok(())
}
// ANCHOR_END: fire_and_forget

fn record_tally(ctx: &mut Ctx, tally: &JobTally) {
    ctx.figure(JOBS, f64::from(tally.jobs));
    ctx.figure(SUBMITTED, f64::from(tally.submitted));
    ctx.figure(COMPLETED, f64::from(tally.completed));
    ctx.figure(CUT_SHORT, f64::from(tally.cut_short));
    ctx.figure(NEVER_STARTED, f64::from(tally.never_started));
    ctx.figure(LOST, f64::from(tally.lost()));
    ctx.figure(MAIN_RETURNED, if tally.main_returned { 1.0 } else { 0.0 });
}

/// The load generator: plays the program's `main` once it is told to go. When this returns,
/// the generator process ends, as a program does when `main` returns.
pub fn program(params: &Params, spec: &LoadSpec, generator: &mut GenCtx) -> anyhow::Result<()> {
    let program: ProgramSpec = spec.decode()?;
    let Some(form) = program.form.background() else {
        anyhow::bail!("{} is not a fire-and-forget form", program.form);
    };
    generator.ready()?;
    if !generator.wait_go() {
        return Ok(());
    }
    let (hand_offs, shutdown) = background::program(form, &params.jobs, &program.ledger)?;
    generator.histogram(HAND_OFF, &hand_offs)?;
    generator.figure(SHUTDOWN_WAIT, shutdown.as_secs_f64());
    Ok(())
}
