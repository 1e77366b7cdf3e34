//! The case's own verdicts, beside the harness's: the memory guard's findings, the harness
//! overhead against the minimal loops, and what the figures add to the framework's closing
//! advice. Every sentence is built from the report's figures.

use casebook::{Decision, Format, Outcome, Report, VariantSet, stats::rules};

use crate::{
    channels::raw::REFERENCE_CAPACITY,
    figures::*,
    tables::{ASYNC_FROM_SYNC, DRIFT, FIRE_AND_FORGET, SYNC_FROM_ASYNC, THREAD_TO_TASK, THREAD_TO_THREAD},
    variants::Variant::{self, *},
};

/// The bar the matrix's reference rows are held to: at most this much slower than the
/// same channel in a minimal loop outside the harness.
pub const OVERHEAD_BAR: f64 = 1.1;

const REFERENCE: f64 = REFERENCE_CAPACITY as f64;

pub fn verdicts(report: &Report) -> Vec<String> {
    let mut verdicts = guard_findings(report);
    verdicts.extend(harness_overhead(report));
    verdicts.extend(closing_advice(report));
    verdicts
}

/// Rows whose unbounded queue reached the memory guard: the finding, not a failure.
fn guard_findings(report: &Report) -> Vec<String> {
    let mut findings = Vec::new();
    for row in &report.rows {
        let (table, label, runs) = (&row.table, &row.label, row.runs.len());
        let hits = row.runs.iter().filter(|r| r.figure(GUARD_HIT) == Some(1.0)).count();
        if hits > 0 {
            findings.push(format!(
                "{table} / {label}: the unbounded queue reached the memory guard in {hits} of {runs} runs and its producer was stopped there (the finding, not a failure: without the guard it would have kept growing)."
            ));
        }
    }
    findings
}

/// Each channel's minimal loop against its reference row in the harness. Decided on the
/// paired reference (the loop timed again in each run's process, right after the measured
/// region), run against run, by the harness's interval rule: within the bar when the whole
/// interval of `minimal / harness` is at most [`OVERHEAD_BAR`], over it when the whole interval
/// is above, too noisy to tell otherwise. The loop timed in the parent before any run is shown
/// beside it, medians only: it ran minutes apart from the rows, so it is not paired with them.
fn harness_overhead(report: &Report) -> Option<String> {
    let mut parts = Vec::new();
    let mut decisions = Vec::new();
    for channel in Variant::ALL.iter().filter(|v| v.channel().is_some()) {
        let Some(row) = report.row(THREAD_TO_THREAD, (*channel, REFERENCE)) else { continue };
        let (Ok(harness), Ok(paired)) = (row.series(MESSAGES_PER_S), row.series(MINIMAL_LOOP_PAIRED)) else {
            continue;
        };
        let decision = rules::ratio_at_most(&paired, &harness, OVERHEAD_BAR);
        let parent = row.median(MINIMAL_LOOP).map(|m| {
            format!("; timed in the parent, {} ({})", Format::Rate.show(m), Format::Ratio.show(m / harness.median()))
        });
        let (rate, minimal) = (Format::Rate.show(harness.median()), Format::Rate.show(paired.median()));
        let (outcome, interval) = (bar_outcome(decision.outcome), decision.describe().unwrap_or_default());
        parts.push(format!(
            "{channel} {rate} in the harness vs {minimal} in the same runs' minimal loop: {outcome} ({interval}){}",
            parent.unwrap_or_default()
        ));
        decisions.push(decision);
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!(
        "harness overhead, thread → thread at bounded({REFERENCE_CAPACITY}), minimal loop / harness, run by run: {}; all channels: {} the {OVERHEAD_BAR}x bar.",
        parts.join(", "),
        bar_outcome(Decision::all(decisions).outcome)
    ))
}

fn bar_outcome(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Held => "within",
        Outcome::DidNotHold => "over",
        Outcome::Inconclusive => "too noisy to place against",
    }
}

/// "Start with async, add threads where parallelism pays": what the seams cost here.
fn closing_advice(report: &Report) -> Option<String> {
    let hop = report.median(THREAD_TO_TASK, (TokioMpsc, REFERENCE), CPU_PER_MESSAGE)?;
    let per_call = |table, form| report.median(table, form, PER_CALL).map(|ns| Format::Nanos.show(ns));
    let lost = |form| report.median(FIRE_AND_FORGET, form, LOST);
    let mut parts = vec![format!(
        "adding a thread costs little at the seam when the seam is a channel with a chosen capacity (tokio-mpsc thread → task at {REFERENCE_CAPACITY}: {} of CPU per message)",
        Format::Nanos.show(hop)
    )];
    if let (Some(sb), Some(direct)) = (per_call(SYNC_FROM_ASYNC, SpawnBlocking), per_call(SYNC_FROM_ASYNC, DirectCall))
    {
        parts.push(format!(
            "crossing it per call is what costs: a spawn_blocking per call took {sb} against {direct} called directly"
        ));
    }
    if let (Some(bo), Some(aw)) = (per_call(ASYNC_FROM_SYNC, BlockOnPerCall), per_call(ASYNC_FROM_SYNC, AsyncAwait)) {
        parts.push(format!("a block_on per call {bo} against {aw} awaited"));
    }
    if let Some(growth) = report.median(DRIFT, TaskProducer, QUEUE_GROWTH) {
        parts.push(format!("an unbounded channel behind a throttle grew by {} items/s", Format::Count.show(growth)));
    }
    if let [Some(thread), Some(task), Some(scope), Some(set)] =
        [DetachedThread, DetachedTask, ThreadScope, JoinSet].map(lost)
    {
        parts.push(format!(
            "and detached work was lost at shutdown ({thread:.0} jobs as detached threads, {task:.0} as detached tasks) where thread::scope and a JoinSet lost {scope:.0} and {set:.0}"
        ));
    }
    Some(format!("\"start with async, add threads where parallelism pays\": {}.", parts.join("; ")))
}
