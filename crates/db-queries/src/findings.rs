//! What the figures say: the correctness checks, the verdicts, and one function per claim,
//! each with its rule and threshold beside it. Nothing here is written by hand: every
//! outcome comes from `casebook::rules` over the runs' figures.

use casebook::{
    Claim, ClaimId, ClaimResult, Figure, Missing, Report, RowReport, figure::PEAK_RSS, rules, rules::Series,
};

use crate::{
    HYBRID_TABLE, JOB_ON_ASYNC, JOB_ON_THREAD, PGBENCH, POSTGRES_POINTS, POSTGRES_REMOTE, POSTGRES_SWEEP,
    SQLITE_POINTS, SQLITE_SWEEP,
    figures::*,
    layers::{ASYNC_BATCHED, ASYNC_OVER_BLOCKING, ASYNC_PIPELINED, ASYNC_POOL, THREAD_PER_REQUEST, THREAD_POOL},
    params::Params,
};

/// The async data layers, by engine.
const SQLITE_ASYNC: [&str; 3] = [ASYNC_POOL, ASYNC_BATCHED, ASYNC_OVER_BLOCKING];
const POSTGRES_ASYNC: [&str; 3] = [ASYNC_POOL, ASYNC_BATCHED, ASYNC_PIPELINED];

/// The sweep claims compare variants at the largest swept load up to this many requests in
/// flight: past the knee of every curve, short of the point where queues dominate.
pub const CLAIM_IN_FLIGHT: usize = 256;

pub fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
    vec![
        async_io(params, report, "pipelined or batched, 1 ms away", &[ASYNC_BATCHED, ASYNC_PIPELINED]),
        async_io(params, report, "a plain async pool, 1 ms away", &[ASYNC_POOL]),
        threads_blocking_c(report),
        no_thread_per_request(report, SQLITE_POINTS, "SQLite"),
        no_thread_per_request(report, POSTGRES_POINTS, "Postgres"),
        batch_async(report, POSTGRES_POINTS, ASYNC_BATCHED, "Postgres, = ANY($1)"),
        batch_async(report, POSTGRES_POINTS, ASYNC_PIPELINED, "Postgres, pipelined"),
        batch_async(report, SQLITE_POINTS, ASYNC_BATCHED, "SQLite, IN (json_each(?))"),
        hybrid_web(report),
        async_low_memory(params, report),
        async_many_conns(report, &params.sweep, SQLITE_SWEEP, &SQLITE_ASYNC, "SQLite"),
        async_many_conns(report, &params.postgres_sweep, POSTGRES_SWEEP, &POSTGRES_ASYNC, "Postgres"),
        spawn_blocking(report),
    ]
}

fn missing(what: String) -> Missing {
    Missing(what)
}

/// A sweep row that ran, or why it is missing.
fn at<'a>(report: &'a Report, table: &str, variant: &str, x: f64) -> Result<&'a RowReport, Missing> {
    let row = report
        .row_at(table, variant, x)
        .ok_or_else(|| missing(format!("needs {variant} at {x} in flight in the {table} table")))?;
    match &row.skipped {
        Some(why) => Err(missing(format!("{table} / {} was skipped ({why})", row.label))),
        None if row.runs.is_empty() => Err(missing(format!("{table} / {} has no measured run", row.label))),
        None => Ok(row),
    }
}

/// Of `candidates` in a table, the one with the best median `figure` (higher is better), with
/// its series; rows that did not run are passed over, and none at all is `Missing`.
fn best_of(
    candidates: &[&str],
    figure: Figure,
    row: impl Fn(&str) -> Result<Series, Missing>,
) -> Result<(String, Series), Missing> {
    let mut found: Vec<(String, Series)> = Vec::new();
    let mut why = Vec::new();
    for name in candidates {
        match row(name) {
            Ok(series) => found.push(((*name).to_string(), series)),
            Err(Missing(reason)) => why.push(reason),
        }
    }
    found
        .into_iter()
        .max_by(|a, b| a.1.median().total_cmp(&b.1.median()))
        .ok_or_else(|| missing(format!("no {} among {}: {}", figure.key, candidates.join(", "), why.join("; "))))
}

/// The largest value of `points` at most `limit` (else the smallest).
fn claim_point(points: &[usize], limit: usize) -> Option<f64> {
    points.iter().copied().filter(|&n| n <= limit).max().or(points.iter().copied().min()).map(|n| n as f64)
}

/// `async-io`: with Postgres a round trip away, the best of `async_variants` serves at least
/// this many times what the thread pool serves over the same connections.
pub const ASYNC_IO_FACTOR: f64 = 1.2;

