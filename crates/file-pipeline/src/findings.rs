//! What the figures say: the framework's claims (one function per claim and reading, each
//! with its threshold beside it; the rules say their thresholds and evidence in words of
//! their own), the verdicts, and the accounting checks. All computed from a report, never
//! written by hand.

use casebook::model::figure::{PEAK_RSS, PEAK_THREADS, VOLUNTARY_CS};
use casebook::{Better, Claim, ClaimId, ClaimResult, Decision, Figure, Format, Measure, Missing, Report, Series};
use casebook::{RowReport, TableId, VariantSet, model::format::format_value, report::sweep, stats::rules};

use crate::tables::{BATCH, CAPACITY, HASH, MIX, WATCH};
use crate::{figures::*, params::Params, variants::Variant, variants::Variant::*};

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

/// A row's throughput, named for the sentences: `threads hash-only throughput`.
fn throughput(report: &Report, table: TableId, variant: Variant) -> Result<Series, Missing> {
    let scope = if table == HASH { "hash-only" } else { table.as_str() };
    Ok(report.series(table, variant, BYTES_PER_S)?.named(format!("{variant} {scope} throughput")))
}

/// A watch row's p99 latency, run by run.
fn p99(report: &Report, variant: Variant) -> Result<Series, Missing> {
    Ok(report.quantile_series(WATCH, variant, LATENCY, 0.99)?.named(format!("{variant} watch p99")))
}

/// Run by run, the larger of two series.
fn best_of(a: &Series, b: &Series, label: &str) -> Series {
    a.paired(b, a.format, label, f64::max)
}

/// A row's median of `figure`, or `–`.
fn median(report: &Report, table: TableId, variant: Variant, figure: Figure) -> String {
    report.median(table, variant, figure).map_or("–".into(), |v| format_value(v, figure.format))
}

/// `async-io`, tokio::fs reading: hash-only is the IO-heavy mix (BLAKE3 runs at gigabytes a
/// second, so reading dominates); async suits it if its best is at least threads' pace.
const ASYNC_IO_FACTOR: f64 = 1.0;

fn async_io_tokio_fs(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::AsyncIo).reading("tokio::fs, through its blocking pool").decide(|| {
        let tokio_fs = best_of(
            &throughput(report, HASH, AsyncNaive)?,
            &throughput(report, HASH, AsyncSpawnBlocking)?,
            "the faster tokio::fs variant's hash-only throughput (async-naive or async-spawn-blocking)",
        );
        Ok(rules::ratio_at_least(&tokio_fs, &throughput(report, HASH, Threads)?, ASYNC_IO_FACTOR))
    })
}

fn async_io_uring(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::AsyncIo).reading("real async file IO (io_uring)").decide(|| {
        let uring = throughput(report, HASH, IoUring)?;
        Ok(rules::ratio_at_least(&uring, &throughput(report, HASH, Threads)?, ASYNC_IO_FACTOR))
    })
}

/// `hybrid-pipeline`, throughput: the bar, within 10% of the fastest variant.
const HYBRID_SHARE: f64 = 0.9;

fn hybrid_throughput(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::HybridPipeline).reading("batch throughput").decide(|| {
        let hybrid = throughput(report, BATCH, Hybrid)?;
        let others: Vec<_> = report.ran_in(BATCH).filter(|row| Variant::parse(&row.variant) != Some(Hybrid)).collect();
        let fastest = others
            .iter()
            .filter_map(|row| row.series(BYTES_PER_S).ok())
            .reduce(|best, s| best_of(&best, &s, ""))
            .ok_or_else(|| Missing("no other batch row ran".into()))?
            .named("the fastest other variant's batch throughput in each round");
        // `fastest` is the best other row in each round, so its median can exceed every
        // single row's median: name the leader by its own median, apart.
        let rate = |row: &RowReport| row.median(BYTES_PER_S).unwrap_or(0.0);
        let leader = others.iter().max_by(|a, b| rate(a).total_cmp(&rate(b))).map_or("?", |row| row.label.as_str());
        Ok(rules::ratio_at_least(&hybrid, &fastest, HYBRID_SHARE)
            .noting(format!("the fastest other variant at the median: {leader}")))
    })
}

/// `hybrid-pipeline`, latency: the bar for watch mode, in µs.
const HYBRID_P99_US: f64 = 20_000.0;

