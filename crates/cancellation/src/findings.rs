//! What the figures say: the accounting checks, the verdicts and the framework's claims, all
//! computed from a report, never written by hand.

use casebook::{ClaimResult, Outcome, Report, Stats, at_least, at_least_times, combine, report::format_seconds};

use crate::{
    CPU_TABLE, IO_TABLE,
    figure::*,
    variants::{
        ABORT, ABORT_YIELD, DROP_FUTURE, DROP_JOINHANDLE, JOINSET_DROP, SPAWN_BLOCKING_ABORT, THREAD_FLAG,
        THREAD_SIGNAL, TOKEN,
    },
};

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

/// Whether `predicate` is true in every measured run of one row (false when the row has
/// no runs): the test behind every clause an evidence sentence asserts, so that the sentence
/// says only what each run's figures show.
fn every_run(report: &Report, table: &str, variant: &str, predicate: impl Fn(&dyn Fn(&str) -> f64) -> bool) -> bool {
    let Some(row) = report.row(table, variant) else {
        return false;
    };
    !row.runs.is_empty()
        && row.runs.iter().all(|run| {
            let get = |key: &str| run.figures.get(key).copied().unwrap_or(f64::NAN);
            predicate(&get)
        })
}

/// "Every guard was dropped within the deadline": held in every run, in none, or in some.
fn all_dropped(dropped: &Stats, n: f64) -> Outcome {
    at_least(dropped, n)
}

/// A count figure of one row, as [`count`] prints it, or `?` when it was not recorded.
fn count_of(report: &Report, table: &str, variant: &str, figure: &str) -> String {
    report.stats(table, variant, figure).map(count).unwrap_or_else(|| "?".into())
}

/// "dropped 1000 of 1000 guards, p99 1.2 ms, max 3 ms", from one row's figures.
fn stop_summary(report: &Report, table: &str, variant: &str) -> String {
    let n = workers(report);
    let dropped = report.stats(table, variant, GUARDS_DROPPED).map(count).unwrap_or_else(|| "?".into());
    let latency = match (report.median(table, variant, CANCEL_P99_US), report.median(table, variant, CANCEL_MAX_US)) {
        (Some(p99), Some(max)) => format!(", cancel p99 {}, max {}", us(p99), us(max)),
        _ => String::new(),
    };
    format!("{dropped} of {n:.0} guards dropped{latency}")
}

pub fn claims(report: &Report) -> Vec<ClaimResult> {
    let mut claims = vec![dropped_future(report), dropped_joinhandle(report), thread_from_outside(report)];
    claims.extend(signalled_threads(report));
    claims.push(task_cooperative(report));
    claims
}

/// How the temp files of one row were cleaned up, from the figures: "1000 of 1000 temp files
/// removed by the workers' own Drop, 0 by the case's sweep".
fn cleanup_summary(report: &Report, table: &str, variant: &str) -> String {
    format!(
        "{} of {:.0} temp files removed by the workers' own Drop, {} by the case's sweep",
        count_of(report, table, variant, FILES_REMOVED_BY_GUARDS),
        workers(report),
        count_of(report, table, variant, FILES_REMOVED_BY_CASE)
    )
}

/// `cancel-async-drop`, reading "a dropped future".
fn dropped_future(report: &Report) -> ClaimResult {
    const READING: &str = "a dropped future";
    let (n, deadline) = (workers(report), param_ms(report, "deadline_ms"));
    let threshold = format!(
        "held if all {n:.0} guards were dropped within the {deadline:.0} ms deadline in every run; did not hold if some guard was still held at the deadline in every run"
    );
    let Some(dropped) = report.stats(IO_TABLE, DROP_FUTURE, GUARDS_DROPPED) else {
        return ClaimResult::not_measured("cancel-async-drop", "drop-future on IO-like steps", threshold)
            .with_reading(READING);
    };
    ClaimResult::new(
        "cancel-async-drop",
        all_dropped(dropped, n),
        format!(
            "drop-future (select! dropping the unspawned futures): {}; {} steps ran after the request; {}",
            stop_summary(report, IO_TABLE, DROP_FUTURE),
            count_of(report, IO_TABLE, DROP_FUTURE, STEPS_AFTER_REQUEST),
            cleanup_summary(report, IO_TABLE, DROP_FUTURE)
        ),
        threshold,
    )
    .with_reading(READING)
}

