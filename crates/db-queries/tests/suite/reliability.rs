//! The reliability items, each provoked for real: an unreachable server, a backend
//! killed mid-run, an exhausted pool, a locked SQLite file, fixtures that must clean up, the
//! open loop, the background job, the delaying proxy and the pgbench anchor.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use crate::common::{DATASET, closed, spec};
use casebook::{VariantSet, testing::poll};
use db_queries::{
    load::driver::{LoadMode, LoadPlan},
    run::run_in_process,
    server::job::{JobPlan, Placement},
    store::{
        fixture::{self, Engine, PgFixture, SqliteFixture, Target},
        pgbench,
        postgres::PgTarget,
        proxy::DelayProxy,
        sqlite,
    },
    variants::ServeSpec,
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

/// Terminates, every `every`, the backends whose application name is like `pattern`, from
/// `after` until `stop` says so; returns how many it terminated.
fn killer(
    db: &PgTarget,
    pattern: String,
    after: Duration,
    every: Duration,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<i64> {
    let db = db.clone();
    std::thread::spawn(move || {
        let mut client = fixture::connect(&db).unwrap();
        std::thread::sleep(after);
        let mut killed = 0;
        while !stop.load(Ordering::Acquire) {
            let n: i64 = client
                .query_one(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                     WHERE application_name LIKE $1",
                    &[&pattern],
                )
                .unwrap()
                .get(0);
            killed += n;
            std::thread::sleep(every);
        }
        killed
    })
}

#[test]
fn killed_backends_are_retried_or_reported_and_the_writes_still_balance() {
    let _turn = crate::common::postgres_turn();
    let Some(db) = crate::common::postgres() else { return };
    let pg = PgFixture::create(&db, &DATASET, &|| false).unwrap();
    let target = Target::Postgres { db: pg.target().clone(), proxy_port: None };
    let mut ran_out = 0;
    for variant in [Variant::AsyncPool, Variant::AsyncPipelined, Variant::ThreadPool, Variant::ThreadPerRequest] {
        // Every one of the variant's connections is terminated as soon as it shows, again and
        // again for a while: retries on fresh connections are killed too, and some run out.
        let stop = Arc::new(AtomicBool::new(false));
        let kills = killer(
            pg.target(),
            variant.application_name(),
            Duration::from_millis(300),
            Duration::from_millis(1),
            Arc::clone(&stop),
        );
        let stopper = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(1100));
                stop.store(true, Ordering::Release);
            })
        };
        let (load, server) = run_in_process(&spec(variant), &target, DATASET, Mix::SERVICE, closed(16, 1500)).unwrap();
        stopper.join().unwrap();
        let killed = kills.join().unwrap();
        let d = &load.driven;
        let lost = d.errors.get(&ErrorKind::ConnectionLost).copied().unwrap_or(0);
        let retries = server.tally.retries;
        eprintln!(
            "{}: {killed} killed, {retries} retries, {lost} reported lost, {:?}, {:?}",
            variant.name(),
            d.errors,
            load.audit
        );
        assert!(killed >= 2, "{}: killed only {killed}", variant.name());
        assert!(
            d.errors.keys().all(|k| matches!(k, ErrorKind::ConnectionLost | ErrorKind::Refused)),
            "{}: {:?} {:?}",
            variant.name(),
            d.errors,
            d.first_problem
        );
        assert!(retries >= 1, "{}: the kills went unnoticed", variant.name());
        ran_out += lost;
        assert!(load.audit.balances(), "{}: {:?}", variant.name(), load.audit);
        assert!(load.audit.acked > 0);
    }
    // Reported lost: requests whose every try was killed (r2d2 refills its pool slowly enough
    // that thread-per-request's retries mostly wait out the storm instead).
    assert!(ran_out >= 1, "no request ran out of retries");
}

#[test]
fn a_run_whose_backends_are_killed_every_200_ms_still_finishes_and_balances() {
    let _turn = crate::common::postgres_turn();
    let Some(db) = crate::common::postgres() else { return };
    let pg = PgFixture::create(&db, &DATASET, &|| false).unwrap();
    let target = Target::Postgres { db: pg.target().clone(), proxy_port: None };
    for variant in [Variant::AsyncPool, Variant::ThreadPool] {
        // Every connection of this process's run, the audit's included.
        let stop = Arc::new(AtomicBool::new(false));
        let pattern = format!("casebook-dbq-%-{}", std::process::id());
        let kills =
            killer(pg.target(), pattern, Duration::from_millis(300), Duration::from_millis(200), Arc::clone(&stop));
        let run = run_in_process(&spec(variant), &target, DATASET, Mix::SERVICE, closed(16, 1000));
        stop.store(true, Ordering::Release);
        let killed = kills.join().unwrap();
        let (load, server) = run.unwrap_or_else(|e| panic!("{}: {e:#}", variant.name()));
        eprintln!("{}: {killed} killed, {} retries, {:?}", variant.name(), server.tally.retries, load.audit);
        assert!(killed >= 4, "{}: killed only {killed}", variant.name());
        assert!(server.tally.retries >= 1, "{}: no request was retried", variant.name());
        assert!(load.audit.retries >= 1, "{}: the audit never lost its connection", variant.name());
        assert!(load.audit.balances() && load.audit.lost == 0, "{}: {:?}", variant.name(), load.audit);
    }
}

