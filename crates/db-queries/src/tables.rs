//! The tables, and which rows each has.
//!
//! - Point reads on each engine at a fixed client count, with `pgbench` beside the Postgres
//!   variants: the throughput ceiling and what each data layer costs per request.
//! - The service's mix swept over requests in flight, on each engine, and on Postgres again
//!   through the delaying proxy: where each model's curve bends, and where they cross.
//! - The hybrid-web reading: the same open-loop requests beside a background job on a
//!   thread, on the async workers, or with no job at all.

use casebook::{
    Axis, Column, Measure, PlotSpec, Primary, Row, Table, TableId,
    model::figure::{CHILD_CPU, LOADGEN_CORES, PEAK_RSS, PEAK_THREADS},
};

use crate::{
    figures::*,
    params::{Params, Spec, TableKind},
    server::job::Placement,
    store::fixture::Engine,
    variants::Variant::{self, *},
};

/// Point reads at a fixed number of requests in flight, each engine; pgbench beside Postgres.
pub const SQLITE_POINTS: TableId = TableId::new("sqlite-points");
pub const POSTGRES_POINTS: TableId = TableId::new("postgres-points");
/// The service's mix, swept over requests in flight, each engine.
pub const SQLITE_SWEEP: TableId = TableId::new("sqlite-sweep");
pub const POSTGRES_SWEEP: TableId = TableId::new("postgres-sweep");
/// The Postgres sweep again, through the delaying proxy.
pub const POSTGRES_REMOTE: TableId = TableId::new("postgres-remote");
/// Open-loop requests beside a background job.
pub const HYBRID: TableId = TableId::new("hybrid-web");

/// Connections the hybrid-web generator sends its open-loop requests over: enough that a
/// stalled server queues requests in the generator (where their wait is counted), not in
/// a shortage of sockets.
pub const HYBRID_CONNECTIONS: usize = 64;

fn row(params: &Params, variant: Variant, spec: Spec, at: Option<f64>) -> Row {
    let row = at.map_or_else(|| Row::new(variant, spec), |x| Row::at(variant, x, spec));
    if spec.engine == Engine::Postgres && params.postgres.is_none() {
        row.skip("no Postgres: pass --database-url or set DATABASE_URL")
    } else if let Some(why) = params.over_cap(spec.in_flight, variant == ThreadPerRequest) {
        row.skip(why)
    } else {
        row
    }
}

/// The selected data layers that run on `engine`, in the order of [`Variant::ALL`].
fn layers(variants: &[Variant], engine: Engine) -> impl Iterator<Item = Variant> + '_ {
    variants.iter().copied().filter(move |v| v.runs_on(engine))
}

/// The throughput tables' columns; a sweep, with many rows, drops the tails and the costs.
fn columns(sweep: bool) -> Vec<Column> {
    let mut columns = vec![
        Column::new("requests/s", REQUESTS_PER_S),
        Column::vs_baseline("vs baseline"),
        Column::p50(LATENCY),
        Column::p99(LATENCY),
    ];
    if !sweep {
        columns.extend([Column::p999(LATENCY), Column::max(LATENCY)]);
    }
    columns.extend([Column::new("errors", ERRORS), Column::quantile("pool wait p99", POOL_WAIT, 0.99)]);
    if !sweep {
        columns.extend([
            Column::new("server CPU/request", CPU_PER_REQUEST),
            Column::new("server cs/request", SWITCHES_PER_REQUEST),
            Column::new("batch", MEAN_BATCH),
            Column::cores_busy(),
        ]);
    }
    columns.extend([
        Column::new("server RSS", PEAK_RSS),
        Column::peak_threads(),
        Column::new("load gen cores", LOADGEN_CORES),
    ]);
    columns
}

const COLUMNS_NOTE: &str = "requests/s: correct replies per second over the timed window, which opens once every client has had a reply. Latency: send to reply at the load generator (another process), every request of every run merged. errors: failed requests of any kind (the JSON has them by kind); wrong answers, lost and doubled writes fail the run instead. pool wait: from a request reaching the data layer to its having a connection, worker or batch slot. server CPU and cs (voluntary context switches) per request: the server process over the measured region, divided by the replies. batch: point reads per batched query. server RSS: the server process's resident high-water mark. peak threads: the server process, sampled by the harness. load gen cores: the load generator's CPU time over its wall time.";

