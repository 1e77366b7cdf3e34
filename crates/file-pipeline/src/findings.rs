//! What the figures say: the framework's claims (one function per claim and reading, each
//! with its threshold beside it), the verdicts, and the accounting checks. All computed from
//! a report, never written by hand.

use casebook::{
    Better, Claim, ClaimId, ClaimResult, Decision, Format, Measure, Missing, Report, Series, figure::PEAK_RSS,
    format::format_value, rules, sweep,
};

use crate::{
    ASYNC_NAIVE, ASYNC_SPAWN_BLOCKING, B3SUM, BATCH_TABLE, CAPACITY_TABLE, HASH_TABLE, HYBRID, IO_URING, MIX_TABLE,
    Params, THREAD_PER_FILE, THREADS, WATCH_TABLE,
    figures::*,
    plan::{SWEPT_BY_CAPACITY, rendezvous_label, unbounded_at},
};

pub fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
    vec![
        async_io_tokio_fs(report),
        async_io_uring(report),
        hybrid_throughput(report),
        hybrid_latency(report),
        capacity_memory(params, report),
        capacity_throughput(report),
        needless_mixing(report),
        thread_per_file_throughput(report),
        thread_per_file_memory(report),
        spawn_blocking_latency(report),
        spawn_blocking_throughput(report),
    ]
}

fn throughput(report: &Report, table: &str, variant: &str) -> Result<Series, Missing> {
    report.series(table, variant, BYTES_PER_S)
}

fn p99(report: &Report, variant: &str) -> Result<Series, Missing> {
    report.quantile_series(WATCH_TABLE, variant, LATENCY, 0.99)
}

/// Run by run, the larger of two series.
fn best_of(a: &Series, b: &Series, label: &str) -> Series {
    a.paired(b, a.format, label, f64::max)
}

/// `async-io`, tokio::fs reading: hash-only is the IO-heavy mix (BLAKE3 runs at gigabytes a
/// second, so reading dominates); async suits it if its best is at least threads' pace.
const ASYNC_IO_FACTOR: f64 = 1.0;

fn async_io_tokio_fs(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if the faster of async-naive and async-spawn-blocking (tokio::fs) reaches ≥ {ASYNC_IO_FACTOR} × threads' hash-only throughput, run against run; did not hold if the whole interval is below"
    );
    Claim::new(ClaimId::AsyncIo, threshold).reading("tokio::fs, through its blocking pool").decide(|| {
        let tokio_fs = best_of(
            &throughput(report, HASH_TABLE, ASYNC_NAIVE)?,
            &throughput(report, HASH_TABLE, ASYNC_SPAWN_BLOCKING)?,
            "faster tokio::fs variant",
        );
        let threads = throughput(report, HASH_TABLE, THREADS)?;
        let evidence = format!("hash only: tokio::fs at best {} vs threads {}", tokio_fs.show(), threads.show());
        Ok((rules::ratio_at_least(&tokio_fs, &threads, ASYNC_IO_FACTOR), evidence))
    })
}

fn async_io_uring(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if io-uring reaches ≥ {ASYNC_IO_FACTOR} × threads' hash-only throughput, run against run; did not hold if the whole interval is below"
    );
    Claim::new(ClaimId::AsyncIo, threshold).reading("real async file IO (io_uring)").decide(|| {
        let uring = throughput(report, HASH_TABLE, IO_URING)?;
        let threads = throughput(report, HASH_TABLE, THREADS)?;
        let evidence = format!("hash only: io-uring {} vs threads {}", uring.show(), threads.show());
        Ok((rules::ratio_at_least(&uring, &threads, ASYNC_IO_FACTOR), evidence))
    })
}

/// `hybrid-pipeline`, throughput: the bar, within 10% of the fastest variant.
const HYBRID_SHARE: f64 = 0.9;

