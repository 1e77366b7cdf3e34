//! What the figures say: one function per claim (and reading), each with its rule and
//! threshold beside it, all decided from the report by the harness's rules.

use casebook::{Claim, ClaimId, ClaimResult, Decision, Figure, Format, Missing, Outcome, Report, RowReport, rules};

use crate::{
    background::Background,
    book::Listing,
    channels::Channel,
    figures::*,
    mixing::Mixing,
    params::Params,
    plan::{BOOK, DRIFT, FIRE_AND_FORGET, REFERENCE_CAPACITY, THREAD_TO_TASK, matrix_baseline, matrix_table},
};

pub fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
    vec![
        same_stream(report),
        capacity_in_the_book(params, report),
        capacity_in_the_matrix(report),
        hybrid_coordination(report),
        needless(report, Mixing::BlockInPlace),
        needless(report, Mixing::SpawnBlocking),
        needless(report, Mixing::BlockOnPerCall),
        threads_fire_forget(report),
        structured(report, Background::JoinSet),
        structured(report, Background::ThreadScope),
    ]
}

/// The label of a matrix row at a bounded capacity, as the harness names sweep rows.
pub fn at(channel: Channel, capacity: usize) -> String {
    format!("{} @{}", channel.name(), capacity as f64)
}

/// Whether a row's digest (agreed by every run) is the reference row's.
fn same_digest(row: &RowReport, reference: &RowReport) -> bool {
    row.digest.is_some() && row.digest == reference.digest
}

/// Each count may differ from the reference form's by at most this much, at the median of
/// the run-against-run differences: which items land in the first 20 is the scheduler's call
/// at the ties between the two sources, so one item either way is the same stream.
const SAME_STREAM_SLACK: f64 = 1.0;

/// `same-stream`: every producer form gives the consumer task-producer's stream.
fn same_stream(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if thread-producer's and thread-senders' digests (listings 17-41 and 17-42) are task-producer's (listing 17-40) in every run, and the intervals and the letters the consumer saw differ from task-producer's by at most {SAME_STREAM_SLACK} at the median, run against run, interval included; did not hold if a digest differs or a difference's whole interval lies beyond ±{SAME_STREAM_SLACK}"
    );
    Claim::new(ClaimId::SameStream, threshold).reading("the book's producers, swapped").decide(|| {
        let reference = report.need(BOOK, Listing::TaskProducer.name())?;
        let others = [Listing::ThreadProducer, Listing::ThreadSenders]
            .map(|l| report.need(BOOK, l.name()))
            .into_iter()
            .collect::<Result<Vec<&RowReport>, Missing>>()?;
        let mut decisions = Vec::new();
        let mut seen = Vec::new();
        for row in &others {
            let digest = if same_digest(row, reference) { Outcome::Held } else { Outcome::DidNotHold };
            decisions.push(Decision::bare(digest));
            for figure in [INTERVALS_SEEN, LETTERS_SEEN] {
                let diff = row.series(figure)?.paired(
                    &reference.series(figure)?,
                    Format::Count,
                    &format!("{} − task-producer {}", row.label, figure.key),
                    |a, b| a - b,
                );
                decisions.push(rules::within(&diff, -SAME_STREAM_SLACK, SAME_STREAM_SLACK));
            }
            seen.push(consumer_saw(row));
        }
        let made: Vec<String> =
            report.ran_in(BOOK).filter_map(|r| Some(format!("{} {:.0}", r.label, r.median(INTERVALS_MADE)?))).collect();
        let evidence = format!(
            "the consumer saw: {}; {}; digest {}. Behind the stream, intervals made before take(20) ended it: {}",
            consumer_saw(reference),
            seen.join("; "),
            match others.iter().all(|r| same_digest(r, reference)) {
                true => format!("'{}' for every form", reference.digest.as_deref().unwrap_or("?")),
                false => "differs between forms".into(),
            },
            made.join(", ")
        );
        Ok((Decision::all(decisions), evidence))
    })
}

fn consumer_saw(row: &RowReport) -> String {
    let of = |f: Figure| row.median(f).map(|v| format!("{v:.0}")).unwrap_or_else(|| "?".into());
    format!("{}: {} intervals, {} letters, {} timeouts", row.label, of(INTERVALS_SEEN), of(LETTERS_SEEN), of(TIMEOUTS))
}

