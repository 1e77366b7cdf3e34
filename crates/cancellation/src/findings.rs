//! What the figures say: the accounting checks, the verdicts and the framework's claims, all
//! computed from a report, never written by hand.

use casebook::{ClaimResult, Outcome, Report, Stats, at_least, at_least_times, report::format_seconds};

use crate::{
    CPU_TABLE, IO_TABLE,
    figure::*,
    variants::{
        ABORT, ABORT_YIELD, DROP_FUTURE, DROP_JOINHANDLE, JOINSET_DROP, SPAWN_BLOCKING_ABORT, THREAD_FLAG,
        THREAD_SIGNAL, TOKEN,
    },
};

fn stats<'a>(report: &'a Report, table: &str, variant: &str, figure: &str) -> Option<&'a Stats> {
    report.stats(table, variant, figure)
}

fn median(report: &Report, table: &str, variant: &str, figure: &str) -> Option<f64> {
    stats(report, table, variant, figure).map(|s| s.median)
}

fn workers(report: &Report) -> f64 {
    report.params.get("workers").and_then(|w| w.as_f64()).unwrap_or(0.0)
}

fn param_ms(report: &Report, key: &str) -> f64 {
    report.params.get(key).and_then(|v| v.as_f64()).unwrap_or(0.0)
}

/// A latency figure in µs, printed with its unit.
fn us(value: f64) -> String {
    format_seconds(value / 1e6)
}

/// `median` when every run agrees, `median (runs min-max)` when they do not.
fn count(s: &Stats) -> String {
    if s.min == s.max {
        format!("{:.0}", s.median)
    } else {
        format!("{:.0} (runs {:.0}-{:.0})", s.median, s.min, s.max)
    }
}

/// Several sub-results of one reading: held only if all held, did not hold if any did not.
fn combine(outcomes: &[Outcome]) -> Outcome {
    if outcomes.contains(&Outcome::DidNotHold) {
        Outcome::DidNotHold
    } else if outcomes.iter().all(|o| *o == Outcome::Held) {
        Outcome::Held
    } else {
        Outcome::Inconclusive
    }
}

/// A predicate over each measured run of one row: held if it is true in every run, did not
/// hold if it is false in every run.
fn per_run(
    report: &Report,
    table: &str,
    variant: &str,
    predicate: impl Fn(&std::collections::BTreeMap<String, f64>) -> bool,
) -> Outcome {
    let Some(row) = report.row(table, variant) else {
        return Outcome::Inconclusive;
    };
    let results: Vec<bool> = row.runs.iter().map(|r| predicate(&r.figures)).collect();
    if !results.is_empty() && results.iter().all(|&r| r) {
        Outcome::Held
    } else if !results.is_empty() && results.iter().all(|&r| !r) {
        Outcome::DidNotHold
    } else {
        Outcome::Inconclusive
    }
}

/// "Every guard was dropped within the deadline": held in every run, in none, or in some.
fn all_dropped(dropped: &Stats, n: f64) -> Outcome {
    at_least(dropped, n)
}

/// The opposite reading of [`all_dropped`], for claims that predict something is left behind.
fn some_left(dropped: &Stats, n: f64) -> Outcome {
    match all_dropped(dropped, n) {
        Outcome::Held => Outcome::DidNotHold,
        Outcome::DidNotHold => Outcome::Held,
        Outcome::Inconclusive => Outcome::Inconclusive,
    }
}

/// "dropped 1000 of 1000 guards, p99 1.2 ms, max 3 ms", from one row's figures.
fn stop_summary(report: &Report, table: &str, variant: &str) -> String {
    let n = workers(report);
    let dropped = stats(report, table, variant, GUARDS_DROPPED).map(count).unwrap_or_else(|| "?".into());
    let latency = match (median(report, table, variant, CANCEL_P99_US), median(report, table, variant, CANCEL_MAX_US)) {
        (Some(p99), Some(max)) => format!(", cancel p99 {}, max {}", us(p99), us(max)),
        _ => String::new(),
    };
    format!("{dropped} of {n:.0} guards dropped{latency}")
}

