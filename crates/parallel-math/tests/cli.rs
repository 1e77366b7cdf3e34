//! The case binary as a user runs it, at tiny sizes so the debug build stays quick.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_parallel-math");
const TINY: [&str; 12] = [
    "--quick",
    "--width",
    "64",
    "--height",
    "48",
    "--max-iter",
    "300",
    "--bodies",
    "60",
    "--steps",
    "2",
    "--no-progress",
];

fn run(extra: &[&str]) -> (std::process::Output, Option<casebook::Report>) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let output = Command::new(BIN).args(TINY).args(extra).arg("--json").arg(&json).output().unwrap();
    let report = std::fs::read(&json).ok().map(|bytes| serde_json::from_slice(&bytes).unwrap());
    (output, report)
}

#[test]
fn a_full_quick_run_agrees_and_reports_every_claim() {
    let (output, report) = run(&["--sweep", "1,0"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report = report.unwrap();
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    assert_eq!(report.rows("mandelbrot").count(), 9);
    assert_eq!(report.rows("nbody").count(), 9);
    assert_eq!(report.rows("granularity-sweep").count(), 1 + 6 * 2);
    let mut ids: Vec<&str> = report.claims.iter().map(|c| c.id.as_str()).collect();
    ids.sort();
    let mut declared = <parallel_math::ParallelMath as casebook::Case>::INFO.claims.to_vec();
    declared.sort();
    assert_eq!(ids, declared, "one result per declared claim");
    for claim in &report.claims {
        assert!(casebook::claims::claim_text(&claim.id).is_some());
        assert!(!claim.evidence.is_empty() && !claim.threshold.is_empty());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("parallel efficiency"), "{text}");
}

#[test]
fn a_subset_of_variants_leaves_the_other_claims_not_measured() {
    let (output, report) = run(&["--variants", "rayon,tokio-spawn", "--workload", "mandelbrot", "--no-sweep"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report = report.unwrap();
    assert_eq!(report.tables.len(), 1);
    assert_eq!(report.rows("mandelbrot").count(), 2);
    let pool = report.claims.iter().find(|c| c.id == "pool-threads").unwrap();
    assert_eq!(pool.outcome, casebook::Outcome::Inconclusive);
    assert!(pool.evidence.contains("not measured"));
}

#[test]
fn bad_options_exit_2_with_one_line() {
    for args in [&["--threads", "0"][..], &["--variants", "rayon,fibers"], &["--workload", "fft"], &["--sweep", "x"]] {
        let (output, report) = run(args);
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(report.is_none());
    }
}