fn async_io(params: &Params, report: &Report, reading: &str, async_variants: &[&str]) -> ClaimResult {
    let x = claim_point(&params.remote_sweep, CLAIM_IN_FLIGHT);
    let threshold = format!(
        "held if {}'s requests/s is at least {ASYNC_IO_FACTOR} x thread-pool's (same connections), Postgres {} ms away, at {} requests in flight, interval over paired runs",
        if async_variants.len() > 1 {
            "the better of ".to_string() + &async_variants.join(" and ")
        } else {
            async_variants[0].to_string()
        },
        params.remote_rtt_us as f64 / 1000.0,
        x.unwrap_or(f64::NAN)
    );
    Claim::new(ClaimId::AsyncIo, threshold).reading(reading).decide(|| {
        let x = x.ok_or_else(|| missing("no remote sweep points".into()))?;
        let series = |v: &str| at(report, POSTGRES_REMOTE, v, x)?.series(REQUESTS_PER_S);
        let (best, fast) = best_of(async_variants, REQUESTS_PER_S, series)?;
        let threads = series(THREAD_POOL)?;
        let evidence = format!("{best} {} vs thread-pool {} at {x} in flight", fast.spread(), threads.spread());
        Ok((rules::ratio_at_least(&fast, &threads, ASYNC_IO_FACTOR), evidence))
    })
}

/// `threads-blocking-c`: over SQLite (a C library with no async API), the thread pool serves
/// at least this many times what the best async layer serves.
pub const BLOCKING_C_FACTOR: f64 = 1.1;

fn threads_blocking_c(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if thread-pool's point reads/s on SQLite are at least {BLOCKING_C_FACTOR} x the best async layer's ({}), interval over paired runs",
        SQLITE_ASYNC.join(", ")
    );
    Claim::new(ClaimId::ThreadsBlockingC, threshold).reading("SQLite point reads").decide(|| {
        let series = |v: &str| report.series(SQLITE_POINTS, v, REQUESTS_PER_S);
        let threads = series(THREAD_POOL)?;
        let (best, fast) = best_of(&SQLITE_ASYNC, REQUESTS_PER_S, series)?;
        let evidence = format!("thread-pool {} vs {best} {}", threads.spread(), fast.spread());
        Ok((rules::ratio_at_least(&threads, &fast, BLOCKING_C_FACTOR), evidence))
    })
}

/// `no-thread-per-request`: a thread pool over the same connections serves at least this
/// many times what a thread per request serves.
pub const PER_REQUEST_FACTOR: f64 = 1.5;

fn no_thread_per_request(report: &Report, table: &str, engine: &str) -> ClaimResult {
    let threshold = format!(
        "held if thread-pool's point reads/s are at least {PER_REQUEST_FACTOR} x thread-per-request's on {engine}, interval over paired runs"
    );
    Claim::new(ClaimId::NoThreadPerRequest, threshold).reading(engine).decide(|| {
        let pool = report.series(table, THREAD_POOL, REQUESTS_PER_S)?;
        let per_request = report.series(table, THREAD_PER_REQUEST, REQUESTS_PER_S)?;
        let cpu = |v| report.median(table, v, CPU_PER_REQUEST).map_or("?".into(), |s| CPU_PER_REQUEST.format.show(s));
        let evidence = format!(
            "thread-pool {} ({} server CPU per request) vs thread-per-request {} ({})",
            pool.spread(),
            cpu(THREAD_POOL),
            per_request.spread(),
            cpu(THREAD_PER_REQUEST)
        );
        Ok((rules::ratio_at_least(&pool, &per_request, PER_REQUEST_FACTOR), evidence))
    })
}

/// `batch-async`: coalescing concurrent point reads serves at least this many times what one
/// query per read serves, on the same pool.
pub const BATCH_FACTOR: f64 = 1.2;

fn batch_async(report: &Report, table: &str, batched: &str, reading: &str) -> ClaimResult {
    let threshold = format!(
        "held if {batched}'s point reads/s are at least {BATCH_FACTOR} x async-pool's, interval over paired runs"
    );
    Claim::new(ClaimId::BatchAsync, threshold).reading(reading).decide(|| {
        let fast = report.series(table, batched, REQUESTS_PER_S)?;
        let plain = report.series(table, ASYNC_POOL, REQUESTS_PER_S)?;
        let batch =
            report.median(table, batched, MEAN_BATCH).map(|b| format!(", {b:.1} reads per batch")).unwrap_or_default();
        let evidence = format!("{batched} {}{batch} vs async-pool {}", fast.spread(), plain.spread());
        Ok((rules::ratio_at_least(&fast, &plain, BATCH_FACTOR), evidence))
    })
}

