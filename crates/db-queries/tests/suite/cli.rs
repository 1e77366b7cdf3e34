//! The built binary end to end: a quick run succeeds, its report's checks pass and it leaves
//! nothing behind; bad options are one line and exit 2; an unreachable Postgres is one clear
//! error (or skipped rows, when only the environment named it); Ctrl-C and a killed run leave
//! no schema and no database file behind.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use casebook::{
    Case, ClaimId, Report, VariantSet,
    testing::{CaseBinary, files_under, poll},
};
use db_queries::{DbQueries, store::fixture, tables::POSTGRES_POINTS, variants::Variant};

fn case_binary() -> CaseBinary {
    CaseBinary::new(env!("CARGO_BIN_EXE_db-queries"))
}

fn binary() -> Command {
    let mut command = case_binary().command();
    // Each test decides whether there is a Postgres; none inherits one by accident.
    command.env_remove("DATABASE_URL").env_remove("CASEBOOK_REQUIRE_POSTGRES");
    command
}

/// This test's Postgres URL, if there is a server (CI requires one).
fn postgres_url() -> Option<String> {
    crate::common::postgres()?;
    Some(std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()))
}

/// The schemas whose owner is `pid`.
fn schemas_of(pid: u32) -> Vec<String> {
    let Some(db) = crate::common::postgres() else { return Vec::new() };
    let mut client = fixture::connect(&db).expect("connect");
    client
        .query(
            "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)",
            &[&format!("{}{pid}_", fixture::SCHEMA_PREFIX)],
        )
        .expect("query")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn quick_run_reports_passes_its_checks_and_cleans_up() {
    let _turn = crate::common::postgres_turn();
    let url = postgres_url();
    let started = Instant::now();
    let run = case_binary().run_with(&["--quick"], |command| {
        command.env_remove("DATABASE_URL").env_remove("CASEBOOK_REQUIRE_POSTGRES");
        if let Some(url) = &url {
            command.env("DATABASE_URL", url).env("CASEBOOK_REQUIRE_POSTGRES", "1");
        }
    });
    eprintln!("quick run took {:?}", started.elapsed());
    // It succeeded, left no file (the SQLite database included) and no process behind.
    let report = run.clean_success();
    assert_eq!(report.case, "db-queries");
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    for id in DbQueries::INFO.claims {
        assert!(report.claims.iter().any(|c| c.id == *id), "claim {id} missing");
    }
    assert!(report.claims.iter().any(|c| c.id == ClaimId::HybridWeb));
    let postgres_ran = report.ran_in(POSTGRES_POINTS).count();
    match &url {
        Some(_) => assert!(postgres_ran > 0, "Postgres was given, its rows must run"),
        None => assert!(
            report.rows_in(POSTGRES_POINTS).all(|r| r.skipped.as_deref().is_some_and(|s| s.contains("DATABASE_URL"))),
            "without Postgres its rows are skipped with the reason"
        ),
    }

    // The check is not vacuous: one lost write in one run is caught.
    assert!(db_queries::findings::check(report).is_empty());
    let mut tampered = report.clone();
    let run = tampered.rows.iter_mut().find(|r| !r.runs.is_empty() && r.variant != Variant::Pgbench.name()).unwrap();
    *run.runs[0].figures.get_mut(db_queries::figures::LOST.key).expect("figure") += 1.0;
    assert_eq!(db_queries::findings::check(&tampered).len(), 1);
}

#[test]
fn bad_options_exit_2_with_one_line() {
    for args in [
        &["--variants", "nope"][..],
        &["--mix", "80/15"][..],
        &["--mix", "80/15/6"][..],
        &["--accounts", "0"][..],
        &["--in-flight", "0"][..],
        &["--in-flight", "100000"][..],
        &["--rate", "-5"][..],
        &["--tables", "nope"][..],
        &["--database-url", "not a url ==="][..],
        // The clients have no TLS: a URL that asks for it is refused, never connected in the clear.
        &["--database-url", "postgres://postgres@127.0.0.1:5432/test?sslmode=require"][..],
        &["--database-url", "postgres://postgres@127.0.0.1:5432/test?sslmode=verify-full"][..],
        &["--job-window-days", "400"][..],
    ] {
        case_binary().refuses(args);
    }
}

/// A fast plan that still needs Postgres: the point reads of one variant.
const POSTGRES_ONLY: [&str; 7] =
    ["--quick", "--no-progress", "--tables", "points", "--variants", "thread-pool", "--json"];

#[test]
fn an_unreachable_postgres_on_the_command_line_is_one_clear_error_within_five_seconds() {
    let work = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let output = binary()
        .args(POSTGRES_ONLY)
        .arg(work.path().join("r.json"))
        .args(["--database-url", "postgres://postgres@127.0.0.1:1/test"])
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("cannot reach Postgres at 127.0.0.1:1"), "{stderr}");
    // Seeding SQLite for the SQLite row comes first; the Postgres verdict within 5 s of it.
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
}

