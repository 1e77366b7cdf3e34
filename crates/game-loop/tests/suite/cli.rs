//! The built binary end to end: a quick run succeeds and its books balance; the abuse table
//! counts every malformed datagram and drops every vanished client; bad options exit 2 with
//! one line; Ctrl-C leaves no process and no file behind.

use std::{process::Stdio, time::Duration};

use casebook::{
    Case, Report,
    testing::{CaseBinary, files_under, poll, processes_with_tmpdir},
};
use game_loop::{
    GameLoop,
    figures::*,
    findings::checks,
    tables::{ABUSE, CLIENTS, REPLAY, REPLAY_SMALL},
    variants::Variant,
};

fn binary() -> CaseBinary {
    CaseBinary::new(env!("CARGO_BIN_EXE_game-loop"))
}

/// Runs the binary with `args`; its report, after checking that it succeeded and left no
/// file and no process behind.
fn run(args: &[&str]) -> Report {
    binary().run(args).clean_success().clone()
}

#[test]
fn a_quick_run_reports_balances_its_books_and_cleans_up() {
    let report = run(&["--quick"]);
    assert_eq!(report.case, "game-loop");
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    for id in GameLoop::INFO.claims {
        assert!(report.claims.iter().any(|c| c.id == *id), "claim {id} missing");
    }
    // Every model once in the sweep (hybrid-st differs only in its executor: the replays'),
    // and every way of running the schedule in the replays.
    for table in [CLIENTS, REPLAY_SMALL, REPLAY] {
        assert_eq!(report.ran_in(table).count(), if table == CLIENTS { 5 } else { 3 }, "{table}");
    }
    // Every bot heard back and no snapshot it got was damaged.
    for row in report.ran_in(CLIENTS) {
        assert!(row.median(SNAPSHOTS_RECEIVED).is_some_and(|n| n > 0.0), "{}", row.label);
        assert_eq!(row.median(BOT_MALFORMED), Some(0.0), "{}", row.label);
    }

    // The books check is not vacuous: more snapshots received than sent is caught.
    let params = report.params().expect("params");
    assert!(checks::check(&params, &report).is_empty());
    let mut tampered = report.clone();
    let row = tampered.rows.iter_mut().find(|r| r.table == CLIENTS).expect("a clients row");
    let sent = row.runs[0].figure(SNAPSHOTS_SENT).expect("sent");
    row.runs[0].figures.insert(SNAPSHOTS_RECEIVED.key.into(), sent + 1.0);
    assert_eq!(checks::check(&params, &tampered).len(), 1);
}

#[test]
fn the_abuse_table_counts_every_malformed_datagram_and_drops_every_vanished_client() {
    let report = run(&[
        "--quick",
        "--tables",
        "abuse",
        "--clients",
        "100",
        "--variants",
        "hybrid,single-thread-poll,hybrid-tcp",
    ]);
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    assert_eq!(report.ran_in(ABUSE).count(), 3);
    for row in report.ran_in(ABUSE) {
        let run = &row.runs[0];
        let figure = |f| run.figure(f).unwrap_or_else(|| panic!("{}: {} missing", row.label, f.key));
        assert_eq!(figure(VANISHED), 2.0, "{}: 1 in 50 bots vanish", row.label);
        let closed_silent = run.figure(CLOSED_SILENT).unwrap_or(0.0);
        assert!(figure(TIMED_OUT) + closed_silent >= 2.0, "{}: the vanished were timed out", row.label);
        assert_eq!(figure(REPLAY_MATCHES), 1.0, "{}", row.label);
        if row.variant == Variant::HybridTcp.to_string() {
            assert_eq!(figure(SLOW), 2.0, "{}", row.label);
            assert_eq!(figure(FLOOD_SENT), 0.0, "{}: no flood over TCP", row.label);
        } else {
            assert!(figure(FLOOD_SENT) > 0.0, "{}", row.label);
            let kernel = run.figure(SERVER_KERNEL_DROPS).unwrap_or(0.0);
            assert_eq!(figure(MALFORMED) + kernel, figure(FLOOD_SENT), "{}: every datagram counted", row.label);
        }
    }
}

/// A thread pair per client for a thousand clients on a small machine ticks late, so the
/// connections' silence limit (wall time) drops the vanished clients before the simulation's
/// time-out (ticks) does. Both are drops of a silent client; the books used to count only the
/// second and failed this run on two cores every time.
#[test]
fn thread_per_client_drops_every_vanished_client_even_when_its_ticks_run_late() {
    let report = run(&["--quick", "--tables", "abuse", "--clients", "1000", "--variants", "thread-per-client"]);
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    let row = report.ran_in(ABUSE).next().expect("the thread-per-client row ran");
    for run in &row.runs {
        let figure = |f: casebook::Figure| run.figure(f).unwrap_or_else(|| panic!("{} missing", f.key));
        assert_eq!(figure(VANISHED), 20.0, "1 in 50 bots vanish");
        assert!(figure(TIMED_OUT) + figure(CLOSED_SILENT) >= 20.0, "every vanished client was dropped");
        assert!(figure(CLIENTS_AT_END) <= 980.0, "no vanished client is left at the end");
    }
}

#[test]
fn bad_options_exit_2_with_one_line() {
    for args in [
        &["--variants", "nope"][..],
        &["--clients", "0"][..],
        &["--sweep", "10,0"][..],
        &["--seconds", "0.01"][..],
        &["--sim-cost", "-1"][..],
        &["--tables", "bogus"][..],
    ] {
        binary().refuses(args);
    }
}

#[test]
fn ctrl_c_leaves_no_process_and_no_file_behind() {
    let work = tempfile::tempdir().expect("temp dir");
    let scratch = work.path().join("tmp");
    std::fs::create_dir(&scratch).expect("scratch dir");
    let mut parent = binary()
        .command()
        .args(["--no-progress", "--tables", "clients", "--sweep", "50", "--seconds", "30"])
        .args(["--variants", "thread-per-client", "--json"])
        .arg(work.path().join("report.json"))
        .env("TMPDIR", &scratch)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let pid = parent.id();
    // Wait for the measured server and its bots' process to be running (every process the
    // run starts inherits its TMPDIR).
    let running = poll(Duration::from_secs(60), || {
        let all = processes_with_tmpdir(&scratch);
        let server = all.iter().any(|p| p.contains("__casebook-child"));
        let bots = all.iter().any(|p| p.contains("__casebook-load"));
        (server && bots).then_some(())
    });
    if running.is_none() {
        let _ = parent.kill();
        panic!("the server and its bots never both appeared");
    }
    // SAFETY: kill() on a process we spawned and have not reaped.
    unsafe { libc::kill(pid as i32, libc::SIGINT) };
    let status = parent.wait().expect("the binary exits");
    assert_eq!(status.code(), Some(130));
    poll(Duration::from_secs(10), || processes_with_tmpdir(&scratch).is_empty().then_some(()));
    let survivors = processes_with_tmpdir(&scratch);
    assert!(survivors.is_empty(), "still running after Ctrl-C: {survivors:?}");
    assert!(!work.path().join("report.json").exists(), "no partial report");
    let left = files_under(&scratch);
    assert!(left.is_empty(), "left behind: {left:?}");
}