pub fn claims(report: &Report) -> Vec<ClaimResult> {
    let n = workers(report);
    let deadline = param_ms(report, "deadline_ms");
    let mut claims = Vec::new();

    // cancel-async-drop, first reading: the future itself is dropped.
    let threshold = format!(
        "held if all {n:.0} guards were dropped within the {deadline:.0} ms deadline in every run; did not hold if some guard was still held at the deadline in every run"
    );
    claims.push(match stats(report, IO_TABLE, DROP_FUTURE, GUARDS_DROPPED) {
        Some(dropped) => {
            let steps = median(report, IO_TABLE, DROP_FUTURE, STEPS_AFTER_REQUEST).unwrap_or(0.0);
            ClaimResult::new(
                "cancel-async-drop",
                all_dropped(dropped, n),
                format!(
                    "reading: a dropped future (drop-future, select! dropping the unspawned futures): {}; {steps:.0} steps ran after the request",
                    stop_summary(report, IO_TABLE, DROP_FUTURE)
                ),
                threshold,
            )
        }
        None => ClaimResult::not_measured(
            "cancel-async-drop",
            "drop-future on IO-like steps (reading: a dropped future)",
            threshold,
        ),
    });

    // cancel-async-drop, second reading: the spawned task's JoinHandle is dropped.
    let threshold = format!(
        "held if dropping the JoinHandles stopped all {n:.0} workers (guards dropped) within the {deadline:.0} ms deadline in every run; did not hold if some were still running at the deadline in every run"
    );
    claims.push(
        match stats(report, IO_TABLE, DROP_JOINHANDLE, GUARDS_DROPPED) {
            Some(dropped) => {
                let leaked = stats(report, IO_TABLE, DROP_JOINHANDLE, LEAKED)
                    .map(count)
                    .unwrap_or_else(|| "?".into());
                let steps =
                    median(report, IO_TABLE, DROP_JOINHANDLE, STEPS_AFTER_REQUEST).unwrap_or(0.0);
                let after = median(report, IO_TABLE, DROP_JOINHANDLE, LEFT_AFTER_SHUTDOWN)
                    .unwrap_or(0.0);
                let joinset = match stats(report, IO_TABLE, JOINSET_DROP, GUARDS_DROPPED) {
                    Some(_) => format!(
                        "; by contrast, dropping a JoinSet that owns the tasks: {}",
                        stop_summary(report, IO_TABLE, JOINSET_DROP)
                    ),
                    None => String::new(),
                };
                ClaimResult::new(
                    "cancel-async-drop",
                    all_dropped(dropped, n),
                    format!(
                        "reading: a dropped spawned task's JoinHandle (drop-joinhandle): {leaked} of {n:.0} workers were still running {deadline:.0} ms after their handles were dropped and took {steps:.0} more steps; only the runtime's shutdown stopped them ({after:.0} left after it){joinset}"
                    ),
                    threshold,
                )
            }
            None => ClaimResult::not_measured(
                "cancel-async-drop",
                "drop-joinhandle on IO-like steps (reading: a dropped JoinHandle)",
                threshold,
            ),
        },
    );

    // cancel-threads, first reading: a running thread cannot be stopped from outside.
    let threshold = format!(
        "held if abort left some started blocking closure running at the {deadline:.0} ms deadline in every run; did not hold if it stopped all {n:.0} in every run"
    );
    claims.push(
        match stats(report, IO_TABLE, SPAWN_BLOCKING_ABORT, GUARDS_DROPPED) {
            Some(dropped) => {
                let leaked = stats(report, IO_TABLE, SPAWN_BLOCKING_ABORT, LEAKED)
                    .map(count)
                    .unwrap_or_else(|| "?".into());
                let started =
                    median(report, IO_TABLE, SPAWN_BLOCKING_ABORT, STARTED_BEFORE_REQUEST)
                        .unwrap_or(0.0);
                let after = median(report, IO_TABLE, SPAWN_BLOCKING_ABORT, LEFT_AFTER_SHUTDOWN)
                    .unwrap_or(0.0);
                ClaimResult::new(
                    "cancel-threads",
                    some_left(dropped, n),
                    format!(
                        "reading: stopping a running thread from outside (spawn-blocking-abort): {started:.0} of {n:.0} closures had started; after abort {leaked} were still running at the deadline and {after:.0} still after the runtime's shutdown, so the case removed their temp files itself; {} queued closures were dropped by the deadline",
                        count(dropped)
                    ),
                    threshold,
                )
            }
            None => ClaimResult::not_measured(
                "cancel-threads",
                "spawn-blocking-abort on IO-like steps (reading: stopping a thread from outside)",
                threshold,
            ),
        },
    );

    // cancel-threads, second reading: once signalled, is cleanup manual?
    let threshold = format!(
        "held if, after the signal, some guard of thread-flag or thread-signal was still held at the deadline in every run (cleanup left to do by hand); did not hold if both dropped all {n:.0} guards by themselves in every run"
    );
    let signalled: Vec<(&str, &Stats)> = [THREAD_FLAG, THREAD_SIGNAL]
        .into_iter()
        .filter_map(|v| stats(report, IO_TABLE, v, GUARDS_DROPPED).map(|s| (v, s)))
        .collect();
    claims.push(if signalled.len() == 2 {
        let outcome = combine(
            &signalled
                .iter()
                .map(|(_, dropped)| some_left(dropped, n))
                .collect::<Vec<_>>(),
        );
        let flag_steps = median(report, IO_TABLE, THREAD_FLAG, STEPS_AFTER_REQUEST).unwrap_or(0.0);
        let signal_steps =
            median(report, IO_TABLE, THREAD_SIGNAL, STEPS_AFTER_REQUEST).unwrap_or(0.0);
        ClaimResult::new(
            "cancel-threads",
            outcome,
            format!(
                "reading: threads need external signalling and manual cleanup (thread-flag, thread-signal): signalling was needed and enough. thread-flag {} (each thread finished its blocking step first: {flag_steps:.0} steps after the request); thread-signal {} ({signal_steps:.0} steps after). Every guard was removed by its own Drop as the thread returned, the same destructor the tasks use: no cleanup code beyond the signal",
                stop_summary(report, IO_TABLE, THREAD_FLAG),
                stop_summary(report, IO_TABLE, THREAD_SIGNAL)
            ),
            threshold,
        )
    } else {
        ClaimResult::not_measured(
            "cancel-threads",
            "thread-flag and thread-signal on IO-like steps (reading: manual cleanup)",
            threshold,
        )
    });

    claims.push(task_cooperative(report));
    claims
}

