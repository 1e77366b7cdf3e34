//! The case binary as a user runs it, at tiny sizes so the debug build stays quick.

use casebook::{Case, ClaimId, Outcome, Report, testing::CaseBinary};
use parallel_math::{
    ParallelMath,
    tables::{MANDELBROT, NBODY, SWEEP},
};

fn binary() -> CaseBinary {
    CaseBinary::new(env!("CARGO_BIN_EXE_parallel-math"))
}

const TINY: [&str; 11] =
    ["--quick", "--width", "64", "--height", "48", "--max-iter", "300", "--bodies", "60", "--steps", "2"];

/// A run at [`TINY`] sizes plus `extra`: its output, its report if it wrote one, after
/// checking that it left no file and no process behind.
fn run(extra: &[&str]) -> (std::process::Output, Option<Report>) {
    let run = binary().run(&[&TINY[..], extra].concat());
    assert!(run.left.is_empty() && run.processes.is_empty(), "left behind: {:?} {:?}", run.left, run.processes);
    (run.output, run.report)
}

#[test]
fn a_full_quick_run_agrees_and_reports_every_claim() {
    let (output, report) = run(&["--sweep", "1,0"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report = report.unwrap();
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    assert_eq!(report.rows_in(MANDELBROT).count(), 9);
    assert_eq!(report.rows_in(NBODY).count(), 9);
    assert_eq!(report.rows_in(SWEEP).count(), 1 + 6 * 2);
    let mut ids: Vec<ClaimId> = report.claims.iter().map(|c| c.id).collect();
    ids.sort();
    let mut declared = ParallelMath::INFO.claims.to_vec();
    declared.sort();
    assert_eq!(ids, declared, "one result per declared claim");
    for claim in &report.claims {
        assert!(!claim.evidence.is_empty() && !claim.threshold.is_empty(), "{claim:?}");
    }
    // Every run of every row recorded the probe's lateness.
    let probe = parallel_math::figures::PROBE;
    assert!(report.rows.iter().all(|r| r.runs.iter().all(|run| run.histogram(probe).is_some())));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("parallel efficiency"), "{text}");
}

#[test]
fn a_subset_of_variants_leaves_the_other_claims_not_measured() {
    let (output, report) = run(&["--variants", "rayon,tokio-spawn", "--workload", "mandelbrot", "--no-sweep"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report = report.unwrap();
    assert_eq!(report.tables.len(), 1);
    assert_eq!(report.rows_in(MANDELBROT).count(), 2);
    let pool = report.claims.iter().find(|c| c.id == ClaimId::PoolThreads).unwrap();
    assert_eq!(pool.outcome, Outcome::Inconclusive);
    assert!(pool.evidence.starts_with("not measured"), "{}", pool.evidence);
    assert!(pool.evidence.contains("thread-per-item"), "{}", pool.evidence);
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

#[test]
fn sizes_that_cannot_fit_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let output = binary()
        .command()
        .args(["--quick", "--width", "1000000000", "--height", "1000000000", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("1000000000x1000000000 Mandelbrot image"), "{err}");
    assert!(!json.exists());
}
