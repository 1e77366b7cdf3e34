//! The reliability items, each provoked for real: an unreachable server, a backend
//! killed mid-run, an exhausted pool, a locked SQLite file, fixtures that must clean up, the
//! open loop, the background job, the delaying proxy and the pgbench anchor.

mod common;

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use casebook::VariantSet;
use common::{DATASET, closed, spec};
use db_queries::{
    load::driver::{LoadMode, LoadPlan},
    run::{ServeSpec, run_in_process},
    server::job::{JobPlan, Placement},
    store::{
        fixture::{self, Engine, PgFixture, SqliteFixture, Target},
        pgbench,
        postgres::PgTarget,
        proxy::DelayProxy,
        sqlite,
    },
    variants::Variant,
    workload::{Mix, protocol::ErrorKind},
};

fn only(errors: &std::collections::BTreeMap<ErrorKind, u64>, kind: ErrorKind) -> bool {
    errors.keys().all(|k| *k == kind)
}

#[test]
fn an_unreachable_postgres_is_one_clear_error_within_five_seconds() {
    let db = PgTarget::parse("postgres://postgres@127.0.0.1:1/test", "public").unwrap();
    let started = Instant::now();
    let err = PgFixture::create(&db, &DATASET, &|| false).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    let message = format!("{err:#}");
    assert!(message.contains("cannot reach Postgres at 127.0.0.1:1"), "{message}");
}

#[test]
fn a_killed_backend_is_retried_or_reported_and_the_writes_still_balance() {
    let _turn = common::postgres_turn();
    let Some(db) = common::postgres() else { return };
    let pg = PgFixture::create(&db, &DATASET, &|| false).unwrap();
    let target = Target::Postgres { db: pg.target().clone(), proxy_port: None };
    for variant in [Variant::AsyncPool, Variant::AsyncPipelined, Variant::ThreadPool, Variant::ThreadPerRequest] {
        // One of the variant's own connections is terminated while the load runs.
        let (admin, application) = (pg.target().clone(), variant.application_name());
        let killer = std::thread::spawn(move || {
            let mut client = fixture::connect(&admin).unwrap();
            let deadline = Instant::now() + Duration::from_secs(5);
            std::thread::sleep(Duration::from_millis(300));
            while Instant::now() < deadline {
                let killed: i64 = client
                    .query_one(
                        "SELECT count(pg_terminate_backend(pid)) FROM (SELECT pid FROM pg_stat_activity
                         WHERE application_name = $1 LIMIT 1) one",
                        &[&application],
                    )
                    .unwrap()
                    .get(0);
                if killed > 0 {
                    return killed;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            0
        });
        let (load, server) = run_in_process(&spec(variant), &target, DATASET, Mix::SERVICE, closed(16, 1200)).unwrap();
        assert_eq!(killer.join().unwrap(), 1, "{}: no connection to kill", variant.name());
        let d = &load.driven;
        let lost = d.errors.get(&ErrorKind::ConnectionLost).copied().unwrap_or(0);
        eprintln!("{}: {} retries, {lost} reported lost", variant.name(), server.tally.retries);
        assert!(only(&d.errors, ErrorKind::ConnectionLost), "{}: {:?} {:?}", variant.name(), d.errors, d.first_problem);
        // sqlx pings every connection it takes back, so it may find the dead one itself and
        // replace it before any request does; the others find it only by a failed query.
        if variant != Variant::AsyncPool {
            assert!(server.tally.retries + lost >= 1, "{}: the kill went unnoticed", variant.name());
        }
        assert!(load.audit.balances(), "{}: {:?}", variant.name(), load.audit);
        assert!(load.audit.acked > 0);
    }
}

#[test]
fn an_exhausted_pool_times_out_and_counts_it_and_never_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = SqliteFixture::create(dir.path(), &DATASET, &|| false).unwrap();
    for &variant in Variant::ALL.iter().filter(|v| v.runs_on(Engine::Sqlite)) {
        let mut spec = spec(variant);
        spec.pools.connections = 1;
        spec.pools.acquire_timeout = Duration::from_millis(2);
        let started = Instant::now();
        let (load, server) = run_in_process(&spec, &fixture.target(), DATASET, Mix::SERVICE, closed(64, 500))
            .unwrap_or_else(|e| panic!("{}: {e:#}", variant.name()));
        assert!(started.elapsed() < Duration::from_secs(20), "{}: took {:?}", variant.name(), started.elapsed());
        let d = &load.driven;
        let timeouts = d.errors.get(&ErrorKind::PoolTimeout).copied().unwrap_or(0);
        eprintln!("{}: {timeouts} pool timeouts of {} replies", variant.name(), d.replies);
        assert!(timeouts > 0, "{}: 64 clients on one connection never timed out", variant.name());
        assert!(only(&d.errors, ErrorKind::PoolTimeout), "{}: {:?}", variant.name(), d.errors);
        let counted: u64 = server.tally.errors.iter().map(|(_, n)| n).sum();
        assert_eq!(counted, timeouts, "{}: the server counted what it replied", variant.name());
        assert!(load.audit.balances(), "{}: {:?}", variant.name(), load.audit);
    }
}

