//! Every claim rule on synthetic figures: run by run, the two rows a rule compares are given
//! ratios that clear its threshold, miss it, and straddle it, and then the rows are left out.
//! Nothing runs; the rules alone are under test.

use casebook::{
    Case, ClaimId, Figure, Hist, Outcome, Preset, Report, RowKey, TableId, VariantSet, testing::ReportBuilder,
};
use db_queries::{
    DbQueries,
    figures::*,
    findings::{self, *},
    params::{Args, Params, PostgresChoice, UrlOrigin},
    store::postgres::PgTarget,
    tables::*,
    variants::Variant::{self, *},
    workload::protocol::ErrorKind,
};

fn params() -> Params {
    let args = Args { in_flight: vec![16, 256, 4096], remote_in_flight: vec![16, 256, 1024], ..Args::default() };
    let mut params = DbQueries::params(&args, Preset::Default).unwrap();
    // Every row planned and runnable, whatever this machine's limits and environment.
    params.postgres = Some(PostgresChoice {
        server: PgTarget::parse("postgres://postgres@127.0.0.1:5432/test", "").unwrap(),
        origin: UrlOrigin::Flag,
        required: false,
        password: None,
    });
    params.caps.by_fds = None;
    params.caps.by_threads = (1 << 20, "test".into());
    params
}

fn builder() -> ReportBuilder {
    ReportBuilder::of::<DbQueries>(&params())
}

fn outcome(report: &Report, id: ClaimId, reading: Option<&str>) -> (Outcome, String) {
    let claim = findings::claims(&params(), report)
        .into_iter()
        .find(|c| c.id == id && c.reading.as_deref() == reading)
        .unwrap_or_else(|| panic!("no claim {id} reading {reading:?}"));
    (claim.outcome, claim.evidence)
}

/// One side of a comparison: a figure of a row, or a quantile's histogram.
#[derive(Clone, Copy)]
enum Side {
    Figure(TableId, RowKey, Figure),
    Hist(TableId, RowKey, Hist),
}

/// A sweep row's key: the variant at `x` in flight.
fn at(variant: Variant, x: usize) -> RowKey {
    (variant, x as f64).into()
}

fn add(builder: ReportBuilder, side: Side, values: &[f64]) -> ReportBuilder {
    match side {
        Side::Figure(table, label, figure) => builder.figure(table, label, figure, values),
        Side::Hist(table, label, hist) => {
            let runs: Vec<Vec<u64>> = values.iter().map(|v| vec![*v as u64; 100]).collect();
            let runs: Vec<&[u64]> = runs.iter().map(Vec::as_slice).collect();
            builder.histogram(table, label, hist, &runs)
        }
    }
}

const BASE: f64 = 1000.0;

/// Checks a ratio rule: `top / bottom` run by run against `factor`.
fn ratio_rule(id: ClaimId, reading: Option<&str>, top: Side, bottom: Side, factor: f64) {
    let decide = |ratios: &[f64]| {
        let tops: Vec<f64> = ratios.iter().map(|r| BASE * r).collect();
        let report = add(add(builder(), top, &tops), bottom, &[BASE; 5]).build();
        outcome(&report, id, reading)
    };
    let (held, evidence) = decide(&[factor * 2.0; 5]);
    assert_eq!(held, Outcome::Held, "{id} {reading:?}: {evidence}");
    assert_eq!(decide(&[factor / 2.0; 5]).0, Outcome::DidNotHold, "{id} {reading:?}");
    let straddles = [factor / 2.0, factor * 2.0, factor / 2.0, factor * 2.0, factor];
    assert_eq!(decide(&straddles).0, Outcome::Inconclusive, "{id} {reading:?}");
    let (missing, why) = outcome(&builder().build(), id, reading);
    assert_eq!(missing, Outcome::Inconclusive, "{id} {reading:?}");
    assert!(why.starts_with("not measured"), "{id} {reading:?}: {why}");
}

