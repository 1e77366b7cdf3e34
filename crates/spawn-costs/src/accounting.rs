//! The books every run keeps, checked run by run, and the case's verdicts: what a reader
//! should take from the creation and capacity tables beyond the harness's own verdicts.

use casebook::{
    Report,
    model::format::{format_bytes, format_count, format_seconds},
};

use crate::{
    CAPACITY, CREATION, FUTURES_IN_TASK, RESIDENCY, SWITCHING,
    figures::*,
    findings::{THREAD_VARIANTS, TOKIO_TASKS, at, capacity_stop, largest_common},
    params::Params,
};

/// Accounting, run by run: every unit started was alive at once and ran to its end; every
/// ring made exactly the hand-offs asked for; no capacity run passed its cap, and one that
/// says it reached its cap started every unit.
pub fn check(params: &Params, report: &Report) -> Vec<String> {
    let mut failures = Vec::new();
    for table in [CREATION, RESIDENCY, CAPACITY] {
        for row in report.ran_in(table) {
            for (index, run) in row.runs.iter().enumerate() {
                let what = format!("{table} / {} run {}", row.label, index + 1);
                let counts = [TARGET, SPAWNED, ALIVE_AT_ONCE, EXITED].map(|f| run.figure(f));
                let [Some(target), Some(spawned), Some(alive), Some(exited)] = counts else {
                    failures.push(format!("{what}: unit counts missing"));
                    continue;
                };
                if table != CAPACITY && (spawned != target || row.axis_value != Some(target)) {
                    failures.push(format!("{what}: started {spawned} of {target} units"));
                }
                if spawned > target {
                    failures.push(format!("{what}: started {spawned}, above its cap {target}"));
                }
                if table == CAPACITY && run.notes(STOPPED_BY).iter().any(|s| s == AT_CAP) && spawned != target {
                    failures.push(format!("{what}: reported reaching its cap {target} but started {spawned}"));
                }
                if alive != spawned {
                    failures.push(format!("{what}: {alive} of {spawned} units were alive at once"));
                }
                if exited != spawned {
                    failures.push(format!("{what}: {exited} of {spawned} units ran to their end"));
                }
            }
        }
    }
    let expected = params.handoffs as f64;
    for row in report.ran_in(SWITCHING) {
        for (index, run) in row.runs.iter().enumerate() {
            let made = run.figure(HANDOFFS);
            if made != Some(expected) {
                failures.push(format!(
                    "{SWITCHING} / {} run {}: {} hand-offs, expected {expected}",
                    row.label,
                    index + 1,
                    made.map(|m| m.to_string()).unwrap_or_else(|| "no".into()),
                ));
            }
        }
    }
    failures
}

pub fn verdicts(params: &Params, report: &Report) -> Vec<String> {
    let mut verdicts = Vec::new();
    if check(params, report).is_empty() {
        verdicts.push(format!(
            "accounting: in every creation, residency and capacity run, every unit started was counted alive at once before the release and counted out after it; every ring delivered exactly {} hand-offs.",
            format_count(params.handoffs as f64)
        ));
    }
    verdicts.extend(creation(report));
    verdicts.extend(capacity(params, report));
    verdicts
}

/// Threads against tasks at the largest N both ran: the default-stack threads and the
/// first tokio variant measured, else whatever ran.
fn creation(report: &Report) -> Option<String> {
    let ran = |v: &str| report.ran_in(CREATION).any(|r| r.variant == v);
    let thread = THREAD_VARIANTS.into_iter().find(|v| ran(v))?;
    let task = TOKIO_TASKS.into_iter().chain([FUTURES_IN_TASK]).find(|v| ran(v))?;
    let n = largest_common(report, CREATION, &[thread, task]).ok()?;
    let median = |v: &str, figure| at(report, CREATION, v, n, figure).ok().map(|s| s.median());
    let (thread_ready, task_ready) = (median(thread, READY_PER_UNIT)?, median(task, READY_PER_UNIT)?);
    Some(format!(
        "creation at N = {}: spawning took {} per thread ({thread}) and {} per task ({task}); until the unit was running, {} vs {}, {:.0}x; joining, {} vs {} per unit.",
        format_count(n),
        format_seconds(median(thread, SPAWN_PER_UNIT)?),
        format_seconds(median(task, SPAWN_PER_UNIT)?),
        format_seconds(thread_ready),
        format_seconds(task_ready),
        thread_ready / task_ready,
        format_seconds(median(thread, JOIN_PER_UNIT)?),
        format_seconds(median(task, JOIN_PER_UNIT)?),
    ))
}

fn capacity(params: &Params, report: &Report) -> Vec<String> {
    report
        .ran_in(CAPACITY)
        .filter_map(|row| {
            let alive = row.stats(ALIVE_AT_ONCE)?;
            let memory = match (row.median(RSS_PER_UNIT), row.median(VSZ_PER_UNIT)) {
                (Some(r), Some(v)) => format!(" ({} resident, {} reserved each)", format_bytes(r), format_bytes(v)),
                _ => String::new(),
            };
            Some(format!(
                "capacity, {}: {} alive at once of a cap of {}{memory}; {}.",
                row.variant,
                format_count(alive.min),
                format_count(params.cap_of(&row.variant).units() as f64),
                capacity_stop(params, row)
            ))
        })
        .collect()
}