fn hybrid_latency(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::HybridPipeline).reading("watch latency").decide(|| {
        let p99 =
            p99(report, Hybrid)?.named("the hybrid's watch-mode p99 (producer's close or rename to manifest line)");
        let none_lost = report.need(WATCH, Hybrid)?.facts(|run| run.figure(LOST) == Some(0.0));
        let lost = report.series(WATCH, Hybrid, LOST)?;
        let merged =
            report.quantile(WATCH, Hybrid, LATENCY, 0.99).map_or("–".into(), |v| format_value(v, Format::Micros));
        Ok(Decision::all([rules::at_most(&p99, HYBRID_P99_US), rules::every_run("no file lost", &none_lost)])
            .noting(format!("p99 over every run's files merged {merged}; lost per run {}", lost.spread())))
    })
}

/// `channel-capacity`, memory: the reader outruns the CPU pool, so an unbounded channel
/// holds the backlog. It holds if that backlog shows: the unbounded row's peak RSS exceeds
/// capacity 16's by at least this share of the sweep inbox.
const UNBOUNDED_BACKLOG_SHARE: f64 = 0.25;

fn capacity_memory(params: &Params, report: &Report) -> ClaimResult {
    let margin = params.sweep_bytes as f64 * UNBOUNDED_BACKLOG_SHARE;
    Claim::new(ClaimId::ChannelCapacity).reading("memory: unbounded against 16").decide(|| {
        let mut decisions = Vec::new();
        for v in Variant::SWEPT_BY_CAPACITY {
            // The unbounded row sits at the axis's `unbounded` mark: its key is the variant alone.
            let unbounded = report.series(CAPACITY, v, PEAK_RSS)?;
            let sixteen = report.series(CAPACITY, (v, 16.0), PEAK_RSS)?;
            decisions.push(rules::exceeds_by(
                &unbounded.named(format!("{v} peak RSS with an unbounded channel")),
                &sixteen.named(format!("{v} peak RSS at capacity 16")),
                margin,
            ));
        }
        let inbox = format_value(params.sweep_bytes as f64, Format::Bytes);
        Ok(Decision::all(decisions)
            .noting(format!("the margin is {UNBOUNDED_BACKLOG_SHARE} of the {inbox} sweep inbox")))
    })
}

/// `channel-capacity`, throughput: what a rendezvous costs against a capacity of 16.
const RENDEZVOUS_FACTOR: f64 = 1.1;

fn capacity_throughput(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::ChannelCapacity).reading("throughput: 16 against a rendezvous").decide(|| {
        let mut decisions = Vec::new();
        for v in Variant::SWEPT_BY_CAPACITY {
            let sixteen = report.series(CAPACITY, (v, 16.0), BYTES_PER_S)?;
            let rendezvous = report.series(CAPACITY, (v, 0.0), BYTES_PER_S)?;
            decisions.push(rules::ratio_at_least(
                &sixteen.named(format!("{v} throughput at capacity 16")),
                &rendezvous.named(format!("{v} throughput through a rendezvous channel (capacity 0)")),
                RENDEZVOUS_FACTOR,
            ));
        }
        Ok(Decision::all(decisions))
    })
}

/// `no-needless-mixing`: a batch has nothing to wait for, so async buys it nothing; the
/// claim holds if the mixed pipeline pays for it against the same stages on plain threads.
const MIXING_COST: f64 = 1.05;

fn needless_mixing(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::NoNeedlessMixing).reading("a batch pipeline").decide(|| {
        let threads = throughput(report, BATCH, Threads)?;
        let hybrid = throughput(report, BATCH, Hybrid)?;
        let switches = |v| median(report, BATCH, v, VOLUNTARY_CS);
        Ok(rules::ratio_at_least(&threads, &hybrid, MIXING_COST).noting(format!(
            "same stages, no async; voluntary context switches: threads {}, hybrid {}",
            switches(Threads),
            switches(Hybrid)
        )))
    })
}

/// `no-thread-per-request`: a pool against a thread per file, in throughput and in memory.
const PER_FILE_SLOWDOWN: f64 = 1.1;
const PER_FILE_RSS_FACTOR: f64 = 2.0;

fn thread_per_file_throughput(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::NoThreadPerRequest).reading("throughput").decide(|| {
        let pool = throughput(report, BATCH, Threads)?;
        Ok(rules::ratio_at_least(&pool, &throughput(report, BATCH, ThreadPerFile)?, PER_FILE_SLOWDOWN))
    })
}

