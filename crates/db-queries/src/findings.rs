//! What the figures say: the correctness checks, the verdicts, and one function per claim,
//! each with its rule and threshold beside it; the rules say their thresholds in words. Every
//! outcome comes from `casebook::stats::rules` over the runs' figures.

use casebook::{
    Claim, ClaimId, ClaimResult, Figure, Missing, Report, TableId, VariantSet,
    model::figure::PEAK_RSS,
    stats::rules::{self, Series},
};

use crate::{
    figures::*,
    params::Params,
    tables::*,
    variants::Variant::{self, *},
};

/// The async data layers, by engine.
const SQLITE_ASYNC: [Variant; 3] = [AsyncPool, AsyncBatched, AsyncOverBlocking];
const POSTGRES_ASYNC: [Variant; 3] = [AsyncPool, AsyncBatched, AsyncPipelined];

/// The sweep claims compare variants at the largest swept load up to this many requests in
/// flight: past the knee of every curve, short of the point where queues dominate.
pub const CLAIM_IN_FLIGHT: usize = 256;

pub fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
    vec![
        async_io(params, report, "pipelined or batched, 1 ms away", &[AsyncBatched, AsyncPipelined]),
        async_io(params, report, "a plain async pool, 1 ms away", &[AsyncPool]),
        threads_blocking_c(report),
        no_thread_per_request(report, SQLITE_POINTS, "SQLite"),
        no_thread_per_request(report, POSTGRES_POINTS, "Postgres"),
        batch_async(report, POSTGRES_POINTS, AsyncBatched, "Postgres, = ANY($1)"),
        batch_async(report, POSTGRES_POINTS, AsyncPipelined, "Postgres, pipelined"),
        batch_async(report, SQLITE_POINTS, AsyncBatched, "SQLite, IN (json_each(?))"),
        hybrid_web(report),
        async_low_memory(params, report),
        async_many_conns(report, &params.sweep, SQLITE_SWEEP, &SQLITE_ASYNC, "SQLite"),
        async_many_conns(report, &params.postgres_sweep, POSTGRES_SWEEP, &POSTGRES_ASYNC, "Postgres"),
        spawn_blocking(report),
    ]
}

/// Of `candidates`, the one whose series has the best median (higher is better); rows that
/// did not run are passed over, and none at all is `Missing`.
fn best_of(
    candidates: &[Variant],
    figure: Figure,
    series: impl Fn(Variant) -> Result<Series, Missing>,
) -> Result<(Variant, Series), Missing> {
    let (mut found, mut why) = (Vec::new(), Vec::new());
    for &v in candidates {
        match series(v) {
            Ok(s) => found.push((v, s)),
            Err(Missing(reason)) => why.push(reason),
        }
    }
    found
        .into_iter()
        .max_by(|a, b| a.1.median().total_cmp(&b.1.median()))
        .ok_or_else(|| Missing(format!("no {} among {}: {}", figure.key, among(candidates), why.join("; "))))
}

/// The candidates' names, for a series' label.
fn among(candidates: &[Variant]) -> String {
    candidates.iter().map(|v| v.name()).collect::<Vec<_>>().join(", ")
}

/// The largest value of `points` at most `limit` (else the smallest).
fn claim_point(points: &[usize], limit: usize) -> Result<f64, Missing> {
    let point = points.iter().copied().filter(|&n| n <= limit).max().or(points.iter().copied().min());
    point.map(|n| n as f64).ok_or_else(|| Missing("no sweep points".into()))
}

/// `async-io`: with Postgres a round trip away, the best of `async_variants` serves at least
/// this many times what the thread pool serves over the same connections.
pub const ASYNC_IO_FACTOR: f64 = 1.2;

