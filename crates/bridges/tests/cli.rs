//! The built binary end to end: a quick run succeeds, its report's books balance, it leaves
//! nothing on disk and no process behind, bad options are one line and exit 2, and an
//! unbounded queue that reaches the memory guard is a finding, not a crash.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use bridges::{book::Listing, figures::GUARD_HIT, plan::DRIFT};
use casebook::{ClaimId, Report};

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bridges"))
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            found.extend(files_under(&path));
        }
        found.push(path.display().to_string());
    }
    found
}

/// Processes still running this binary (a run's child or its load generator) that were
/// started by the run whose TMPDIR is `scratch`: other tests run the binary at the same time.
fn leftover_processes(scratch: &Path) -> Vec<String> {
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_bridges"));
    let tag = format!("TMPDIR={}", scratch.display()).into_bytes();
    let mut left = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("Linux /proc").flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        if std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == ours)
            && environ.split(|b| *b == 0).any(|var| var == tag.as_slice())
        {
            left.push(format!(
                "{pid}: {}",
                std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default()
            ));
        }
    }
    left
}

/// Runs the binary with `args` and a TMPDIR of its own; the report, the files left there,
/// and the processes of the run still alive after it ended.
fn run(args: &[&str]) -> (Output, Option<Report>, Vec<String>, Vec<String>) {
    let work = tempfile::tempdir().expect("temp dir");
    let scratch = work.path().join("tmp");
    std::fs::create_dir(&scratch).expect("scratch dir");
    let json = work.path().join("report.json");
    let output = binary()
        .args(args)
        .args(["--no-progress", "--json"])
        .arg(&json)
        .env("TMPDIR", &scratch)
        .output()
        .expect("the binary runs");
    let report = std::fs::read(&json).ok().map(|bytes| Report::from_json(&bytes).expect("a report"));
    (output, report, files_under(&scratch), leftover_processes(&scratch))
}

#[test]
fn quick_run_reports_balances_its_books_and_cleans_up() {
    let (output, report, left, processes) = run(&["--quick"]);
    assert!(output.status.success(), "exit {:?}: {}", output.status.code(), String::from_utf8_lossy(&output.stderr));
    let report = report.expect("report written");
    assert_eq!(report.case, "bridges");
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    assert!(bridges::accounting::check(&report).is_empty(), "{:?}", bridges::accounting::check(&report));
    for id in [
        ClaimId::SameStream,
        ClaimId::HybridCoordination,
        ClaimId::ChannelCapacity,
        ClaimId::NoNeedlessMixing,
        ClaimId::ThreadsFireForget,
        ClaimId::StructuredConcurrency,
    ] {
        assert!(report.claims.iter().any(|c| c.id == id), "claim {id} missing");
    }
    // Every table ran, and the fire-and-forget program's books were read after it exited.
    for table in ["book", "drift", "thread-to-thread", "task-to-task", "many-producers", "fire-and-forget"] {
        assert!(report.ran_in(table).any(|r| !r.runs.is_empty()), "{table} did not run");
    }
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(processes.is_empty(), "still running: {processes:?}");
}

#[test]
fn bad_options_exit_2_with_one_line() {
    for args in [
        &["--variants", "nope"][..],
        &["--messages", "0"][..],
        &["--messages", "5000000000"][..],
        &["--capacities", "lots"][..],
        &["--drift-secs", "0"][..],
        &["--fix-capacity", "0"][..],
        &["--producers", "1"][..],
        &["--memory-guard-mib", "0"][..],
    ] {
        let output = binary().args(args).output().expect("the binary runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn a_queue_that_reaches_the_memory_guard_is_a_finding_not_a_crash() {
    // 64 KiB intervals under a 1 MiB guard: the unbounded producer stops after about 15.
    let args =
        ["--quick", "--variants", Listing::TaskProducer.name(), "--drift-payload", "65536", "--memory-guard-mib", "1"];
    let (output, report, left, processes) = run(&args);
    assert!(output.status.success(), "exit {:?}: {}", output.status.code(), String::from_utf8_lossy(&output.stderr));
    let report = report.expect("report written");
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    let row = report.row(DRIFT, Listing::TaskProducer.name()).expect("the drift row");
    assert!(!row.runs.is_empty() && row.runs.iter().all(|r| r.figure(GUARD_HIT) == Some(1.0)), "{:?}", row.summary);
    assert!(report.verdicts.iter().any(|v| v.contains("memory guard")), "{:?}", report.verdicts);
    assert!(left.is_empty() && processes.is_empty(), "left behind: {left:?} {processes:?}");
}

#[test]
fn every_variant_is_listed() {
    let output = binary().arg("--list-variants").output().expect("the binary runs");
    assert!(output.status.success());
    let listing = String::from_utf8_lossy(&output.stdout);
    for variant in <bridges::Bridges as casebook::Case>::INFO.variants {
        assert!(listing.contains(variant.name), "{} not listed", variant.name);
    }
}