/// `cancel-async-drop`, reading "a dropped JoinHandle".
fn dropped_joinhandle(report: &Report) -> ClaimResult {
    const READING: &str = "a dropped JoinHandle";
    let (n, deadline) = (workers(report), param_ms(report, "deadline_ms"));
    let threshold = format!(
        "held if dropping the JoinHandles stopped all {n:.0} workers (guards dropped) within the {deadline:.0} ms deadline in every run; did not hold if some were still running at the deadline in every run"
    );
    let Some(dropped) = report.stats(IO_TABLE, DROP_JOINHANDLE, GUARDS_DROPPED) else {
        return ClaimResult::not_measured("cancel-async-drop", "drop-joinhandle on IO-like steps", threshold)
            .with_reading(READING);
    };
    let row = |figure: &str| count_of(report, IO_TABLE, DROP_JOINHANDLE, figure);
    let mut evidence = format!(
        "drop-joinhandle: {} of {n:.0} guards dropped; {} workers were still running {deadline:.0} ms after their handles were dropped and took {} more steps",
        row(GUARDS_DROPPED),
        row(LEAKED_STARTED),
        row(STEPS_AFTER_REQUEST)
    );
    // What ended them, said only when every run shows it.
    if every_run(report, IO_TABLE, DROP_JOINHANDLE, |f| f(LEAKED) > 0.0 && f(LEFT_AFTER_SHUTDOWN) == 0.0) {
        evidence += "; they stopped only when the runtime shut down (0 still held after it)";
    } else {
        evidence += &format!("; {} still held after the runtime's shutdown", row(LEFT_AFTER_SHUTDOWN));
    }
    if report.stats(IO_TABLE, JOINSET_DROP, GUARDS_DROPPED).is_some() {
        evidence += &format!(
            "; by contrast, dropping a JoinSet that owns the tasks: {}",
            stop_summary(report, IO_TABLE, JOINSET_DROP)
        );
    }
    ClaimResult::new("cancel-async-drop", all_dropped(dropped, n), evidence, threshold).with_reading(READING)
}

/// `cancel-threads`, reading "stopping a running thread from outside": `abort` on
/// `spawn_blocking` work.
fn thread_from_outside(report: &Report) -> ClaimResult {
    const READING: &str = "stopping a running thread from outside";
    let (n, deadline) = (workers(report), param_ms(report, "deadline_ms"));
    let threshold = format!(
        "held if, after abort, some blocking closure that had started before it was still running at the {deadline:.0} ms deadline in every run; did not hold if none was in every run"
    );
    let Some(running) = report.stats(IO_TABLE, SPAWN_BLOCKING_ABORT, LEAKED_STARTED) else {
        return ClaimResult::not_measured("cancel-threads", "spawn-blocking-abort on IO-like steps", threshold)
            .with_reading(READING);
    };
    let row = |figure: &str| count_of(report, IO_TABLE, SPAWN_BLOCKING_ABORT, figure);
    let mut evidence = format!(
        "spawn-blocking-abort: {} of {n:.0} closures had started before the abort; at the deadline {} of them were still running and {} guards in all were not yet dropped (queued closures included); {} guards were dropped by then ({} by a closure that had started); {} were still held after the runtime's shutdown",
        row(STARTED_BEFORE_REQUEST),
        count(running),
        row(LEAKED),
        row(GUARDS_DROPPED),
        row(CUT_SHORT),
        row(LEFT_AFTER_SHUTDOWN),
    );
    if every_run(report, IO_TABLE, SPAWN_BLOCKING_ABORT, |f| f(FILES_REMOVED_BY_CASE) > 0.0) {
        evidence += &format!(
            ", so the case's sweep removed their temp files ({})",
            cleanup_summary(report, IO_TABLE, SPAWN_BLOCKING_ABORT)
        );
    } else {
        evidence += &format!("; {}", cleanup_summary(report, IO_TABLE, SPAWN_BLOCKING_ABORT));
    }
    ClaimResult::new("cancel-threads", at_least(running, 1.0), evidence, threshold).with_reading(READING)
}

