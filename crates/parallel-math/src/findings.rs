//! What the figures say: the framework's claims, rayon's parallel efficiency and the
//! optional speed target, all computed from a report, never written by hand. One function
//! per claim, each with its rule and threshold beside it. Speedups are decided on wall times
//! paired run by run; latency claims on each run's own probe quantiles, paired the same way.

use casebook::{
    Claim, ClaimId, ClaimResult, Decision, Measure, Missing, Outcome, Report,
    figure::{PEAK_THREADS, WALL},
    format::format_count,
    rules::{self, Series},
};

use crate::{
    MANDELBROT_TABLE, NBODY_TABLE, Params,
    figures::{PROBE, UNITS},
    workload::{
        RAYON, SEQUENTIAL, THREAD_PER_ITEM, THREADS_SHARED_COUNTER, THREADS_STATIC, TOKIO_RAYON, TOKIO_SPAWN,
        TOKIO_SPAWN_BLOCKING, TOKIO_SPAWN_BLOCKING_UNBOUNDED,
    },
};

pub fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
    vec![
        thread_parallel(params, report),
        threads_cpu(params, report),
        work_stealing(report),
        pool_threads(report),
        no_cpu_async(report),
        spawn_blocking(report),
        task_cooperative(params, report),
    ]
}

/// Cores the parallel variants can actually use in this run.
pub fn usable_cores(params: &Params, report: &Report) -> usize {
    params.threads.min(report.env.logical_cores).max(1)
}

/// The workload tables this run was asked for.
fn workload_tables(params: &Params) -> impl Iterator<Item = &'static str> {
    let asked = [(params.workload.runs_mandelbrot(), MANDELBROT_TABLE), (params.workload.runs_nbody(), NBODY_TABLE)];
    asked.into_iter().filter_map(|(asked, table)| asked.then_some(table))
}

/// How every rule here reads its interval.
const PAIRED: &str =
    "paired run by run, the whole 95% interval at or above it; did not hold if the whole interval is below";

fn wall(report: &Report, table: &str, variant: &str) -> Result<Series, Missing> {
    report.series(table, variant, WALL)
}

/// How many times slower `a` was than `b`, at the medians: for evidence, not for deciding.
fn times(a: &Series, b: &Series) -> f64 {
    a.median() / b.median()
}

/// One quantile of the probe beside `variant` on Mandelbrot, each run's own.
fn probe(report: &Report, variant: &str, q: f64) -> Result<Series, Missing> {
    report.quantile_series(MANDELBROT_TABLE, variant, PROBE, q)
}

/// One quantile of the probe beside `variant` on Mandelbrot over all its runs' ticks, as the
/// table shows it.
fn merged(report: &Report, variant: &str, q: f64) -> String {
    report.quantile(MANDELBROT_TABLE, variant, PROBE, q).map(|v| PROBE.format.show(v)).unwrap_or_else(|| "–".into())
}

/// The share of the cores a parallel variant must turn into speedup for the parallelism
/// claims to hold: well above "some", leaving room for the probe and the OS.
const PARALLEL_SHARE: f64 = 0.75;

/// The speedup the parallelism claims ask for on this run's cores, with its wording.
fn parallel_target(params: &Params, report: &Report) -> (usize, f64, String) {
    let cores = usable_cores(params, report);
    let target = PARALLEL_SHARE * cores as f64;
    (cores, target, format!("{target:.2} ({PARALLEL_SHARE} × {cores} cores)"))
}

/// `variant`'s speedup over sequential on `table`: sequential's wall time over the variant's,
/// run by run, must reach `target`.
fn speedup(report: &Report, table: &str, variant: &str, target: f64) -> Result<(Decision, f64), Missing> {
    let sequential = wall(report, table, SEQUENTIAL)?;
    let parallel = wall(report, table, variant)?;
    Ok((rules::ratio_at_least(&sequential, &parallel, target), times(&sequential, &parallel)))
}