/// `task-cooperative`: a CPU task without an await cannot be aborted before it returns, and
/// the tasks queued behind it wait too.
fn task_cooperative(report: &Report) -> ClaimResult {
    let job = report.params.get("cpu_job_steps").and_then(|v| v.as_f64()).unwrap_or(0.0);
    let threshold = "held if, after abort, no CPU task without an await that had started was cut short and at least one ran on to the end of its job (or past the deadline), in every run, and abort's cancel p50 was at least 5x abort-yield's in every run".to_string();
    let figures = (
        stats(report, CPU_TABLE, ABORT, CUT_SHORT),
        stats(report, CPU_TABLE, ABORT, WHOLE_JOB_AFTER_REQUEST),
        stats(report, CPU_TABLE, ABORT, CANCEL_P50_US),
        stats(report, CPU_TABLE, ABORT_YIELD, CANCEL_P50_US),
    );
    let (Some(cut), Some(whole), Some(held_p50), Some(yield_p50)) = figures else {
        return ClaimResult::not_measured("task-cooperative", "abort and abort-yield on CPU-like steps", threshold);
    };
    // A task still running at the deadline was not cut short either: it counts with those
    // that finished their whole job.
    let ran_on = per_run(report, CPU_TABLE, ABORT, |f| {
        let get = |k: &str| f.get(k).copied().unwrap_or(0.0);
        get(CUT_SHORT) == 0.0 && get(WHOLE_JOB_AFTER_REQUEST) + get(LEAKED) >= 1.0
    });
    let outcome = combine(&[ran_on, at_least_times(held_p50, yield_p50, 5.0)]);
    let steps = median(report, CPU_TABLE, ABORT, STEPS_AFTER_REQUEST).unwrap_or(0.0);
    let running = stats(report, CPU_TABLE, ABORT, LEAKED)
        .filter(|l| l.max > 0.0)
        .map(|l| format!(", {} still running at the deadline", count(l)))
        .unwrap_or_default();
    let step =
        median(report, CPU_TABLE, ABORT, CPU_STEP_US).map(|s| format!(" (one step {})", us(s))).unwrap_or_default();
    let token = median(report, CPU_TABLE, TOKEN, CANCEL_P50_US)
        .map(|p50| format!("; a token checked between steps, still without an await, stopped them at p50 {}", us(p50)))
        .unwrap_or_default();
    ClaimResult::new(
        "task-cooperative",
        outcome,
        format!(
            "after abort, CPU tasks with no await ran on: {} ran their whole {job:.0}-step job{step} after the request{running} and {} were cut short, {steps:.0} steps ran after the request, and the tasks queued behind them waited: cancel p50 {} vs {} with yield_now between steps ({:.0}x){token}",
            count(whole),
            count(cut),
            us(held_p50.median),
            us(yield_p50.median),
            held_p50.median / yield_p50.median.max(1.0)
        ),
        threshold,
    )
}