fn hybrid_throughput(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if the hybrid's batch throughput is ≥ {HYBRID_SHARE} × the fastest other variant's, run against run; did not hold if the whole interval is below"
    );
    Claim::new(ClaimId::HybridPipeline, threshold).reading("batch throughput").decide(|| {
        let hybrid = throughput(report, BATCH_TABLE, HYBRID)?;
        let others: Vec<Series> = report
            .ran_in(BATCH_TABLE)
            .filter(|row| row.variant != HYBRID)
            .filter_map(|row| row.series(BYTES_PER_S).ok())
            .collect();
        let fastest = others
            .iter()
            .skip(1)
            .fold(others.first().cloned().ok_or_else(|| Missing("no other batch row ran".into()))?, |best, s| {
                best_of(&best, s, "fastest other variant")
            });
        let leader = report
            .ran_in(BATCH_TABLE)
            .filter(|row| row.variant != HYBRID)
            .max_by(|a, b| a.median(BYTES_PER_S).unwrap_or(0.0).total_cmp(&b.median(BYTES_PER_S).unwrap_or(0.0)))
            .map_or("?", |row| row.label.as_str());
        // `fastest` is the best other row in each round, so its median can exceed every
        // single row's median: name the leader by its own median, and the per-round best apart.
        let evidence = format!(
            "hybrid {} vs the fastest other row in each round {} (the fastest at the median: {leader})",
            hybrid.show(),
            fastest.show()
        );
        Ok((rules::ratio_at_least(&hybrid, &fastest, HYBRID_SHARE), evidence))
    })
}

/// `hybrid-pipeline`, latency: the bar for watch mode, in µs.
const HYBRID_P99_US: f64 = 20_000.0;

fn hybrid_latency(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if the hybrid's watch-mode p99 (producer's close or rename to manifest line) is ≤ {} in every run's median interval and no file was lost in any run; did not hold if either misses",
        format_value(HYBRID_P99_US, Format::Micros)
    );
    Claim::new(ClaimId::HybridPipeline, threshold).reading("watch latency").decide(|| {
        let p99 = p99(report, HYBRID)?;
        let row = report.need(WATCH_TABLE, HYBRID)?;
        let none_lost = row.facts(|run| run.figure(LOST) == Some(0.0));
        let evidence = format!(
            "hybrid p99 {} (merged over runs: {}), lost {}",
            p99.spread(),
            report
                .quantile(WATCH_TABLE, HYBRID, LATENCY, 0.99)
                .map_or("–".into(), |v| format_value(v, Format::Micros)),
            report.series(WATCH_TABLE, HYBRID, LOST)?.show()
        );
        Ok((
            Decision::all([rules::at_most(&p99, HYBRID_P99_US), rules::every_run("no file lost", &none_lost)]),
            evidence,
        ))
    })
}

/// `channel-capacity`, memory: the reader outruns the CPU pool, so an unbounded channel
/// holds the backlog. It holds if that backlog shows: the unbounded row's peak RSS exceeds
/// capacity 16's by at least this share of the sweep inbox.
const UNBOUNDED_BACKLOG_SHARE: f64 = 0.25;

fn capacity_memory(params: &Params, report: &Report) -> ClaimResult {
    let margin = params.sweep_bytes as f64 * UNBOUNDED_BACKLOG_SHARE;
    let threshold = format!(
        "held if, for threads and for the hybrid, the unbounded channel's peak RSS exceeds that at capacity 16 by ≥ {} ({UNBOUNDED_BACKLOG_SHARE} of the sweep inbox), run against run; did not hold if either's whole interval is below",
        format_value(margin, Format::Bytes)
    );
    Claim::new(ClaimId::ChannelCapacity, threshold).reading("memory: unbounded against 16").decide(|| {
        let mut decisions = Vec::new();
        let mut evidence = Vec::new();
        for variant in SWEPT_BY_CAPACITY {
            let at = |x: f64| {
                report
                    .row_at(CAPACITY_TABLE, variant, x)
                    .ok_or_else(|| Missing(format!("{variant} at capacity {x} was not measured")))?
                    .series(PEAK_RSS)
            };
            let (unbounded, sixteen) = (at(unbounded_at(params))?, at(16.0)?);
            evidence.push(format!("{variant}: {} unbounded vs {} at 16", unbounded.show(), sixteen.show()));
            decisions.push(rules::exceeds_by(&unbounded, &sixteen, margin));
        }
        Ok((Decision::all(decisions), evidence.join("; ")))
    })
}

/// `channel-capacity`, throughput: what a rendezvous costs against a capacity of 16.
const RENDEZVOUS_FACTOR: f64 = 1.1;

