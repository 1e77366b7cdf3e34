//! What the figures say: the framework's claims, rayon's parallel efficiency and the
//! optional speed target, all computed from a report, never written by hand. One function
//! per claim, each with its rule and threshold beside it; the rules say their thresholds in
//! words. Speedups are decided on wall times paired run by run; latency claims on each run's
//! own probe quantiles, paired the same way.

use casebook::{
    Claim, ClaimId, ClaimResult, Decision, Measure, Missing, Report, Series, TableId,
    model::figure::{PEAK_THREADS, WALL, quantile_name},
    model::format::format_count,
    stats::rules,
};

use crate::{
    figures::{PROBE, UNITS},
    params::Params,
    tables::{MANDELBROT, NBODY},
    variants::Variant::{self, *},
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

/// Cores the parallel variants can actually use in this run: the pools' size, at most the
/// CPUs each run was pinned to (`--cores`), or else the machine's.
fn usable_cores(params: &Params, report: &Report) -> usize {
    params.threads.min(report.cores.unwrap_or(report.env.logical_cores)).max(1)
}

/// The workload tables this run was asked for.
fn workload_tables(params: &Params) -> impl Iterator<Item = TableId> {
    let asked = [(params.workload.runs_mandelbrot(), MANDELBROT), (params.workload.runs_nbody(), NBODY)];
    asked.into_iter().filter_map(|(asked, table)| asked.then_some(table))
}

/// A workload table's workload, as a sentence names it.
fn workload(table: TableId) -> &'static str {
    if table == MANDELBROT { "Mandelbrot" } else { "n-body" }
}

/// `variant`'s wall time on `table`, run by run.
fn wall(report: &Report, table: TableId, variant: Variant) -> Result<Series, Missing> {
    Ok(report.series(table, variant, WALL)?.named(format!("{variant}'s wall time on {}", workload(table))))
}

/// How many times slower `a` was than `b`, at the medians: for evidence, not for deciding.
fn times(a: &Series, b: &Series) -> f64 {
    a.median() / b.median()
}

/// One quantile of the probe beside `variant` on Mandelbrot, each run's own.
fn probe(report: &Report, variant: Variant, q: f64) -> Result<Series, Missing> {
    let series = report.quantile_series(MANDELBROT, variant, PROBE, q)?;
    Ok(series.named(format!("the probe's {} lateness beside {variant} on Mandelbrot", quantile_name(q))))
}

/// One quantile of the probe beside `variant` on Mandelbrot over all its runs' ticks, as the
/// table shows it.
fn merged(report: &Report, variant: Variant, q: f64) -> String {
    report.quantile(MANDELBROT, variant, PROBE, q).map(|v| PROBE.format.show(v)).unwrap_or_else(|| "–".into())
}

/// The share of the cores a parallel variant must turn into speedup for the parallelism
/// claims to hold: well above "some", leaving room for the probe and the OS.
const PARALLEL_SHARE: f64 = 0.75;

/// `variant`'s speedup over sequential on each of `tables`: sequential's wall time over the
/// variant's, run by run, must reach [`PARALLEL_SHARE`] of the usable cores on every one.
fn parallel(
    params: &Params,
    report: &Report,
    variant: Variant,
    tables: impl IntoIterator<Item = TableId>,
) -> Result<Decision, Missing> {
    let cores = usable_cores(params, report);
    if cores < 2 {
        return Ok(rules::undecided("only one usable core: nothing to run in parallel"));
    }
    let (mut decisions, mut context) = (Vec::new(), Vec::new());
    for table in tables {
        let sequential = wall(report, table, Sequential)?;
        let parallel = wall(report, table, variant)?;
        decisions.push(rules::ratio_at_least(&sequential, &parallel, PARALLEL_SHARE * cores as f64));
        let speedup = times(&sequential, &parallel);
        context.push(format!("{variant} ran {} {speedup:.2}x faster than sequential", workload(table)));
    }
    context.push(format!("on {cores} cores, the target being {PARALLEL_SHARE} × {cores} cores"));
    Ok(Decision::all(decisions).noting(context.join("; ")))
}

