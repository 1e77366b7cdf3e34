//! What the figures say: the books every run keeps, the case's verdicts and the framework's
//! claims, all computed from a report, never written by hand. One function per claim (and
//! reading), each with its rule and threshold beside it; the rules say their thresholds in
//! words. A row or figure a claim needs and this run did not measure makes it "not measured".

use casebook::{
    Claim, ClaimId, ClaimResult, Decision, Figure, Missing, Report, RowReport, TableId, VariantSet,
    model::figure::VOLUNTARY_CS,
    model::format::{format_bytes, format_count, format_seconds},
    stats::rules::{self, Series},
};

use crate::{
    figures::*,
    params::Params,
    tables::{CAPACITY, CREATION, RESIDENCY, SWITCHING},
    variants::{
        THREAD_VARIANTS, TOKIO_TASKS,
        Variant::{self, *},
    },
};

pub fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
    vec![
        thread_stack(params, report, "resident memory", RSS_PER_UNIT, "resident bytes (anonymous RSS)"),
        thread_stack(params, report, "reserved address space", VSZ_PER_UNIT, "reserved address space (VSZ)"),
        task_light(params, report),
        task_millions(params, report),
        thread_switch(params, report),
        async_low_memory(params, report),
    ]
}

// ANCHOR: thread_stack
/// The claim's "2-8 MB", from 2 MB ...
const STACK_LOW: f64 = 2e6;
/// ... to 9 MiB: glibc's default stack is 8 MiB, and a thread's reservation adds a guard page
/// and the signal stack beside it, so 9 MiB leaves room for those and no more.
const STACK_HIGH: f64 = 9.0 * 1024.0 * 1024.0;

/// `thread-stack`, under two readings: "resident memory" (what a parked thread keeps in
/// RAM) and "reserved address space" (what its stack reserves, touched or not). Both are
/// decided by the same range rule, each on its own figure per parked default-stack thread,
/// at the largest N measured.
fn thread_stack(params: &Params, report: &Report, reading: &str, figure: Figure, what: &str) -> ClaimResult {
    Claim::new(ClaimId::ThreadStack).reading(reading).decide(|| {
        let n = largest_common(params, report, RESIDENCY, &[Threads])?;
        let per =
            report.series(RESIDENCY, (Threads, n), figure)?.named(format!("{what} per parked default-stack thread"));
        let mut context = format!("with {} default-stack threads parked", format_count(n));
        if let (Ok(kernel), true) =
            (report.series(RESIDENCY, (Threads, n), KERNEL_STACK_PER_UNIT), figure == RSS_PER_UNIT)
        {
            context += &format!("; RSS leaves out the {} of kernel stack each thread also took", kernel.show());
        }
        Ok(rules::within(&per, STACK_LOW, STACK_HIGH).noting(context))
    })
}
// ANCHOR_END: thread_stack

/// `task-light`: "on the order of a KB", read as under ten of them.
const TASK_LIGHT_MAX: f64 = 10.0 * 1024.0;

/// `task-light`: resident bytes per parked tokio task at the largest N it ran, for each
/// tokio variant measured; a future in one task's set is shown for scale.
fn task_light(params: &Params, report: &Report) -> ClaimResult {
    Claim::new(ClaimId::TaskLight).decide(|| {
        let (mut decisions, mut sizes) = (Vec::new(), Vec::new());
        for task in included(params, report, RESIDENCY, &TOKIO_TASKS)? {
            let n = largest_common(params, report, RESIDENCY, &[task])?;
            let per = report.series(RESIDENCY, (task, n), RSS_PER_UNIT)?;
            decisions
                .push(rules::at_most(&per.named(format!("resident bytes per parked {task} task")), TASK_LIGHT_MAX));
            sizes.push(format!("{task} at N = {}", format_count(n)));
        }
        let future = largest_common(params, report, RESIDENCY, &[FuturesInTask])
            .and_then(|n| report.series(RESIDENCY, (FuturesInTask, n), RSS_PER_UNIT))
            .map(|per| format!("not a task, but for scale: a future in one task's set, {}", per.show()))
            .unwrap_or_default();
        Ok(Decision::all(decisions).noting(sizes.join(", ")).noting(future))
    })
}