fn capacity_throughput(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if, for threads and for the hybrid, throughput at capacity 16 is ≥ {RENDEZVOUS_FACTOR} × a rendezvous channel's (capacity 0), run against run; did not hold if either's whole interval is below"
    );
    Claim::new(ClaimId::ChannelCapacity, threshold).reading("throughput: 16 against a rendezvous").decide(|| {
        let mut decisions = Vec::new();
        let mut evidence = Vec::new();
        for variant in SWEPT_BY_CAPACITY {
            let sixteen = report
                .row_at(CAPACITY_TABLE, variant, 16.0)
                .ok_or_else(|| Missing(format!("{variant} at capacity 16 was not measured")))?
                .series(BYTES_PER_S)?;
            let rendezvous = report.series(CAPACITY_TABLE, &rendezvous_label(variant), BYTES_PER_S)?;
            evidence.push(format!("{variant}: {} at 16 vs {} at 0", sixteen.show(), rendezvous.show()));
            decisions.push(rules::ratio_at_least(&sixteen, &rendezvous, RENDEZVOUS_FACTOR));
        }
        Ok((Decision::all(decisions), evidence.join("; ")))
    })
}

/// `no-needless-mixing`: a batch has nothing to wait for, so async buys it nothing; the
/// claim holds if the mixed pipeline pays for it against the same stages on plain threads.
const MIXING_COST: f64 = 1.05;

fn needless_mixing(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if threads' batch throughput is ≥ {MIXING_COST} × the hybrid's (same stages, no async), run against run; did not hold if the whole interval is below"
    );
    Claim::new(ClaimId::NoNeedlessMixing, threshold).reading("a batch pipeline").decide(|| {
        let threads = throughput(report, BATCH_TABLE, THREADS)?;
        let hybrid = throughput(report, BATCH_TABLE, HYBRID)?;
        let switches = |v| report.median(BATCH_TABLE, v, casebook::figure::VOLUNTARY_CS);
        let evidence = format!(
            "threads {} vs hybrid {}; voluntary context switches {} vs {}",
            threads.show(),
            hybrid.show(),
            switches(THREADS).map_or("–".into(), |v| format_value(v, Format::Count)),
            switches(HYBRID).map_or("–".into(), |v| format_value(v, Format::Count))
        );
        Ok((rules::ratio_at_least(&threads, &hybrid, MIXING_COST), evidence))
    })
}

/// `no-thread-per-request`: a pool against a thread per file, in throughput and in memory.
const PER_FILE_SLOWDOWN: f64 = 1.1;
const PER_FILE_RSS_FACTOR: f64 = 2.0;

fn thread_per_file_throughput(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if threads' batch throughput is ≥ {PER_FILE_SLOWDOWN} × thread-per-file's, run against run; did not hold if the whole interval is below"
    );
    Claim::new(ClaimId::NoThreadPerRequest, threshold).reading("throughput").decide(|| {
        let pool = throughput(report, BATCH_TABLE, THREADS)?;
        let per_file = throughput(report, BATCH_TABLE, THREAD_PER_FILE)?;
        let evidence = format!("threads {} vs thread-per-file {}", pool.show(), per_file.show());
        Ok((rules::ratio_at_least(&pool, &per_file, PER_FILE_SLOWDOWN), evidence))
    })
}

fn thread_per_file_memory(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if thread-per-file's peak RSS is ≥ {PER_FILE_RSS_FACTOR} × threads', run against run; did not hold if the whole interval is below"
    );
    Claim::new(ClaimId::NoThreadPerRequest, threshold).reading("memory").decide(|| {
        let per_file = report.series(BATCH_TABLE, THREAD_PER_FILE, PEAK_RSS)?;
        let pool = report.series(BATCH_TABLE, THREADS, PEAK_RSS)?;
        let threads = report.median(BATCH_TABLE, THREAD_PER_FILE, casebook::figure::PEAK_THREADS);
        let evidence = format!(
            "thread-per-file {} (peak {} threads) vs threads {}",
            per_file.show(),
            threads.map_or("–".into(), |t| format_value(t, Format::Count)),
            pool.show()
        );
        Ok((rules::ratio_at_least(&per_file, &pool, PER_FILE_RSS_FACTOR), evidence))
    })
}

/// `spawn-blocking`, latency: hashing and compressing on the runtime's workers delays every
/// other file's IO; moved to the blocking pool, it should not.
const INLINE_P99_FACTOR: f64 = 1.25;

fn spawn_blocking_latency(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if async-naive's watch p99 is ≥ {INLINE_P99_FACTOR} × async-spawn-blocking's, run against run; did not hold if the whole interval is below"
    );
    Claim::new(ClaimId::SpawnBlocking, threshold).reading("watch latency").decide(|| {
        let naive = p99(report, ASYNC_NAIVE)?;
        let moved = p99(report, ASYNC_SPAWN_BLOCKING)?;
        let evidence = format!("p99 with the CPU work inline {} vs in spawn_blocking {}", naive.show(), moved.show());
        Ok((rules::ratio_at_least(&naive, &moved, INLINE_P99_FACTOR), evidence))
    })
}

