//! The built binary when something around the server misbehaves: a downstream that stops
//! answering, Ctrl-C in the middle of a run, clients that leave mid-request, and more
//! connections than the server's descriptors allow. Each must end the run, with what went
//! wrong counted in the report, and leave nothing behind.

use std::{collections::BTreeSet, os::unix::process::CommandExt, process::Stdio, time::Duration};

use casebook::{
    Figure, Report, VariantSet,
    report::record::RunRecord,
    testing::{BinaryRun, CaseBinary, files_under, poll, processes_with_tmpdir},
};
use request_mix::{figures::*, variants::Variant};

fn binary() -> CaseBinary {
    CaseBinary::new(env!("CARGO_BIN_EXE_request-mix"))
}

/// A figure every run of these tests records.
fn figure(run: &RunRecord, figure: Figure) -> f64 {
    run.figure(figure).unwrap_or_else(|| panic!("no {} in the run", figure.key))
}

/// The quick preset at 10 µs of CPU per request and 16 in flight, one run per row, with
/// `extra` flags: the shape every run of these tests shares.
fn quick<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--quick", "--cpu-us", "10", "--in-flight", "16", "--repeat", "1", "--timeout", "60"];
    args.extend_from_slice(extra);
    args
}

/// A run whose books did not balance: exit 1 (a measurement must have every request served),
/// the report written with every row's books in it, and nothing left behind.
fn failed_books(run: &BinaryRun) -> &Report {
    assert_eq!(run.output.status.code(), Some(1), "{}", run.stderr());
    assert!(run.left.is_empty(), "left behind: {:?}", run.left);
    assert!(run.processes.is_empty(), "still running: {:?}", run.processes);
    let report = run.report.as_ref().expect("the report is written");
    every_row_ran(report);
    report
}

/// Every row ran to its end: none failed (a run that hung would, at `--timeout`).
fn every_row_ran(report: &Report) {
    assert_eq!(report.rows.len(), Variant::ALL.len());
    for row in &report.rows {
        assert!(row.failed.is_none(), "{}: {:?}", row.label, row.failed);
        assert!(!row.runs.is_empty(), "{}: no run", row.label);
    }
}

#[test]
fn a_downstream_that_stops_answering_costs_timeouts_that_are_counted_and_the_run_ends() {
    // 200 requests over 16 connections; the downstream answers its first 50 calls and then
    // none. Each later call must time out at the server after 50 ms and be answered 504.
    let run =
        binary().run(&quick(&["--requests", "200", "--downstream-answers", "50", "--downstream-timeout-ms", "50"]));
    // A run whose requests were not all answered ok measures nothing: the checks fail it.
    let report = failed_books(&run);
    for row in &report.rows {
        for r in &row.runs {
            let at = &row.label;
            assert_eq!(figure(r, OK), 50.0, "{at}");
            assert_eq!(figure(r, GATEWAY_TIMEOUTS), 150.0, "{at}: the clients' 504s");
            assert_eq!(figure(r, DOWNSTREAM_TIMEOUTS), 150.0, "{at}: the server's timed-out calls");
            assert_eq!(figure(r, DOWNSTREAM_UNANSWERED), 150.0, "{at}: the downstream's silent calls");
            assert_eq!(figure(r, LOST) + figure(r, UNSENT) + figure(r, GATEWAY_ERRORS), 0.0, "{at}");
        }
    }
    let said = report.correctness.lines.join("\n");
    assert!(said.contains("150 gateway timeouts"), "the check names the timeouts: {said}");
}

/// The inodes of the listening TCP sockets `pids` hold open.
fn listening_sockets(pids: &[u32]) -> BTreeSet<u64> {
    let mut held = BTreeSet::new();
    for pid in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { continue };
        for fd in fds.flatten() {
            let target = std::fs::read_link(fd.path()).unwrap_or_default();
            let target = target.to_string_lossy();
            if let Some(inode) = target.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                held.extend(inode.parse::<u64>().ok());
            }
        }
    }
    held.intersection(&listening_now()).copied().collect()
}

/// Every TCP socket on the machine in the LISTEN state, by inode.
fn listening_now() -> BTreeSet<u64> {
    let mut listening = BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl, local, remote, st, queues, tr, retransmits, uid, timeout, inode.
            if fields.get(3) == Some(&"0A") {
                listening.extend(fields.get(9).and_then(|i| i.parse::<u64>().ok()));
            }
        }
    }
    listening
}