/// `task-millions`: "millions" is plural, so at least two.
const MILLIONS: f64 = 2e6;

/// `task-millions`: tasks alive at once in each capacity run, for each tokio variant
/// measured. A cap below two million cannot decide, however many runs reach it.
fn task_millions(params: &Params, report: &Report) -> ClaimResult {
    Claim::new(ClaimId::TaskMillions).decide(|| {
        let cap = &params.task_cap;
        let mut decisions = Vec::new();
        for task in included(params, report, CAPACITY, &TOKIO_TASKS)? {
            let row = report.need(CAPACITY, task)?;
            let alive = row.series(ALIVE_AT_ONCE)?.named(format!("{task}'s tasks alive at once"));
            if (cap.units() as f64) < MILLIONS {
                decisions.push(rules::undecided(&format!(
                    "{task} held {} at once, but its cap was {} ({}), below {}, so this run cannot show millions",
                    alive.show(),
                    format_count(cap.units() as f64),
                    cap.origin(),
                    format_count(MILLIONS)
                )));
                continue;
            }
            let memory = match (row.median(RSS_PARKED), row.median(RSS_PER_UNIT), row.median(FILL)) {
                (Some(total), Some(per), Some(fill)) => format!(
                    "{task} held them in {} of RSS ({} per task), filled in {}",
                    format_bytes(total),
                    format_bytes(per),
                    format_seconds(fill)
                ),
                _ => String::new(),
            };
            decisions.push(rules::at_least(&alive, MILLIONS).noting(memory));
        }
        Ok(Decision::all(decisions))
    })
}

/// `thread-switch`: how many times longer a hand-off between threads must take than one
/// between tasks for "expensive".
const SWITCH_FACTOR: f64 = 2.0;

/// `thread-switch`: time per hand-off between threads over time per hand-off between tokio
/// tasks, run against run (default-stack threads and tokio-multi where measured).
fn thread_switch(params: &Params, report: &Report) -> ClaimResult {
    Claim::new(ClaimId::ThreadSwitch).decide(|| {
        let thread = included(params, report, SWITCHING, &THREAD_VARIANTS)?[0];
        let task = included(params, report, SWITCHING, &TOKIO_TASKS)?[0];
        let threads =
            report.series(SWITCHING, thread, PER_HANDOFF)?.named(format!("time per hand-off between {thread}"));
        let tasks =
            report.series(SWITCHING, task, PER_HANDOFF)?.named(format!("time per hand-off between {task} tasks"));
        // The measured region is the lap alone, so these are the hand-offs' own switches.
        let switches = |v: Variant| {
            let (cs, handoffs) = (report.median(SWITCHING, v, VOLUNTARY_CS)?, report.median(SWITCHING, v, HANDOFFS)?);
            (handoffs > 0.0).then(|| format!("{v}: {:.2} voluntary context switches per hand-off", cs / handoffs))
        };
        let mut context: Vec<String> = [thread, task].into_iter().filter_map(switches).collect();
        context.push(format!("{:.1}x at the medians", threads.median() / tasks.median()));
        context.extend(
            [ThreadsSmallStack, TokioMultiMain, TokioCurrent, FuturesInTask]
                .into_iter()
                .filter(|v| *v != task && *v != thread)
                .filter_map(|v| Some(format!("{v} {}", format_seconds(report.median(SWITCHING, v, PER_HANDOFF)?)))),
        );
        Ok(rules::ratio_at_least(&threads, &tasks, SWITCH_FACTOR).noting(context.join("; ")))
    })
}

/// `async-low-memory`: how many times more resident memory a thread must take than a task
/// for the choice of model, not noise, to decide what fits.
const LOW_MEMORY_FACTOR: f64 = 4.0;