#[test]
fn an_unreachable_postgres_from_the_environment_skips_its_rows_unless_required() {
    let work = tempfile::tempdir().expect("temp dir");
    let json = work.path().join("r.json");
    let run = |required: bool| {
        let mut command = binary();
        command.args(POSTGRES_ONLY).arg(&json).env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/test");
        if required {
            command.env("CASEBOOK_REQUIRE_POSTGRES", "1");
        }
        command.output().expect("the binary runs")
    };
    let output = run(false);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report = Report::from_json(&std::fs::read(&json).unwrap()).unwrap();
    let row = report.row(POSTGRES_POINTS, Variant::ThreadPool).expect("planned");
    assert!(row.skipped.as_deref().is_some_and(|s| s.contains("cannot reach Postgres")), "{:?}", row.skipped);
    let output = run(true);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot reach Postgres"));
}

/// Starts a run in its own process group, waits until it is measuring with its fixtures in
/// place, and returns it with its scratch root.
fn start_and_wait_for_fixtures(scratch: &Path, url: Option<&str>) -> std::process::Child {
    let mut command = binary();
    command
        .args(["--quick", "--no-progress", "--tables", "sweep,points", "--duration-ms", "2000", "--json"])
        .arg(scratch.join("never.json"))
        .env("TMPDIR", scratch)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = url {
        command.env("DATABASE_URL", url);
    }
    let child = command.spawn().expect("the binary starts");
    let set_up = poll(Duration::from_secs(60), || {
        let database = files_under(scratch).iter().any(|p| p.ends_with("db-queries.sqlite"));
        let schema = url.is_none() || !schemas_of(child.id()).is_empty();
        (database && schema).then_some(())
    });
    assert!(set_up.is_some(), "the run never set up its fixtures");
    // Into the runs.
    std::thread::sleep(Duration::from_millis(800));
    child
}

#[test]
fn ctrl_c_drops_the_schema_and_removes_the_database_file() {
    let _turn = crate::common::postgres_turn();
    let work = tempfile::tempdir().expect("temp dir");
    let url = postgres_url();
    let mut child = start_and_wait_for_fixtures(work.path(), url.as_deref());
    // SAFETY: kill only sends a signal to the process we started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().expect("the run ends");
    assert!(!status.success(), "an interrupted run must not report success");
    assert!(schemas_of(child.id()).is_empty(), "the schema outlived Ctrl-C");
    let left = files_under(work.path());
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_schema_left_by_a_killed_run_is_swept_by_the_next() {
    let _turn = crate::common::postgres_turn();
    let Some(url) = postgres_url() else { return };
    let work = tempfile::tempdir().expect("temp dir");
    let mut child = start_and_wait_for_fixtures(work.path(), Some(&url));
    // No Drop runs after SIGKILL: the schema stays until a later run sweeps it.
    child.kill().expect("kill");
    child.wait().expect("reaped");
    let stale = schemas_of(child.id());
    assert_eq!(stale.len(), 1, "{stale:?}");
    let json = work.path().join("r.json");
    let output = binary().args(POSTGRES_ONLY).arg(&json).env("DATABASE_URL", &url).output().expect("runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(schemas_of(child.id()).is_empty(), "{stale:?} was not swept");
}

#[test]
fn pgbench_dies_with_a_killed_run() {
    let _turn = crate::common::postgres_turn();
    let Some(url) = postgres_url() else { return };
    if let Err(why) = db_queries::store::pgbench::available() {
        eprintln!("skipped: {why}");
        return;
    }
    let Some(db) = crate::common::postgres() else { return };
    let mut admin = fixture::connect(&db).expect("connect");
    let mut pgbench_backends = || -> i64 {
        admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'casebook-db-queries-pgbench'",
                &[],
            )
            .expect("query")
            .get(0)
    };
    assert_eq!(pgbench_backends(), 0, "a pgbench from elsewhere is running");
    let work = tempfile::tempdir().expect("temp dir");
    let mut child = binary()
        .args(["--quick", "--no-progress", "--tables", "points", "--variants", "pgbench", "--duration-ms", "30000"])
        .arg("--json")
        .arg(work.path().join("never.json"))
        .env("DATABASE_URL", &url)
        .env("TMPDIR", work.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let connected = poll(Duration::from_secs(60), || (pgbench_backends() > 0).then_some(()));
    assert!(connected.is_some(), "pgbench never connected");
    // No handler runs after SIGKILL: only the kernel can take pgbench down with the run.
    child.kill().expect("kill");
    child.wait().expect("reaped");
    let gone = poll(Duration::from_secs(5), || (pgbench_backends() == 0).then_some(()));
    assert!(gone.is_some(), "pgbench outlived its run");
}