#[test]
fn a_seed_that_loses_its_connection_starts_over_and_completes() {
    let _turn = crate::common::postgres_turn();
    let Some(db) = crate::common::postgres() else { return };
    // The seed's connection is terminated once, as soon as it is loading.
    let admin = db.clone();
    let once = std::thread::spawn(move || {
        let mut client = fixture::connect(&admin).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let n: i64 = client
                .query_one(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                     WHERE application_name = 'casebook-db-queries-fixture' AND query LIKE 'COPY%' AND state = 'active'",
                    &[],
                )
                .unwrap()
                .get(0);
            if n > 0 {
                return n;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        0
    });
    let dataset = db_queries::workload::dataset::Dataset { accounts: 200_000, ..DATASET };
    let pg = PgFixture::create(&db, &dataset, &|| false);
    assert_eq!(once.join().unwrap(), 1, "the seed was never caught loading");
    let pg = pg.unwrap_or_else(|e| panic!("{e:#}"));
    let mut client = fixture::connect(pg.target()).unwrap();
    let accounts: i64 = client.query_one("SELECT count(*) FROM accounts", &[]).unwrap().get(0);
    assert_eq!(accounts, dataset.accounts);
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
        // Another process's writer takes the write lock once the run is under way and holds it
        // for most of the run. Under way means the load's first order is in: after the audit's
        // snapshot, which needs the lock first, however long a loaded machine takes to get there.
        let holder = sqlite::open(&path, true, Duration::from_secs(5)).unwrap();
        let orders =
            |c: &rusqlite::Connection| -> i64 { c.query_row("SELECT count(*) FROM orders", [], |r| r.get(0)).unwrap() };
        let before = orders(&holder);
        let holder = std::thread::spawn(move || {
            let writing = poll(Duration::from_secs(60), || (orders(&holder) > before).then_some(()));
            assert!(writing.is_some(), "the load never wrote an order");
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

    let _turn = crate::common::postgres_turn();
    let Some(db) = crate::common::postgres() else { return };
    let mut admin = fixture::connect(&db).unwrap();
    // Two schemas whose owner's pid is not alive here (pids never reach this): one orphaned,
    // one owned by a live run on another machine sharing the server, which holds its lease.
    let (orphan, elsewhere) = ("casebook_dbq_4294967294_0", "casebook_dbq_4294967294_1");
    admin
        .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {orphan}; CREATE SCHEMA IF NOT EXISTS {elsewhere}"))
        .unwrap();
    let mut other_machine = fixture::connect(&db).unwrap();
    assert!(fixture::take_lease(&mut other_machine, elsewhere).unwrap());
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
    assert!(!during.contains(&orphan.to_string()), "the orphaned schema was not swept");
    assert!(during.contains(&elsewhere.to_string()), "a live run's schema was dropped");
    assert!(during.contains(&pg.target().schema));
    // Once its owner's session ends, the next sweep takes it.
    drop(other_machine);
    let next = PgFixture::create(&db, &DATASET, &|| false).unwrap();
    assert!(!schemas(&mut admin).contains(&elsewhere.to_string()), "a schema whose lease ended was not swept");
    assert!(schemas(&mut admin).contains(&pg.target().schema), "the sweep took a live fixture's schema");
    drop(next);
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

#[test]
fn a_query_stuck_behind_a_lock_hits_the_statement_timeout_and_is_counted() {
    let _turn = crate::common::postgres_turn();
    let Some(db) = crate::common::postgres() else { return };
    let pg = PgFixture::create(&db, &DATASET, &|| false).unwrap();
    let short = PgTarget { statement_timeout: Duration::from_millis(200), ..pg.target().clone() };
    let target = Target::Postgres { db: short, proxy_port: None };
    for variant in [Variant::AsyncPool, Variant::AsyncPipelined, Variant::ThreadPool] {
        // Another session locks the accounts for a while once the load is under way.
        let admin = pg.target().clone();
        let holder = std::thread::spawn(move || {
            let mut client = fixture::connect(&admin).unwrap();
            std::thread::sleep(Duration::from_millis(300));
            client.batch_execute("BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE").unwrap();
            std::thread::sleep(Duration::from_millis(700));
            client.batch_execute("COMMIT").unwrap();
        });
        let (load, server) = run_in_process(&spec(variant), &target, DATASET, Mix::SERVICE, closed(8, 1500)).unwrap();
        holder.join().unwrap();
        let d = &load.driven;
        let cut = d.errors.get(&ErrorKind::StatementTimeout).copied().unwrap_or(0);
        eprintln!("{}: {cut} statement timeouts, {:?}", variant.name(), d.errors);
        assert!(cut > 0 && only(&d.errors, ErrorKind::StatementTimeout), "{}: {:?}", variant.name(), d.errors);
        assert_eq!(server.tally.errors, vec![(ErrorKind::StatementTimeout, cut)], "{}", variant.name());
        assert!(load.audit.balances(), "{}: {:?}", variant.name(), load.audit);
    }
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
    let _turn = crate::common::postgres_turn();
    let Some(db) = crate::common::postgres() else { return };
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
    let _turn = crate::common::postgres_turn();
    let Some(db) = crate::common::postgres() else { return };
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
