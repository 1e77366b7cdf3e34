//! Every claim rule, and the accounting check, on synthetic figures: figures chosen to hold,
//! to miss, to straddle the line, and to be absent. Nothing runs; the rules alone are tested.

use bridges::{
    Bridges,
    channels::{Direction, books::EXACT_DIGEST_PREFIX, raw::REFERENCE_CAPACITY},
    figures::*,
    findings::{checks, claims, verdicts},
    params::{Args, Params},
    tables::*,
    variants::Variant::{self, *},
};
use casebook::{Case, ClaimId, ClaimResult, Outcome, Preset, Report, testing::ReportBuilder};

const REFERENCE: f64 = REFERENCE_CAPACITY as f64;

fn params() -> Params {
    Bridges::params(&Args::default(), Preset::Default).unwrap()
}

fn builder() -> ReportBuilder {
    ReportBuilder::of::<Bridges>(&params())
}

fn claim(report: &Report, id: ClaimId, reading: &str) -> ClaimResult {
    claims::claims(&params(), report)
        .into_iter()
        .find(|c| c.id == id && c.reading.as_deref() == Some(reading))
        .unwrap_or_else(|| panic!("no {id} ({reading})"))
}

fn assert_not_measured(id: ClaimId, reading: &str) {
    let missing = claim(&builder().build(), id, reading);
    assert_eq!(missing.outcome, Outcome::Inconclusive, "{id} ({reading})");
    assert!(missing.evidence.starts_with("not measured"), "{id} ({reading}): {}", missing.evidence);
}

const RUNS: usize = 5;

// --- same-stream ---------------------------------------------------------------------------

const SAME_STREAM: &str = "the book's producers, swapped";

/// The book table with each form's digest and the intervals the consumer saw.
fn book(digests: [&str; 3], intervals: [&[f64]; 3]) -> Report {
    let forms = [TaskProducer, ThreadProducer, ThreadSenders];
    forms
        .iter()
        .zip(digests)
        .zip(intervals)
        .fold(builder(), |b, ((form, digest), seen)| {
            b.digest(BOOK, *form, digest, RUNS)
                .figure(BOOK, *form, INTERVALS_SEEN, seen)
                .figure(BOOK, *form, LETTERS_SEEN, &[5.0; RUNS])
                .figure(BOOK, *form, TIMEOUTS, &[3.0; RUNS])
                .figure(BOOK, *form, INTERVALS_MADE, &[900.0; RUNS])
        })
        .build()
}

const TWELVE: &[f64] = &[12.0; RUNS];

#[test]
fn same_stream_needs_equal_digests_and_counts_within_one() {
    let o = |digests, intervals| claim(&book(digests, intervals), ClaimId::SameStream, SAME_STREAM).outcome;
    assert_eq!(o(["d"; 3], [TWELVE, &[11.0, 12.0, 13.0, 12.0, 11.0], TWELVE]), Outcome::Held);
    assert_eq!(o(["d", "other", "d"], [TWELVE; 3]), Outcome::DidNotHold);
    assert_eq!(o(["d"; 3], [TWELVE, &[17.0; RUNS], TWELVE]), Outcome::DidNotHold);
    assert_eq!(o(["d"; 3], [TWELVE, &[12.0, 15.0, 12.0, 15.0, 13.0], TWELVE]), Outcome::Inconclusive);
    assert_not_measured(ClaimId::SameStream, SAME_STREAM);
}

// --- channel-capacity ----------------------------------------------------------------------

const IN_THE_BOOK: &str = "the book's unbounded channel";

fn drift(growth: &[f64], bounded_left: &[f64]) -> Report {
    DRIFT_LISTINGS
        .iter()
        .fold(builder(), |b, listing| {
            let bounded = matches!(listing, TaskBounded | ThreadBounded);
            let (left, grows) = if bounded { (bounded_left, &[0.5; RUNS][..]) } else { (&[900.0; RUNS][..], growth) };
            b.figure(DRIFT, *listing, LEFT_QUEUED, left).figure(DRIFT, *listing, QUEUE_GROWTH, grows).figure(
                DRIFT,
                *listing,
                RSS_GROWTH,
                &[1e6; RUNS],
            )
        })
        .build()
}

#[test]
fn the_book_reading_needs_a_growing_unbounded_queue_and_a_bounded_one_that_is_not() {
    let o = |growth, left| claim(&drift(growth, left), ClaimId::ChannelCapacity, IN_THE_BOOK).outcome;
    let one = &[1.0, 0.0, 1.0, 1.0, 1.0];
    assert_eq!(o(&[450.0, 460.0, 470.0, 455.0, 465.0], one), Outcome::Held);
    assert_eq!(o(&[2.0, 3.0, 2.0, 3.0, 2.0], one), Outcome::DidNotHold);
    assert_eq!(o(&[450.0; RUNS], &[40.0; RUNS]), Outcome::DidNotHold, "a bounded queue over its capacity");
    assert_eq!(o(&[5.0, 50.0, 5.0, 50.0, 20.0], one), Outcome::Inconclusive);
    assert_not_measured(ClaimId::ChannelCapacity, IN_THE_BOOK);
}