/// `thread-parallel`: plain scoped threads on the uniform workload, where nothing but the
/// cores limits the speedup.
fn thread_parallel(params: &Params, report: &Report) -> ClaimResult {
    Claim::new(ClaimId::ThreadParallel).decide(|| parallel(params, report, ThreadsStatic, [NBODY]))
}

/// `threads-cpu`: the thread-based tool an expert reaches for, on every workload measured,
/// with the async anti-pattern's wall time beside it.
fn threads_cpu(params: &Params, report: &Report) -> ClaimResult {
    Claim::new(ClaimId::ThreadsCpu).decide(|| {
        let mut context = Vec::new();
        for table in workload_tables(params) {
            if let (Ok(tasks), Ok(pool)) = (wall(report, table, TokioSpawn), wall(report, table, Rayon)) {
                let slower = times(&tasks, &pool);
                context.push(format!("tokio-spawn on {} took {slower:.2}x rayon's wall time", workload(table)));
            }
        }
        Ok(parallel(params, report, Rayon, workload_tables(params))?.noting(context.join("; ")))
    })
}

/// `work-stealing`: how much longer one equal chunk per core takes than rayon on uneven rows.
const STEALING_GAIN: f64 = 1.05;

/// `work-stealing`: uneven rows are where balancing should beat static chunks; the shared
/// counter (balancing without stealing) and uniform n-body are shown for contrast.
fn work_stealing(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::WorkStealing).decide(|| {
        let fixed = wall(report, MANDELBROT, ThreadsStatic)?;
        let rayon = wall(report, MANDELBROT, Rayon)?;
        let mut context = format!("on uneven rows static chunks took {:.2}x rayon's time", times(&fixed, &rayon));
        if let Ok(counter) = wall(report, MANDELBROT, ThreadsSharedCounter) {
            context += &format!(
                "; threads taking rows from a shared counter, with no stealing, took {} ({:.2}x rayon's)",
                counter.show(),
                times(&counter, &rayon)
            );
        }
        if let (Ok(pool), Ok(chunks)) = (wall(report, NBODY, Rayon), wall(report, NBODY, ThreadsStatic)) {
            context += &format!("; on uniform n-body static chunks took {:.2}x rayon's time", times(&chunks, &pool));
        }
        Ok(rules::ratio_at_least(&fixed, &rayon, STEALING_GAIN).noting(context))
    })
}

/// `pool-threads`: how much longer fresh threads every step take than rayon's pool on n-body.
const POOL_GAIN: f64 = 1.05;

/// `pool-threads`: repeated passes (n-body steps) with and without a pool.
fn pool_threads(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::PoolThreads).decide(|| {
        let unpooled = wall(report, NBODY, ThreadPerItem)?;
        let pooled = wall(report, NBODY, Rayon)?;
        let created = report
            .median(NBODY, ThreadPerItem, UNITS)
            .map(|n| format!("created {} threads over the steps", format_count(n)))
            .unwrap_or_else(|| "created a new thread per body block every step".into());
        let mut context = format!("thread-per-item {created}, {:.2}x rayon's time", times(&unpooled, &pooled));
        if let (Ok(fixed), Some(started)) =
            (wall(report, NBODY, ThreadsStatic), report.median(NBODY, ThreadsStatic, UNITS))
        {
            context += &format!(
                "; threads-static, which also starts fresh threads every step but only {} in all, took {:.2}x rayon's",
                format_count(started),
                times(&fixed, &pooled)
            );
        }
        Ok(rules::ratio_at_least(&unpooled, &pooled, POOL_GAIN).noting(context))
    })
}

/// `no-cpu-async`: how many times later the probe's p99 must be with the math on its
/// runtime's workers than beside rayon.
const NO_CPU_ASYNC_FACTOR: f64 = 5.0;