fn async_io(params: &Params, report: &Report, reading: &str, candidates: &[Variant]) -> ClaimResult {
    Claim::new(ClaimId::AsyncIo).reading(reading).decide(|| {
        let x = claim_point(&params.remote_sweep, CLAIM_IN_FLIGHT)?;
        let series = |v: Variant| report.series(POSTGRES_REMOTE, (v, x), REQUESTS_PER_S);
        let (best, fast) = best_of(candidates, REQUESTS_PER_S, series)?;
        let rtt = params.remote_rtt_us as f64 / 1000.0;
        let fast = fast.named(format!(
            "{best}'s requests/s (the best of {}), Postgres {rtt} ms away, at {x} in flight",
            among(candidates)
        ));
        let threads = series(ThreadPool)?.named("thread-pool's over the same connections");
        Ok(rules::ratio_at_least(&fast, &threads, ASYNC_IO_FACTOR))
    })
}

/// `threads-blocking-c`: over SQLite (a C library with no async API), the thread pool serves
/// at least this many times what the best async layer serves.
pub const BLOCKING_C_FACTOR: f64 = 1.1;

fn threads_blocking_c(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::ThreadsBlockingC).reading("SQLite point reads").decide(|| {
        let series = |v: Variant| report.series(SQLITE_POINTS, v, REQUESTS_PER_S);
        let threads = series(ThreadPool)?.named("thread-pool's point reads/s on SQLite");
        let (best, fast) = best_of(&SQLITE_ASYNC, REQUESTS_PER_S, series)?;
        let fast = fast.named(format!("the best async layer's ({best}, of {})", among(&SQLITE_ASYNC)));
        Ok(rules::ratio_at_least(&threads, &fast, BLOCKING_C_FACTOR))
    })
}

/// `no-thread-per-request`: a thread pool over the same connections serves at least this
/// many times what a thread per request serves.
pub const PER_REQUEST_FACTOR: f64 = 1.5;

fn no_thread_per_request(report: &Report, table: TableId, engine: &str) -> ClaimResult {
    Claim::new(ClaimId::NoThreadPerRequest).reading(engine).decide(|| {
        let pool =
            report.series(table, ThreadPool, REQUESTS_PER_S)?.named(format!("thread-pool's point reads/s on {engine}"));
        let per_request = report.series(table, ThreadPerRequest, REQUESTS_PER_S)?.named("thread-per-request's");
        let cpu = |v| report.median(table, v, CPU_PER_REQUEST).map_or("?".into(), |s| CPU_PER_REQUEST.format.show(s));
        let context = format!(
            "server CPU per request: thread-pool {}, thread-per-request {}",
            cpu(ThreadPool),
            cpu(ThreadPerRequest)
        );
        Ok(rules::ratio_at_least(&pool, &per_request, PER_REQUEST_FACTOR).noting(context))
    })
}

/// `batch-async`: coalescing concurrent point reads serves at least this many times what one
/// query per read serves, on the same pool.
pub const BATCH_FACTOR: f64 = 1.2;

fn batch_async(report: &Report, table: TableId, batched: Variant, reading: &str) -> ClaimResult {
    Claim::new(ClaimId::BatchAsync).reading(reading).decide(|| {
        let fast = report.series(table, batched, REQUESTS_PER_S)?.named(format!("{batched}'s point reads/s"));
        let plain = report.series(table, AsyncPool, REQUESTS_PER_S)?.named("async-pool's");
        let batch = report.median(table, batched, MEAN_BATCH).map(|b| format!("{b:.1} reads per batch"));
        Ok(rules::ratio_at_least(&fast, &plain, BATCH_FACTOR).noting(batch.unwrap_or_default()))
    })
}

/// `hybrid-web`: with the job on the async workers, request p99 is at least this many times
/// the p99 with the same job on a thread of its own.
pub const HYBRID_FACTOR: f64 = 2.0;

fn hybrid_web(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::HybridWeb).decide(|| {
        let on_async = report.quantile_series(HYBRID, JobOnAsync, LATENCY, 0.99)?;
        let on_async = on_async.named("request p99 with the rebuild on the async workers");
        let on_thread = report.quantile_series(HYBRID, JobOnThread, LATENCY, 0.99)?;
        let on_thread = on_thread.named("the p99 with it on a thread, same open-loop load");
        let none = report.quantile(HYBRID, AsyncPool, LATENCY, 0.99);
        let none = none.map(|p| format!("p99 {} with no job", LATENCY.format.show(p)));
        Ok(rules::ratio_at_least(&on_async, &on_thread, HYBRID_FACTOR).noting(none.unwrap_or_default()))
    })
}