/// `thread-parallel`: plain scoped threads on the uniform workload, where nothing but the
/// cores limits the speedup.
fn thread_parallel(params: &Params, report: &Report) -> ClaimResult {
    let (cores, target, wording) = parallel_target(params, report);
    let claim = Claim::new(
        ClaimId::ThreadParallel,
        format!("held if sequential's wall time on n-body is at least {wording} times threads-static's, {PAIRED}"),
    );
    if cores < 2 {
        return claim.outcome(Outcome::Inconclusive, "only one usable core: nothing to run in parallel");
    }
    claim.decide(|| {
        let (decision, speedup) = speedup(report, NBODY_TABLE, THREADS_STATIC, target)?;
        Ok((decision, format!("threads-static ran n-body {speedup:.2}x faster than sequential on {cores} cores")))
    })
}

/// `threads-cpu`: the thread-based tool an expert reaches for, on every workload measured,
/// with the async anti-pattern's wall time beside it.
fn threads_cpu(params: &Params, report: &Report) -> ClaimResult {
    let (cores, target, wording) = parallel_target(params, report);
    let claim = Claim::new(
        ClaimId::ThreadsCpu,
        format!(
            "held if sequential's wall time is at least {wording} times rayon's on every workload this run measured, {PAIRED} on any"
        ),
    );
    if cores < 2 {
        return claim.outcome(Outcome::Inconclusive, "only one usable core: nothing to run in parallel");
    }
    claim.decide(|| {
        let mut decisions = Vec::new();
        let mut evidence = Vec::new();
        for table in workload_tables(params) {
            let (decision, speedup) = speedup(report, table, RAYON, target)?;
            decisions.push(decision);
            evidence.push(format!("rayon {table} {speedup:.2}x"));
        }
        for table in workload_tables(params) {
            if let (Ok(tasks), Ok(pool)) = (wall(report, table, TOKIO_SPAWN), wall(report, table, RAYON)) {
                evidence.push(format!("tokio-spawn on {table} took {:.2}x rayon's wall time", times(&tasks, &pool)));
            }
        }
        Ok((Decision::all(decisions), evidence.join("; ")))
    })
}

/// `work-stealing`: how much longer one equal chunk per core takes than rayon on uneven rows.
const STEALING_GAIN: f64 = 1.05;

/// `work-stealing`: uneven rows are where balancing should beat static chunks; the shared
/// counter (balancing without stealing) and uniform n-body are shown for contrast.
fn work_stealing(report: &Report) -> ClaimResult {
    let threshold =
        format!("held if threads-static's wall time on Mandelbrot is at least {STEALING_GAIN} times rayon's, {PAIRED}");
    Claim::new(ClaimId::WorkStealing, threshold).decide(|| {
        let fixed = wall(report, MANDELBROT_TABLE, THREADS_STATIC)?;
        let rayon = wall(report, MANDELBROT_TABLE, RAYON)?;
        let mut evidence = format!(
            "on uneven Mandelbrot rows threads-static took {} vs rayon {} ({:.2}x)",
            fixed.show(),
            rayon.show(),
            times(&fixed, &rayon)
        );
        if let Ok(counter) = wall(report, MANDELBROT_TABLE, THREADS_SHARED_COUNTER) {
            evidence += &format!(
                "; threads taking rows from a shared counter, with no stealing, took {} ({:.2}x rayon's)",
                counter.show(),
                times(&counter, &rayon)
            );
        }
        if let (Ok(pool), Ok(chunks)) = (wall(report, NBODY_TABLE, RAYON), wall(report, NBODY_TABLE, THREADS_STATIC)) {
            evidence += &format!("; on uniform n-body static chunks took {:.2}x rayon's time", times(&chunks, &pool));
        }
        Ok((rules::ratio_at_least(&fixed, &rayon, STEALING_GAIN), evidence))
    })
}

/// `pool-threads`: how much longer fresh threads every step take than rayon's pool on n-body.
const POOL_GAIN: f64 = 1.05;