#[test]
fn a_locked_sqlite_file_fails_writes_as_busy_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = SqliteFixture::create(dir.path(), &DATASET, &|| false).unwrap();
    let Target::Sqlite { path } = fixture.target() else { unreachable!() };
    for variant in [Variant::AsyncPool, Variant::ThreadPool, Variant::AsyncOverBlocking] {
        // Another process's writer takes the write lock once the run is under way (the audit
        // needs it first, with a longer busy timeout) and holds it for most of the run.
        let lock_path = path.clone();
        let holder = std::thread::spawn(move || {
            let holder = sqlite::open(&lock_path, true, Duration::from_secs(5)).unwrap();
            std::thread::sleep(Duration::from_millis(150));
            holder.execute_batch("BEGIN IMMEDIATE").unwrap();
            std::thread::sleep(Duration::from_millis(400));
            holder.execute_batch("ROLLBACK").unwrap();
        });
        let mut spec = spec(variant);
        spec.pools.busy_timeout = Duration::from_millis(20);
        let (load, server) = run_in_process(&spec, &fixture.target(), DATASET, Mix::SERVICE, closed(8, 900)).unwrap();
        holder.join().unwrap();
        let d = &load.driven;
        let busy = d.errors.get(&ErrorKind::Busy).copied().unwrap_or(0);
        eprintln!("{}: {busy} busy, {} writes done", variant.name(), load.audit.acked);
        assert!(busy > 0 && only(&d.errors, ErrorKind::Busy), "{}: {:?}", variant.name(), d.errors);
        assert_eq!(server.tally.errors, vec![(ErrorKind::Busy, busy)]);
        assert!(d.ok_timed > 0, "{}: reads go on beside a writer", variant.name());
        assert!(load.audit.balances(), "{}: {:?}", variant.name(), load.audit);
    }
}

