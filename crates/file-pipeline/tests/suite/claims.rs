//! Every claim rule on synthetic figures: figures chosen to hold, to miss, to straddle the
//! line, and to be absent; and the accounting checks on a report with a lost file. Nothing
//! runs; the rules alone are under test.

use casebook::{
    Case, ClaimId, ClaimResult, Figure, Outcome, Preset, Report, RowKey, TableId, model::figure::PEAK_RSS,
    testing::ReportBuilder,
};
use file_pipeline::{
    FilePipeline,
    figures::*,
    findings,
    inbox::generate::Mix,
    params::{Args, Params},
    tables::{BATCH, CAPACITY, HASH, MIX, WATCH},
    variants::Variant::{self, *},
};

fn params() -> Params {
    FilePipeline::params(&Args::default(), Preset::Default).expect("default params")
}

fn builder() -> ReportBuilder {
    ReportBuilder::of::<FilePipeline>(&params())
}

fn claim(report: &Report, id: ClaimId, reading: &str) -> ClaimResult {
    findings::claims(&params(), report)
        .into_iter()
        .find(|c| c.id == id && c.reading.as_deref() == Some(reading))
        .unwrap_or_else(|| panic!("no {id} ({reading})"))
}

const FIVE: [f64; 5] = [100.0, 101.0, 99.0, 100.0, 100.0];

fn times(factor: f64) -> Vec<f64> {
    FIVE.iter().map(|v| v * factor).collect()
}

/// Run by run, alternately well above and well below `factor` times [`FIVE`].
fn straddling(factor: f64) -> Vec<f64> {
    FIVE.iter().enumerate().map(|(i, v)| v * factor * if i % 2 == 0 { 1.3 } else { 0.75 }).collect()
}

/// The outcome when `rows` of `table` record `figure`, each with its values.
fn outcome(id: ClaimId, reading: &str, table: TableId, figure: Figure, rows: &[(RowKey, Vec<f64>)]) -> Outcome {
    let report = rows.iter().fold(builder(), |b, (key, values)| b.figure(table, *key, figure, values)).build();
    claim(&report, id, reading).outcome
}

fn assert_not_measured(id: ClaimId, reading: &str) {
    let result = claim(&builder().build(), id, reading);
    assert_eq!(result.outcome, Outcome::Inconclusive, "{id} ({reading})");
    assert!(result.evidence.starts_with("not measured"), "{id} ({reading}): {}", result.evidence);
}

/// A claim comparing row `a` against row `b` on one figure: held at `held` × b, missed at
/// `missed` × b, inconclusive when straddling `line` × b, not measured without figures.
fn ratio_claim(
    id: ClaimId,
    reading: &str,
    table: TableId,
    figure: Figure,
    a: Variant,
    b: Variant,
    [held, missed, line]: [f64; 3],
) {
    let o = |values: Vec<f64>| outcome(id, reading, table, figure, &[(a.into(), values), (b.into(), FIVE.to_vec())]);
    assert_eq!(o(times(held)), Outcome::Held, "{id} ({reading})");
    assert_eq!(o(times(missed)), Outcome::DidNotHold, "{id} ({reading})");
    assert_eq!(o(straddling(line)), Outcome::Inconclusive, "{id} ({reading})");
    assert_not_measured(id, reading);
}

#[test]
fn async_io_compares_the_faster_tokio_fs_variant_and_io_uring_with_threads_on_hash_only() {
    const READING: &str = "tokio::fs, through its blocking pool";
    let o = |naive: Vec<f64>, moved: Vec<f64>| {
        outcome(
            ClaimId::AsyncIo,
            READING,
            HASH,
            BYTES_PER_S,
            &[(AsyncNaive.into(), naive), (AsyncSpawnBlocking.into(), moved), (Threads.into(), FIVE.to_vec())],
        )
    };
    // The faster of the two counts, run by run: one at 1.2x is enough.
    assert_eq!(o(times(0.5), times(1.2)), Outcome::Held);
    assert_eq!(o(times(0.5), times(0.6)), Outcome::DidNotHold);
    assert_eq!(o(times(0.5), straddling(1.0)), Outcome::Inconclusive);
    assert_not_measured(ClaimId::AsyncIo, READING);
    let uring = "real async file IO (io_uring)";
    ratio_claim(ClaimId::AsyncIo, uring, HASH, BYTES_PER_S, IoUring, Threads, [1.2, 0.7, 1.0]);
}