/// `pool-threads`: repeated passes (n-body steps) with and without a pool.
fn pool_threads(report: &Report) -> ClaimResult {
    let threshold =
        format!("held if thread-per-item's wall time on n-body is at least {POOL_GAIN} times rayon's, {PAIRED}");
    Claim::new(ClaimId::PoolThreads, threshold).decide(|| {
        let unpooled = wall(report, NBODY_TABLE, THREAD_PER_ITEM)?;
        let pooled = wall(report, NBODY_TABLE, RAYON)?;
        let created = report
            .median(NBODY_TABLE, THREAD_PER_ITEM, UNITS)
            .map(|n| format!("creating {} threads over the steps", format_count(n)))
            .unwrap_or_else(|| "with a new thread per body block every step".into());
        let mut evidence = format!(
            "thread-per-item, {created}, took {} vs rayon's pool {} ({:.2}x)",
            unpooled.show(),
            pooled.show(),
            times(&unpooled, &pooled)
        );
        if let (Ok(fixed), Some(started)) =
            (wall(report, NBODY_TABLE, THREADS_STATIC), report.median(NBODY_TABLE, THREADS_STATIC, UNITS))
        {
            evidence += &format!(
                "; threads-static, which also starts fresh threads every step but only {} in all, took {:.2}x rayon's",
                format_count(started),
                times(&fixed, &pooled)
            );
        }
        Ok((rules::ratio_at_least(&unpooled, &pooled, POOL_GAIN), evidence))
    })
}

/// `no-cpu-async`: how many times later the probe's p99 must be with the math on its
/// runtime's workers than beside rayon.
const NO_CPU_ASYNC_FACTOR: f64 = 5.0;

/// `no-cpu-async`: what CPU work on the async workers does to a neighbour's latency.
fn no_cpu_async(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if the probe's p99 lateness beside tokio-spawn on Mandelbrot is at least {NO_CPU_ASYNC_FACTOR} times its p99 beside rayon, each run's own p99, {PAIRED}"
    );
    Claim::new(ClaimId::NoCpuAsync, threshold).decide(|| {
        let on_workers = probe(report, TOKIO_SPAWN, 0.99)?;
        let beside_pool = probe(report, RAYON, 0.99)?;
        let speed = match (wall(report, MANDELBROT_TABLE, TOKIO_SPAWN), wall(report, MANDELBROT_TABLE, RAYON)) {
            (Ok(tasks), Ok(pool)) => format!(", while its wall time was {:.2}x rayon's", times(&tasks, &pool)),
            _ => String::new(),
        };
        let evidence = format!(
            "probe p99 {} with the math on the async workers vs {} beside rayon{speed}",
            merged(report, TOKIO_SPAWN, 0.99),
            merged(report, RAYON, 0.99)
        );
        Ok((rules::ratio_at_least(&on_workers, &beside_pool, NO_CPU_ASYNC_FACTOR), evidence))
    })
}

/// `spawn-blocking`: how many times later the probe's p99 must be with the units on the
/// async workers than with the same units on the blocking pool.
const SPAWN_BLOCKING_FACTOR: f64 = 5.0;

/// `spawn-blocking`: does moving the same units to the blocking pool keep the runtime
/// responsive? The unbounded use and the hybrid are shown beside it.
fn spawn_blocking(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if the probe's p99 lateness beside tokio-spawn on Mandelbrot is at least {SPAWN_BLOCKING_FACTOR} times its p99 beside tokio-spawn-blocking, each run's own p99, {PAIRED}"
    );
    Claim::new(ClaimId::SpawnBlocking, threshold).decide(|| {
        let on_workers = probe(report, TOKIO_SPAWN, 0.99)?;
        let blocking = probe(report, TOKIO_SPAWN_BLOCKING, 0.99)?;
        let mut evidence = format!(
            "probe p99 {} with spawn_blocking (one unit per core at a time) vs {} with tokio::spawn",
            merged(report, TOKIO_SPAWN_BLOCKING, 0.99),
            merged(report, TOKIO_SPAWN, 0.99)
        );
        if let (Ok(_), Some(threads)) = (
            probe(report, TOKIO_SPAWN_BLOCKING_UNBOUNDED, 0.99),
            report.median(MANDELBROT_TABLE, TOKIO_SPAWN_BLOCKING_UNBOUNDED, PEAK_THREADS),
        ) {
            evidence += &format!(
                "; unbounded, spawn_blocking grew the process to {} threads and p99 {}",
                format_count(threads),
                merged(report, TOKIO_SPAWN_BLOCKING_UNBOUNDED, 0.99)
            );
        }
        if probe(report, TOKIO_RAYON, 0.99).is_ok() {
            evidence += &format!("; handing the pass to rayon kept p99 at {}", merged(report, TOKIO_RAYON, 0.99));
        }
        Ok((rules::ratio_at_least(&on_workers, &blocking, SPAWN_BLOCKING_FACTOR), evidence))
    })
}

