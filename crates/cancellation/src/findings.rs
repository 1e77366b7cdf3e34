//! What the figures say: the accounting checks, the verdicts and the framework's claims, all
//! computed from a report, never written by hand. One function per claim (and reading),
//! each with its rule and threshold beside it; the rules say their thresholds in words.

use casebook::{
    Claim, ClaimId, ClaimResult, Decision, Figure, Missing, Report, RowReport, Stats, model::format::format_seconds,
    report::record::RunRecord, stats::rules,
};

use crate::{
    Params,
    figures::*,
    tables::{CPU, IO},
    variants::Variant::{self, *},
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

/// A count figure of one IO row, as [`count`] prints it, or `?` when it was not recorded.
fn count_of(report: &Report, variant: Variant, figure: Figure) -> String {
    report.stats(IO, variant, figure).map(count).unwrap_or_else(|| "?".into())
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

/// "Every guard was dropped within the deadline", decided on the IO row's runs.
fn all_dropped(p: &Params, report: &Report, variant: Variant) -> Result<Decision, Missing> {
    let dropped = report.series(IO, variant, GUARDS_DROPPED)?;
    let dropped = dropped.named(format!("{variant}'s guards dropped within the {} ms deadline", p.deadline_ms));
    Ok(rules::at_least(&dropped, p.workers as f64))
}

/// "cancel p99 1.2 ms, max 3 ms", over every run's stops.
fn stop_latency(report: &Report, variant: Variant) -> String {
    let quantile = |q| report.quantile(IO, variant, CANCEL, q);
    match (quantile(0.99), quantile(1.0)) {
        (Some(p99), Some(max)) => format!("cancel p99 {}, max {}", us(p99), us(max)),
        _ => String::new(),
    }
}

/// "1000 of 1000 temp files removed by the workers' own Drop, 0 by the case's sweep".
fn cleanup_summary(p: &Params, report: &Report, variant: Variant) -> String {
    format!(
        "{} of {} temp files removed by the workers' own Drop, {} by the case's sweep",
        count_of(report, variant, FILES_REMOVED_BY_GUARDS),
        p.workers,
        count_of(report, variant, FILES_REMOVED_BY_CASE)
    )
}

/// `cancel-async-drop`, reading "a dropped future": every guard dropped within the deadline.
fn dropped_future(p: &Params, report: &Report) -> ClaimResult {
    Claim::new(ClaimId::CancelAsyncDrop).reading("a dropped future").decide(|| {
        Ok(all_dropped(p, report, DropFuture)?.noting(format!(
            "select! dropping the unspawned futures: {}; {} steps ran after the request; {}",
            stop_latency(report, DropFuture),
            count_of(report, DropFuture, STEPS_AFTER_REQUEST),
            cleanup_summary(p, report, DropFuture)
        )))
    })
}

/// `cancel-async-drop`, reading "a dropped JoinHandle": the same rule on dropped handles.
fn dropped_joinhandle(p: &Params, report: &Report) -> ClaimResult {
    Claim::new(ClaimId::CancelAsyncDrop).reading("a dropped JoinHandle").decide(|| {
        let decision = all_dropped(p, report, DropJoinhandle)?;
        let row = report.need(IO, DropJoinhandle)?;
        let of = |figure| count_of(report, DropJoinhandle, figure);
        let mut context = format!(
            "{} workers were still running {} ms after their handles were dropped and took {} more steps",
            of(LEAKED_STARTED),
            p.deadline_ms,
            of(STEPS_AFTER_REQUEST)
        );
        // What ended them, said only when every run shows it.
        if all_runs(row, |r| f(r, LEAKED) > 0.0 && f(r, LEFT_AFTER_SHUTDOWN) == 0.0) {
            context += "; they stopped only when the runtime shut down (0 still held after it)";
        } else {
            context += &format!("; {} still held after the runtime's shutdown", of(LEFT_AFTER_SHUTDOWN));
        }
        if report.need(IO, JoinsetDrop).is_ok() {
            context += &format!(
                "; by contrast, dropping a JoinSet that owns the tasks: {} of {} guards dropped, {}",
                count_of(report, JoinsetDrop, GUARDS_DROPPED),
                p.workers,
                stop_latency(report, JoinsetDrop)
            );
        }
        Ok(decision.noting(context))
    })
}

/// `cancel-threads`, reading "stopping a running thread from outside": `abort` on
/// `spawn_blocking` work leaves the closures that had started running.
fn thread_from_outside(p: &Params, report: &Report) -> ClaimResult {
    Claim::new(ClaimId::CancelThreads).reading("stopping a running thread from outside").decide(|| {
        let running = report.series(IO, SpawnBlockingAbort, LEAKED_STARTED)?.named(format!(
            "spawn-blocking-abort's closures started before the abort and still running at the {} ms deadline",
            p.deadline_ms
        ));
        let row = report.need(IO, SpawnBlockingAbort)?;
        let of = |figure| count_of(report, SpawnBlockingAbort, figure);
        let mut context = format!(
            "{} of {} closures had started before the abort; {} guards in all were not yet dropped at the deadline (queued closures included); {} guards were dropped by then ({} by a closure that had started); {} were still held after the runtime's shutdown",
            of(STARTED_BEFORE_REQUEST),
            p.workers,
            of(LEAKED),
            of(GUARDS_DROPPED),
            of(CUT_SHORT),
            of(LEFT_AFTER_SHUTDOWN),
        );
        let cleanup = cleanup_summary(p, report, SpawnBlockingAbort);
        if all_runs(row, |r| f(r, FILES_REMOVED_BY_CASE) > 0.0) {
            context += &format!(", so the case's sweep removed their temp files ({cleanup})");
        } else {
            context += &format!("; {cleanup}");
        }
        Ok(rules::at_least(&running, 1.0).noting(context))
    })
}

const SIGNALLED: [Variant; 2] = [ThreadFlag, ThreadSignal];

/// `cancel-threads`, reading "a signal stops a thread": a flag or an unpark stops every
/// thread within the deadline.
fn signal_stops_threads(p: &Params, report: &Report) -> ClaimResult {
    Claim::new(ClaimId::CancelThreads).reading("a signal stops a thread").decide(|| {
        let decisions = SIGNALLED.iter().map(|v| all_dropped(p, report, *v)).collect::<Result<Vec<_>, _>>()?;
        let context = SIGNALLED
            .iter()
            .map(|v| {
                format!(
                    "{v}: {}, {} steps after the request",
                    stop_latency(report, *v),
                    count_of(report, *v, STEPS_AFTER_REQUEST)
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        Ok(Decision::all(decisions).noting(context))
    })
}

/// `cancel-threads`, reading "cleanup after a signalled thread is manual": read from who
/// removed the files, not from whether the threads were quick: a late thread that cleans up
/// after itself needed no cleanup code. A thread that never stops, whatever the signal,
/// counts as cleanup left to the case.
fn signalled_cleanup(p: &Params, report: &Report) -> ClaimResult {
    Claim::new(ClaimId::CancelThreads).reading("cleanup after a signalled thread is manual").decide(|| {
        let mut decisions = Vec::new();
        for v in SIGNALLED {
            let swept = report.series(IO, v, FILES_REMOVED_BY_CASE)?;
            decisions.push(rules::at_least(&swept.named(format!("{v}'s temp files removed by the case's sweep")), 1.0));
        }
        let mut context = SIGNALLED.iter().map(|v| format!("{v}: {}", cleanup_summary(p, report, *v))).collect::<Vec<_>>().join("; ");
        let n = p.workers as f64;
        let by_own_drop = |v: Variant| {
            report.need(IO, v).is_ok_and(|row| {
                all_runs(row, |r| f(r, FILES_REMOVED_BY_GUARDS) == n && f(r, FILES_REMOVED_BY_CASE) == 0.0)
            })
        };
        if SIGNALLED.iter().all(|v| by_own_drop(*v)) {
            context += ". In every run each file was removed by its guard's Drop as the thread returned, the same destructor the tasks use: no cleanup code beyond the signal";
        }
        Ok(Decision::all(decisions).noting(context))
    })
}

/// `task-cooperative`: a CPU task without an await cannot be aborted before it returns, and
/// the aborted tasks queued behind it wait too.
fn task_cooperative(p: &Params, report: &Report) -> ClaimResult {
    Claim::new(ClaimId::TaskCooperative).decide(|| {
        let abort = report.need(CPU, Abort)?;
        let held_p50 = report.quantile_series(CPU, Abort, CANCEL, 0.5)?;
        let yield_p50 = report.quantile_series(CPU, AbortYield, CANCEL, 0.5)?;
        // A task that had started and was still running at the deadline was not cut short
        // either: it counts with those that finished their whole job. An aborted task that
        // never started and is merely still queued says nothing about a running task.
        let ran_on = abort.facts(|r| f(r, CUT_SHORT) == 0.0 && f(r, WHOLE_JOB_AFTER_REQUEST) + f(r, LEAKED_STARTED) >= 1.0);
        let ran_on = rules::every_run(
            "no started CPU task without an await was cut short by abort and one ran on to the end of its job (or past the deadline)",
            &ran_on,
        );
        let waited = rules::ratio_at_least(&held_p50, &yield_p50, NO_YIELD_FACTOR);
        let of = |figure| abort.stats(figure).map(count).unwrap_or_else(|| "?".into());
        let step = abort.median(CPU_STEP).map(|s| format!(" (one step {})", format_seconds(s))).unwrap_or_default();
        let running = abort
            .stats(LEAKED_STARTED)
            .filter(|l| l.max > 0.0)
            .map(|l| format!(", {} still running at the deadline", count(l)))
            .unwrap_or_default();
        let queued =
            abort.stats(STARTED_BEFORE_REQUEST).map(|s| format!("{:.0}", p.workers as f64 - s.median)).unwrap_or("?".into());
        let token = report
            .quantile(CPU, Token, CANCEL, 0.5)
            .map(|p50| format!("; a token checked between steps, still without an await, stopped them at p50 {}", us(p50)))
            .unwrap_or_default();
        let context = format!(
            "after abort, of the {} CPU tasks with no await that had started: {} ran their whole {}-step job{step} after the request{running} and {} were cut short; {} steps ran after the request; {queued} aborted tasks had not started{token}",
            of(STARTED_BEFORE_REQUEST),
            of(WHOLE_JOB_AFTER_REQUEST),
            p.cpu_job_steps,
            of(CUT_SHORT),
            of(STEPS_AFTER_REQUEST),
        );
        Ok(Decision::all([ran_on, waited]).noting(context))
    })
}

pub fn verdicts(params: &Params, report: &Report) -> Vec<String> {
    let n = params.workers as f64;
    let mut verdicts = Vec::new();
    for table in &report.tables {
        let (mut stopped, mut leaked) = (Vec::new(), Vec::new());
        for row in report.ran_in(table) {
            let Some(dropped) = row.stats(GUARDS_DROPPED) else { continue };
            let of = |figure| row.stats(figure).map(count).unwrap_or_default();
            if dropped.min >= n {
                let p99 = row.quantile(CANCEL, 0.99);
                let shown = p99.map(|p| format!("p99 {}", us(p))).unwrap_or_default();
                stopped.push((p99.unwrap_or(0.0), format!("{} ({shown})", row.label)));
            } else {
                // Not yet stopped includes aborted work still queued; running is what had started.
                leaked.push(format!(
                    "{} ({} of {n:.0} not yet stopped, {} of them running, {} steps after the request)",
                    row.label,
                    of(LEAKED),
                    of(LEAKED_STARTED),
                    of(STEPS_AFTER_REQUEST)
                ));
            }
        }
        stopped.sort_by(|a, b| a.0.total_cmp(&b.0));
        let stopped: Vec<String> = stopped.into_iter().map(|(_, shown)| shown).collect();
        let mut line = if stopped.is_empty() {
            format!("{}: no variant stopped every worker within the deadline in every run", table.id)
        } else {
            format!(
                "{}: stopped every worker within the deadline in every run, fastest first: {}",
                table.id,
                stopped.join(", ")
            )
        };
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
            // In REQUIRED's order; `held` is the leaked, `running` those of them that had started.
            let [n, created, dropped, held, running, files, early, held_late, files_late, swept, files_end, by_guards] =
                REQUIRED.map(|figure| f(run, figure));
            let mut expect = |ok: bool, what: String| {
                if !ok {
                    failures.push(format!("{at}: {what}"));
                }
            };
            expect(created == n, format!("{created} guards created for {n} workers"));
            expect(dropped + held == n, format!("{dropped} guards dropped + {held} still held != {n} workers"));
            expect(files == held, format!("{files} temp files on disk but {held} guards still held at the deadline"));
            let timed = run.histogram(CANCEL).map_or(0.0, |h| h.len() as f64);
            expect(
                timed + early == dropped,
                format!("{timed} timed stops + {early} before the request != {dropped} guards dropped"),
            );
            expect(
                held_late <= held,
                format!("{held_late} guards held after shutdown, more than the {held} held at the deadline"),
            );
            expect(
                files_late == held_late,
                format!("{files_late} temp files after shutdown but {held_late} guards still held"),
            );
            expect(swept <= files_late, format!("the case removed {swept} temp files but only {files_late} were left"));
            expect(files_end == 0.0, format!("{files_end} temp files survived the case's cleanup"));
            expect(running <= held, format!("{running} running workers leaked but only {held} guards held"));
            // Each file is removed once: by its guard, or, if the guard had not dropped by the
            // sweep, by the case.
            expect(
                by_guards + swept == created,
                format!("{by_guards} files removed by guards + {swept} by the case != {created} created"),
            );
            // A variant's own wait that reports everything ended must agree with the ledger.
            if run.notes(SHUTDOWN_WAIT).iter().any(|w| w == WAIT_ENDED) {
                expect(dropped == n, format!("the variant's shutdown wait ended but {held} guards were still held"));
            }
        }
    }
    failures
}