#[test]
fn the_hybrid_must_come_within_a_tenth_of_the_fastest_other_variant() {
    const READING: &str = "batch throughput";
    let o = |hybrid: Vec<f64>| {
        outcome(
            ClaimId::HybridPipeline,
            READING,
            BATCH,
            BYTES_PER_S,
            &[
                (Hybrid.into(), hybrid),
                (Rayon.into(), FIVE.to_vec()),
                (Threads.into(), times(0.8)),
                (Sequential.into(), times(0.5)),
            ],
        )
    };
    assert_eq!(o(times(0.95)), Outcome::Held);
    assert_eq!(o(times(0.7)), Outcome::DidNotHold);
    assert_eq!(o(straddling(0.9)), Outcome::Inconclusive);
    assert_not_measured(ClaimId::HybridPipeline, READING);
}

/// Five runs of latencies, each run's p99 at `p99_ms[i]` milliseconds.
fn runs_with_p99(p99_ms: &[u64]) -> Vec<Vec<u64>> {
    p99_ms.iter().map(|ms| [vec![500; 95], vec![ms * 1000; 5]].concat()).collect()
}

fn slices(runs: &[Vec<u64>]) -> Vec<&[u64]> {
    runs.iter().map(Vec::as_slice).collect()
}

#[test]
fn the_hybrids_watch_p99_must_stay_under_20_ms_with_nothing_lost() {
    const READING: &str = "watch latency";
    let o = |p99_ms: &[u64], lost: &[f64]| {
        let report = builder()
            .histogram(WATCH, Hybrid, LATENCY, &slices(&runs_with_p99(p99_ms)))
            .figure(WATCH, Hybrid, LOST, lost)
            .build();
        claim(&report, ClaimId::HybridPipeline, READING).outcome
    };
    let none = [0.0; 5];
    assert_eq!(o(&[5, 6, 5, 7, 5], &none), Outcome::Held);
    assert_eq!(o(&[40, 45, 38, 50, 41], &none), Outcome::DidNotHold);
    assert_eq!(o(&[5, 6, 5, 7, 5], &[2.0; 5]), Outcome::DidNotHold, "every run lost files");
    assert_eq!(o(&[5, 40, 6, 45, 19], &none), Outcome::Inconclusive);
    assert_not_measured(ClaimId::HybridPipeline, READING);
}

#[test]
fn channel_capacity_reads_memory_unbounded_against_16_and_throughput_16_against_a_rendezvous() {
    const MEMORY: &str = "memory: unbounded against 16";
    // At capacity 16: 40 MiB; the margin is a quarter of the 64 MiB sweep inbox, 16 MiB.
    let mib = |m: f64| FIVE.iter().map(|v| v / 100.0 * m * 1048576.0).collect::<Vec<f64>>();
    let o = |unbounded: Vec<f64>| {
        let rows: Vec<(RowKey, Vec<f64>)> = [Threads, Hybrid]
            .into_iter()
            .flat_map(|v| [(v.into(), unbounded.clone()), ((v, 16.0).into(), mib(40.0))])
            .collect();
        outcome(ClaimId::ChannelCapacity, MEMORY, CAPACITY, PEAK_RSS, &rows)
    };
    assert_eq!(o(mib(90.0)), Outcome::Held);
    assert_eq!(o(mib(45.0)), Outcome::DidNotHold);
    let straddle: Vec<f64> = (0..5).map(|i| if i % 2 == 0 { 90.0 } else { 41.0 } * 1048576.0).collect();
    assert_eq!(o(straddle), Outcome::Inconclusive);
    assert_not_measured(ClaimId::ChannelCapacity, MEMORY);

    const THROUGHPUT: &str = "throughput: 16 against a rendezvous";
    let o = |factor: Vec<f64>| {
        let rows: Vec<(RowKey, Vec<f64>)> = [Threads, Hybrid]
            .into_iter()
            .flat_map(|v| [((v, 16.0).into(), factor.clone()), ((v, 0.0).into(), FIVE.to_vec())])
            .collect();
        outcome(ClaimId::ChannelCapacity, THROUGHPUT, CAPACITY, BYTES_PER_S, &rows)
    };
    assert_eq!(o(times(1.5)), Outcome::Held);
    assert_eq!(o(times(1.0)), Outcome::DidNotHold);
    assert_eq!(o(straddling(1.1)), Outcome::Inconclusive);
    assert_not_measured(ClaimId::ChannelCapacity, THROUGHPUT);
}