/// `hybrid-web`: with the job on the async workers, request p99 is at least this many times
/// the p99 with the same job on a thread of its own.
pub const HYBRID_FACTOR: f64 = 2.0;

fn hybrid_web(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if request p99 with the rebuild on the async workers is at least {HYBRID_FACTOR} x the p99 with it on a thread, same open-loop load, interval over paired runs"
    );
    Claim::new(ClaimId::HybridWeb, threshold).decide(|| {
        let on_async = report.quantile_series(HYBRID_TABLE, JOB_ON_ASYNC, LATENCY, 0.99)?;
        let on_thread = report.quantile_series(HYBRID_TABLE, JOB_ON_THREAD, LATENCY, 0.99)?;
        let none = report.quantile(HYBRID_TABLE, ASYNC_POOL, LATENCY, 0.99);
        let evidence = format!(
            "p99 {} with the job on the async workers, {} with it on a thread{}",
            on_async.spread(),
            on_thread.spread(),
            none.map(|p| format!(", {} with no job", LATENCY.format.show(p))).unwrap_or_default()
        );
        Ok((rules::ratio_at_least(&on_async, &on_thread, HYBRID_FACTOR), evidence))
    })
}

/// `async-low-memory`: at the sweep's largest load, a thread per request holds at least this
/// many times the resident memory of the async pool.
pub const MEMORY_FACTOR: f64 = 1.5;

fn async_low_memory(params: &Params, report: &Report) -> ClaimResult {
    let x = params.sweep.iter().copied().max().map(|n| n as f64);
    let threshold = format!(
        "held if thread-per-request's server RSS is at least {MEMORY_FACTOR} x async-pool's on SQLite at {} requests in flight, interval over paired runs",
        x.unwrap_or(f64::NAN)
    );
    Claim::new(ClaimId::AsyncLowMemory, threshold).reading("resident memory, SQLite, the sweep's largest load").decide(
        || {
            let x = x.ok_or_else(|| missing("no sweep points".into()))?;
            let rss = |v: &str| at(report, SQLITE_SWEEP, v, x)?.series(PEAK_RSS);
            let threads = rss(THREAD_PER_REQUEST)?;
            let tasks = rss(ASYNC_POOL)?;
            let pool = rss(THREAD_POOL).map(|s| format!("; thread-pool {}", s.spread())).unwrap_or_default();
            // What each request in flight adds, from the smallest load to the largest.
            let low = params.sweep.iter().copied().min().map_or(x, |n| n as f64);
            let per_request = |v: &str| -> Option<String> {
                let top = at(report, SQLITE_SWEEP, v, x).ok()?.median(PEAK_RSS)?;
                let bottom = at(report, SQLITE_SWEEP, v, low).ok()?.median(PEAK_RSS)?;
                (x > low).then(|| format!("{v} {}", PEAK_RSS.format.show((top - bottom) / (x - low))))
            };
            let each: Vec<String> =
                [THREAD_PER_REQUEST, ASYNC_POOL, THREAD_POOL].into_iter().filter_map(per_request).collect();
            let each =
                if each.is_empty() { String::new() } else { format!("; per request in flight: {}", each.join(", ")) };
            let evidence = format!(
                "thread-per-request {} vs async-pool {}{pool}, at {x} in flight{each}",
                threads.spread(),
                tasks.spread()
            );
            Ok((rules::ratio_at_least(&threads, &tasks, MEMORY_FACTOR), evidence))
        },
    )
}

/// `async-many-conns`: at the sweep's largest load, the best async layer serves at least this
/// many times what a thread per request serves.
pub const MANY_CONNS_FACTOR: f64 = 1.5;

fn async_many_conns(
    report: &Report,
    points: &[usize],
    table: &str,
    async_variants: &[&str],
    engine: &str,
) -> ClaimResult {
    let x = points.iter().copied().max().map(|n| n as f64);
    let threshold = format!(
        "held if the best async layer's requests/s is at least {MANY_CONNS_FACTOR} x thread-per-request's on {engine} at {} requests in flight (as many client connections), interval over paired runs",
        x.unwrap_or(f64::NAN)
    );
    Claim::new(ClaimId::AsyncManyConns, threshold).reading(engine).decide(|| {
        let x = x.ok_or_else(|| missing("no sweep points".into()))?;
        let series = |v: &str| at(report, table, v, x)?.series(REQUESTS_PER_S);
        let (best, fast) = best_of(async_variants, REQUESTS_PER_S, series)?;
        let per_request = series(THREAD_PER_REQUEST)?;
        let pool = series(THREAD_POOL).map(|s| format!("; thread-pool {}", s.spread())).unwrap_or_default();
        let evidence =
            format!("{best} {} vs thread-per-request {}{pool}, at {x} in flight", fast.spread(), per_request.spread());
        Ok((rules::ratio_at_least(&fast, &per_request, MANY_CONNS_FACTOR), evidence))
    })
}