/// `async-low-memory`: at the sweep's largest load, a thread per request holds at least this
/// many times the resident memory of the async pool.
pub const MEMORY_FACTOR: f64 = 1.5;

fn async_low_memory(params: &Params, report: &Report) -> ClaimResult {
    let reading = "resident memory, SQLite, the sweep's largest load";
    Claim::new(ClaimId::AsyncLowMemory).reading(reading).decide(|| {
        let x = claim_point(&params.sweep, usize::MAX)?;
        let rss = |v: Variant, at: f64| report.series(SQLITE_SWEEP, (v, at), PEAK_RSS);
        let threads = rss(ThreadPerRequest, x)?.named(format!("thread-per-request's server RSS at {x} in flight"));
        let tasks = rss(AsyncPool, x)?.named("async-pool's");
        let mut context: Vec<String> =
            rss(ThreadPool, x).map(|s| format!("thread-pool {}", s.spread())).into_iter().collect();
        // What each request in flight adds, from the smallest load to the largest.
        let low = params.sweep.iter().copied().min().map_or(x, |n| n as f64);
        let per_request = |v: Variant| -> Option<String> {
            let (top, bottom) = (rss(v, x).ok()?.median(), rss(v, low).ok()?.median());
            (x > low).then(|| format!("{v} {}", PEAK_RSS.format.show((top - bottom) / (x - low))))
        };
        let each: Vec<String> = [ThreadPerRequest, AsyncPool, ThreadPool].into_iter().filter_map(per_request).collect();
        if !each.is_empty() {
            context.push(format!("per request in flight: {}", each.join(", ")));
        }
        Ok(rules::ratio_at_least(&threads, &tasks, MEMORY_FACTOR).noting(context.join("; ")))
    })
}

/// `async-many-conns`: at the sweep's largest load, the best async layer serves at least this
/// many times what a thread per request serves.
pub const MANY_CONNS_FACTOR: f64 = 1.5;

fn async_many_conns(
    report: &Report,
    points: &[usize],
    table: TableId,
    candidates: &[Variant],
    engine: &str,
) -> ClaimResult {
    Claim::new(ClaimId::AsyncManyConns).reading(engine).decide(|| {
        let x = claim_point(points, usize::MAX)?;
        let series = |v: Variant| report.series(table, (v, x), REQUESTS_PER_S);
        let (best, fast) = best_of(candidates, REQUESTS_PER_S, series)?;
        let fast = fast.named(format!(
            "the best async layer's requests/s ({best}, of {}) on {engine} at {x} in flight (as many client connections)",
            among(candidates)
        ));
        let per_request = series(ThreadPerRequest)?.named("thread-per-request's");
        let pool = series(ThreadPool).map(|s| format!("thread-pool {}", s.spread())).unwrap_or_default();
        Ok(rules::ratio_at_least(&fast, &per_request, MANY_CONNS_FACTOR).noting(pool))
    })
}

/// `spawn-blocking`: `rusqlite` through `spawn_blocking` serves at least this share of what
/// `sqlx`'s own async SQLite serves.
pub const SPAWN_BLOCKING_SHARE: f64 = 0.8;

fn spawn_blocking(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::SpawnBlocking).reading("rusqlite in spawn_blocking, against sqlx-sqlite").decide(|| {
        let blocking = report.series(SQLITE_POINTS, AsyncOverBlocking, REQUESTS_PER_S)?;
        let blocking = blocking.named("async-over-blocking's point reads/s on SQLite");
        let sqlx = report.series(SQLITE_POINTS, AsyncPool, REQUESTS_PER_S)?.named("async-pool's (sqlx)");
        Ok(rules::ratio_at_least(&blocking, &sqlx, SPAWN_BLOCKING_SHARE))
    })
}

