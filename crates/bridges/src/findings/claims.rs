//! One function per claim (and reading), each with its rule and threshold beside it, all
//! decided from the report by the harness's rules, which say their thresholds in words.

use casebook::{Claim, ClaimId, ClaimResult, Decision, Figure, Format, Missing, Report, RowReport, stats::rules};

use crate::{
    book::Listing,
    channels::{Direction, books::EXACT_DIGEST_PREFIX, raw::REFERENCE_CAPACITY},
    figures::*,
    params::Params,
    tables::{BOOK, DRIFT, DRIFT_LISTINGS, FIRE_AND_FORGET, SYNC_FROM_ASYNC, THREAD_TO_TASK, matrix_baseline},
    tables::{matrix_table, mixing_table},
    variants::Variant::{self, *},
};

/// The reference capacity as a sweep row's axis value.
const REFERENCE: f64 = REFERENCE_CAPACITY as f64;

pub fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
    vec![
        same_stream(report),
        capacity_in_the_book(params, report),
        capacity_in_the_matrix(report),
        hybrid_coordination(report),
        needless(report, BlockInPlace, "block_in_place per call"),
        needless(report, SpawnBlocking, "spawn_blocking per call"),
        needless(report, BlockOnPerCall, "Handle::block_on per call"),
        threads_fire_forget(report),
        structured(report, JoinSet, "a JoinSet drained before main returns", DetachedTask),
        structured(report, ThreadScope, "std::thread::scope", DetachedThread),
    ]
}

/// Whether a row's digest (agreed by every run) is the reference row's.
fn same_digest(row: &RowReport, reference: &RowReport) -> bool {
    row.digest.is_some() && row.digest == reference.digest
}

/// A row's median of `figure` as a whole count, `?` when it was not recorded.
fn count(row: &RowReport, figure: Figure) -> String {
    row.median(figure).map(|v| format!("{v:.0}")).unwrap_or_else(|| "?".into())
}

/// Each count may differ from the reference form's by at most this much, at the median of
/// the run-against-run differences: which items land in the first 20 is the scheduler's call
/// at the ties between the two sources, so one item either way is the same stream.
const SAME_STREAM_SLACK: f64 = 1.0;

/// `same-stream`: every producer form gives the consumer task-producer's stream.
fn same_stream(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::SameStream).reading("the book's producers, swapped").decide(|| {
        let reference = report.need(BOOK, TaskProducer)?;
        let mut decisions = Vec::new();
        let mut seen = vec![consumer_saw(reference)];
        for variant in [ThreadProducer, ThreadSenders] {
            let row = report.need(BOOK, variant)?;
            let what = format!("{variant}'s digest is task-producer's in every run");
            decisions.push(rules::fact(&what, same_digest(row, reference)));
            for figure in [INTERVALS_SEEN, LETTERS_SEEN] {
                let label = format!("{variant} − task-producer {}", figure.key);
                let diff = row.series(figure)?.paired(&reference.series(figure)?, Format::Count, &label, |a, b| a - b);
                decisions.push(rules::within(&diff, -SAME_STREAM_SLACK, SAME_STREAM_SLACK));
            }
            seen.push(consumer_saw(row));
        }
        let made: Vec<String> =
            report.ran_in(BOOK).map(|r| format!("{} {}", r.label, count(r, INTERVALS_MADE))).collect();
        Ok(Decision::all(decisions).noting(format!(
            "the consumer saw: {}; task-producer's digest '{}'. Behind the stream, intervals made before take(20) ended it: {}",
            seen.join("; "),
            reference.digest.as_deref().unwrap_or("?"),
            made.join(", ")
        )))
    })
}

fn consumer_saw(row: &RowReport) -> String {
    let (intervals, letters) = (count(row, INTERVALS_SEEN), count(row, LETTERS_SEEN));
    format!("{}: {intervals} intervals, {letters} letters, {} timeouts", row.label, count(row, TIMEOUTS))
}