#[test]
fn async_io_compares_the_best_async_layer_and_the_plain_pool_with_threads_a_round_trip_away() {
    let x = CLAIM_IN_FLIGHT;
    for (reading, fast) in [
        ("pipelined or batched, 1 ms away", AsyncPipelined),
        ("pipelined or batched, 1 ms away", AsyncBatched),
        ("a plain async pool, 1 ms away", AsyncPool),
    ] {
        ratio_rule(
            ClaimId::AsyncIo,
            Some(reading),
            Side::Figure(POSTGRES_REMOTE, at(fast, x), REQUESTS_PER_S),
            Side::Figure(POSTGRES_REMOTE, at(ThreadPool, x), REQUESTS_PER_S),
            ASYNC_IO_FACTOR,
        );
    }
}

#[test]
fn threads_blocking_c_holds_the_thread_pool_against_the_best_async_layer_on_sqlite() {
    for fast in [AsyncPool, AsyncBatched, AsyncOverBlocking] {
        ratio_rule(
            ClaimId::ThreadsBlockingC,
            Some("SQLite point reads"),
            Side::Figure(SQLITE_POINTS, ThreadPool.into(), REQUESTS_PER_S),
            Side::Figure(SQLITE_POINTS, fast.into(), REQUESTS_PER_S),
            BLOCKING_C_FACTOR,
        );
    }
}

#[test]
fn no_thread_per_request_is_decided_on_each_engine() {
    for (table, reading) in [(SQLITE_POINTS, "SQLite"), (POSTGRES_POINTS, "Postgres")] {
        ratio_rule(
            ClaimId::NoThreadPerRequest,
            Some(reading),
            Side::Figure(table, ThreadPool.into(), REQUESTS_PER_S),
            Side::Figure(table, ThreadPerRequest.into(), REQUESTS_PER_S),
            PER_REQUEST_FACTOR,
        );
    }
}

#[test]
fn batch_async_has_a_reading_per_way_of_batching() {
    for (table, fast, reading) in [
        (POSTGRES_POINTS, AsyncBatched, "Postgres, = ANY($1)"),
        (POSTGRES_POINTS, AsyncPipelined, "Postgres, pipelined"),
        (SQLITE_POINTS, AsyncBatched, "SQLite, IN (json_each(?))"),
    ] {
        ratio_rule(
            ClaimId::BatchAsync,
            Some(reading),
            Side::Figure(table, fast.into(), REQUESTS_PER_S),
            Side::Figure(table, AsyncPool.into(), REQUESTS_PER_S),
            BATCH_FACTOR,
        );
    }
}

#[test]
fn hybrid_web_compares_request_p99_with_the_job_on_the_workers_and_on_a_thread() {
    ratio_rule(
        ClaimId::HybridWeb,
        None,
        Side::Hist(HYBRID, JobOnAsync.into(), LATENCY),
        Side::Hist(HYBRID, JobOnThread.into(), LATENCY),
        HYBRID_FACTOR,
    );
}

#[test]
fn async_low_memory_reads_the_servers_own_high_water_mark_at_the_largest_load() {
    ratio_rule(
        ClaimId::AsyncLowMemory,
        Some("resident memory, SQLite, the sweep's largest load"),
        Side::Figure(SQLITE_SWEEP, at(ThreadPerRequest, 4096), casebook::model::figure::PEAK_RSS),
        Side::Figure(SQLITE_SWEEP, at(AsyncPool, 4096), casebook::model::figure::PEAK_RSS),
        MEMORY_FACTOR,
    );
}

#[test]
fn async_many_conns_compares_the_best_async_layer_with_a_thread_per_request_at_the_largest_load() {
    for (table, reading, fast) in
        [(SQLITE_SWEEP, "SQLite", AsyncOverBlocking), (POSTGRES_SWEEP, "Postgres", AsyncPipelined)]
    {
        ratio_rule(
            ClaimId::AsyncManyConns,
            Some(reading),
            Side::Figure(table, at(fast, 4096), REQUESTS_PER_S),
            Side::Figure(table, at(ThreadPerRequest, 4096), REQUESTS_PER_S),
            MANY_CONNS_FACTOR,
        );
    }
}

#[test]
fn spawn_blocking_holds_rusqlite_on_the_blocking_pool_against_sqlx() {
    ratio_rule(
        ClaimId::SpawnBlocking,
        Some("rusqlite in spawn_blocking, against sqlx-sqlite"),
        Side::Figure(SQLITE_POINTS, AsyncOverBlocking.into(), REQUESTS_PER_S),
        Side::Figure(SQLITE_POINTS, AsyncPool.into(), REQUESTS_PER_S),
        SPAWN_BLOCKING_SHARE,
    );
}

