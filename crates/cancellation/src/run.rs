//! One run of one row: start the workers, let them run, request the stop, and read the
//! books.

use std::time::{Duration, Instant};

use anyhow::Context;
use casebook::Ctx;

use crate::{
    figures::*,
    params::{Params, cpu_step_samples},
    variants::{self, Started, Variant},
    workers::{Ledger, Snapshot, StepKind},
};

// ANCHOR: execute
/// Runs one variant once: start the workers, let them run, request the stop, and read the
/// ledger at the deadline, after the runtime's shutdown, and after the case's own sweep.
/// Only the request and the wait for the workers to stop are inside the measured region.
pub fn execute(params: &Params, kind: StepKind, variant: Variant, ctx: &mut Ctx) -> anyhow::Result<()> {
    let plan = params.step_plan(kind);
    let ledger = Ledger::new(ctx.scratch(), params.workers, plan).context("cannot create the guards' directory")?;
    if kind == StepKind::Cpu {
        // The median of a few, before any worker competes for a core.
        let samples = cpu_step_samples(plan.cpu_iterations);
        ctx.figure(CPU_STEP, samples[samples.len() / 2].as_secs_f64());
    }
    let workers = ledger.hire().context("cannot create the workers' temp files")?;
    let runtime = variant.needs_runtime().then(|| tokio::runtime::Builder::new_multi_thread().enable_time().build());
    let runtime = runtime.transpose().context("cannot start the tokio runtime")?;
    let Started { cancel, wait, threads } =
        variants::start(variant, kind, runtime.as_ref().map(|r| r.handle()), workers)?;

    ledger.open_gate();
    std::thread::sleep(Duration::from_millis(params.warmup_ms));
    // On a badly overloaded machine the workers may not have begun yet; a request before the
    // first step would measure nothing, so wait (boundedly) for one.
    let patience = Instant::now() + Duration::from_secs(5);
    while ledger.total_steps() == 0 && Instant::now() < patience {
        std::thread::sleep(Duration::from_millis(1));
    }

    let deadline = Duration::from_millis(params.deadline_ms);
    let (requested_ns, steps_at_request, waited) = ctx.measure(|| {
        let requested_ns = ledger.now_ns();
        let give_up_at = Instant::now() + deadline;
        cancel();
        // Count from the moment the request has been fully issued: read before `cancel()`,
        // a preempted main thread would charge the variant with steps that ran before any
        // worker could have seen the request. From here, a worker that honours it finishes
        // at most the step it is in.
        let steps_at_request = ledger.total_steps();
        // The variant's own clean-shutdown wait, as its author would write it; the ledger is
        // still what says whether the workers stopped.
        let waited = wait.map(|wait| wait(give_up_at));
        ledger.wait_all_dropped(give_up_at);
        (requested_ns, steps_at_request, waited)
    });
    let at_deadline = ledger.snapshot(requested_ns)?;

    // A plain runtime drop would wait forever for a leaked blocking closure: bound it. OS
    // threads get the same grace, so that a thread that stops late still cleans up after
    // itself before the case's sweep, and "cleaned up by its own Drop" means the same for both.
    let grace = Duration::from_millis(params.shutdown_grace_ms);
    match runtime {
        Some(runtime) => runtime.shutdown_timeout(grace),
        None => ledger.wait_all_dropped(Instant::now() + grace),
    }
    if ledger.guards_dropped() == ledger.workers() {
        for thread in threads {
            thread.join().map_err(|_| anyhow::anyhow!("a worker thread panicked"))?;
        }
    }
    // Threads still running are left to end with the process; they were counted above.
    let after_shutdown = ledger.snapshot(requested_ns)?;
    let removed = ledger.sweep().context("cannot remove leftover temp files")?;
    let files_after_cleanup = ledger.files_left()?;
    let files_removed_by_guards = ledger.files_removed_by_guards();
    ledger.remove_template()?;

    record(ctx, params, &at_deadline, steps_at_request);
    ctx.figure(LEFT_AFTER_SHUTDOWN, after_shutdown.still_held as f64);
    ctx.figure(FILES_AFTER_SHUTDOWN, after_shutdown.files_left as f64);
    ctx.figure(FILES_REMOVED_BY_CASE, removed as f64);
    ctx.figure(FILES_AFTER_CLEANUP, files_after_cleanup as f64);
    ctx.figure(FILES_REMOVED_BY_GUARDS, files_removed_by_guards as f64);
    if let Some(waited) = waited {
        ctx.note(SHUTDOWN_WAIT, if waited { WAIT_ENDED } else { WAIT_GAVE_UP });
    }
    Ok(())
}
// ANCHOR_END: execute

fn record(ctx: &mut Ctx, params: &Params, at_deadline: &Snapshot, steps_at_request: u64) {
    ctx.figure(WORKERS, params.workers as f64);
    ctx.figure(GUARDS_CREATED, at_deadline.guards_created as f64);
    // Recorded even when empty: no worker stopping is a finding, and its quantiles are
    // missing, not zero.
    let mut histogram = casebook::stats::latency::histogram();
    for ns in &at_deadline.latencies_ns {
        histogram.saturating_record(ns / 1000);
    }
    ctx.histogram(CANCEL, &histogram);
    ctx.figure(STEPS_AFTER_REQUEST, at_deadline.total_steps.saturating_sub(steps_at_request) as f64);
    ctx.figure(GUARDS_DROPPED, at_deadline.guards_dropped as f64);
    ctx.figure(STOPPED_BEFORE_REQUEST, at_deadline.stopped_before_request as f64);
    ctx.figure(STARTED_BEFORE_REQUEST, at_deadline.started_before_request as f64);
    ctx.figure(LEAKED, at_deadline.still_held as f64);
    ctx.figure(LEAKED_STARTED, at_deadline.held_started as f64);
    ctx.figure(FILES_LEFT, at_deadline.files_left as f64);
    ctx.figure(CUT_SHORT, at_deadline.cut_short as f64);
    ctx.figure(WHOLE_JOB_AFTER_REQUEST, at_deadline.whole_job_after_request as f64);
}