/// The best of `candidates` by median `figure` in `table`, with its median.
fn best_median(report: &Report, table: TableId, candidates: &[Variant], figure: Figure) -> Option<(Variant, f64)> {
    candidates.iter().filter_map(|&v| Some((v, report.median(table, v, figure)?))).max_by(|a, b| a.1.total_cmp(&b.1))
}

/// The performance targets and what the gaps are made of, as sentences.
pub fn verdicts(_params: &Params, report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    let rate = |r: f64| REQUESTS_PER_S.format.show(r);
    if let Some(anchor) = report.median(POSTGRES_POINTS, Pgbench, REQUESTS_PER_S)
        && let Some((v, r)) = best_median(report, POSTGRES_POINTS, &POSTGRES_ASYNC, REQUESTS_PER_S)
    {
        lines.push(format!(
            "Postgres point reads: the best async variant, {v}, served {} = {:.2} x pgbench's {} at the same client count (target 0.8 x, moonshot 1.0 x).",
            rate(r),
            r / anchor,
            rate(anchor)
        ));
    }
    if let Some(threads) = report.median(SQLITE_POINTS, ThreadPool, REQUESTS_PER_S)
        && let Some((v, r)) = best_median(report, SQLITE_POINTS, &SQLITE_ASYNC, REQUESTS_PER_S)
    {
        let per = |v: Variant| {
            let cpu = report.median(SQLITE_POINTS, v, CPU_PER_REQUEST);
            let cs = report.median(SQLITE_POINTS, v, SWITCHES_PER_REQUEST);
            format!(
                "{} of server CPU and {} context switches per request",
                cpu.map_or("?".into(), |c| CPU_PER_REQUEST.format.show(c)),
                cs.map_or("?".into(), |c| format!("{c:.1}"))
            )
        };
        lines.push(format!(
            "SQLite point reads: thread-pool served {}, {:.2} x the best async variant ({v}, {}); the gap is what each request costs the server: {} for thread-pool, {} for {v} (target: within 1.5 x).",
            rate(threads),
            threads / r,
            rate(r),
            per(ThreadPool),
            per(v)
        ));
    }
    lines
}

/// What every run must show, whatever its speed: no wrong answer, no lost or doubled write,
/// and the Postgres variants agreeing with each other.
pub fn check(report: &Report) -> Vec<String> {
    let mut failures = Vec::new();
    for row in report.rows.iter().filter(|r| r.skipped.is_none() && r.variant != Pgbench.name()) {
        for (i, run) in row.runs.iter().enumerate() {
            let at = format!("{} / {} run {}", row.table, row.label, i + 1);
            for figure in [WRONG, LOST, DOUBLED] {
                match run.figure(figure) {
                    Some(0.0) => {}
                    Some(n) => failures.push(format!("{at}: {} = {n}", figure.key)),
                    None => failures.push(format!("{at}: no {} recorded", figure.key)),
                }
            }
        }
    }
    // Run by run: a run has a digest only if it answered every one of its first requests (a
    // run too slow to send that many, or with an error among them, says nothing; its errors
    // are counted), and each run that has one must agree, within its row and across rows.
    let answers: Vec<(&str, &str)> = report
        .ran_in(POSTGRES_POINTS)
        .filter(|r| r.variant != Pgbench.name())
        .flat_map(|r| r.runs.iter().filter_map(|run| Some((r.label.as_str(), run.digest.as_deref()?))))
        .collect();
    if answers.windows(2).any(|w| w[0].1 != w[1].1) {
        failures.push(format!("{POSTGRES_POINTS}: the variants answered differently: {answers:?}"));
    }
    // A row none of whose runs has a digest was never checked at all: that fails too.
    for row in report.ran_in(POSTGRES_POINTS).filter(|r| r.variant != Pgbench.name()) {
        if !answers.iter().any(|(label, _)| *label == row.label) {
            failures.push(format!(
                "{POSTGRES_POINTS} / {}: no run answered all of its first requests, so none could be checked",
                row.label
            ));
        }
    }
    failures
}
