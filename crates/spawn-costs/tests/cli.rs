//! The built binary, end to end: a quick run succeeds and writes a report whose claims all
//! use the shared ids; bad options exit 2 with one line.

use std::process::Command;

use casebook::{Case, Outcome, Report, claims::CLAIMS};
use spawn_costs::SpawnCosts;

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_spawn-costs"))
}

fn read_report(path: &std::path::Path) -> Report {
    let bytes = std::fs::read(path).expect("the report was written");
    serde_json::from_slice(&bytes).expect("the JSON is a casebook report")
}

#[test]
fn a_quick_run_succeeds_and_every_claim_uses_a_known_id() {
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("spawn-costs.json");
    let output = binary().args(["--quick", "--no-progress", "--json"]).arg(&json).output().expect("the binary runs");
    assert!(output.status.success(), "exit {:?}: {}", output.status.code(), String::from_utf8_lossy(&output.stderr));
    let report = read_report(&json);
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    assert_eq!(report.claims.len(), SpawnCosts::INFO.claims.len());
    for claim in &report.claims {
        assert!(CLAIMS.iter().any(|(id, _)| *id == claim.id), "unknown claim id {}", claim.id);
        assert!(SpawnCosts::INFO.claims.contains(&claim.id.as_str()));
    }
    for table in ["creation", "residency", "switching", "capacity"] {
        assert!(report.rows(table).count() > 0, "{table} has rows");
    }

    // The outcome follows the figures: give every default-stack thread 3 MB of resident
    // memory and the thread-stack claim must flip to held.
    let mut heavier = report.clone();
    for row in heavier.variants.iter_mut().filter(|r| r.table == "residency" && r.name == "threads") {
        let stats = row.summary.get_mut("rss_per_unit_bytes").expect("figure");
        (stats.min, stats.median, stats.max) = (3e6, 3e6, 3e6);
    }
    let claim = |report: &Report| {
        SpawnCosts::claims(report).into_iter().find(|c| c.id == "thread-stack").expect("claim").outcome
    };
    assert_eq!(claim(&report), Outcome::DidNotHold);
    assert_eq!(claim(&heavier), Outcome::Held);
}

#[test]
fn claims_without_their_variants_are_not_measured() {
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("threads-only.json");
    let output = binary()
        .args([
            "--quick",
            "--no-progress",
            "--variants",
            "threads-small-stack",
            "--sizes",
            "20",
            "--ring",
            "3",
            "--handoffs",
            "50",
            "--thread-cap",
            "40",
            "--json",
        ])
        .arg(&json)
        .output()
        .expect("the binary runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report = read_report(&json);
    for id in ["task-light", "task-millions", "thread-switch", "async-low-memory"] {
        let claim = report.claims.iter().find(|c| c.id == id).expect(id);
        assert_eq!(claim.outcome, Outcome::Inconclusive, "{id}");
        assert!(claim.evidence.starts_with("not measured"), "{id}: {}", claim.evidence);
    }
    let capacity = report.row("capacity", "threads-small-stack").expect("row");
    assert_eq!(capacity.median("alive_at_once"), Some(40.0));
}

#[test]
fn bad_options_exit_2_with_one_line() {
    for args in
        [&["--variants", "nope"][..], &["--ring", "1"][..], &["--sizes", "0"][..], &["--small-stack-kib", "4"][..]]
    {
        let output = binary().args(args).output().expect("the binary runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
}
