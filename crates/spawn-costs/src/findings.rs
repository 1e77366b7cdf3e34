//! The framework's claims, each decided from the report's figures by the harness's outcome
//! rules: one function per claim (and reading), its threshold a named constant beside it.
//! A row or figure a claim needs and this run did not measure makes it "not measured".

use casebook::{
    Claim, ClaimId, ClaimResult, Decision, Figure, Missing, Outcome, Report, RowReport,
    model::figure::VOLUNTARY_CS,
    model::format::{format_bytes, format_count, format_seconds},
    stats::rules::{self, Series},
};

use crate::{
    CAPACITY, FUTURES_IN_TASK, RESIDENCY, SWITCHING, THREADS, THREADS_SMALL_STACK, TOKIO_CURRENT, TOKIO_MULTI,
    TOKIO_MULTI_MAIN, figures::*, params::Params,
};

/// The tokio variants, in the order a claim prefers them: what `#[tokio::main]` gives first.
pub const TOKIO_TASKS: [&str; 3] = [TOKIO_MULTI, TOKIO_MULTI_MAIN, TOKIO_CURRENT];
pub const THREAD_VARIANTS: [&str; 2] = [THREADS, THREADS_SMALL_STACK];

pub fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
    vec![
        thread_stack_resident(report),
        thread_stack_reserved(report),
        task_light(report),
        task_millions(params, report),
        thread_switch(report),
        async_low_memory(params, report),
    ]
}

// ANCHOR: thread_stack
/// The claim's "2-8 MB", from 2 MB ...
const STACK_LOW: f64 = 2e6;
/// ... to 9 MiB: glibc's default stack is 8 MiB, and a thread's reservation adds a guard page
/// and the signal stack beside it, so 9 MiB leaves room for those and no more.
const STACK_HIGH: f64 = 9.0 * 1024.0 * 1024.0;

/// `thread-stack`, reading "resident memory": what a parked thread keeps in RAM.
fn thread_stack_resident(report: &Report) -> ClaimResult {
    thread_stack(report, "resident memory", RSS_PER_UNIT, "resident bytes (anonymous RSS)", |per| {
        format!("held {per} resident")
    })
}

/// `thread-stack`, reading "reserved address space": what its stack reserves, touched or not.
fn thread_stack_reserved(report: &Report) -> ClaimResult {
    thread_stack(report, "reserved address space", VSZ_PER_UNIT, "reserved address space (VSZ)", |per| {
        format!("reserved {per} of address space")
    })
}

/// Both readings are decided by the same range rule, each on its own figure.
fn thread_stack(report: &Report, reading: &str, figure: Figure, what: &str, verb: fn(String) -> String) -> ClaimResult {
    let threshold = format!(
        "{what} per parked default-stack thread, at the largest N measured: held if the median's 95% interval lies within 2 MB to {} (the claim's 2-8 MB, with room for the guard page and signal stack beside an 8 MiB stack), did not hold if it lies wholly outside",
        format_bytes(STACK_HIGH)
    );
    Claim::new(ClaimId::ThreadStack, threshold).reading(reading).decide(|| {
        let (n, per) = at_largest(report, RESIDENCY, THREADS, figure)?;
        let kernel = match at(report, RESIDENCY, THREADS, n, KERNEL_STACK_PER_UNIT) {
            Ok(kernel) if figure == RSS_PER_UNIT => {
                format!("; RSS leaves out the {} of kernel stack each thread also took", kernel.show())
            }
            _ => String::new(),
        };
        let evidence = format!("with {} default-stack threads parked, each {}{kernel}", count(n), verb(per.spread()));
        Ok((rules::within(&per, STACK_LOW, STACK_HIGH), evidence))
    })
}
// ANCHOR_END: thread_stack

/// `task-light`: "on the order of a KB", read as under ten of them.
const TASK_LIGHT_MAX: f64 = 10.0 * 1024.0;