#[test]
fn fixtures_remove_what_they_created_and_stale_schemas_are_swept() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = SqliteFixture::create(dir.path(), &DATASET, &|| false).unwrap();
    assert!(std::fs::read_dir(dir.path()).unwrap().count() > 0);
    drop(fixture);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "files left behind");

    let _turn = common::postgres_turn();
    let Some(db) = common::postgres() else { return };
    let mut admin = fixture::connect(&db).unwrap();
    // A schema whose owner cannot be alive: pids never reach this.
    admin.batch_execute("CREATE SCHEMA IF NOT EXISTS casebook_dbq_4294967294_0").unwrap();
    let pg = PgFixture::create(&db, &DATASET, &|| false).unwrap();
    let schemas = |admin: &mut postgres::Client| -> Vec<String> {
        admin
            .query("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, 'casebook_dbq_')", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let during = schemas(&mut admin);
    assert!(!during.contains(&"casebook_dbq_4294967294_0".to_string()), "the stale schema was not swept");
    assert!(during.contains(&pg.target().schema));
    let name = pg.target().schema.clone();
    drop(pg);
    assert!(!schemas(&mut admin).contains(&name), "the schema outlived its fixture");
    // An interrupted seed drops what it had made.
    let err = format!("{:#}", PgFixture::create(&db, &DATASET, &|| true).unwrap_err());
    assert!(err.contains("interrupted"), "{err}");
    let name = err.split_whitespace().find(|w| w.starts_with("casebook_dbq_")).expect("the schema is named");
    let name = name.trim_end_matches(':');
    assert!(!schemas(&mut admin).iter().any(|s| s == name), "{name} outlived its seed");
}

fn open_loop(rate: f64, ms: u64) -> LoadPlan {
    LoadPlan {
        connections: 32,
        mode: LoadMode::Open { rate },
        duration: Duration::from_millis(ms),
        warmup: Duration::from_millis(ms / 6),
        request_timeout: Duration::from_secs(10),
    }
}

#[test]
fn the_open_loop_sends_every_scheduled_request_beside_either_job() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = SqliteFixture::create(dir.path(), &DATASET, &|| false).unwrap();
    for placement in [Placement::Thread, Placement::Async] {
        let job = JobPlan { placement, period: Duration::from_millis(50), window_s: 90 * 86_400 };
        let spec = ServeSpec { job: Some(job), ..spec(Variant::AsyncPool) };
        let (load, server) =
            run_in_process(&spec, &fixture.target(), DATASET, Mix::SERVICE, open_loop(1000.0, 600)).unwrap();
        let d = &load.driven;
        assert!(d.errors.is_empty(), "{placement:?}: {:?}", d.errors);
        // Due at 1000/s for 0.6 s: requests 0 to 599, every one answered.
        assert_eq!(d.replies, 600, "{placement:?}");
        assert!(!d.latency.is_empty());
        let job = server.job.expect("the job ran");
        assert!(job.rebuilds >= 2 && job.first_error.is_none(), "{placement:?}: {job:?}");
        assert!(load.audit.balances());
    }
}

#[test]
fn postgres_through_the_delaying_proxy_answers_the_same_a_round_trip_later() {
    let _turn = common::postgres_turn();
    let Some(db) = common::postgres() else { return };
    let pg = PgFixture::create(&db, &DATASET, &|| false).unwrap();
    let upstream: SocketAddr = format!("{}:{}", db.host, db.port).parse().unwrap();
    let proxy = DelayProxy::start(upstream, Duration::from_micros(500)).unwrap();
    let target = Target::Postgres { db: pg.target().clone(), proxy_port: Some(proxy.port()) };
    let direct = Target::Postgres { db: pg.target().clone(), proxy_port: None };
    let variant = spec(Variant::AsyncPipelined);
    let (slow, _) = run_in_process(&variant, &target, DATASET, Mix::SERVICE, closed(16, 500)).unwrap();
    let (fast, _) = run_in_process(&variant, &direct, DATASET, Mix::SERVICE, closed(16, 500)).unwrap();
    for run in [&slow, &fast] {
        let d = &run.driven;
        assert!(d.errors.is_empty() && run.audit.balances(), "{:?} {:?} {:?}", d.errors, d.first_problem, run.audit);
        assert!(d.head_complete(), "{} replies, {:?}", d.replies, d.first_problem);
    }
    assert_eq!(slow.driven.head_digest, fast.driven.head_digest);
    // Every query crossed the proxy: no request can be faster than its added round trip.
    assert!(slow.driven.latency.min() >= 1000, "fastest request {} µs", slow.driven.latency.min());
    drop(proxy);
}

#[test]
fn pgbench_reads_our_table_beside_the_variants() {
    let _turn = common::postgres_turn();
    let Some(db) = common::postgres() else { return };
    if let Err(why) = pgbench::available() {
        eprintln!("skipped: {why}");
        return;
    }
    let pg = PgFixture::create(&db, &DATASET, &|| false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = pgbench::run(pg.target(), DATASET.accounts, 4, 2, Duration::from_secs(1), dir.path()).unwrap();
    assert!(run.tps > 0.0 && run.transactions > 0 && run.failed == 0, "{run:?}");
    let wrong = PgTarget { schema: "casebook_dbq_no_such_schema".into(), ..pg.target().clone() };
    let err = pgbench::run(&wrong, DATASET.accounts, 1, 1, Duration::from_secs(1), dir.path()).unwrap_err();
    assert!(format!("{err:#}").contains("pgbench failed"), "{err:#}");
}