/// `spawn-blocking`: `rusqlite` through `spawn_blocking` serves at least this share of what
/// `sqlx`'s own async SQLite serves.
pub const SPAWN_BLOCKING_SHARE: f64 = 0.8;

fn spawn_blocking(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if async-over-blocking's point reads/s on SQLite are at least {SPAWN_BLOCKING_SHARE} x async-pool's (sqlx), interval over paired runs"
    );
    Claim::new(ClaimId::SpawnBlocking, threshold).reading("rusqlite in spawn_blocking, against sqlx-sqlite").decide(
        || {
            let blocking = report.series(SQLITE_POINTS, ASYNC_OVER_BLOCKING, REQUESTS_PER_S)?;
            let sqlx = report.series(SQLITE_POINTS, ASYNC_POOL, REQUESTS_PER_S)?;
            let evidence = format!("async-over-blocking {} vs async-pool {}", blocking.spread(), sqlx.spread());
            Ok((rules::ratio_at_least(&blocking, &sqlx, SPAWN_BLOCKING_SHARE), evidence))
        },
    )
}

/// The performance targets and what the gaps are made of, as sentences.
pub fn verdicts(_params: &Params, report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    let median = |table: &str, v: &str, f: Figure| report.median(table, v, f);
    if let Some(anchor) = median(POSTGRES_POINTS, PGBENCH, REQUESTS_PER_S) {
        let best = POSTGRES_ASYNC
            .iter()
            .filter_map(|v| Some((*v, median(POSTGRES_POINTS, v, REQUESTS_PER_S)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((v, r)) = best {
            lines.push(format!(
                "Postgres point reads: the best async variant, {v}, served {} = {:.2} x pgbench's {} at the same client count (target 0.8 x, moonshot 1.0 x).",
                REQUESTS_PER_S.format.show(r),
                r / anchor,
                REQUESTS_PER_S.format.show(anchor)
            ));
        }
    }
    if let Some(threads) = median(SQLITE_POINTS, THREAD_POOL, REQUESTS_PER_S) {
        let best = SQLITE_ASYNC
            .iter()
            .filter_map(|v| Some((*v, median(SQLITE_POINTS, v, REQUESTS_PER_S)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((v, r)) = best {
            let per = |v: &str| {
                let cpu =
                    median(SQLITE_POINTS, v, CPU_PER_REQUEST).map_or("?".into(), |c| CPU_PER_REQUEST.format.show(c));
                let cs = median(SQLITE_POINTS, v, SWITCHES_PER_REQUEST).map_or("?".into(), |c| format!("{c:.1}"));
                format!("{cpu} of server CPU and {cs} context switches per request")
            };
            lines.push(format!(
                "SQLite point reads: thread-pool served {}, {:.2} x the best async variant ({v}, {}); the gap is what each request costs the server: {} for thread-pool, {} for {v} (target: within 1.5 x).",
                REQUESTS_PER_S.format.show(threads),
                threads / r,
                REQUESTS_PER_S.format.show(r),
                per(THREAD_POOL),
                per(v)
            ));
        }
    }
    lines
}

/// What every run must show, whatever its speed: no wrong answer, no lost or doubled write,
/// and the Postgres variants agreeing with each other.
pub fn check(report: &Report) -> Vec<String> {
    let mut failures = Vec::new();
    for row in report.rows.iter().filter(|r| r.skipped.is_none() && r.variant != PGBENCH) {
        for (i, run) in row.runs.iter().enumerate() {
            for figure in [WRONG, LOST, DOUBLED] {
                match run.figure(figure) {
                    Some(0.0) => {}
                    Some(n) => {
                        failures.push(format!("{} / {} run {}: {} = {n}", row.table, row.label, i + 1, figure.key))
                    }
                    None => failures.push(format!(
                        "{} / {} run {}: no {} recorded",
                        row.table,
                        row.label,
                        i + 1,
                        figure.key
                    )),
                }
            }
        }
    }
    let answers: Vec<(&str, &str)> = report
        .ran_in(POSTGRES_POINTS)
        .filter(|r| r.variant != PGBENCH)
        .map(|r| (r.label.as_str(), r.digest.as_deref().unwrap_or("none")))
        .collect();
    if answers.windows(2).any(|w| w[0].1 != w[1].1) {
        failures.push(format!("{POSTGRES_POINTS}: the variants answered differently: {answers:?}"));
    }
    failures
}