// ANCHOR: capacity_in_the_book
/// `channel-capacity`, on the book's example: the unbounded queue grows at least as fast as
/// the consumer takes from it (the producer is not paced), the bounded one stays within its
/// capacity and one item in the producer's hands.
fn capacity_in_the_book(params: &Params, report: &Report) -> ClaimResult {
    let consumer_rate = 1.0 / params.drift.throttle.as_secs_f64();
    let bound = params.fix_capacity as f64 + 1.0;
    let threshold = format!(
        "held if, in the drift table, each unbounded form's queue grew by at least {consumer_rate:.0} items/s (the consumer's own pace: the producer ran ahead of it), and each bounded form left at most {bound:.0} items in its queue, at the median, interval included; did not hold if either whole interval misses"
    );
    Claim::new(ClaimId::ChannelCapacity, threshold).reading("the book's unbounded channel").decide(|| {
        let mut decisions = Vec::new();
        let mut evidence = Vec::new();
        for row in report.ran_in(DRIFT) {
            let bounded = Listing::ALL.iter().any(|l| l.name() == row.variant && l.bounded());
            if bounded {
                decisions.push(rules::at_most(&row.series(LEFT_QUEUED)?, bound));
            } else {
                decisions.push(rules::at_least(&row.series(QUEUE_GROWTH)?, consumer_rate));
            }
            let age = row.quantile(INTERVAL_AGE, 1.0).map(|us| Format::Micros.show(us)).unwrap_or_else(|| "?".into());
            evidence.push(format!(
                "{}: {} left in the queue (growing {}), oldest interval {age} old when taken, RSS {}",
                row.label,
                row.series(LEFT_QUEUED)?.show(),
                row.series(QUEUE_GROWTH)?.show(),
                row.series(RSS_GROWTH).map(|s| s.show()).unwrap_or_else(|_| "?".into())
            ));
        }
        if decisions.is_empty() {
            return Err(Missing("no row of the drift table ran".into()));
        }
        Ok((Decision::all(decisions), format!("after {:?}: {}", params.drift_for, evidence.join("; "))))
    })
}
// ANCHOR_END: capacity_in_the_book

/// `channel-capacity`, in the matrix: capacity 1024 moves at least this many times the
/// messages per second of capacity 1, run against run, for each direction's baseline channel.
const CAPACITY_FACTOR: f64 = 2.0;

fn capacity_in_the_matrix(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if, in each direction, the baseline channel (std-mpsc between threads, tokio-mpsc where a task is involved) moved at least {CAPACITY_FACTOR}x the messages per second at capacity {REFERENCE_CAPACITY} as at capacity 1, run against run, interval included"
    );
    Claim::new(ClaimId::ChannelCapacity, threshold).reading("capacity in the bridge matrix").decide(|| {
        let mut decisions = Vec::new();
        let mut evidence = Vec::new();
        for direction in crate::channels::Direction::ALL {
            let (table, channel) = (matrix_table(direction), matrix_baseline(direction));
            let big = report.series(table, &at(channel, REFERENCE_CAPACITY), MESSAGES_PER_S)?;
            let one = report.series(table, &at(channel, 1), MESSAGES_PER_S)?;
            evidence.push(format!(
                "{direction} {}: {} at 1, {} at {REFERENCE_CAPACITY}",
                channel.name(),
                one.show(),
                big.show()
            ));
            decisions.push(rules::ratio_at_least(&big, &one, CAPACITY_FACTOR));
        }
        Ok((Decision::all(decisions), evidence.join("; ")))
    })
}

/// `hybrid-coordination`: a thread handing its results to async code over an async channel
/// costs at most this much CPU per message, so the hop is small next to any blocking work
/// worth a thread.
const HOP_CPU_NS: f64 = 1000.0;

fn hybrid_coordination(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if tokio-mpsc thread → task at capacity {REFERENCE_CAPACITY} used at most {HOP_CPU_NS:.0} ns of CPU per message at the median, interval included, with every message delivered once and in order (its digest), and the book's thread-senders form (listing 17-42's threads sending over async channels) gave the consumer task-producer's stream"
    );
    Claim::new(ClaimId::HybridCoordination, threshold).reading("a thread's results over an async channel").decide(
        || {
            let label = at(Channel::TokioMpsc, REFERENCE_CAPACITY);
            let hop = report.need(THREAD_TO_TASK, &label)?;
            let cpu = hop.series(CPU_PER_MESSAGE)?;
            let senders = report.need(BOOK, Listing::ThreadSenders.name())?;
            let reference = report.need(BOOK, Listing::TaskProducer.name())?;
            let exact = hop.digest.as_deref().is_some_and(|d| d.starts_with(crate::books::EXACT_DIGEST_PREFIX));
            let decisions = [
                rules::at_most(&cpu, HOP_CPU_NS),
                Decision::bare(if exact { Outcome::Held } else { Outcome::DidNotHold }),
                Decision::bare(if same_digest(senders, reference) { Outcome::Held } else { Outcome::DidNotHold }),
            ];
            let flume = report.median(THREAD_TO_TASK, &at(Channel::Flume, REFERENCE_CAPACITY), CPU_PER_MESSAGE);
            let spawn_blocking = report.median(crate::plan::SYNC_FROM_ASYNC, Mixing::SpawnBlocking.name(), PER_CALL);
            let mut evidence = format!(
                "tokio-mpsc thread → task: {} CPU per message, {} messages/s, latency p99 {}",
                cpu.show(),
                hop.series(MESSAGES_PER_S)?.show(),
                hop.quantile(LATENCY, 0.99).map(|ns| Format::Nanos.show(ns)).unwrap_or_else(|| "?".into())
            );
            if let Some(flume) = flume {
                evidence += &format!("; flume: {} CPU per message", Format::Nanos.show(flume));
            }
            if let Some(per_call) = spawn_blocking {
                evidence +=
                    &format!("; for scale, a spawn_blocking per call took {} per call", Format::Nanos.show(per_call));
            }
            evidence += &format!(
                "; thread-senders' digest {} task-producer's",
                if same_digest(senders, reference) { "matched" } else { "did not match" }
            );
            Ok((Decision::all(decisions), evidence))
        },
    )
}