const IN_THE_MATRIX: &str = "capacity in the bridge matrix";

fn matrix(at_one: &[f64], at_1024: &[f64]) -> Report {
    Direction::ALL
        .iter()
        .fold(builder(), |b, d| {
            let (table, channel) = (matrix_table(*d), matrix_baseline(*d));
            b.figure(table, (channel, 1.0), MESSAGES_PER_S, at_one).figure(
                table,
                (channel, REFERENCE),
                MESSAGES_PER_S,
                at_1024,
            )
        })
        .build()
}

#[test]
fn the_matrix_reading_needs_capacity_1024_twice_as_fast_as_1_in_every_direction() {
    let o = |one, big| claim(&matrix(one, big), ClaimId::ChannelCapacity, IN_THE_MATRIX).outcome;
    let one = &[3e5, 3.1e5, 2.9e5, 3e5, 3.2e5];
    assert_eq!(o(one, &[5e6, 5.2e6, 4.9e6, 5.1e6, 5e6]), Outcome::Held);
    assert_eq!(o(one, &[3e5, 3.3e5, 3e5, 3.1e5, 3e5]), Outcome::DidNotHold);
    assert_eq!(o(one, &[3e5, 9e5, 3e5, 9e5, 6e5]), Outcome::Inconclusive);
    assert_not_measured(ClaimId::ChannelCapacity, IN_THE_MATRIX);
}

// --- hybrid-coordination -------------------------------------------------------------------

const HYBRID: &str = "a thread's results over an async channel";

fn hop(cpu_ns: &[f64], hop_digest: &str, senders_digest: &str) -> Report {
    builder()
        .figure(THREAD_TO_TASK, (TokioMpsc, REFERENCE), CPU_PER_MESSAGE, cpu_ns)
        .figure(THREAD_TO_TASK, (TokioMpsc, REFERENCE), MESSAGES_PER_S, &[4e6; RUNS])
        .digest(THREAD_TO_TASK, (TokioMpsc, REFERENCE), hop_digest, RUNS)
        .digest(BOOK, TaskProducer, "stream", RUNS)
        .digest(BOOK, ThreadSenders, senders_digest, RUNS)
        .build()
}

#[test]
fn hybrid_coordination_needs_a_cheap_exact_hop_and_the_same_stream() {
    let exact = format!("{EXACT_DIGEST_PREFIX}, from 1 producer(s)");
    let o = |cpu, hop_digest: &str, senders| {
        claim(&hop(cpu, hop_digest, senders), ClaimId::HybridCoordination, HYBRID).outcome
    };
    let cheap = &[210.0, 220.0, 215.0, 230.0, 205.0];
    assert_eq!(o(cheap, &exact, "stream"), Outcome::Held);
    assert_eq!(o(&[3000.0; RUNS], &exact, "stream"), Outcome::DidNotHold);
    assert_eq!(o(cheap, "4 of 5 received", "stream"), Outcome::DidNotHold);
    assert_eq!(o(cheap, &exact, "another stream"), Outcome::DidNotHold);
    assert_eq!(o(&[200.0, 2000.0, 200.0, 2000.0, 900.0], &exact, "stream"), Outcome::Inconclusive);
    assert_not_measured(ClaimId::HybridCoordination, HYBRID);
}

// --- no-needless-mixing --------------------------------------------------------------------

#[test]
fn each_mixed_form_must_cost_half_again_its_native_form() {
    for (form, reading) in [
        (BlockInPlace, "block_in_place per call"),
        (SpawnBlocking, "spawn_blocking per call"),
        (BlockOnPerCall, "Handle::block_on per call"),
    ] {
        let native = form.native().unwrap();
        let table = if native == DirectCall { SYNC_FROM_ASYNC } else { ASYNC_FROM_SYNC };
        let o = |mixed: &[f64]| {
            let report =
                builder().figure(table, native, PER_CALL, &[200.0; RUNS]).figure(table, form, PER_CALL, mixed).build();
            claim(&report, ClaimId::NoNeedlessMixing, reading).outcome
        };
        assert_eq!(o(&[5000.0, 5100.0, 4900.0, 5000.0, 5200.0]), Outcome::Held, "{reading}");
        assert_eq!(o(&[220.0, 230.0, 210.0, 240.0, 220.0]), Outcome::DidNotHold, "{reading}");
        assert_eq!(o(&[220.0, 600.0, 220.0, 600.0, 300.0]), Outcome::Inconclusive, "{reading}");
        assert_not_measured(ClaimId::NoNeedlessMixing, reading);
    }
}

// --- threads-fire-forget and structured-concurrency ----------------------------------------

fn lost(form: Variant, values: &[f64]) -> Report {
    builder().figure(FIRE_AND_FORGET, form, LOST, values).build()
}