#[test]
fn every_claim_the_case_lists_is_decided_and_every_decided_claim_is_listed() {
    let results = findings::claims(&params(), &builder().build());
    for id in DbQueries::INFO.claims {
        assert!(results.iter().any(|c| c.id == *id), "{id} is listed but never decided");
    }
    for c in &results {
        assert!(DbQueries::INFO.claims.contains(&c.id), "{} is decided but not listed", c.id);
    }
}

#[test]
fn the_check_fails_wrong_answers_and_unbalanced_books_and_nothing_else() {
    let clean = |b: ReportBuilder, label: Variant| {
        b.figure(SQLITE_POINTS, label, WRONG, &[0.0, 0.0])
            .figure(SQLITE_POINTS, label, LOST, &[0.0, 0.0])
            .figure(SQLITE_POINTS, label, DOUBLED, &[0.0, 0.0])
            .figure(SQLITE_POINTS, label, errors_of(ErrorKind::PoolTimeout), &[3.0, 0.0])
    };
    let report = clean(builder(), ThreadPool).build();
    assert!(findings::check(&report).is_empty(), "{:?}", findings::check(&report));
    for figure in [WRONG, LOST, DOUBLED] {
        let report = clean(builder(), ThreadPool).figure(SQLITE_POINTS, ThreadPool, figure, &[0.0, 1.0]).build();
        let failures = findings::check(&report);
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(failures[0].contains(figure.key), "{failures:?}");
    }
    let unrecorded = builder().figure(SQLITE_POINTS, ThreadPool, REQUESTS_PER_S, &[1.0]).build();
    assert_eq!(findings::check(&unrecorded).len(), 3, "a run without its books fails");
    let disagree = builder()
        .digest(POSTGRES_POINTS, ThreadPool, "a", 1)
        .digest(POSTGRES_POINTS, AsyncPool, "b", 1)
        .figure(POSTGRES_POINTS, ThreadPool, WRONG, &[0.0])
        .figure(POSTGRES_POINTS, ThreadPool, LOST, &[0.0])
        .figure(POSTGRES_POINTS, ThreadPool, DOUBLED, &[0.0])
        .figure(POSTGRES_POINTS, AsyncPool, WRONG, &[0.0])
        .figure(POSTGRES_POINTS, AsyncPool, LOST, &[0.0])
        .figure(POSTGRES_POINTS, AsyncPool, DOUBLED, &[0.0])
        .build();
    assert!(findings::check(&disagree).iter().any(|f| f.contains("answered differently")));
    // Two runs a row: a run without a digest (it did not answer all of its first requests)
    // says nothing and disagrees with nobody; a run that answered differently from the rest of
    // its own row does disagree.
    let two_runs =
        |b: ReportBuilder, label: Variant| {
            b.figure(POSTGRES_POINTS, label, WRONG, &[0.0, 0.0])
                .figure(POSTGRES_POINTS, label, LOST, &[0.0, 0.0])
                .figure(POSTGRES_POINTS, label, DOUBLED, &[0.0, 0.0])
        };
    let mut partial =
        two_runs(two_runs(builder(), ThreadPool), AsyncPool).digest(POSTGRES_POINTS, ThreadPool, "a", 2).build();
    // A row with no digest in any run was never checked: that fails.
    let unchecked = findings::check(&partial);
    assert!(
        unchecked.len() == 1 && unchecked[0].contains(&format!("{}: no run answered", AsyncPool.name())),
        "{unchecked:?}"
    );
    let mut second_run_says = |variant: Variant, digest: &str| {
        let row = partial.rows.iter_mut().find(|r| r.table == POSTGRES_POINTS && r.variant == variant.name());
        row.expect("the row is planned").runs[1].digest = Some(digest.into());
        findings::check(&partial)
    };
    let failures = second_run_says(AsyncPool, "a");
    assert!(failures.is_empty(), "{failures:?}");
    let failures = second_run_says(ThreadPool, "b");
    assert!(failures.iter().any(|f| f.contains("answered differently")), "{failures:?}");
}