fn points_table(params: &Params, variants: &[Variant], engine: Engine) -> Option<Table> {
    let sqlite = engine == Engine::Sqlite;
    let mut table = Table::new(
        if sqlite { SQLITE_POINTS } else { POSTGRES_POINTS },
        format!(
            "{} point reads, {} requests in flight, {} accounts, {} connections{}",
            engine.name(),
            params.clients,
            params.dataset.accounts,
            params.pools(engine).connections,
            if sqlite { " (readers, plus one writer)" } else { "" }
        ),
    );
    let spec = Spec { points_only: true, ..Spec::closed(engine, params.clients) };
    table.rows = layers(variants, engine).map(|v| row(params, v, spec, None)).collect();
    if !sqlite && variants.contains(&Pgbench) {
        table.rows.push(row(params, Pgbench, spec, None));
    }
    if table.rows.is_empty() {
        return None;
    }
    table.columns = columns(false);
    if !sqlite {
        table.columns.extend([Column::new("pgbench latency", PGBENCH_LATENCY), Column::new("pgbench CPU", CHILD_CPU)]);
    }
    table.primary = Primary::higher(REQUESTS_PER_S);
    table.repeat = Some(params.repeat);
    table.baseline_if_present(if sqlite { ThreadPool } else { Pgbench });
    // pgbench checks no answers; the variants' are compared by the case's own check.
    table.digests_must_agree = sqlite;
    table.note = format!(
        "{COLUMNS_NOTE} pgbench: the same SELECT on the same table, prepared, one connection per client, {} threads, run for whole seconds (-T) or, below one second, a fixed number of transactions per client (-t); it reports only its mean latency; pgbench CPU is its own process's CPU time (its clients' work, which the variants' rows count as load gen cores), not part of cores busy.",
        params.workers
    );
    Some(table)
}

fn sweep_table(params: &Params, variants: &[Variant], engine: Engine, remote: bool) -> Option<Table> {
    let (id, title, points) = match (engine, remote) {
        (Engine::Sqlite, _) => (SQLITE_SWEEP, engine.name().to_string(), &params.sweep),
        (Engine::Postgres, false) => (POSTGRES_SWEEP, engine.name().to_string(), &params.postgres_sweep),
        (Engine::Postgres, true) => (
            POSTGRES_REMOTE,
            format!(
                "Postgres {} ms away (a delaying proxy on the server's connections)",
                params.remote_rtt_us as f64 / 1000.0
            ),
            &params.remote_sweep,
        ),
    };
    let mut table = Table::new(
        id,
        format!(
            "{title}, the service's mix ({}: point/range/write %), swept over requests in flight, {} connections",
            params.mix,
            params.pools(engine).connections
        ),
    );
    table.axis = Some(Axis::new("in flight").log());
    for variant in layers(variants, engine) {
        for &n in points {
            let spec = Spec { remote, ..Spec::closed(engine, n) };
            table.rows.push(row(params, variant, spec, Some(n as f64)));
        }
    }
    if table.rows.is_empty() {
        return None;
    }
    table.columns = columns(true);
    table.primary = Primary::higher(REQUESTS_PER_S);
    table.baseline_if_present(ThreadPool);
    table.repeat = Some(params.sweep_repeat);
    // Errors are possible at the top of a sweep (a pool timeout is a finding, not a bug); the
    // case's own check still fails any wrong answer, lost or doubled write.
    table.digests_must_agree = false;
    table.plots = vec![
        PlotSpec::Primary,
        PlotSpec::log_y(Measure::quantile(LATENCY, 0.99)),
        PlotSpec::of(PEAK_RSS),
        PlotSpec::log_y(PEAK_THREADS),
    ];
    table.note = COLUMNS_NOTE.into();
    Some(table)
}

fn hybrid_table(params: &Params, variants: &[Variant]) -> Option<Table> {
    let mut table = Table::new(
        HYBRID,
        format!(
            "hybrid web: SQLite async-pool serving {} requests/s (open loop) beside an aggregate rebuild every {} ms over {} days of orders",
            params.rate, params.job_period_ms, params.job_window_days
        ),
    );
    for &v in variants {
        let job = match v {
            AsyncPool => None,
            JobOnThread => Some(Placement::Thread),
            JobOnAsync => Some(Placement::Async),
            _ => continue,
        };
        let spec = Spec { job, open_rate: Some(params.rate), ..Spec::closed(Engine::Sqlite, HYBRID_CONNECTIONS) };
        table.rows.push(row(params, v, spec, None));
    }
    if table.rows.is_empty() {
        return None;
    }
    table.columns = vec![
        Column::p50(LATENCY),
        Column::p99(LATENCY),
        Column::p999(LATENCY),
        Column::max(LATENCY),
        Column::vs_baseline("p99 vs no job"),
        Column::new("requests/s", REQUESTS_PER_S),
        Column::new("errors", ERRORS),
        Column::new("rebuilds", REBUILDS),
        Column::p50(REBUILD_TIME),
        Column::cores_busy(),
        Column::peak_threads(),
    ];
    table.primary = Primary::lower(Measure::quantile(LATENCY, 0.99));
    table.baseline_if_present(AsyncPool);
    table.repeat = Some(params.repeat);
    table.note = "Latency from each request's due time (coordinated omission corrected), every request of every run merged. async-pool: no job, the baseline. job-on-thread: the rebuild on a thread of its own with a blocking connection. job-on-async: the same rebuild as a task on the server's async workers, with an async connection of its own. rebuild p50: one rebuild, fetch and aggregation.".into();
    Some(table)
}

