//! The built binary, end to end: a quick run succeeds and writes a report whose claims all
//! use the shared ids; bad options exit 2 with one line.

use std::process::Command;

use casebook::{Case, Outcome, Report, Stats, claims::CLAIMS};
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
    for claim in &report.claims {
        assert!(CLAIMS.iter().any(|(id, _)| *id == claim.id), "unknown claim id {}", claim.id);
        assert!(SpawnCosts::INFO.claims.contains(&claim.id.as_str()));
    }
    for id in SpawnCosts::INFO.claims {
        let results: Vec<_> = report.claims.iter().filter(|c| c.id == *id).collect();
        // A claim reported more than once says which reading each result decides.
        match *id {
            "thread-stack" => {
                let readings: Vec<_> = results.iter().map(|c| c.reading.as_deref()).collect();
                assert_eq!(readings, [Some("resident memory"), Some("reserved address space")]);
            }
            _ => assert_eq!(results.len(), 1, "{id}"),
        }
    }
    for table in ["creation", "residency", "switching", "capacity"] {
        assert!(report.rows(table).count() > 0, "{table} has rows");
    }
    rules_follow_the_figures(&report);
}

fn outcome(report: &Report, id: &str, reading: Option<&str>) -> Outcome {
    let claims = SpawnCosts::claims(report);
    let claim = claims.iter().find(|c| c.id == id && c.reading.as_deref() == reading).expect("claim");
    claim.outcome
}

/// Sets a figure of every matching row to `values`, as if those runs had measured them.
fn set_figure(report: &mut Report, table: &str, variant: &str, figure: &str, values: &[f64]) {
    for row in report.variants.iter_mut().filter(|r| r.table == table && r.name == variant) {
        row.summary.insert(figure.into(), Stats::of(values).expect("values"));
    }
}

/// Each claim's outcome follows its figures and its rule, checked by editing a real quick
/// report's summaries: no timing is asserted, only the rules.
fn rules_follow_the_figures(report: &Report) {
    const RESIDENT: Option<&str> = Some("resident memory");
    const RESERVED: Option<&str> = Some("reserved address space");
    // A parked thread keeps a few pages resident and reserves its whole stack.
    assert_eq!(outcome(report, "thread-stack", RESIDENT), Outcome::DidNotHold);
    assert_eq!(outcome(report, "thread-stack", RESERVED), Outcome::Held);

    let mut r = report.clone();
    set_figure(&mut r, "residency", "threads", "rss_per_unit_bytes", &[3e6, 3e6]);
    assert_eq!(outcome(&r, "thread-stack", RESIDENT), Outcome::Held, "3 MB resident is within 2-8 MB");
    set_figure(&mut r, "residency", "threads", "rss_per_unit_bytes", &[3e6]);
    assert_eq!(outcome(&r, "thread-stack", RESIDENT), Outcome::Inconclusive, "one run decides nothing");
    set_figure(&mut r, "residency", "threads", "vsz_per_unit_bytes", &[64e6, 64e6]);
    assert_eq!(outcome(&r, "thread-stack", RESERVED), Outcome::DidNotHold, "64 MB is not about 2-8 MB");

    // task-light: every tokio variant must be light, in every run, with two runs at least.
    let mut r = report.clone();
    set_figure(&mut r, "residency", "tokio-current", "rss_per_unit_bytes", &[20e3, 21e3]);
    assert_eq!(outcome(&r, "task-light", None), Outcome::DidNotHold);
    let mut r = report.clone();
    set_figure(&mut r, "residency", "tokio-multi", "rss_per_unit_bytes", &[600.0]);
    assert_eq!(outcome(&r, "task-light", None), Outcome::Inconclusive);
    // An empty figure is not measured, not light.
    let mut r = report.clone();
    for row in r.variants.iter_mut().filter(|row| row.table == "residency") {
        row.summary.remove("rss_per_unit_bytes");
    }
    assert_eq!(outcome(&r, "task-light", None), Outcome::Inconclusive);
    assert_eq!(outcome(&r, "async-low-memory", None), Outcome::Inconclusive);

    // task-millions: the quick preset's cap (10k) cannot decide; two million in every run
    // can; a cap of millions that was not reached is a "did not hold".
    assert_eq!(outcome(report, "task-millions", None), Outcome::Inconclusive);
    let mut r = report.clone();
    for v in ["tokio-multi", "tokio-multi-main", "tokio-current"] {
        set_figure(&mut r, "capacity", v, "target", &[2e6, 2e6]);
        set_figure(&mut r, "capacity", v, "alive_at_once", &[2e6, 2e6]);
    }
    assert_eq!(outcome(&r, "task-millions", None), Outcome::Held);
    set_figure(&mut r, "capacity", "tokio-current", "alive_at_once", &[2e6]);
    assert_eq!(outcome(&r, "task-millions", None), Outcome::Inconclusive, "one run decides nothing");
    set_figure(&mut r, "capacity", "tokio-current", "alive_at_once", &[1.5e6, 1.5e6]);
    assert_eq!(outcome(&r, "task-millions", None), Outcome::DidNotHold);
    let mut r = report.clone();
    for v in ["tokio-multi", "tokio-multi-main", "tokio-current"] {
        set_figure(&mut r, "capacity", v, "target", &[1e6, 1e6]);
        set_figure(&mut r, "capacity", v, "alive_at_once", &[1e6, 1e6]);
    }
    assert_eq!(outcome(&r, "task-millions", None), Outcome::Inconclusive, "a million is not millions");

    // thread-switch and async-low-memory are ratio rules over every run.
    let mut r = report.clone();
    set_figure(&mut r, "switching", "threads", "per_handoff_s", &[1.0e-6, 1.1e-6]);
    set_figure(&mut r, "switching", "tokio-multi", "per_handoff_s", &[0.9e-6, 1.0e-6]);
    assert_eq!(outcome(&r, "thread-switch", None), Outcome::DidNotHold);
    set_figure(&mut r, "switching", "threads", "per_handoff_s", &[10e-6, 11e-6]);
    assert_eq!(outcome(&r, "thread-switch", None), Outcome::Held);
    let mut r = report.clone();
    for v in ["threads", "threads-small-stack"] {
        set_figure(&mut r, "residency", v, "rss_per_unit_bytes", &[1000.0, 1000.0]);
    }
    assert_eq!(outcome(&r, "async-low-memory", None), Outcome::DidNotHold);
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