/// `no-needless-mixing`: a mixed form costs at least this many times its native form per
/// call, run against run.
const MIXING_FACTOR: f64 = 1.5;

fn needless(report: &Report, form: Mixing) -> ClaimResult {
    let native = form.native();
    let table = if native == Mixing::DirectCall { crate::plan::SYNC_FROM_ASYNC } else { crate::plan::ASYNC_FROM_SYNC };
    let reading = match form {
        Mixing::BlockInPlace => "block_in_place per call",
        Mixing::SpawnBlocking => "spawn_blocking per call",
        _ => "Handle::block_on per call",
    };
    let threshold = format!(
        "held if {} took at least {MIXING_FACTOR}x {}'s time per call, run against run, interval included",
        form.name(),
        native.name()
    );
    Claim::new(ClaimId::NoNeedlessMixing, threshold).reading(reading).decide(|| {
        let mixed = report.series(table, form.name(), PER_CALL)?;
        let plain = report.series(table, native.name(), PER_CALL)?;
        let overhead = mixed.median() - plain.median();
        let evidence = format!(
            "{} {} per call vs {} {} ({} more per call)",
            form.name(),
            mixed.show(),
            native.name(),
            plain.show(),
            Format::Nanos.show(overhead)
        );
        Ok((rules::ratio_at_least(&mixed, &plain, MIXING_FACTOR), evidence))
    })
}

/// Lost jobs of one fire-and-forget form, with what they cost to hand off, for evidence.
fn fire_summary(report: &Report, form: Background) -> String {
    let Some(row) = report.row(FIRE_AND_FORGET, form.name()) else { return format!("{}: not run", form.name()) };
    let of = |f: Figure| row.median(f).map(|v| format!("{v:.0}")).unwrap_or_else(|| "?".into());
    format!(
        "{}: {} of {} lost ({} cut short, {} never started), hand-off p50 {}, shutdown wait {}",
        form.name(),
        of(LOST),
        of(SUBMITTED),
        of(CUT_SHORT),
        of(NEVER_STARTED),
        row.quantile(HAND_OFF, 0.5).map(|ns| Format::Nanos.show(ns)).unwrap_or_else(|| "?".into()),
        row.median(SHUTDOWN_WAIT).map(|s| Format::Seconds.show(s)).unwrap_or_else(|| "?".into())
    )
}

/// No job lost, decided on the runs of one form.
fn none_lost(report: &Report, form: Background) -> Result<Decision, Missing> {
    Ok(rules::at_most(&report.series(FIRE_AND_FORGET, form.name(), LOST)?, 0.0))
}

/// `threads-fire-forget`, read as the book puts it: a thread "runs to completion" with no
/// one waiting for it. Decided at the moment that matters, when `main` returns.
fn threads_fire_forget(report: &Report) -> ClaimResult {
    let threshold = "held if the detached threads lost no job (none cut short or never started) when main returned, in every run (median and interval at 0); did not hold if the whole interval is above 0";
    Claim::new(ClaimId::ThreadsFireForget, threshold).reading("a detached thread's job survives main returning").decide(
        || {
            let decision = none_lost(report, Background::DetachedThread)?;
            let evidence = Background::ALL.iter().map(|f| fire_summary(report, *f)).collect::<Vec<_>>().join("; ");
            Ok((decision, evidence))
        },
    )
}

/// `structured-concurrency`: work scoped to a parent is not lost at shutdown.
fn structured(report: &Report, form: Background) -> ClaimResult {
    let reading = match form {
        Background::JoinSet => "a JoinSet drained before main returns",
        _ => "std::thread::scope",
    };
    let threshold = format!(
        "held if {} lost no job when main returned, in every run (median and interval at 0); did not hold if the whole interval is above 0",
        form.name()
    );
    Claim::new(ClaimId::StructuredConcurrency, threshold).reading(reading).decide(|| {
        let decision = none_lost(report, form)?;
        let detached = if form == Background::JoinSet { Background::DetachedTask } else { Background::DetachedThread };
        let evidence = format!("{}; against {}", fire_summary(report, form), fire_summary(report, detached));
        Ok((decision, evidence))
    })
}