fn task_light(report: &Report) -> ClaimResult {
    let threshold = format!(
        "resident bytes per parked tokio task, at the largest N it ran: held if the median's 95% interval is at most {} (\"on the order of a KB\": under ten of them) for each tokio variant measured, did not hold if it lies wholly above for any",
        format_bytes(TASK_LIGHT_MAX)
    );
    Claim::new(ClaimId::TaskLight, threshold).decide(|| {
        let mut decisions = Vec::new();
        let mut parts = Vec::new();
        for task in included(report, RESIDENCY, &TOKIO_TASKS)? {
            let (n, per) = at_largest(report, RESIDENCY, task, RSS_PER_UNIT)?;
            decisions.push(rules::at_most(&per, TASK_LIGHT_MAX));
            parts.push(format!("{task} {} at N = {}", per.spread(), count(n)));
        }
        let future = at_largest(report, RESIDENCY, FUTURES_IN_TASK, RSS_PER_UNIT)
            .map(|(_, per)| format!("; not a task, but for scale: a future in one task's set, {}", per.show()))
            .unwrap_or_default();
        Ok((Decision::all(decisions), format!("resident per parked task: {}{future}", parts.join("; "))))
    })
}

/// `task-millions`: "millions" is plural, so at least two.
const MILLIONS: f64 = 2e6;

fn task_millions(params: &Params, report: &Report) -> ClaimResult {
    let threshold = format!(
        "tasks alive at once in each capacity run of a tokio runtime: held if the median's 95% interval is at least {} (\"millions\": at least two) for each tokio variant measured, did not hold if it lies wholly below for any; a cap below that cannot decide",
        count(MILLIONS)
    );
    Claim::new(ClaimId::TaskMillions, threshold).decide(|| {
        let cap = &params.task_cap;
        let mut decisions = Vec::new();
        let mut parts = Vec::new();
        for task in included(report, CAPACITY, &TOKIO_TASKS)? {
            let row = report.need(CAPACITY, task)?;
            let alive = row.series(ALIVE_AT_ONCE)?;
            if (cap.units() as f64) < MILLIONS {
                decisions.push(Decision::bare(Outcome::Inconclusive));
                parts.push(format!(
                    "{task} held {} at once, but its cap was {} ({}), below {}, so this run cannot show millions",
                    alive.show(),
                    count(cap.units() as f64),
                    cap.origin(),
                    count(MILLIONS)
                ));
                continue;
            }
            let memory = match (row.median(RSS_PARKED), row.median(RSS_PER_UNIT), row.median(FILL)) {
                (Some(total), Some(per), Some(fill)) => format!(
                    ", in {} of RSS ({} per task), filled in {}",
                    format_bytes(total),
                    format_bytes(per),
                    format_seconds(fill)
                ),
                _ => String::new(),
            };
            decisions.push(rules::at_least(&alive, MILLIONS));
            parts.push(format!("{task} held {} tasks alive at once{memory}", alive.spread()));
        }
        Ok((Decision::all(decisions), parts.join("; ")))
    })
}

/// `thread-switch`: how many times longer a hand-off between threads must take than one
/// between tasks for "expensive".
const SWITCH_FACTOR: f64 = 2.0;