// ANCHOR: task_cooperative
/// `task-cooperative`: a task that never awaits holds its worker for its whole unit, one
/// Mandelbrot row here. The control is the same probe beside rayon, which carries the
/// timer's own 1 ms step: only lateness beyond the control's counts as a held worker, and it
/// must reach the time one row takes.
fn task_cooperative(params: &Params, report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if the probe's worst lateness beside tokio-spawn on Mandelbrot exceeds its worst beside rayon by at least one row's mean time (sequential's median wall time / {} rows), each run's own maximum, {PAIRED}",
        params.mandelbrot.height
    );
    Claim::new(ClaimId::TaskCooperative, threshold).decide(|| {
        let sequential = wall(report, MANDELBROT_TABLE, SEQUENTIAL)?;
        let row_us = sequential.median() / params.mandelbrot.height as f64 * 1e6;
        let held = probe(report, TOKIO_SPAWN, 1.0)?;
        let control = probe(report, RAYON, 1.0)?;
        let evidence = format!(
            "the probe waited up to {} beside tokio-spawn vs {} beside rayon, while one row takes {} on average",
            merged(report, TOKIO_SPAWN, 1.0),
            merged(report, RAYON, 1.0),
            PROBE.format.show(row_us)
        );
        Ok((rules::exceeds_by(&held, &control, row_us), evidence))
    })
}
// ANCHOR_END: task_cooperative

/// The performance target the project holds rayon to (speedup per core on Mandelbrot): a
/// goal for our implementation, stricter than the claims' threshold and reported, not tested.
const EFFICIENCY_TARGET: f64 = 0.85;

/// Rayon's speedup per usable core, per workload: how close the expert default gets to the
/// hardware's limit.
fn efficiency(params: &Params, report: &Report, table: &str) -> Option<(f64, f64)> {
    let speedup = report.row(table, RAYON)?.value(&Measure::VsBaseline)?;
    Some((speedup / usable_cores(params, report) as f64, speedup))
}

/// What this case says beyond the harness's verdicts: rayon's parallel efficiency.
pub fn verdicts(params: &Params, report: &Report) -> Vec<String> {
    let cores = usable_cores(params, report);
    workload_tables(params)
        .filter_map(|table| {
            let (efficiency, speedup) = efficiency(params, report, table)?;
            Some(format!(
                "{table}: rayon's parallel efficiency is {efficiency:.2} ({speedup:.2}x on {cores} cores; target ≥ {EFFICIENCY_TARGET})."
            ))
        })
        .collect()
}

/// The optional speed target: only when asked for, since timing is not correctness.
pub fn check(params: &Params, report: &Report) -> Vec<String> {
    let Some(target) = params.min_efficiency else { return Vec::new() };
    match efficiency(params, report, MANDELBROT_TABLE) {
        Some((efficiency, _)) if efficiency >= target => Vec::new(),
        Some((efficiency, _)) => {
            vec![format!("rayon's efficiency on Mandelbrot was {efficiency:.2}, below --min-efficiency {target}")]
        }
        None => vec!["--min-efficiency needs the sequential and rayon rows on Mandelbrot".into()],
    }
}
