//! Every claim rule on synthetic figures: figures chosen to hold, to miss, to straddle the
//! line, and to be absent. Nothing runs; the rules alone are under test.

use casebook::{
    Case, ClaimId, ClaimResult, Outcome, Preset, Report, TableId, model::figure::WALL, testing::ReportBuilder,
};
use parallel_math::{
    ParallelMath,
    figures::PROBE,
    findings,
    params::{Args, Params, WorkloadKind},
    tables::{MANDELBROT, NBODY, SWEEP},
    variants::Variant::{self, *},
};

fn args() -> Args {
    Args { threads: Some(2), ..Args::default() }
}

/// The default sizes on two threads: 540 Mandelbrot rows, and (with the synthetic machine's
/// two cores) a speedup target of 1.5.
fn params() -> Params {
    ParallelMath::params(&args(), Preset::Default).unwrap()
}

const TARGET: f64 = 1.5;

fn builder_for(params: &Params) -> ReportBuilder {
    ReportBuilder::of::<ParallelMath>(params)
}

fn builder() -> ReportBuilder {
    builder_for(&params())
}

fn claim_with(params: &Params, report: &Report, id: ClaimId) -> ClaimResult {
    findings::claims(params, report).into_iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no {id}"))
}

fn claim(report: &Report, id: ClaimId) -> ClaimResult {
    claim_with(&params(), report, id)
}

/// Factors of a threshold, one per run: wholly above it, wholly below, and around it.
const HELD: [f64; 5] = [1.3, 1.35, 1.32, 1.31, 1.34];
const MISSED: [f64; 5] = [0.7, 0.72, 0.71, 0.69, 0.7];
const STRADDLES: [f64; 5] = [0.95, 1.05, 0.98, 1.03, 1.0];

fn scaled(factors: &[f64], by: f64) -> Vec<f64> {
    factors.iter().map(|f| f * by).collect()
}

/// A report where `numerator`'s wall time is `factors × threshold` times `denominator`'s
/// (one second), run by run, on each of `tables`.
fn walls(tables: &[TableId], numerator: Variant, denominator: Variant, factors: &[f64], threshold: f64) -> Report {
    tables
        .iter()
        .fold(builder(), |b, table| {
            b.figure(*table, numerator, WALL, &scaled(factors, threshold)).figure(*table, denominator, WALL, &[1.0; 5])
        })
        .build()
}

/// The outcomes of a wall-time ratio claim for held, missed and straddling figures.
fn wall_outcomes(
    id: ClaimId,
    tables: &[TableId],
    numerator: Variant,
    denominator: Variant,
    threshold: f64,
) -> [Outcome; 3] {
    [HELD, MISSED, STRADDLES].map(|f| claim(&walls(tables, numerator, denominator, &f, threshold), id).outcome)
}

const DECIDED: [Outcome; 3] = [Outcome::Held, Outcome::DidNotHold, Outcome::Inconclusive];

fn assert_not_measured(result: &ClaimResult, needs: &str) {
    assert_eq!(result.outcome, Outcome::Inconclusive);
    assert!(result.evidence.starts_with("not measured"), "{}", result.evidence);
    assert!(result.evidence.contains(needs), "{}", result.evidence);
    assert!(result.interval.is_none());
}

#[test]
fn thread_parallel_is_threads_static_against_sequential_on_nbody() {
    let id = ClaimId::ThreadParallel;
    assert_eq!(wall_outcomes(id, &[NBODY], Sequential, ThreadsStatic, TARGET), DECIDED);
    let held = claim(&walls(&[NBODY], Sequential, ThreadsStatic, &HELD, TARGET), id);
    assert!(held.interval.as_deref().is_some_and(|i| i.contains("% interval")), "{:?}", held.interval);
    assert_not_measured(&claim(&builder().build(), id), "nbody / sequential");
    // One usable core has nothing to run in parallel, whatever the figures.
    let one = Params { threads: 1, ..params() };
    let report = builder_for(&one)
        .figure(NBODY, Sequential, WALL, &[2.0; 5])
        .figure(NBODY, ThreadsStatic, WALL, &[1.0; 5])
        .build();
    let result = claim_with(&one, &report, id);
    assert_eq!(result.outcome, Outcome::Inconclusive);
    assert!(result.evidence.contains("one usable core"), "{}", result.evidence);
}