fn thread_switch(report: &Report) -> ClaimResult {
    let threshold = format!(
        "time per hand-off between threads over time per hand-off between tokio tasks, run against run (default-stack threads and tokio-multi where measured): held if the median ratio's 95% interval is at least {SWITCH_FACTOR}x, did not hold if it lies wholly below"
    );
    Claim::new(ClaimId::ThreadSwitch, threshold).decide(|| {
        let thread = first_included(report, SWITCHING, &THREAD_VARIANTS)?;
        let task = first_included(report, SWITCHING, &TOKIO_TASKS)?;
        let (threads, tasks) =
            (report.series(SWITCHING, thread, PER_HANDOFF)?, report.series(SWITCHING, task, PER_HANDOFF)?);
        // The measured region is the lap alone, so these are the hand-offs' own switches.
        let switches = |v: &str| {
            let (cs, handoffs) = (report.median(SWITCHING, v, VOLUNTARY_CS)?, report.median(SWITCHING, v, HANDOFFS)?);
            (handoffs > 0.0).then(|| format!(", {:.2} voluntary context switches per hand-off", cs / handoffs))
        };
        let others: Vec<String> = [THREADS_SMALL_STACK, TOKIO_MULTI_MAIN, TOKIO_CURRENT, FUTURES_IN_TASK]
            .into_iter()
            .filter(|v| *v != task && *v != thread)
            .filter_map(|v| Some(format!("{v} {}", format_seconds(report.median(SWITCHING, v, PER_HANDOFF)?))))
            .collect();
        let evidence = format!(
            "a hand-off took {} between {thread}{} and {} between {task} tasks{}: {:.1}x at the medians{}",
            threads.spread(),
            switches(thread).unwrap_or_default(),
            tasks.spread(),
            switches(task).unwrap_or_default(),
            threads.median() / tasks.median(),
            if others.is_empty() { String::new() } else { format!("; {}", others.join(", ")) }
        );
        Ok((rules::ratio_at_least(&threads, &tasks, SWITCH_FACTOR), evidence))
    })
}

/// `async-low-memory`: how many times more resident memory a thread must take than a task
/// for the choice of model, not noise, to decide what fits.
const LOW_MEMORY_FACTOR: f64 = 4.0;

fn async_low_memory(params: &Params, report: &Report) -> ClaimResult {
    let threshold = format!(
        "resident bytes per parked thread (the leaner stack size) over per parked tokio task, run against run at the largest N both ran: held if the median ratio's 95% interval is at least {LOW_MEMORY_FACTOR}x for each tokio variant measured, did not hold if it lies wholly below for any; kernel stack and page tables, which RSS leaves out, are not added to the thread's side"
    );
    Claim::new(ClaimId::AsyncLowMemory, threshold).decide(|| {
        let threads = included(report, RESIDENCY, &THREAD_VARIANTS)?;
        let mut decisions = Vec::new();
        let mut parts = Vec::new();
        for task in included(report, RESIDENCY, &TOKIO_TASKS)? {
            // Threads get their best case: whichever stack size was leaner at a common N.
            let mut leanest: Option<(&str, f64, Series)> = None;
            for &thread in &threads {
                let Ok(n) = largest_common(report, RESIDENCY, &[thread, task]) else { continue };
                let per = at(report, RESIDENCY, thread, n, RSS_PER_UNIT)?;
                if leanest.as_ref().is_none_or(|(_, _, best)| per.median() < best.median()) {
                    leanest = Some((thread, n, per));
                }
            }
            let (thread, n, per_thread) =
                leanest.ok_or_else(|| Missing(format!("no N at which a thread variant and {task} both ran")))?;
            let per_task = at(report, RESIDENCY, task, n, RSS_PER_UNIT)?;
            decisions.push(rules::ratio_at_least(&per_thread, &per_task, LOW_MEMORY_FACTOR));
            parts.push(format!(
                "at N = {}, {} per thread ({thread}) vs {} per task ({task}), {:.0}x at the medians",
                count(n),
                per_thread.spread(),
                per_task.spread(),
                per_thread.median() / per_task.median()
            ));
        }
        let capacity: Vec<String> = report
            .ran_in(CAPACITY)
            .filter(|row| {
                THREAD_VARIANTS.contains(&row.variant.as_str()) || TOKIO_TASKS.contains(&row.variant.as_str())
            })
            .filter_map(|row| {
                let alive = row.median(ALIVE_AT_ONCE)?;
                let rss = row.median(RSS_PARKED).map(|r| format!(" in {} of RSS", format_bytes(r))).unwrap_or_default();
                Some(format!("{} {}{rss} ({})", row.variant, count(alive), capacity_stop(params, row)))
            })
            .collect();
        let capacity = if capacity.is_empty() {
            String::new()
        } else {
            format!("; alive at once at capacity: {}", capacity.join(", "))
        };
        Ok((Decision::all(decisions), format!("resident memory per parked unit {}{capacity}", parts.join("; "))))
    })
}