/// `cancel-threads` for threads that are signalled (a flag, an unpark): whether the signal
/// stops them in time, and, separately, whether anything but their own `Drop` had to clean up.
fn signalled_threads(report: &Report) -> [ClaimResult; 2] {
    const STOP: &str = "a signal stops a thread";
    const CLEANUP: &str = "cleanup after a signalled thread is manual";
    const NEEDS: &str = "thread-flag and thread-signal on IO-like steps";
    let (n, deadline) = (workers(report), param_ms(report, "deadline_ms"));
    let variants = [THREAD_FLAG, THREAD_SIGNAL];
    let stop_threshold = format!(
        "held if thread-flag and thread-signal each dropped all {n:.0} guards within the {deadline:.0} ms deadline in every run; did not hold if either still held some guard at the deadline in every run"
    );
    let cleanup_threshold = "held if, for thread-flag or thread-signal, the case's sweep had to remove some temp file in every run; did not hold if, for either, the workers' own Drop removed every file in every run (a thread that never stops, whatever the signal, counts as cleanup left to the case)".to_string();
    let dropped: Vec<&Stats> = variants.iter().filter_map(|v| report.stats(IO_TABLE, v, GUARDS_DROPPED)).collect();
    let swept: Vec<&Stats> = variants.iter().filter_map(|v| report.stats(IO_TABLE, v, FILES_REMOVED_BY_CASE)).collect();
    if dropped.len() < variants.len() || swept.len() < variants.len() {
        return [
            ClaimResult::not_measured("cancel-threads", NEEDS, stop_threshold).with_reading(STOP),
            ClaimResult::not_measured("cancel-threads", NEEDS, cleanup_threshold).with_reading(CLEANUP),
        ];
    }

    let stop_outcome = combine(&dropped.iter().map(|d| all_dropped(d, n)).collect::<Vec<_>>());
    let stop_evidence = variants
        .iter()
        .map(|v| {
            format!(
                "{v}: {}, {} steps after the request",
                stop_summary(report, IO_TABLE, v),
                count_of(report, IO_TABLE, v, STEPS_AFTER_REQUEST)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");

    // "Manual cleanup" is read from who removed the files, not from whether the threads were
    // quick: a late thread that cleans up after itself needed no cleanup code.
    let cleanup_outcome = combine(&swept.iter().map(|s| at_least(s, 1.0)).collect::<Vec<_>>());
    let mut cleanup_evidence = variants
        .iter()
        .map(|v| format!("{v}: {}", cleanup_summary(report, IO_TABLE, v)))
        .collect::<Vec<_>>()
        .join("; ");
    let by_own_drop = |v: &str| {
        every_run(report, IO_TABLE, v, |f| f(FILES_REMOVED_BY_GUARDS) == n && f(FILES_REMOVED_BY_CASE) == 0.0)
    };
    if variants.iter().all(|v| by_own_drop(v)) {
        cleanup_evidence += ". In every run each file was removed by its guard's Drop as the thread returned, the same destructor the tasks use: no cleanup code beyond the signal";
    }
    [
        ClaimResult::new("cancel-threads", stop_outcome, stop_evidence, stop_threshold).with_reading(STOP),
        ClaimResult::new("cancel-threads", cleanup_outcome, cleanup_evidence, cleanup_threshold).with_reading(CLEANUP),
    ]
}

/// `task-cooperative`: a CPU task without an await cannot be aborted before it returns, and
/// the tasks queued behind it wait too.
fn task_cooperative(report: &Report) -> ClaimResult {
    let n = workers(report);
    let job = report.params.get("cpu_job_steps").and_then(|v| v.as_f64()).unwrap_or(0.0);
    let threshold = "held if, after abort, no CPU task without an await that had started was cut short and at least one that had started ran on to the end of its job (or was still running at the deadline), in every run, and abort's cancel p50 was at least 5x abort-yield's in every run".to_string();
    let figures = (
        report.stats(CPU_TABLE, ABORT, CUT_SHORT),
        report.stats(CPU_TABLE, ABORT, WHOLE_JOB_AFTER_REQUEST),
        report.stats(CPU_TABLE, ABORT, CANCEL_P50_US),
        report.stats(CPU_TABLE, ABORT_YIELD, CANCEL_P50_US),
    );
    let (Some(cut), Some(whole), Some(held_p50), Some(yield_p50)) = figures else {
        return ClaimResult::not_measured("task-cooperative", "abort and abort-yield on CPU-like steps", threshold);
    };
    // A task that had started and was still running at the deadline was not cut short either:
    // it counts with those that finished their whole job. An aborted task that never started
    // and is merely still queued does not: it says nothing about a running task.
    let ran_on = |f: &dyn Fn(&str) -> f64| f(CUT_SHORT) == 0.0 && f(WHOLE_JOB_AFTER_REQUEST) + f(LEAKED_STARTED) >= 1.0;
    let ran_on_every_run = every_run(report, CPU_TABLE, ABORT, ran_on);
    let ran_on_no_run = every_run(report, CPU_TABLE, ABORT, |f| !ran_on(f));
    let runs = report.row(CPU_TABLE, ABORT).map(|r| r.runs.len()).unwrap_or(0);
    let ran_on_outcome = match (runs >= 2, ran_on_every_run, ran_on_no_run) {
        (true, true, _) => Outcome::Held,
        (true, _, true) => Outcome::DidNotHold,
        _ => Outcome::Inconclusive,
    };
    let waited = at_least_times(held_p50, yield_p50, 5.0);
    let outcome = combine(&[ran_on_outcome, waited]);

    let row = |figure: &str| count_of(report, CPU_TABLE, ABORT, figure);
    let step =
        report.median(CPU_TABLE, ABORT, CPU_STEP_US).map(|s| format!(" (one step {})", us(s))).unwrap_or_default();
    let running = report
        .stats(CPU_TABLE, ABORT, LEAKED_STARTED)
        .filter(|l| l.max > 0.0)
        .map(|l| format!(", {} still running at the deadline", count(l)))
        .unwrap_or_default();
    let queued = report
        .stats(CPU_TABLE, ABORT, STARTED_BEFORE_REQUEST)
        .map(|s| format!("{:.0}", n - s.median))
        .unwrap_or_else(|| "?".into());
    let p50s = format!(
        "cancel p50 {} vs {} with yield_now between steps ({:.0}x)",
        us(held_p50.median),
        us(yield_p50.median),
        held_p50.median / yield_p50.median.max(1.0)
    );
    let behind = if waited == Outcome::Held {
        format!("the {queued} aborted tasks that had not started waited behind them to be dropped: {p50s}")
    } else {
        format!("the {queued} aborted tasks that had not started: {p50s}")
    };
    let token = report
        .median(CPU_TABLE, TOKEN, CANCEL_P50_US)
        .map(|p50| format!("; a token checked between steps, still without an await, stopped them at p50 {}", us(p50)))
        .unwrap_or_default();
    ClaimResult::new(
        "task-cooperative",
        outcome,
        format!(
            "after abort, of the {} CPU tasks with no await that had started: {} ran their whole {job:.0}-step job{step} after the request{running} and {} were cut short; {} steps ran after the request; {behind}{token}",
            row(STARTED_BEFORE_REQUEST),
            count(whole),
            count(cut),
            row(STEPS_AFTER_REQUEST),
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
                // Not yet stopped includes aborted work still queued; running is what had started.
                let left = row.stats(LEAKED).map(count).unwrap_or_default();
                let running = row.stats(LEAKED_STARTED).map(count).unwrap_or_default();
                let steps = row.stats(STEPS_AFTER_REQUEST).map(count).unwrap_or_default();
                leaked.push(format!(
                    "{} ({left} of {n:.0} not yet stopped, {running} of them running, {steps} steps after the request)",
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
            line += &format!("; left workers at the deadline: {}", leaked.join(", "));
        }
        verdicts.push(line + ".");
    }
    if check(report).is_empty() {
        let runs: usize = report.variants.iter().map(|r| r.runs.len()).sum();
        verdicts.push(format!(
            "accounting: in all {runs} measured runs, every one of the {n:.0} guards was either dropped or held by a worker reported as leaked, the temp files on disk matched the guards still held (at the deadline and after shutdown), each file was removed exactly once (by its guard or by the case's sweep), and none outlived the run."
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
                LEAKED_STARTED,
                FILES_LEFT,
                STOPPED_BEFORE_REQUEST,
                LEFT_AFTER_SHUTDOWN,
                FILES_AFTER_SHUTDOWN,
                FILES_REMOVED_BY_CASE,
                FILES_AFTER_CLEANUP,
                FILES_REMOVED_BY_GUARDS,
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
            expect(
                f(LEAKED_STARTED) <= f(LEAKED),
                format!("{} running workers leaked but only {} guards held", f(LEAKED_STARTED), f(LEAKED)),
            );
            // Each file is removed once: by its guard, or, if the guard had not dropped by the
            // sweep, by the case.
            expect(
                f(FILES_REMOVED_BY_GUARDS) + f(FILES_REMOVED_BY_CASE) == f(GUARDS_CREATED),
                format!(
                    "{} files removed by guards + {} by the case != {} created",
                    f(FILES_REMOVED_BY_GUARDS),
                    f(FILES_REMOVED_BY_CASE),
                    f(GUARDS_CREATED)
                ),
            );
            // A variant's own wait that reports everything ended must agree with the ledger.
            if get(SHUTDOWN_WAITED) == Some(1.0) {
                expect(
                    f(GUARDS_DROPPED) == n,
                    format!("the variant's shutdown wait ended but {} guards were still held", f(LEAKED)),
                );
            }
        }
    }
    failures
}