#[test]
fn threads_cpu_needs_rayon_ahead_on_every_workload() {
    let id = ClaimId::ThreadsCpu;
    let both = [MANDELBROT, NBODY];
    assert_eq!(wall_outcomes(id, &both, Sequential, Rayon, TARGET), DECIDED);
    // Ahead on one workload and behind on the other did not hold.
    let mixed = builder()
        .figure(MANDELBROT, Sequential, WALL, &scaled(&HELD, TARGET))
        .figure(MANDELBROT, Rayon, WALL, &[1.0; 5])
        .figure(NBODY, Sequential, WALL, &scaled(&MISSED, TARGET))
        .figure(NBODY, Rayon, WALL, &[1.0; 5])
        .build();
    assert_eq!(claim(&mixed, id).outcome, Outcome::DidNotHold);
    // Both workloads were asked for, so one alone is not enough to decide.
    assert_not_measured(&claim(&walls(&[MANDELBROT], Sequential, Rayon, &HELD, TARGET), id), "nbody");
    // A run of Mandelbrot alone is decided on Mandelbrot.
    let mandelbrot = Params { workload: WorkloadKind::Mandelbrot, ..params() };
    let report = builder_for(&mandelbrot)
        .figure(MANDELBROT, Sequential, WALL, &scaled(&HELD, TARGET))
        .figure(MANDELBROT, Rayon, WALL, &[1.0; 5])
        .build();
    assert_eq!(claim_with(&mandelbrot, &report, id).outcome, Outcome::Held);
}

#[test]
fn work_stealing_is_static_chunks_against_rayon_on_mandelbrot() {
    let id = ClaimId::WorkStealing;
    assert_eq!(wall_outcomes(id, &[MANDELBROT], ThreadsStatic, Rayon, 1.05), DECIDED);
    assert_not_measured(&claim(&builder().build(), id), "threads-static");
}

#[test]
fn pool_threads_is_a_thread_per_item_against_rayon_on_nbody() {
    let id = ClaimId::PoolThreads;
    assert_eq!(wall_outcomes(id, &[NBODY], ThreadPerItem, Rayon, 1.05), DECIDED);
    assert_not_measured(&claim(&builder().build(), id), "thread-per-item");
}

/// Every run of the row recorded 50 ticks, all `micros[i]` late in run `i`: its p99 and its
/// maximum are `micros[i]`.
fn ticks(builder: ReportBuilder, variant: Variant, micros: &[f64]) -> ReportBuilder {
    let runs: Vec<Vec<u64>> = micros.iter().map(|us| vec![*us as u64; 50]).collect();
    let runs: Vec<&[u64]> = runs.iter().map(Vec::as_slice).collect();
    builder.histogram(MANDELBROT, variant, PROBE, &runs)
}

/// The outcomes of a probe ratio claim when `held`'s lateness is `factors × 5` times the
/// control's 1 ms.
fn probe_outcomes(id: ClaimId, held: Variant, control: Variant) -> [Outcome; 3] {
    [HELD, MISSED, STRADDLES].map(|f| {
        let report = ticks(ticks(builder(), held, &scaled(&f, 5000.0)), control, &[1000.0; 5]).build();
        claim(&report, id).outcome
    })
}

#[test]
fn no_cpu_async_compares_each_runs_probe_p99() {
    let id = ClaimId::NoCpuAsync;
    assert_eq!(probe_outcomes(id, TokioSpawn, Rayon), DECIDED);
    assert_not_measured(&claim(&builder().build(), id), "tokio-spawn");
    // A row whose runs recorded no probe tick at all has no p99: missing, not zero.
    let silent = ticks(builder(), Rayon, &[1000.0; 5]).histogram(MANDELBROT, TokioSpawn, PROBE, &[&[] as &[u64]; 5]);
    assert_not_measured(&claim(&silent.build(), id), "probe");
}