/// `spawn-blocking`, throughput: the extra hop per file should cost little.
const SPAWN_BLOCKING_SHARE: f64 = 0.95;

fn spawn_blocking_throughput(report: &Report) -> ClaimResult {
    let threshold = format!(
        "held if async-spawn-blocking's batch throughput is ≥ {SPAWN_BLOCKING_SHARE} × async-naive's, run against run; did not hold if the whole interval is below"
    );
    Claim::new(ClaimId::SpawnBlocking, threshold).reading("batch throughput").decide(|| {
        let moved = throughput(report, BATCH_TABLE, ASYNC_SPAWN_BLOCKING)?;
        let naive = throughput(report, BATCH_TABLE, ASYNC_NAIVE)?;
        let evidence = format!("in spawn_blocking {} vs inline {}", moved.show(), naive.show());
        Ok((rules::ratio_at_least(&moved, &naive, SPAWN_BLOCKING_SHARE), evidence))
    })
}

/// The bar for hash-only throughput against b3sum.
pub const B3SUM_SHARE: f64 = 0.9;

/// Sentences on what the tables show, each computed from the figures.
pub fn verdicts(_params: &Params, report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    let throughput = Measure::from(BYTES_PER_S);
    let fastest = |table: &str, but: &str| {
        report
            .ran_in(table)
            .filter(|row| row.variant != but)
            .filter_map(|row| Some((row.label.clone(), row.median(BYTES_PER_S)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    };
    if let (Some((best, rate)), Some(b3sum)) =
        (fastest(HASH_TABLE, B3SUM), report.median(HASH_TABLE, B3SUM, BYTES_PER_S))
    {
        let ratio = rate / b3sum;
        lines.push(format!(
            "Hash only: the fastest variant, {best}, hashed {} against b3sum's {}: {ratio:.2}× ({} the {B3SUM_SHARE}× bar).",
            format_value(rate, Format::BytesRate),
            format_value(b3sum, Format::BytesRate),
            if ratio >= B3SUM_SHARE { "meets" } else { "misses" }
        ));
    }
    let leaders = sweep::leaders(report, MIX_TABLE, &throughput, Better::Higher);
    if !leaders.is_empty() {
        let each: Vec<String> = leaders.iter().map(|(kib, v)| format!("{v} at {kib} KiB per file")).collect();
        lines.push(format!("File size mix: the fastest variant is {}.", each.join(", ")));
    }
    let watched: Vec<_> = report.ran_in(WATCH_TABLE).collect();
    if !watched.is_empty() {
        let clean = watched.iter().all(|row| {
            row.runs.iter().all(|run| [LOST, DOUBLED, UNEXPECTED].iter().all(|f| run.figure(*f) == Some(0.0)))
        });
        let rescans: f64 = watched.iter().flat_map(|row| row.runs.iter()).filter_map(|run| run.figure(RESCANS)).sum();
        lines.push(format!(
            "Watch: {} in every run of every variant ({rescans:.0} overflow rescans in all).",
            if clean { "no file lost, none taken twice" } else { "files were lost or taken twice" }
        ));
    }
    lines
}

/// Accounting beyond the digests: every file accounted for in every run, and no error
/// entry for a generated inbox.
pub fn check(params: &Params, report: &Report) -> Vec<String> {
    let mut failures = Vec::new();
    for row in report.ran_in(WATCH_TABLE) {
        for (i, run) in row.runs.iter().enumerate() {
            for (figure, want) in [
                (PRODUCED, params.watch_files as f64),
                (LOST, 0.0),
                (DOUBLED, 0.0),
                (UNEXPECTED, 0.0),
                (EARLY, 0.0),
                (ERRORS, 0.0),
            ] {
                if run.figure(figure) != Some(want) {
                    failures.push(format!(
                        "{WATCH_TABLE} / {} run {}: {} is {}, expected {want}",
                        row.label,
                        i + 1,
                        figure.key,
                        run.figure(figure).map_or("missing".into(), |v| v.to_string())
                    ));
                }
            }
        }
    }
    for table in [BATCH_TABLE, HASH_TABLE, CAPACITY_TABLE, MIX_TABLE] {
        for row in report.ran_in(table) {
            if row.runs.iter().any(|run| run.figure(ERRORS) != Some(0.0)) {
                failures.push(format!("{table} / {}: error entries for a generated inbox", row.label));
            }
        }
    }
    failures
}