fn count(value: f64) -> String {
    format_count(value)
}

/// How a capacity row ended, from its runs' notes: at its cap, or at a failed spawn.
pub fn capacity_stop(params: &Params, row: &RowReport) -> String {
    let Some(stops) = row.note_counts(STOPPED_BY) else { return "what stopped it was not recorded".into() };
    let failed: Vec<(&String, &usize)> = stops.iter().filter(|(why, _)| *why != AT_CAP).collect();
    match failed.first() {
        None => format!("stopped at {}", params.cap_of(&row.variant).origin()),
        Some((error, _)) => format!(
            "a spawn failed before the cap ({error}) in {} of {} runs: a limit this case cannot read bit first",
            failed.iter().map(|(_, n)| **n).sum::<usize>(),
            row.runs.len()
        ),
    }
}

/// Those of `variants` that have rows in `table`: what "each variant measured" ranges over.
fn included<'a>(report: &Report, table: &str, variants: &[&'a str]) -> Result<Vec<&'a str>, Missing> {
    let found: Vec<&str> =
        variants.iter().copied().filter(|v| report.rows_in(table).any(|r| r.variant == *v)).collect();
    if found.is_empty() {
        return Err(Missing(format!(
            "needs one of {} in the {table} table, which this run did not include",
            variants.join(", ")
        )));
    }
    Ok(found)
}

/// The first of `preferred` that has rows in `table`.
fn first_included<'a>(report: &Report, table: &str, preferred: &[&'a str]) -> Result<&'a str, Missing> {
    Ok(included(report, table, preferred)?[0])
}

/// The sizes at which `variant` ran in a sweep `table`; missing if it was left out or
/// skipped at every size.
pub fn sizes_run(report: &Report, table: &str, variant: &str) -> Result<Vec<f64>, Missing> {
    let rows: Vec<&RowReport> = report.rows_in(table).filter(|r| r.variant == variant).collect();
    let ran: Vec<f64> =
        rows.iter().filter(|r| r.skipped.is_none() && !r.runs.is_empty()).filter_map(|r| r.axis_value).collect();
    match (rows.first(), ran.is_empty()) {
        (None, _) => Err(Missing(format!("needs {variant} in the {table} table, which this run did not include"))),
        (Some(row), true) => Err(Missing(format!(
            "{table} / {variant} did not run at any N{}",
            row.skipped.as_ref().map(|why| format!(" ({why})")).unwrap_or_default()
        ))),
        (Some(_), false) => Ok(ran),
    }
}

/// The largest N at which every one of `variants` ran in `table`.
pub fn largest_common(report: &Report, table: &str, variants: &[&str]) -> Result<f64, Missing> {
    let mut common: Option<Vec<f64>> = None;
    for variant in variants {
        let sizes = sizes_run(report, table, variant)?;
        common = Some(match common {
            None => sizes,
            Some(c) => c.into_iter().filter(|n| sizes.contains(n)).collect(),
        });
    }
    common
        .unwrap_or_default()
        .into_iter()
        .reduce(f64::max)
        .ok_or_else(|| Missing(format!("no N at which {} all ran in the {table} table", variants.join(" and "))))
}

/// `variant`'s `figure` at N = `n` in a sweep `table`, run by run. Looked up by axis value
/// rather than by label, so it does not depend on how the harness prints a number.
pub fn at(report: &Report, table: &str, variant: &str, n: f64, figure: Figure) -> Result<Series, Missing> {
    let row = report
        .row_at(table, variant, n)
        .ok_or_else(|| Missing(format!("needs {variant} at N = {} in the {table} table", count(n))))?;
    report.need(table, &row.label)?.series(figure)
}

/// `variant`'s `figure` at the largest N it ran, with that N.
pub fn at_largest(report: &Report, table: &str, variant: &str, figure: Figure) -> Result<(f64, Series), Missing> {
    let n = largest_common(report, table, &[variant])?;
    Ok((n, at(report, table, variant, n, figure)?))
}