pub fn verdicts(report: &Report) -> Vec<String> {
    let n = workers(report);
    let mut verdicts = Vec::new();
    for table in &report.tables {
        let mut stopped = Vec::new();
        let mut leaked = Vec::new();
        for row in report.rows(&table.id) {
            let Some(dropped) = row.stats(GUARDS_DROPPED) else {
                continue;
            };
            if dropped.min >= n {
                let p99 = row.median(CANCEL_P99_US).map(|p| format!("p99 {}", us(p))).unwrap_or_default();
                stopped.push((row.median(CANCEL_P99_US).unwrap_or(0.0), row.label.clone(), p99));
            } else {
                let left = row.stats(LEAKED).map(count).unwrap_or_default();
                let steps = row.median(STEPS_AFTER_REQUEST).unwrap_or(0.0);
                leaked.push(format!(
                    "{} ({left} of {n:.0} still running, {steps:.0} steps after the request)",
                    row.label
                ));
            }
        }
        stopped.sort_by(|a, b| a.0.total_cmp(&b.0));
        let stopped: Vec<String> = stopped.into_iter().map(|(_, label, p99)| format!("{label} ({p99})")).collect();
        let mut line = format!("{}: ", table.id);
        if stopped.is_empty() {
            line += "no variant stopped every worker within the deadline in every run";
        } else {
            line += &format!(
                "stopped every worker within the deadline in every run, fastest first: {}",
                stopped.join(", ")
            );
        }
        if !leaked.is_empty() {
            line += &format!("; left workers running at the deadline: {}", leaked.join(", "));
        }
        verdicts.push(line + ".");
    }
    if check(report).is_empty() {
        let runs: usize = report.variants.iter().map(|r| r.runs.len()).sum();
        verdicts.push(format!(
            "accounting: in all {runs} measured runs, every one of the {n:.0} guards was either dropped or held by a worker reported as leaked, the temp files on disk matched the guards still held (at the deadline and after shutdown), and none outlived the run."
        ));
    }
    verdicts
}

/// Accounting failures: a worker or guard that is neither cleaned up nor reported as leaked.
pub fn check(report: &Report) -> Vec<String> {
    let mut failures = Vec::new();
    for row in &report.variants {
        for (index, run) in row.runs.iter().enumerate() {
            let at = format!("{} / {} run {}", row.table, row.label, index + 1);
            let get = |key: &str| run.figures.get(key).copied();
            let required = [
                WORKERS,
                GUARDS_CREATED,
                GUARDS_DROPPED,
                LEAKED,
                FILES_LEFT,
                STOPPED_BEFORE_REQUEST,
                LEFT_AFTER_SHUTDOWN,
                FILES_AFTER_SHUTDOWN,
                FILES_REMOVED_BY_CASE,
                FILES_AFTER_CLEANUP,
            ];
            let missing: Vec<&str> = required.iter().copied().filter(|k| get(k).is_none()).collect();
            if !missing.is_empty() {
                failures.push(format!("{at}: missing figures {}", missing.join(", ")));
                continue;
            }
            let f = |key: &str| get(key).unwrap_or(f64::NAN);
            let n = f(WORKERS);
            let mut expect = |ok: bool, what: String| {
                if !ok {
                    failures.push(format!("{at}: {what}"));
                }
            };
            expect(f(GUARDS_CREATED) == n, format!("{} guards created for {n} workers", f(GUARDS_CREATED)));
            expect(
                f(GUARDS_DROPPED) + f(LEAKED) == n,
                format!("{} guards dropped + {} still held != {n} workers", f(GUARDS_DROPPED), f(LEAKED)),
            );
            expect(
                f(FILES_LEFT) == f(LEAKED),
                format!("{} temp files on disk but {} guards still held at the deadline", f(FILES_LEFT), f(LEAKED)),
            );
            let stopped_after = get(CANCEL_COUNT).unwrap_or(0.0);
            expect(
                stopped_after + f(STOPPED_BEFORE_REQUEST) == f(GUARDS_DROPPED),
                format!(
                    "{stopped_after} timed stops + {} before the request != {} guards dropped",
                    f(STOPPED_BEFORE_REQUEST),
                    f(GUARDS_DROPPED)
                ),
            );
            expect(
                f(LEFT_AFTER_SHUTDOWN) <= f(LEAKED),
                format!(
                    "{} guards held after shutdown, more than the {} held at the deadline",
                    f(LEFT_AFTER_SHUTDOWN),
                    f(LEAKED)
                ),
            );
            expect(
                f(FILES_AFTER_SHUTDOWN) == f(LEFT_AFTER_SHUTDOWN),
                format!(
                    "{} temp files after shutdown but {} guards still held",
                    f(FILES_AFTER_SHUTDOWN),
                    f(LEFT_AFTER_SHUTDOWN)
                ),
            );
            expect(
                f(FILES_REMOVED_BY_CASE) <= f(FILES_AFTER_SHUTDOWN),
                format!(
                    "the case removed {} temp files but only {} were left",
                    f(FILES_REMOVED_BY_CASE),
                    f(FILES_AFTER_SHUTDOWN)
                ),
            );
            expect(
                f(FILES_AFTER_CLEANUP) == 0.0,
                format!("{} temp files survived the case's cleanup", f(FILES_AFTER_CLEANUP)),
            );
        }
    }
    failures
}
