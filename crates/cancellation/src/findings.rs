//! What the figures say: the accounting checks, the verdicts and the framework's claims, all
//! computed from a report, never written by hand. One function per claim (and reading),
//! each with its rule and threshold beside it.

use casebook::{
    Claim, ClaimId, ClaimResult, Decision, Figure, Missing, Report, RowReport, Stats, format::format_seconds,
    record::RunRecord, rules,
};

use crate::{
    CPU_TABLE, IO_TABLE, Params,
    figures::*,
    variants::{
        ABORT, ABORT_YIELD, DROP_FUTURE, DROP_JOINHANDLE, JOINSET_DROP, SPAWN_BLOCKING_ABORT, THREAD_FLAG,
        THREAD_SIGNAL, TOKEN,
    },
};

/// `task-cooperative`: how many times longer abort takes to drop CPU tasks with no await
/// than the same tasks with `yield_now` between steps, at the median.
const NO_YIELD_FACTOR: f64 = 5.0;

pub fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
    vec![
        dropped_future(params, report),
        dropped_joinhandle(params, report),
        thread_from_outside(params, report),
        signal_stops_threads(params, report),
        signalled_cleanup(params, report),
        task_cooperative(params, report),
    ]
}

/// A latency in µs, printed with its unit.
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

/// A count figure of one row, as [`count`] prints it, or `?` when it was not recorded.
fn count_of(report: &Report, table: &str, variant: &str, figure: Figure) -> String {
    report.stats(table, variant, figure).map(count).unwrap_or_else(|| "?".into())
}

/// Whether `fact` is true of every measured run of a row (false when it has none): the test
/// behind every clause an evidence sentence asserts, so a sentence says only what each
/// run's figures show.
fn all_runs(row: &RowReport, fact: impl Fn(&RunRecord) -> bool) -> bool {
    !row.runs.is_empty() && row.runs.iter().all(fact)
}

fn f(run: &RunRecord, figure: Figure) -> f64 {
    run.figure(figure).unwrap_or(f64::NAN)
}

/// "Every guard was dropped within the deadline", decided on the row's runs.
fn all_dropped(params: &Params, report: &Report, table: &str, variant: &str) -> Result<Decision, Missing> {
    Ok(rules::at_least(&report.series(table, variant, GUARDS_DROPPED)?, params.workers as f64))
}

/// "1000 of 1000 guards dropped, cancel p99 1.2 ms, max 3 ms", over every run's stops.
fn stop_summary(params: &Params, report: &Report, table: &str, variant: &str) -> String {
    let dropped = count_of(report, table, variant, GUARDS_DROPPED);
    let quantile = |q| report.quantile(table, variant, CANCEL, q);
    let latency = match (quantile(0.99), quantile(1.0)) {
        (Some(p99), Some(max)) => format!(", cancel p99 {}, max {}", us(p99), us(max)),
        _ => String::new(),
    };
    format!("{dropped} of {} guards dropped{latency}", params.workers)
}

/// "1000 of 1000 temp files removed by the workers' own Drop, 0 by the case's sweep".
fn cleanup_summary(params: &Params, report: &Report, table: &str, variant: &str) -> String {
    format!(
        "{} of {} temp files removed by the workers' own Drop, {} by the case's sweep",
        count_of(report, table, variant, FILES_REMOVED_BY_GUARDS),
        params.workers,
        count_of(report, table, variant, FILES_REMOVED_BY_CASE)
    )
}

/// `cancel-async-drop`, reading "a dropped future": every guard dropped within the deadline.
fn dropped_future(p: &Params, report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if the guards dropped within the {} ms deadline reach all {} at the median, interval included; did not hold if the whole interval falls short",
        p.deadline_ms, p.workers
    );
    Claim::new(ClaimId::CancelAsyncDrop, threshold).reading("a dropped future").decide(|| {
        let decision = all_dropped(p, report, IO_TABLE, DROP_FUTURE)?;
        let evidence = format!(
            "drop-future (select! dropping the unspawned futures): {}; {} steps ran after the request; {}",
            stop_summary(p, report, IO_TABLE, DROP_FUTURE),
            count_of(report, IO_TABLE, DROP_FUTURE, STEPS_AFTER_REQUEST),
            cleanup_summary(p, report, IO_TABLE, DROP_FUTURE)
        );
        Ok((decision, evidence))
    })
}