/// `async-low-memory`: resident bytes per parked thread (the leaner stack size) over those
/// per parked tokio task, run against run at the largest N both ran, for each tokio variant
/// measured. Kernel stack and page tables, which RSS leaves out, are not added to the
/// thread's side.
fn async_low_memory(params: &Params, report: &Report) -> ClaimResult {
    Claim::new(ClaimId::AsyncLowMemory).decide(|| {
        let threads = included(params, report, RESIDENCY, &THREAD_VARIANTS)?;
        let (mut decisions, mut pairs) = (Vec::new(), Vec::new());
        for task in included(params, report, RESIDENCY, &TOKIO_TASKS)? {
            // Threads get their best case: whichever stack size was leaner at a common N.
            let mut leanest: Option<(Variant, f64, Series)> = None;
            for &thread in &threads {
                let Ok(n) = largest_common(params, report, RESIDENCY, &[thread, task]) else { continue };
                let per = report.series(RESIDENCY, (thread, n), RSS_PER_UNIT)?;
                if leanest.as_ref().is_none_or(|(.., best)| per.median() < best.median()) {
                    leanest = Some((thread, n, per.named(format!("resident bytes per parked thread ({thread})"))));
                }
            }
            let (thread, n, per_thread) =
                leanest.ok_or_else(|| Missing(format!("no N at which a thread variant and {task} both ran")))?;
            let per_task = report.series(RESIDENCY, (task, n), RSS_PER_UNIT)?;
            let per_task = per_task.named(format!("resident bytes per parked task ({task})"));
            decisions.push(rules::ratio_at_least(&per_thread, &per_task, LOW_MEMORY_FACTOR));
            pairs.push(format!("{thread} and {task} at N = {}", format_count(n)));
        }
        let capacity: Vec<String> = TOKIO_TASKS
            .into_iter()
            .chain(THREAD_VARIANTS)
            .filter_map(|v| {
                let row = report.need(CAPACITY, v).ok()?;
                let alive = row.median(ALIVE_AT_ONCE)?;
                let rss = row.median(RSS_PARKED).map(|r| format!(" in {} of RSS", format_bytes(r))).unwrap_or_default();
                Some(format!("{v} {}{rss} ({})", format_count(alive), capacity_stop(params, v, row)))
            })
            .collect();
        let capacity = if capacity.is_empty() {
            String::new()
        } else {
            format!("alive at once at capacity: {}", capacity.join(", "))
        };
        Ok(Decision::all(decisions)
            .noting(format!("compared at the largest N both ran: {}", pairs.join(", ")))
            .noting(capacity))
    })
}

/// How a capacity row ended, from its runs' notes: at its cap, or at a failed spawn.
pub fn capacity_stop(params: &Params, variant: Variant, row: &RowReport) -> String {
    let Some(stops) = row.note_counts(STOPPED_BY) else { return "what stopped it was not recorded".into() };
    let failed: Vec<(&String, &usize)> = stops.iter().filter(|(why, _)| *why != AT_CAP).collect();
    match failed.first() {
        None => format!("stopped at {}", params.cap_of(variant).origin()),
        Some((error, _)) => format!(
            "a spawn failed before the cap ({error}) in {} of {} runs: a limit this case cannot read bit first",
            failed.iter().map(|(_, n)| **n).sum::<usize>(),
            row.runs.len()
        ),
    }
}

/// Those of `variants` that have rows in `table` (at some N, in a sweep): what "each variant
/// measured" ranges over.
fn included(params: &Params, report: &Report, table: TableId, variants: &[Variant]) -> Result<Vec<Variant>, Missing> {
    let has_rows = |v: Variant| {
        report.row(table, v).is_some() || params.sizes.iter().any(|n| report.row(table, (v, *n as f64)).is_some())
    };
    let found: Vec<Variant> = variants.iter().copied().filter(|v| has_rows(*v)).collect();
    if found.is_empty() {
        let names = variants.iter().map(|v| v.name()).collect::<Vec<_>>().join(", ");
        return Err(Missing(format!("needs one of {names} in the {table} table, which this run did not include")));
    }
    Ok(found)
}

/// The largest N at which every one of `variants` ran in the sweep `table`; when there is
/// none, what was missing at the smallest N.
fn largest_common(params: &Params, report: &Report, table: TableId, variants: &[Variant]) -> Result<f64, Missing> {
    let mut missing = Missing(format!("no N in the {table} table"));
    for n in params.sizes.iter().rev().map(|n| *n as f64) {
        match variants.iter().try_for_each(|v| report.need(table, (*v, n)).map(drop)) {
            Ok(()) => return Ok(n),
            Err(why) => missing = why,
        }
    }
    Err(missing)
}

