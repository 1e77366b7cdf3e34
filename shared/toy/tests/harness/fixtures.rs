//! What a case's set-up owns is torn down on every exit path, and rows that cannot run here
//! are skipped with their reason: shown, never dropped, never counted as a pass.

use crate::sandbox::{Sandbox, stderr, stdout};
use casebook_toy::{SUM, Variant};

#[test]
fn the_fixture_is_torn_down_after_a_good_run() {
    let sandbox = Sandbox::new();
    let log = sandbox.teardown_log();
    let output = sandbox.run(&["--quick", "--teardown-log", log.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(sandbox.teardowns(), 1);
}

#[test]
fn a_panic_in_the_set_up_still_tears_down_what_it_built() {
    let sandbox = Sandbox::new();
    let log = sandbox.teardown_log();
    let output = sandbox.run(&["--quick", "--panic-in-setup", "--teardown-log", log.to_str().unwrap()]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("told to panic"), "{err}");
    assert_eq!(sandbox.teardowns(), 1, "the half-built fixture was not torn down");
    assert!(sandbox.leftovers().is_empty(), "scratch left behind: {:?}", sandbox.leftovers());
}

#[test]
fn rows_skipped_by_the_set_up_are_reported_with_their_reason() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["--quick", "--skip-in-setup"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = sandbox.report();
    let formula = report.row(SUM, Variant::Formula).expect("a skipped row stays in the report");
    assert_eq!(formula.skipped.as_deref(), Some("the set-up found no formula here"));
    assert!(formula.runs.is_empty());
    assert!(
        report.correctness.lines.iter().any(|l| l.contains("1 rows that ran") && l.contains("1 skipped")),
        "{:?}",
        report.correctness.lines
    );
    let text = stdout(&output);
    assert!(text.contains("skipped") && text.contains("the set-up found no formula here"), "{text}");
}

#[test]
fn a_row_can_find_at_run_time_that_it_cannot_run() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["--quick", "--skip-in-child"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = sandbox.report();
    let formula = report.row(SUM, Variant::Formula).unwrap();
    assert_eq!(formula.skipped.as_deref(), Some("the formula found it cannot run here"));
    assert!(formula.runs.is_empty(), "a skipped row records no runs");
    let raw: serde_json::Value = serde_json::from_slice(&std::fs::read(sandbox.json()).unwrap()).unwrap();
    let skipped: Vec<&serde_json::Value> =
        raw["rows"].as_array().unwrap().iter().filter(|r| r.get("skipped").is_some()).collect();
    assert_eq!(skipped.len(), 1);
}