/// `no-cpu-async`: what CPU work on the async workers does to a neighbour's latency.
fn no_cpu_async(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::NoCpuAsync).decide(|| {
        let on_workers = probe(report, TokioSpawn, 0.99)?;
        let beside_pool = probe(report, Rayon, 0.99)?;
        let mut context = String::new();
        if let (Ok(tasks), Ok(pool)) = (wall(report, MANDELBROT, TokioSpawn), wall(report, MANDELBROT, Rayon)) {
            context = format!("tokio-spawn's wall time was {:.2}x rayon's", times(&tasks, &pool));
        }
        Ok(rules::ratio_at_least(&on_workers, &beside_pool, NO_CPU_ASYNC_FACTOR).noting(context))
    })
}

/// `spawn-blocking`: how many times later the probe's p99 must be with the units on the
/// async workers than with the same units on the blocking pool.
const SPAWN_BLOCKING_FACTOR: f64 = 5.0;

/// `spawn-blocking`: does moving the same units to the blocking pool keep the runtime
/// responsive? The unbounded use and the hybrid are shown beside it.
fn spawn_blocking(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::SpawnBlocking).decide(|| {
        let on_workers = probe(report, TokioSpawn, 0.99)?;
        let blocking = probe(report, TokioSpawnBlocking, 0.99)?;
        let mut context = Vec::new();
        if let (Ok(_), Some(threads)) = (
            probe(report, TokioSpawnBlockingUnbounded, 0.99),
            report.median(MANDELBROT, TokioSpawnBlockingUnbounded, PEAK_THREADS),
        ) {
            context.push(format!(
                "unbounded, spawn_blocking grew the process to {} threads and p99 {}",
                format_count(threads),
                merged(report, TokioSpawnBlockingUnbounded, 0.99)
            ));
        }
        if probe(report, TokioRayon, 0.99).is_ok() {
            context.push(format!("handing the pass to rayon kept p99 at {}", merged(report, TokioRayon, 0.99)));
        }
        Ok(rules::ratio_at_least(&on_workers, &blocking, SPAWN_BLOCKING_FACTOR).noting(context.join("; ")))
    })
}

// ANCHOR: task_cooperative
/// `task-cooperative`: a task that never awaits holds its worker for its whole unit, one
/// Mandelbrot row here. The control is the same probe beside rayon, which carries the
/// timer's own 1 ms step: only lateness beyond the control's counts as a held worker, and it
/// must reach the time one row takes (sequential's median wall time over the rows).
fn task_cooperative(params: &Params, report: &Report) -> ClaimResult {
    Claim::new(ClaimId::TaskCooperative).decide(|| {
        let sequential = wall(report, MANDELBROT, Sequential)?;
        let rows = params.mandelbrot.height;
        let row_us = sequential.median() / rows as f64 * 1e6;
        let held = probe(report, TokioSpawn, 1.0)?;
        let control = probe(report, Rayon, 1.0)?;
        Ok(rules::exceeds_by(&held, &control, row_us).noting(format!(
            "one row takes {} on average (sequential's median wall time / {rows} rows)",
            PROBE.format.show(row_us)
        )))
    })
}
// ANCHOR_END: task_cooperative

/// The performance target the project holds rayon to (speedup per core on Mandelbrot): a
/// goal for our implementation, stricter than the claims' threshold and reported, not tested.
const EFFICIENCY_TARGET: f64 = 0.85;

/// Rayon's speedup per usable core, per workload: how close the expert default gets to the
/// hardware's limit.
fn efficiency(params: &Params, report: &Report, table: TableId) -> Option<(f64, f64)> {
    let speedup = report.row(table, Rayon)?.value(&Measure::VsBaseline)?;
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
    match efficiency(params, report, MANDELBROT) {
        Some((efficiency, _)) if efficiency >= target => Vec::new(),
        Some((efficiency, _)) => {
            vec![format!("rayon's efficiency on Mandelbrot was {efficiency:.2}, below --min-efficiency {target}")]
        }
        None => vec!["--min-efficiency needs the sequential and rayon rows on Mandelbrot".into()],
    }
}