#[test]
fn ctrl_c_mid_run_leaves_no_process_no_file_and_no_listening_socket() {
    let work = tempfile::tempdir().expect("a temporary folder");
    let scratch = work.path().join("tmp");
    std::fs::create_dir(&scratch).expect("a scratch folder");
    // Two million requests at 16 in flight: minutes of work, interrupted within seconds.
    let mut parent = binary()
        .command()
        .args(["--no-progress", "--cpu-us", "0", "--in-flight", "16", "--requests", "2000000"])
        .args(["--variants", "tokio-inline", "--repeat", "1", "--json"])
        .arg(work.path().join("report.json"))
        .env("TMPDIR", &scratch)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    // Every process the run starts inherits its TMPDIR: wait for the measured server and both
    // load generators (the downstream and the clients), and for the sockets they listen on.
    let listening = poll(Duration::from_secs(60), || {
        let all = processes_with_tmpdir(&scratch);
        let count = |mode: &str| all.iter().filter(|p| p.contains(mode)).count();
        let pids: Vec<u32> = all.iter().filter_map(|p| p.split(':').next()?.parse().ok()).collect();
        // The server's listener and the downstream's.
        let listening = listening_sockets(&pids);
        (count("__casebook-child") == 1 && count("__casebook-load") == 2 && listening.len() >= 2).then_some(listening)
    });
    let Some(listening) = listening else {
        let _ = parent.kill();
        panic!("the server and its two load generators never all appeared: {:?}", processes_with_tmpdir(&scratch));
    };
    // Into the measured region.
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill() on a process we spawned and have not reaped.
    assert_eq!(unsafe { libc::kill(parent.id() as i32, libc::SIGINT) }, 0);
    let Some(status) = poll(Duration::from_secs(15), || parent.try_wait().expect("the binary can be waited for"))
    else {
        let _ = parent.kill();
        panic!("the run did not end within 15 s of Ctrl-C");
    };
    assert_eq!(status.code(), Some(130), "an interrupted run exits 130");
    let survivors = processes_with_tmpdir(&scratch);
    assert!(survivors.is_empty(), "still running after Ctrl-C: {survivors:?}");
    let still = listening_now();
    let left_listening: Vec<&u64> = listening.iter().filter(|inode| still.contains(inode)).collect();
    assert!(left_listening.is_empty(), "sockets still listening after Ctrl-C: {left_listening:?}");
    assert!(!work.path().join("report.json").exists(), "no partial report");
    let left = files_under(&scratch);
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn clients_that_vanish_or_cut_a_request_in_half_are_counted_and_cost_no_one_else_an_answer() {
    // Every variant, with 8 misbehaving connections beside 16 well-behaved ones: the books
    // (every request answered ok, every connection accepted, every cut counted) are the run's
    // own checks. A server wedged by them would fail its row at --timeout.
    let run = binary().run(&quick(&["--misbehaving", "8"]));
    let report = run.clean_success();
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    every_row_ran(report);
    for row in &report.rows {
        for r in &row.runs {
            // The server took the misbehaving connections too: they were really there.
            assert_eq!(figure(r, ACCEPTED), 24.0, "{}", row.label);
            // Each of the 8 left in the middle of a request, and the server counted it so.
            assert_eq!(figure(r, CUT_OFF), 8.0, "{}", row.label);
        }
    }
}

/// Sets this process's descriptor limit, soft and hard, to `n` (so the harness cannot raise
/// it again): run between fork and exec.
fn limit_descriptors(n: u64) -> std::io::Result<()> {
    let limit = libc::rlimit { rlim_cur: n, rlim_max: n };
    // SAFETY: setrlimit reads the struct we own; it is async-signal-safe.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[test]
fn connections_past_the_descriptor_limit_are_refused_and_counted_never_waited_for() {
    // 96 descriptors leave 32 for the case (the harness keeps 64 in reserve): room for 16
    // connections and their downstream ones, or for thread-pool's 4 threads and 28 connections.
    // 16 misbehaving connections come on top, 32 in all: the rest must be refused at once.
    let args = quick(&["--misbehaving", "16", "--requests", "400", "--pool-threads", "4"]);
    let run = binary().run_with(&args, |command| {
        // SAFETY: the closure makes one raw syscall on data it owns.
        unsafe { command.pre_exec(|| limit_descriptors(96)) };
    });
    // Refused connections fail the books (a measurement must have every client served).
    let report = failed_books(&run);
    for row in &report.rows {
        let variant = Variant::ALL.iter().find(|v| v.name() == row.variant).expect("a known variant");
        let held = if *variant == Variant::ThreadPool { 28.0 } else { 16.0 };
        for r in &row.runs {
            let at = &row.label;
            assert_eq!(figure(r, ACCEPTED), held, "{at}: {:?}", r.notes);
            assert_eq!(figure(r, REFUSED), 32.0 - held, "{at}");
            // Whatever was refused, every request is accounted for: answered ok, or lost with a
            // refused connection (its client going on with its other connections).
            assert_eq!(figure(r, OK) + figure(r, LOST), 400.0, "{at}");
            assert!(figure(r, SERVED) >= figure(r, OK), "{at}");
        }
    }
    let said = report.correctness.lines.join("\n");
    assert!(said.contains("refused"), "the check names the refusals: {said}");
}