/// `cancel-async-drop`, reading "a dropped JoinHandle": the same rule on dropped handles.
fn dropped_joinhandle(p: &Params, report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if dropping the JoinHandles stopped all {} workers (guards dropped) within the {} ms deadline, at the median, interval included; did not hold if the whole interval falls short",
        p.workers, p.deadline_ms
    );
    Claim::new(ClaimId::CancelAsyncDrop, threshold).reading("a dropped JoinHandle").decide(|| {
        let decision = all_dropped(p, report, IO_TABLE, DROP_JOINHANDLE)?;
        let row = report.need(IO_TABLE, DROP_JOINHANDLE)?;
        let of = |figure| count_of(report, IO_TABLE, DROP_JOINHANDLE, figure);
        let mut evidence = format!(
            "drop-joinhandle: {} of {} guards dropped; {} workers were still running {} ms after their handles were dropped and took {} more steps",
            of(GUARDS_DROPPED),
            p.workers,
            of(LEAKED_STARTED),
            p.deadline_ms,
            of(STEPS_AFTER_REQUEST)
        );
        // What ended them, said only when every run shows it.
        if all_runs(row, |r| f(r, LEAKED) > 0.0 && f(r, LEFT_AFTER_SHUTDOWN) == 0.0) {
            evidence += "; they stopped only when the runtime shut down (0 still held after it)";
        } else {
            evidence += &format!("; {} still held after the runtime's shutdown", of(LEFT_AFTER_SHUTDOWN));
        }
        if report.need(IO_TABLE, JOINSET_DROP).is_ok() {
            evidence += &format!(
                "; by contrast, dropping a JoinSet that owns the tasks: {}",
                stop_summary(p, report, IO_TABLE, JOINSET_DROP)
            );
        }
        Ok((decision, evidence))
    })
}

/// `cancel-threads`, reading "stopping a running thread from outside": `abort` on
/// `spawn_blocking` work leaves the closures that had started running.
fn thread_from_outside(p: &Params, report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if, after abort, at least one blocking closure that had started before it was still running at the {} ms deadline, at the median, interval included; did not hold if the whole interval is below one",
        p.deadline_ms
    );
    Claim::new(ClaimId::CancelThreads, threshold).reading("stopping a running thread from outside").decide(|| {
        let running = report.series(IO_TABLE, SPAWN_BLOCKING_ABORT, LEAKED_STARTED)?;
        let row = report.need(IO_TABLE, SPAWN_BLOCKING_ABORT)?;
        let of = |figure| count_of(report, IO_TABLE, SPAWN_BLOCKING_ABORT, figure);
        let mut evidence = format!(
            "spawn-blocking-abort: {} of {} closures had started before the abort; at the deadline {} of them were still running and {} guards in all were not yet dropped (queued closures included); {} guards were dropped by then ({} by a closure that had started); {} were still held after the runtime's shutdown",
            of(STARTED_BEFORE_REQUEST),
            p.workers,
            of(LEAKED_STARTED),
            of(LEAKED),
            of(GUARDS_DROPPED),
            of(CUT_SHORT),
            of(LEFT_AFTER_SHUTDOWN),
        );
        let cleanup = cleanup_summary(p, report, IO_TABLE, SPAWN_BLOCKING_ABORT);
        if all_runs(row, |r| f(r, FILES_REMOVED_BY_CASE) > 0.0) {
            evidence += &format!(", so the case's sweep removed their temp files ({cleanup})");
        } else {
            evidence += &format!("; {cleanup}");
        }
        Ok((rules::at_least(&running, 1.0), evidence))
    })
}

const SIGNALLED: [&str; 2] = [THREAD_FLAG, THREAD_SIGNAL];