/// Accounting, run by run: every unit started was alive at once and ran to its end; every
/// ring made exactly the hand-offs asked for; no capacity run passed its cap, and one that
/// says it reached its cap started every unit.
pub fn check(params: &Params, report: &Report) -> Vec<String> {
    let mut failures = Vec::new();
    let handoffs = params.handoffs as f64;
    for table in [CREATION, RESIDENCY, CAPACITY, SWITCHING] {
        for row in report.ran_in(table) {
            for (index, run) in row.runs.iter().enumerate() {
                let what = format!("{table} / {} run {}", row.label, index + 1);
                let mut expect = |ok: bool, why: String| {
                    if !ok {
                        failures.push(format!("{what}: {why}"));
                    }
                };
                if table == SWITCHING {
                    let made = run.figure(HANDOFFS).map_or("no".into(), |m| m.to_string());
                    expect(run.figure(HANDOFFS) == Some(handoffs), format!("{made} hand-offs, expected {handoffs}"));
                    continue;
                }
                let counts = [TARGET, SPAWNED, ALIVE_AT_ONCE, EXITED].map(|f| run.figure(f));
                let [Some(target), Some(spawned), Some(alive), Some(exited)] = counts else {
                    expect(false, "unit counts missing".into());
                    continue;
                };
                expect(
                    table == CAPACITY || (spawned == target && row.axis_value == Some(target)),
                    format!("started {spawned} of {target} units"),
                );
                expect(spawned <= target, format!("started {spawned}, above its cap {target}"));
                let at_cap = table == CAPACITY && run.notes(STOPPED_BY).iter().any(|s| s == AT_CAP);
                expect(
                    !at_cap || spawned == target,
                    format!("reported reaching its cap {target} but started {spawned}"),
                );
                expect(alive == spawned, format!("{alive} of {spawned} units were alive at once"));
                expect(exited == spawned, format!("{exited} of {spawned} units ran to their end"));
            }
        }
    }
    failures
}

/// What a reader should take from the creation and capacity tables beyond the harness's own
/// verdicts, and the accounting when it held.
pub fn verdicts(params: &Params, report: &Report) -> Vec<String> {
    let mut verdicts = Vec::new();
    if check(params, report).is_empty() {
        verdicts.push(format!(
            "accounting: in every creation, residency and capacity run, every unit started was counted alive at once before the release and counted out after it; every ring delivered exactly {} hand-offs.",
            format_count(params.handoffs as f64)
        ));
    }
    verdicts.extend(creation(params, report));
    verdicts.extend(Variant::ALL.iter().filter_map(|&v| {
        let row = report.need(CAPACITY, v).ok()?;
        let alive = row.stats(ALIVE_AT_ONCE)?;
        let memory = match (row.median(RSS_PER_UNIT), row.median(VSZ_PER_UNIT)) {
            (Some(resident), Some(reserved)) => {
                format!(" ({} resident, {} reserved each)", format_bytes(resident), format_bytes(reserved))
            }
            _ => String::new(),
        };
        Some(format!(
            "capacity, {v}: {} alive at once of a cap of {}{memory}; {}.",
            format_count(alive.min),
            format_count(params.cap_of(v).units() as f64),
            capacity_stop(params, v, row)
        ))
    }));
    verdicts
}

/// Threads against tasks at the largest N both ran: the default-stack threads and the
/// first tokio variant measured, else whatever ran.
fn creation(params: &Params, report: &Report) -> Option<String> {
    let ran = |v: &Variant| largest_common(params, report, CREATION, &[*v]).is_ok();
    let thread = THREAD_VARIANTS.into_iter().find(ran)?;
    let task = TOKIO_TASKS.into_iter().chain([FuturesInTask]).find(ran)?;
    let n = largest_common(params, report, CREATION, &[thread, task]).ok()?;
    let median = |v: Variant, figure| report.median(CREATION, (v, n), figure);
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