// ANCHOR: capacity_in_the_book
/// `channel-capacity`, on the book's example: the unbounded queue grows at least as fast as
/// the consumer takes from it (the producer is not paced), the bounded one stays within its
/// capacity and one item in the producer's hands.
fn capacity_in_the_book(params: &Params, report: &Report) -> ClaimResult {
    let consumer_rate = 1.0 / params.drift.throttle.as_secs_f64();
    let bound = params.fix_capacity as f64 + 1.0;
    Claim::new(ClaimId::ChannelCapacity).reading("the book's unbounded channel").decide(|| {
        let mut decisions = Vec::new();
        let mut context = Vec::new();
        for variant in DRIFT_LISTINGS {
            let Ok(row) = report.need(DRIFT, variant) else { continue };
            let (left, growth) = (row.series(LEFT_QUEUED)?, row.series(QUEUE_GROWTH)?);
            let age = row.quantile(INTERVAL_AGE, 1.0).map(|us| Format::Micros.show(us)).unwrap_or_else(|| "?".into());
            let rss = row.series(RSS_GROWTH).map(|s| s.show()).unwrap_or_else(|_| "?".into());
            let also = format!("oldest interval {age} old when taken, RSS {rss}");
            if variant.listing().is_some_and(Listing::bounded) {
                context.push(format!("{variant}: queue growing {}, {also}", growth.show()));
                decisions.push(rules::at_most(&left.named(format!("{variant}'s intervals left in its queue")), bound));
            } else {
                context.push(format!("{variant}: {} left in the queue, {also}", left.show()));
                let growth = growth.named(format!("{variant}'s queue growth (the consumer's own pace is the line)"));
                decisions.push(rules::at_least(&growth, consumer_rate));
            }
        }
        if decisions.is_empty() {
            return Err(Missing("no row of the drift table ran".into()));
        }
        Ok(Decision::all(decisions).noting(format!("after {:?}: {}", params.drift_for, context.join("; "))))
    })
}
// ANCHOR_END: capacity_in_the_book

/// `channel-capacity`, in the matrix: capacity 1024 moves at least this many times the
/// messages per second of capacity 1, run against run, for each direction's baseline channel.
const CAPACITY_FACTOR: f64 = 2.0;

fn capacity_in_the_matrix(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::ChannelCapacity).reading("capacity in the bridge matrix").decide(|| {
        let mut decisions = Vec::new();
        for direction in Direction::ALL {
            let (table, channel) = (matrix_table(direction), matrix_baseline(direction));
            let at = |capacity: f64| {
                let series = report.series(table, (channel, capacity), MESSAGES_PER_S)?;
                Ok::<_, Missing>(series.named(format!("{direction} {channel} messages/s at capacity {capacity}")))
            };
            decisions.push(rules::ratio_at_least(&at(REFERENCE)?, &at(1.0)?, CAPACITY_FACTOR));
        }
        Ok(Decision::all(decisions))
    })
}

/// `hybrid-coordination`: a thread handing its results to async code over an async channel
/// costs at most this much CPU per message, so the hop is small next to any blocking work
/// worth a thread.
const HOP_CPU_NS: f64 = 1000.0;

fn hybrid_coordination(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::HybridCoordination).reading("a thread's results over an async channel").decide(|| {
        let hop = report.need(THREAD_TO_TASK, (TokioMpsc, REFERENCE))?;
        let cpu = hop.series(CPU_PER_MESSAGE)?.named(format!(
            "tokio-mpsc thread → task's CPU per message at capacity {REFERENCE_CAPACITY}"
        ));
        let senders = report.need(BOOK, ThreadSenders)?;
        let reference = report.need(BOOK, TaskProducer)?;
        let exact = hop.digest.as_deref().is_some_and(|d| d.starts_with(EXACT_DIGEST_PREFIX));
        let decisions = [
            rules::at_most(&cpu, HOP_CPU_NS),
            rules::fact("tokio-mpsc thread → task delivered every message once and in order (its digest)", exact),
            rules::fact(
                "the book's thread-senders form (listing 17-42's threads sending over async channels) gave the consumer task-producer's stream (its digest)",
                same_digest(senders, reference),
            ),
        ];
        let mut context = format!(
            "tokio-mpsc thread → task: {} messages/s, latency p99 {}",
            hop.series(MESSAGES_PER_S)?.show(),
            hop.quantile(LATENCY, 0.99).map(|ns| Format::Nanos.show(ns)).unwrap_or_else(|| "?".into())
        );
        if let Some(flume) = report.median(THREAD_TO_TASK, (Flume, REFERENCE), CPU_PER_MESSAGE) {
            context += &format!("; flume: {} CPU per message", Format::Nanos.show(flume));
        }
        if let Some(per_call) = report.median(SYNC_FROM_ASYNC, SpawnBlocking, PER_CALL) {
            context += &format!("; for scale, a spawn_blocking per call took {} per call", Format::Nanos.show(per_call));
        }
        Ok(Decision::all(decisions).noting(context))
    })
}