fn thread_per_file_memory(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::NoThreadPerRequest).reading("memory").decide(|| {
        let per_file = report.series(BATCH, ThreadPerFile, PEAK_RSS)?.named("thread-per-file batch peak RSS");
        let pool = report.series(BATCH, Threads, PEAK_RSS)?.named("threads batch peak RSS");
        Ok(rules::ratio_at_least(&per_file, &pool, PER_FILE_RSS_FACTOR).noting(format!(
            "thread-per-file peaked at {} threads",
            median(report, BATCH, ThreadPerFile, PEAK_THREADS)
        )))
    })
}

/// `spawn-blocking`, latency: hashing and compressing on the runtime's workers delays every
/// other file's IO; moved to the blocking pool, it should not.
const INLINE_P99_FACTOR: f64 = 1.25;

fn spawn_blocking_latency(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::SpawnBlocking).reading("watch latency").decide(|| {
        let naive = p99(report, AsyncNaive)?.named("async-naive watch p99 (the CPU work inline)");
        let moved = p99(report, AsyncSpawnBlocking)?.named("async-spawn-blocking watch p99 (in spawn_blocking)");
        Ok(rules::ratio_at_least(&naive, &moved, INLINE_P99_FACTOR))
    })
}

/// `spawn-blocking`, throughput: the extra hop per file should cost little.
const SPAWN_BLOCKING_SHARE: f64 = 0.95;

fn spawn_blocking_throughput(report: &Report) -> ClaimResult {
    Claim::new(ClaimId::SpawnBlocking).reading("batch throughput").decide(|| {
        let moved = throughput(report, BATCH, AsyncSpawnBlocking)?;
        Ok(rules::ratio_at_least(&moved, &throughput(report, BATCH, AsyncNaive)?, SPAWN_BLOCKING_SHARE))
    })
}

/// The bar for hash-only throughput against b3sum.
pub const B3SUM_SHARE: f64 = 0.9;

/// Sentences on what the tables show, each computed from the figures.
pub fn verdicts(_params: &Params, report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    let fastest = report
        .ran_in(HASH)
        .filter(|row| Variant::parse(&row.variant).is_some_and(Variant::is_pipeline))
        .filter_map(|row| Some((row.label.clone(), row.median(BYTES_PER_S)?)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let (Some((best, rate)), Some(b3sum)) = (fastest, report.median(HASH, B3sum, BYTES_PER_S)) {
        let ratio = rate / b3sum;
        lines.push(format!(
            "Hash only: the fastest variant, {best}, hashed {} against b3sum's {}: {ratio:.2}× ({} the {B3SUM_SHARE}× bar).",
            format_value(rate, Format::BytesRate),
            format_value(b3sum, Format::BytesRate),
            if ratio >= B3SUM_SHARE { "meets" } else { "misses" }
        ));
    }
    let leaders = sweep::leaders(report, MIX, &Measure::from(BYTES_PER_S), Better::Higher);
    if !leaders.is_empty() {
        let each: Vec<String> = leaders.iter().map(|(kib, v)| format!("{v} at {kib} KiB per file")).collect();
        lines.push(format!("File size mix: the fastest variant is {}.", each.join(", ")));
    }
    let watched: Vec<_> = report.ran_in(WATCH).flat_map(|row| &row.runs).collect();
    if !watched.is_empty() {
        let clean = watched.iter().all(|run| [LOST, DOUBLED, UNEXPECTED].iter().all(|f| run.figure(*f) == Some(0.0)));
        let rescans: f64 = watched.iter().filter_map(|run| run.figure(RESCANS)).sum();
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
    let expected = [
        (PRODUCED, params.watch_files as f64),
        (LOST, 0.0),
        (DOUBLED, 0.0),
        (UNEXPECTED, 0.0),
        (EARLY, 0.0),
        (ERRORS, 0.0),
    ];
    for row in report.ran_in(WATCH) {
        for (i, run) in row.runs.iter().enumerate() {
            for (figure, want) in expected.into_iter().filter(|&(figure, want)| run.figure(figure) != Some(want)) {
                let got = run.figure(figure).map_or("missing".into(), |v| v.to_string());
                let key = figure.key;
                failures.push(format!("{WATCH} / {} run {}: {key} is {got}, expected {want}", row.label, i + 1));
            }
        }
    }
    for table in [BATCH, HASH, CAPACITY, MIX] {
        for row in report.ran_in(table) {
            if row.runs.iter().any(|run| run.figure(ERRORS) != Some(0.0)) {
                failures.push(format!("{table} / {}: error entries for a generated inbox", row.label));
            }
        }
    }
    failures
}
