//! Runs that go wrong: each failure is one clear line and a non-zero exit, never a hidden
//! pass, and the fixture is torn down all the same.

use std::time::{Duration, Instant};

use casebook_toy::{SUM, Variant};

use crate::sandbox::{Sandbox, stderr};

#[test]
fn a_wrong_answer_fails_the_run() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["--quick", "--wrong"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("the run failed its checks"), "{}", stderr(&output));
    let report = sandbox.report();
    assert!(!report.correctness.ok);
    assert!(report.correctness.lines.iter().any(|l| l.contains("FAILED") && l.contains("formula")));
}

#[test]
fn a_failing_variant_fails_its_row_and_the_report_keeps_the_rest() {
    let sandbox = Sandbox::new();
    let log = sandbox.teardown_log();
    let output = sandbox.run(&["--quick", "--fail", "--teardown-log", log.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    let last = err.trim().lines().last().unwrap_or_default();
    assert!(last.starts_with("error: ") && last.contains("formula") && last.contains("told to fail"), "{err}");
    let report = sandbox.report();
    assert!(!report.correctness.ok);
    let formula = report.row(SUM, Variant::Formula).expect("the failed row is in the report");
    assert!(formula.failed.as_deref().is_some_and(|f| f.contains("told to fail")), "{:?}", formula.failed);
    assert_eq!(report.ran_in(SUM).count(), 1, "the loop row still ran");
    assert_eq!(report.row(SUM, Variant::Loop).map(|r| r.runs.len()), Some(2));
    assert_eq!(sandbox.teardowns(), 1, "the fixture was not torn down after a failure");
}

#[test]
fn a_panic_in_a_child_shows_its_message() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["--quick", "--panic"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("formula was told to panic"), "{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "{err}");
}

#[test]
fn a_hung_run_is_stopped_at_the_timeout() {
    let sandbox = Sandbox::new();
    let log = sandbox.teardown_log();
    let started = Instant::now();
    let output =
        sandbox.run(&["--quick", "--sleep-ms", "30000", "--timeout", "1", "--teardown-log", log.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(20));
    let err = stderr(&output);
    assert!(err.contains("did not finish within 1 s"), "{err}");
    // It says where the run was stuck: the toy's thread asleep in the kernel.
    let waiting = err.split("(waiting: ").nth(1).unwrap_or_else(|| panic!("no waits in: {err}"));
    assert!(waiting.starts_with("casebook-toy ") && waiting.contains("sleep"), "{err}");
    assert!(sandbox.leftovers().is_empty(), "scratch left behind: {:?}", sandbox.leftovers());
    assert_eq!(sandbox.teardowns(), 1, "the fixture was not torn down after a timeout");
}

#[test]
fn scratch_files_are_removed_after_every_run() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["--quick", "--litter"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(sandbox.leftovers().is_empty(), "scratch left behind: {:?}", sandbox.leftovers());
}

#[test]
fn a_case_that_breaks_the_measuring_contract_fails_clearly() {
    let sandbox = Sandbox::new();
    for (flag, expect) in [("--no-measure", "never called ctx.measure"), ("--nan", "non-finite figures: broken")] {
        let output = sandbox.run(&["--quick", flag]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{flag}: {err}");
        assert!(err.contains(expect), "{flag}: {err}");
        assert!(sandbox.report().rows.iter().all(|r| r.failed.as_deref().is_some_and(|f| f.contains(expect))));
    }
}

#[test]
fn a_panic_in_the_claims_keeps_the_raw_records() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["--quick", "--panic-in-claims"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("told to panic") && err.contains("raw records"), "{err}");
    let report = sandbox.report();
    assert_eq!(report.rows.len(), 2, "the runs' records were saved before the claims ran");
    assert!(report.rows.iter().all(|r| r.runs.len() == 2));
}