/// `cancel-threads`, reading "a signal stops a thread": a flag or an unpark stops every
/// thread within the deadline.
fn signal_stops_threads(p: &Params, report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if thread-flag and thread-signal each dropped all {} guards within the {} ms deadline, at the median, interval included; did not hold if the whole interval falls short for either",
        p.workers, p.deadline_ms
    );
    Claim::new(ClaimId::CancelThreads, threshold).reading("a signal stops a thread").decide(|| {
        let decisions = SIGNALLED.iter().map(|v| all_dropped(p, report, IO_TABLE, v)).collect::<Result<Vec<_>, _>>()?;
        let evidence = SIGNALLED
            .iter()
            .map(|v| {
                format!(
                    "{v}: {}, {} steps after the request",
                    stop_summary(p, report, IO_TABLE, v),
                    count_of(report, IO_TABLE, v, STEPS_AFTER_REQUEST)
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        Ok((Decision::all(decisions), evidence))
    })
}

/// `cancel-threads`, reading "cleanup after a signalled thread is manual": read from who
/// removed the files, not from whether the threads were quick: a late thread that cleans up
/// after itself needed no cleanup code.
fn signalled_cleanup(p: &Params, report: &Report) -> ClaimResult {
    let threshold = "held if, for thread-flag and for thread-signal, the case's sweep had to remove at least one temp file at the median, interval included; did not hold if, for either, the whole interval is below one (a thread that never stops, whatever the signal, counts as cleanup left to the case)";
    Claim::new(ClaimId::CancelThreads, threshold).reading("cleanup after a signalled thread is manual").decide(|| {
        let mut decisions = Vec::new();
        for v in SIGNALLED {
            decisions.push(rules::at_least(&report.series(IO_TABLE, v, FILES_REMOVED_BY_CASE)?, 1.0));
        }
        let mut evidence = SIGNALLED
            .iter()
            .map(|v| format!("{v}: {}", cleanup_summary(p, report, IO_TABLE, v)))
            .collect::<Vec<_>>()
            .join("; ");
        let n = p.workers as f64;
        let by_own_drop = |v: &str| {
            report.need(IO_TABLE, v).is_ok_and(|row| {
                all_runs(row, |r| f(r, FILES_REMOVED_BY_GUARDS) == n && f(r, FILES_REMOVED_BY_CASE) == 0.0)
            })
        };
        if SIGNALLED.iter().all(|v| by_own_drop(v)) {
            evidence += ". In every run each file was removed by its guard's Drop as the thread returned, the same destructor the tasks use: no cleanup code beyond the signal";
        }
        Ok((Decision::all(decisions), evidence))
    })
}

/// `task-cooperative`: a CPU task without an await cannot be aborted before it returns, and
/// the aborted tasks queued behind it wait too.
fn task_cooperative(p: &Params, report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if, after abort, no CPU task without an await that had started was cut short and at least one that had started ran on to the end of its job (or was still running at the deadline), in every run; and abort's cancel p50 was at least {NO_YIELD_FACTOR}x abort-yield's, run against run, interval included"
    );
    Claim::new(ClaimId::TaskCooperative, threshold).decide(|| {
        let abort = report.need(CPU_TABLE, ABORT)?;
        let held_p50 = report.quantile_series(CPU_TABLE, ABORT, CANCEL, 0.5)?;
        let yield_p50 = report.quantile_series(CPU_TABLE, ABORT_YIELD, CANCEL, 0.5)?;
        // A task that had started and was still running at the deadline was not cut short
        // either: it counts with those that finished their whole job. An aborted task that
        // never started and is merely still queued says nothing about a running task.
        let ran_on = abort.facts(|r| f(r, CUT_SHORT) == 0.0 && f(r, WHOLE_JOB_AFTER_REQUEST) + f(r, LEAKED_STARTED) >= 1.0);
        let ran_on = rules::every_run("runs where a started task ran on after the abort", &ran_on);
        let waited = rules::ratio_at_least(&held_p50, &yield_p50, NO_YIELD_FACTOR);
        let of = |figure| count_of(report, CPU_TABLE, ABORT, figure);
        let step = abort.median(CPU_STEP).map(|s| format!(" (one step {})", format_seconds(s))).unwrap_or_default();
        let running = abort
            .stats(LEAKED_STARTED)
            .filter(|l| l.max > 0.0)
            .map(|l| format!(", {} still running at the deadline", count(l)))
            .unwrap_or_default();
        let queued =
            abort.stats(STARTED_BEFORE_REQUEST).map(|s| format!("{:.0}", p.workers as f64 - s.median)).unwrap_or("?".into());
        let p50s = format!(
            "cancel p50 {} vs {} with yield_now between steps ({:.0}x)",
            us(held_p50.median()),
            us(yield_p50.median()),
            held_p50.median() / yield_p50.median().max(1.0)
        );
        let behind = if waited.outcome == casebook::Outcome::Held {
            format!("the {queued} aborted tasks that had not started waited behind them to be dropped: {p50s}")
        } else {
            format!("the {queued} aborted tasks that had not started: {p50s}")
        };
        let token = report
            .quantile(CPU_TABLE, TOKEN, CANCEL, 0.5)
            .map(|p50| format!("; a token checked between steps, still without an await, stopped them at p50 {}", us(p50)))
            .unwrap_or_default();
        let evidence = format!(
            "after abort, of the {} CPU tasks with no await that had started: {} ran their whole {}-step job{step} after the request{running} and {} were cut short; {} steps ran after the request; {behind}{token}",
            of(STARTED_BEFORE_REQUEST),
            of(WHOLE_JOB_AFTER_REQUEST),
            p.cpu_job_steps,
            of(CUT_SHORT),
            of(STEPS_AFTER_REQUEST),
        );
        Ok((Decision::all([ran_on, waited]), evidence))
    })
}

pub fn verdicts(params: &Params, report: &Report) -> Vec<String> {
    let n = params.workers as f64;
    let mut verdicts = Vec::new();
    for table in &report.tables {
        let mut stopped = Vec::new();
        let mut leaked = Vec::new();
        for row in report.ran_in(&table.id) {
            let Some(dropped) = row.stats(GUARDS_DROPPED) else { continue };
            if dropped.min >= n {
                let p99 = row.quantile(CANCEL, 0.99);
                stopped.push((
                    p99.unwrap_or(0.0),
                    row.label.clone(),
                    p99.map(|p| format!("p99 {}", us(p))).unwrap_or_default(),
                ));
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
        let runs: usize = report.rows.iter().map(|r| r.runs.len()).sum();
        verdicts.push(format!(
            "accounting: in all {runs} measured runs, every one of the {n:.0} guards was either dropped or held by a worker reported as leaked, the temp files on disk matched the guards still held (at the deadline and after shutdown), each file was removed exactly once (by its guard or by the case's sweep), and none outlived the run."
        ));
    }
    verdicts
}

/// The figures every run must record for its books to be checked.
const REQUIRED: [Figure; 12] = [
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

/// Accounting failures: a worker or guard that is neither cleaned up nor reported as leaked.
pub fn check(report: &Report) -> Vec<String> {
    let mut failures = Vec::new();
    for row in &report.rows {
        for (index, run) in row.runs.iter().enumerate() {
            let at = format!("{} / {} run {}", row.table, row.label, index + 1);
            let missing: Vec<&str> = REQUIRED.iter().filter(|k| run.figure(**k).is_none()).map(|k| k.key).collect();
            if !missing.is_empty() {
                failures.push(format!("{at}: missing figures {}", missing.join(", ")));
                continue;
            }
            let f = |figure| f(run, figure);
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
            let stopped_after = run.histogram(CANCEL).map(|h| h.len() as f64).unwrap_or(0.0);
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
            if run.notes(SHUTDOWN_WAIT).iter().any(|w| w == WAIT_ENDED) {
                expect(
                    f(GUARDS_DROPPED) == n,
                    format!("the variant's shutdown wait ended but {} guards were still held", f(LEAKED)),
                );
            }
        }
    }
    failures
}