pub fn tables(params: &Params, variants: &[Variant]) -> Vec<Table> {
    let mut tables = Vec::new();
    if params.runs(TableKind::Points) {
        tables.extend(points_table(params, variants, Engine::Sqlite));
        tables.extend(points_table(params, variants, Engine::Postgres));
    }
    if params.runs(TableKind::Sweep) {
        tables.extend(sweep_table(params, variants, Engine::Sqlite, false));
        tables.extend(sweep_table(params, variants, Engine::Postgres, false));
    }
    if params.runs(TableKind::Remote) && params.remote_rtt_us > 0 {
        tables.extend(sweep_table(params, variants, Engine::Postgres, true));
    }
    if params.runs(TableKind::Hybrid) {
        tables.extend(hybrid_table(params, variants));
    }
    tables
}

#[cfg(test)]
mod tests {
    use casebook::{Case, Preset, VariantSet, model::figure::WALL};

    use super::*;
    use crate::{
        DbQueries,
        params::{Args, FDS_BESIDES_CLIENTS, PostgresChoice, UrlOrigin},
        store::postgres::PgTarget,
    };

    fn params(postgres: bool) -> Params {
        let mut p = DbQueries::params(&Args::default(), Preset::Default).unwrap();
        p.postgres = postgres.then(|| PostgresChoice {
            server: PgTarget::parse("postgres://postgres@127.0.0.1:5432/test", "").unwrap(),
            origin: UrlOrigin::Flag,
            required: false,
            password: None,
        });
        p.caps.by_fds = None;
        p.caps.by_threads = (1 << 20, "test".into());
        p
    }

    #[test]
    fn every_table_is_judged_by_what_it_measures_and_each_engine_has_its_variants() {
        let tables = tables(&params(true), Variant::ALL);
        let ids: Vec<&str> = tables.iter().map(|t| t.id.as_str()).collect();
        let all = [SQLITE_POINTS, POSTGRES_POINTS, SQLITE_SWEEP, POSTGRES_SWEEP, POSTGRES_REMOTE, HYBRID];
        assert_eq!(ids, all.map(TableId::as_str));
        for t in &tables {
            assert_ne!(t.primary.measure, WALL.into(), "{} is judged by wall time", t.id);
            assert!(t.rows.iter().all(|r| r.skipped.is_none()), "{}", t.id);
        }
        let variants = |id: TableId| -> Vec<Variant> {
            let t = tables.iter().find(|t| t.is(id)).unwrap();
            t.rows.iter().map(|r| Variant::parse(&r.variant).unwrap()).collect()
        };
        assert!(!variants(SQLITE_POINTS).contains(&AsyncPipelined));
        assert!(!variants(POSTGRES_POINTS).contains(&AsyncOverBlocking));
        assert!(variants(POSTGRES_POINTS).contains(&Pgbench));
        assert_eq!(variants(HYBRID), [AsyncPool, JobOnThread, JobOnAsync]);
    }

    #[test]
    fn without_postgres_its_rows_are_planned_and_skipped_with_the_reason() {
        for t in &tables(&params(false), Variant::ALL) {
            for r in &t.rows {
                let spec: Spec = serde_json::from_value(r.point.clone()).unwrap();
                match spec.engine {
                    Engine::Postgres => assert!(r.skipped.as_deref().is_some_and(|s| s.contains("DATABASE_URL"))),
                    Engine::Sqlite => assert!(r.skipped.is_none()),
                }
            }
        }
    }

    #[test]
    fn rows_above_the_machines_caps_are_skipped_naming_the_limit() {
        let mut p = params(false);
        p.caps.by_fds = Some((1000, "RLIMIT_NOFILE 1128".into()));
        p.caps.by_threads = (500, "vm.max_map_count".into());
        let tables = tables(&p, Variant::ALL);
        let sweep = tables.iter().find(|t| t.is(SQLITE_SWEEP)).unwrap();
        for r in &sweep.rows {
            let x = r.axis_value.unwrap();
            let expected = if x > 1000.0 {
                Some("RLIMIT_NOFILE")
            } else if x > 500.0 && r.variant == ThreadPerRequest.name() {
                Some("vm.max_map_count")
            } else {
                None
            };
            match expected {
                Some(limit) => {
                    assert!(r.skipped.as_deref().is_some_and(|s| s.contains(limit)), "{}: {:?}", r.label, r.skipped)
                }
                None => assert!(r.skipped.is_none(), "{}: {:?}", r.label, r.skipped),
            }
        }
        assert_eq!(p.needs(Variant::ALL).fds.map(|(_, n)| n), Some(1000 + FDS_BESIDES_CLIENTS));
    }
}