#[test]
fn fire_and_forget_and_structured_forms_are_judged_by_jobs_lost() {
    let cases = [
        (ClaimId::ThreadsFireForget, "a detached thread's job survives main returning", DetachedThread),
        (ClaimId::StructuredConcurrency, "a JoinSet drained before main returns", JoinSet),
        (ClaimId::StructuredConcurrency, "std::thread::scope", ThreadScope),
    ];
    for (id, reading, form) in cases {
        let o = |values: &[f64]| claim(&lost(form, values), id, reading).outcome;
        assert_eq!(o(&[0.0; RUNS]), Outcome::Held, "{reading}");
        assert_eq!(o(&[18.0, 17.0, 19.0, 18.0, 16.0]), Outcome::DidNotHold, "{reading}");
        assert_eq!(o(&[0.0, 3.0, 0.0, 3.0, 1.0]), Outcome::Inconclusive, "{reading}");
        assert_not_measured(id, reading);
    }
}

// --- accounting ----------------------------------------------------------------------------

fn matrix_run(sent: f64, received: f64, guard_hit: f64, late: f64) -> Report {
    let label = (Crossbeam, 16.0);
    builder()
        .figure(THREAD_TO_THREAD, label, EXPECTED, &[1000.0])
        .figure(THREAD_TO_THREAD, label, SENT, &[sent])
        .figure(THREAD_TO_THREAD, label, RECEIVED, &[received])
        .figure(THREAD_TO_THREAD, label, MISSING, &[sent - received])
        .figure(THREAD_TO_THREAD, label, SURPLUS, &[0.0])
        .figure(THREAD_TO_THREAD, label, LATE, &[late])
        .figure(THREAD_TO_THREAD, label, EARLY, &[0.0])
        .figure(THREAD_TO_THREAD, label, GUARD_HIT, &[guard_hit])
        .build()
}

#[test]
fn the_books_catch_loss_disorder_and_a_short_run_but_not_a_guard_stop() {
    let check = |r: &Report| checks::check(r);
    assert!(check(&matrix_run(1000.0, 1000.0, 0.0, 0.0)).is_empty());
    assert!(check(&matrix_run(600.0, 600.0, 1.0, 0.0)).is_empty(), "a guard stop is a finding");
    assert_eq!(check(&matrix_run(600.0, 600.0, 0.0, 0.0)).len(), 1, "short without the guard");
    assert_eq!(check(&matrix_run(1000.0, 999.0, 0.0, 0.0)).len(), 2, "one missing");
    assert_eq!(check(&matrix_run(1000.0, 1000.0, 0.0, 2.0)).len(), 1, "out of order");
    let jobs = |completed: f64, cut: f64, returned: f64| {
        let b = builder();
        let name = DetachedThread;
        let report = [
            (JOBS, 40.0),
            (SUBMITTED, 40.0),
            (COMPLETED, completed),
            (CUT_SHORT, cut),
            (NEVER_STARTED, 0.0),
            (MAIN_RETURNED, returned),
        ]
        .iter()
        .fold(b, |b, (f, v)| b.figure(FIRE_AND_FORGET, name, *f, &[*v]))
        .build();
        check(&report)
    };
    assert!(jobs(30.0, 10.0, 1.0).is_empty());
    assert_eq!(jobs(30.0, 9.0, 1.0).len(), 1, "a job counted nowhere");
    assert_eq!(jobs(30.0, 10.0, 0.0).len(), 1, "main never returned");
    let missing = builder().figure(FIRE_AND_FORGET, JoinSet, JOBS, &[40.0]).build();
    assert!(check(&missing)[0].contains("missing figures"), "{:?}", check(&missing));
}

#[test]
fn a_guard_stop_and_the_harness_overhead_are_verdicts() {
    let label = (Flume, REFERENCE);
    let overhead = |paired: &[f64]| {
        let report = builder()
            .figure(THREAD_TO_THREAD, label, MESSAGES_PER_S, &[9e6, 9.2e6, 9.1e6])
            .figure(THREAD_TO_THREAD, label, MINIMAL_LOOP, &[9.5e6; 3])
            .figure(THREAD_TO_THREAD, label, MINIMAL_LOOP_PAIRED, paired)
            .figure(THREAD_TO_THREAD, Flume, GUARD_HIT, &[1.0, 0.0, 1.0])
            .build();
        let verdicts = verdicts::verdicts(&report);
        assert!(verdicts.iter().any(|v| v.contains("flume unbounded") && v.contains("2 of 3 runs")), "{verdicts:?}");
        verdicts.into_iter().find(|v| v.starts_with("harness overhead")).expect("an overhead verdict")
    };
    // Run by run the minimal loop is at most 1.04x the row: within the bar; the parent's
    // loop is shown beside it.
    let within = overhead(&[9.4e6, 9.5e6, 9.3e6]);
    assert!(within.contains("all channels: within the 1.1x bar") && within.contains("1.04x"), "{within}");
    assert!(within.contains("timed in the parent, 9.50M/s"), "{within}");
    // Every run's loop 1.5x the row: over it.
    let over = overhead(&[13.5e6, 13.8e6, 13.65e6]);
    assert!(over.contains("all channels: over the 1.1x bar"), "{over}");
    // Runs on both sides of the bar: the machine was too noisy to tell.
    let noisy = overhead(&[9.0e6, 13.8e6, 9.1e6]);
    assert!(noisy.contains("too noisy to place against the 1.1x bar"), "{noisy}");
}
