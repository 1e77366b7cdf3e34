//! Every claim rule on synthetic figures: figures chosen to hold, to miss, to straddle the
//! line, and to be absent. Nothing runs; the rules alone are under test.

use cancellation::{
    Cancellation,
    figures::*,
    findings,
    params::{Args, Params},
    tables::{CPU, IO},
    variants::Variant,
};
use casebook::{Case, ClaimId, ClaimResult, Figure, Outcome, Report, TableId, testing::ReportBuilder};

const N: f64 = 24.0;

fn params() -> Params {
    let args = Args { workers: Some(N as usize), cpu_job_steps: Some(1000), ..Args::default() };
    Cancellation::params(&args, casebook::Preset::Default).unwrap()
}

fn builder() -> ReportBuilder {
    ReportBuilder::of::<Cancellation>(&params())
}

fn claim(report: &Report, id: ClaimId, reading: Option<&str>) -> ClaimResult {
    findings::claims(&params(), report)
        .into_iter()
        .find(|c| c.id == id && c.reading.as_deref() == reading)
        .unwrap_or_else(|| panic!("no {id} ({reading:?})"))
}

/// The outcome of one claim when `variants` on `table` record `figure` with `values`.
fn outcome(
    id: ClaimId,
    reading: &str,
    table: TableId,
    variants: &[Variant],
    figure: Figure,
    values: &[f64],
) -> Outcome {
    let report = variants.iter().fold(builder(), |b, v| b.figure(table, *v, figure, values)).build();
    claim(&report, id, Some(reading)).outcome
}

const HELD: &[f64] = &[24.0, 24.0, 24.0, 24.0, 24.0];
const SHORT: &[f64] = &[10.0, 12.0, 11.0, 9.0, 10.0];
const STRADDLES: &[f64] = &[24.0, 24.0, 12.0, 12.0, 24.0];

#[test]
fn every_guard_dropped_decides_both_readings_of_cancel_async_drop() {
    for (reading, variant) in
        [("a dropped future", Variant::DropFuture), ("a dropped JoinHandle", Variant::DropJoinhandle)]
    {
        let o = |values| outcome(ClaimId::CancelAsyncDrop, reading, IO, &[variant], GUARDS_DROPPED, values);
        assert_eq!(o(HELD), Outcome::Held, "{reading}");
        assert_eq!(o(SHORT), Outcome::DidNotHold, "{reading}");
        assert_eq!(o(STRADDLES), Outcome::Inconclusive, "{reading}");
        let missing = claim(&builder().build(), ClaimId::CancelAsyncDrop, Some(reading));
        assert_eq!(missing.outcome, Outcome::Inconclusive);
        assert!(missing.evidence.starts_with("not measured"), "{}", missing.evidence);
    }
}

#[test]
fn a_running_closure_at_the_deadline_decides_stopping_from_outside() {
    const READING: &str = "stopping a running thread from outside";
    let o =
        |values| outcome(ClaimId::CancelThreads, READING, IO, &[Variant::SpawnBlockingAbort], LEAKED_STARTED, values);
    assert_eq!(o(&[3.0, 5.0, 4.0, 4.0, 5.0]), Outcome::Held);
    assert_eq!(o(&[0.0, 0.0, 0.0, 0.0, 0.0]), Outcome::DidNotHold);
    assert_eq!(o(&[0.0, 2.0, 0.0, 2.0, 1.0]), Outcome::Inconclusive);
    let missing = claim(&builder().build(), ClaimId::CancelThreads, Some(READING));
    assert!(missing.evidence.contains("spawn-blocking-abort"), "{}", missing.evidence);
}