/// `no-needless-mixing`: a mixed form costs at least this many times its native form per
/// call, run against run.
const MIXING_FACTOR: f64 = 1.5;

fn needless(report: &Report, form: Variant, reading: &str) -> ClaimResult {
    Claim::new(ClaimId::NoNeedlessMixing).reading(reading).decide(|| {
        let native = form.native().ok_or_else(|| Missing(format!("{form} is not a mixing form")))?;
        let table = mixing_table(native);
        let mixed = report.series(table, form, PER_CALL)?.named(format!("{form}'s time per call"));
        let plain = report.series(table, native, PER_CALL)?.named(format!("{native}'s time per call"));
        let overhead = Format::Nanos.show(mixed.median() - plain.median());
        Ok(rules::ratio_at_least(&mixed, &plain, MIXING_FACTOR).noting(format!("{overhead} more per call")))
    })
}

/// Lost jobs of one fire-and-forget form, with what they cost to hand off, for evidence.
fn fire_summary(report: &Report, form: Variant) -> String {
    let Some(row) = report.row(FIRE_AND_FORGET, form) else { return format!("{form}: not run") };
    let [lost, submitted, cut_short, never] = [LOST, SUBMITTED, CUT_SHORT, NEVER_STARTED].map(|k| count(row, k));
    let hand_off = row.quantile(HAND_OFF, 0.5).map(|ns| Format::Nanos.show(ns)).unwrap_or_else(|| "?".into());
    let wait = row.median(SHUTDOWN_WAIT).map(|s| Format::Seconds.show(s)).unwrap_or_else(|| "?".into());
    format!(
        "{form}: {lost} of {submitted} lost ({cut_short} cut short, {never} never started), hand-off p50 {hand_off}, shutdown wait {wait}"
    )
}

/// No job lost when `main` returned, decided on the runs of one form.
fn none_lost(report: &Report, form: Variant) -> Result<Decision, Missing> {
    let lost = report.series(FIRE_AND_FORGET, form, LOST)?.named(format!("{form}'s jobs lost when main returned"));
    Ok(rules::at_most(&lost, 0.0))
}

/// `threads-fire-forget`, read as the book puts it: a thread "runs to completion" with no
/// one waiting for it. Decided at the moment that matters, when `main` returns.
fn threads_fire_forget(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::ThreadsFireForget).reading("a detached thread's job survives main returning").decide(|| {
        let forms = [DetachedThread, DetachedTask, ThreadScope, JoinSet];
        let context = forms.map(|f| fire_summary(report, f)).join("; ");
        Ok(none_lost(report, DetachedThread)?.noting(context))
    })
}

/// `structured-concurrency`: work scoped to a parent is not lost at shutdown, where its
/// `detached` counterpart's may be.
fn structured(report: &Report, form: Variant, reading: &str, detached: Variant) -> ClaimResult {
    Claim::new(ClaimId::StructuredConcurrency).reading(reading).decide(|| {
        let context = format!("{}; against {}", fire_summary(report, form), fire_summary(report, detached));
        Ok(none_lost(report, form)?.noting(context))
    })
}