#[test]
fn needless_mixing_and_thread_per_file_are_read_against_the_threads_pipeline() {
    let mixing = "a batch pipeline";
    ratio_claim(ClaimId::NoNeedlessMixing, mixing, BATCH, BYTES_PER_S, Threads, Hybrid, [1.3, 0.9, 1.05]);
    let slow = "throughput";
    ratio_claim(ClaimId::NoThreadPerRequest, slow, BATCH, BYTES_PER_S, Threads, ThreadPerFile, [1.5, 1.0, 1.1]);
    let big = "memory";
    ratio_claim(ClaimId::NoThreadPerRequest, big, BATCH, PEAK_RSS, ThreadPerFile, Threads, [4.0, 1.2, 2.0]);
}

#[test]
fn spawn_blocking_is_read_from_watch_latency_and_batch_throughput() {
    const LATENCY_READING: &str = "watch latency";
    let o = |naive_ms: &[u64]| {
        let report = builder()
            .histogram(WATCH, AsyncNaive, LATENCY, &slices(&runs_with_p99(naive_ms)))
            .histogram(WATCH, AsyncSpawnBlocking, LATENCY, &slices(&runs_with_p99(&[10; 5])))
            .build();
        claim(&report, ClaimId::SpawnBlocking, LATENCY_READING).outcome
    };
    assert_eq!(o(&[30, 32, 29, 31, 30]), Outcome::Held);
    assert_eq!(o(&[10, 11, 10, 10, 11]), Outcome::DidNotHold);
    assert_eq!(o(&[30, 8, 31, 9, 12]), Outcome::Inconclusive);
    assert_not_measured(ClaimId::SpawnBlocking, LATENCY_READING);
    let reading = "batch throughput";
    let (moved, naive) = (AsyncSpawnBlocking, AsyncNaive);
    ratio_claim(ClaimId::SpawnBlocking, reading, BATCH, BYTES_PER_S, moved, naive, [1.0, 0.8, 0.95]);
}

#[test]
fn a_lost_or_doubled_file_and_a_mix_disagreement_fail_the_checks() {
    let p = params();
    let clean = |b: ReportBuilder| {
        [PRODUCED, LOST, DOUBLED, UNEXPECTED, EARLY, ERRORS].iter().fold(b, |b, f| {
            let value = if *f == PRODUCED { p.watch_files as f64 } else { 0.0 };
            b.figure(WATCH, Threads, *f, &[value, value])
        })
    };
    let failures = findings::check(&p, &clean(builder()).build());
    assert!(failures.is_empty(), "{failures:?}");
    let lost = clean(builder()).figure(WATCH, Threads, LOST, &[0.0, 1.0]).build();
    let failures = findings::check(&p, &lost);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(failures[0].contains("run 2: lost is 1"), "{failures:?}");

    let small = p.sweep_spec(Mix::Small).mean_kib();
    let mix = |other: &str| {
        builder()
            .figure(MIX, (Threads, small), ERRORS, &[0.0])
            .figure(MIX, (Rayon, small), ERRORS, &[0.0])
            .digest(MIX, (Threads, small), "same", 1)
            .digest(MIX, (Rayon, small), other, 1)
            .build()
    };
    // Each mix is its own inbox: the harness compares the answers mix by mix.
    assert!(mix("same").correctness.ok, "{:?}", mix("same").correctness.lines);
    let wrong = mix("other");
    assert!(!wrong.correctness.ok);
    assert!(
        wrong.correctness.lines.iter().any(|l| l.contains(MIX.as_str()) && l.contains("other")),
        "{:?}",
        wrong.correctness.lines
    );
}