#[test]
fn spawn_blocking_compares_the_same_units_on_the_blocking_pool() {
    let id = ClaimId::SpawnBlocking;
    assert_eq!(probe_outcomes(id, TokioSpawn, TokioSpawnBlocking), DECIDED);
    assert_not_measured(&claim(&builder().build(), id), "tokio-spawn");
    let report = ticks(ticks(builder(), TokioSpawn, &[50_000.0; 5]), TokioSpawnBlocking, &[1000.0; 5]);
    let report = ticks(report, TokioRayon, &[1100.0; 5]).build();
    let result = claim(&report, id);
    assert!(result.evidence.contains("handing the pass to rayon kept p99 at 1.1 ms"), "{}", result.evidence);
}

/// A Mandelbrot table where sequential takes 540 ms, one row 1 ms on average, and the
/// probe's worst lateness beside tokio-spawn exceeds that beside rayon (1.1 ms) by
/// `factors` rows.
fn held_workers(factors: &[f64]) -> Report {
    let worst: Vec<f64> = factors.iter().map(|f| 1100.0 + 1000.0 * f).collect();
    let b = builder().figure(MANDELBROT, Sequential, WALL, &[0.54; 5]);
    ticks(ticks(b, TokioSpawn, &worst), Rayon, &[1100.0; 5]).build()
}

#[test]
fn task_cooperative_needs_the_worst_wait_to_exceed_the_control_by_a_row() {
    let id = ClaimId::TaskCooperative;
    let outcomes = [HELD, MISSED, STRADDLES].map(|f| claim(&held_workers(&f), id).outcome);
    assert_eq!(outcomes, DECIDED);
    let held = claim(&held_workers(&HELD), id);
    assert!(held.evidence.contains("one row takes 1.0 ms"), "{}", held.evidence);
    // Without sequential there is no row time to compare with.
    let no_row = ticks(ticks(builder(), TokioSpawn, &[9000.0; 5]), Rayon, &[1100.0; 5]).build();
    assert_not_measured(&claim(&no_row, id), "sequential");
}

#[test]
fn efficiency_is_rayons_speedup_per_core_and_the_target_is_opt_in() {
    let report = |rayon: f64| {
        builder().figure(MANDELBROT, Sequential, WALL, &[1.0; 3]).figure(MANDELBROT, Rayon, WALL, &[rayon; 3]).build()
    };
    let verdicts = findings::verdicts(&params(), &report(0.5));
    assert_eq!(verdicts.len(), 1, "n-body was not measured: {verdicts:?}");
    assert!(
        verdicts[0].starts_with("mandelbrot: rayon's parallel efficiency is 1.00 (2.00x on 2 cores"),
        "{verdicts:?}"
    );

    assert!(findings::check(&params(), &report(0.75)).is_empty(), "no target asked for");
    let strict = Params { min_efficiency: Some(0.9), ..params() };
    assert!(findings::check(&strict, &report(0.5)).is_empty());
    let failures = findings::check(&strict, &report(0.75));
    assert!(failures.len() == 1 && failures[0].contains("0.67, below --min-efficiency 0.9"), "{failures:?}");
    assert_eq!(findings::check(&strict, &builder().build()).len(), 1, "no rows to judge by is a failure");
}

#[test]
fn the_harness_reads_the_sweep_for_each_variant() {
    let b = [(1.0, 0.40), (4.0, 0.30), (16.0, 0.27), (64.0, 0.26), (270.0, 0.35)]
        .into_iter()
        .fold(builder(), |b, (rows, wall)| b.figure(SWEEP, (Rayon, rows), WALL, &[wall; 2]));
    let report = b.build();
    let line = report.verdicts.iter().find(|v| v.starts_with("granularity-sweep, rayon:")).expect("a sweep verdict");
    assert!(line.contains("best 260.0 ms at rows/unit = 64; within 10% of that from rows/unit = 16"), "{line}");
}