#[test]
fn both_signalled_variants_must_stop_every_thread() {
    const READING: &str = "a signal stops a thread";
    let both = [Variant::ThreadFlag, Variant::ThreadSignal];
    assert_eq!(outcome(ClaimId::CancelThreads, READING, IO, &both, GUARDS_DROPPED, HELD), Outcome::Held);
    assert_eq!(outcome(ClaimId::CancelThreads, READING, IO, &both, GUARDS_DROPPED, SHORT), Outcome::DidNotHold);
    assert_eq!(outcome(ClaimId::CancelThreads, READING, IO, &both, GUARDS_DROPPED, STRADDLES), Outcome::Inconclusive);
    // One of the two is not enough to decide.
    let only_flag = outcome(ClaimId::CancelThreads, READING, IO, &[Variant::ThreadFlag], GUARDS_DROPPED, HELD);
    assert_eq!(only_flag, Outcome::Inconclusive);
}

#[test]
fn manual_cleanup_is_read_from_who_removed_the_files() {
    const READING: &str = "cleanup after a signalled thread is manual";
    let both = [Variant::ThreadFlag, Variant::ThreadSignal];
    let o = |values| outcome(ClaimId::CancelThreads, READING, IO, &both, FILES_REMOVED_BY_CASE, values);
    assert_eq!(o(&[2.0, 3.0, 2.0, 4.0, 2.0]), Outcome::Held);
    assert_eq!(o(&[0.0, 0.0, 0.0, 0.0, 0.0]), Outcome::DidNotHold);
    assert_eq!(o(&[0.0, 3.0, 0.0, 3.0, 1.0]), Outcome::Inconclusive);
    let report = both
        .iter()
        .fold(builder(), |b, v| {
            b.figure(IO, *v, FILES_REMOVED_BY_CASE, &[0.0; 3]).figure(IO, *v, FILES_REMOVED_BY_GUARDS, &[N; 3])
        })
        .build();
    let result = claim(&report, ClaimId::CancelThreads, Some(READING));
    assert!(result.evidence.contains("no cleanup code beyond the signal"), "{}", result.evidence);
}

fn slices(v: &[Vec<u64>]) -> Vec<&[u64]> {
    v.iter().map(Vec::as_slice).collect()
}

/// A CPU table where abort's started tasks ran on (or were cut short) and abort's cancel
/// latency is `abort_ms` against abort-yield's 2 ms.
fn cpu_report(cut_short: &[f64], abort_ms: u64) -> Report {
    let runs = cut_short.len();
    let latencies = |ms: u64| vec![vec![ms * 1000; 50]; runs];
    let (abort, yielding) = (latencies(abort_ms), latencies(2));
    builder()
        .figure(CPU, Variant::Abort, CUT_SHORT, cut_short)
        .figure(CPU, Variant::Abort, WHOLE_JOB_AFTER_REQUEST, &vec![2.0; runs])
        .figure(CPU, Variant::Abort, LEAKED_STARTED, &vec![0.0; runs])
        .histogram(CPU, Variant::Abort, CANCEL, &slices(&abort[..]))
        .histogram(CPU, Variant::AbortYield, CANCEL, &slices(&yielding[..]))
        .build()
}

#[test]
fn a_cpu_task_without_awaits_runs_on_and_holds_up_the_rest() {
    let o = |cut: &[f64], ms| claim(&cpu_report(cut, ms), ClaimId::TaskCooperative, None).outcome;
    assert_eq!(o(&[0.0, 0.0, 0.0], 100), Outcome::Held);
    // Started tasks were cut short in every run: the runtime did stop them.
    assert_eq!(o(&[3.0, 2.0, 4.0], 100), Outcome::DidNotHold);
    // As slow to abort as the yielding tasks: nothing was held up.
    assert_eq!(o(&[0.0, 0.0, 0.0], 2), Outcome::DidNotHold);
    // Runs disagree.
    assert_eq!(o(&[0.0, 2.0, 0.0], 100), Outcome::Inconclusive);
    let result = claim(&cpu_report(&[0.0, 0.0, 0.0], 100), ClaimId::TaskCooperative, None);
    assert!(
        result.interval.as_deref().is_some_and(|i| i.contains("abort cancel p50 / abort-yield cancel p50 50.0")),
        "{:?}",
        result.interval
    );
    let missing = claim(&builder().build(), ClaimId::TaskCooperative, None);
    assert!(missing.evidence.starts_with("not measured"), "{}", missing.evidence);
}
