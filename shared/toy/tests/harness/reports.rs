//! A good run's report: complete, readable as JSON, Markdown and text, and round-tripping.

use casebook_toy::{SUM, Variant};
use std::process::Command;

use casebook::{
    Note, Report,
    model::figure::{CORES_BUSY, PEAK_RSS, PEAK_THREADS, USER_CPU, VOLUNTARY_CS, WALL},
};

use crate::sandbox::{Sandbox, TOY, stderr, stdout};

#[test]
fn a_good_run_writes_a_complete_report() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["--repeat", "3"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = sandbox.report();
    assert_eq!(report.case, "casebook-toy");
    assert!(report.correctness.ok);
    assert_eq!(report.rows.len(), 2);
    for row in &report.rows {
        assert_eq!(row.runs.len(), 3, "{}: warm-up must not be recorded", row.label);
        assert_eq!(row.digest.as_deref(), Some("4999950000"));
        for figure in [WALL, USER_CPU, CORES_BUSY, PEAK_RSS, PEAK_THREADS, VOLUNTARY_CS] {
            assert!(row.stats(figure).is_some(), "{} lacks {}", row.label, figure.key);
        }
        assert!(row.stats(PEAK_RSS).unwrap().median > 0.0);
        assert!(row.stats(PEAK_THREADS).unwrap().median >= 1.0);
        // A note is summarised as its distinct values with counts.
        let how = row.note_counts(Note::new("how")).expect("notes summarised");
        assert_eq!(how.values().sum::<usize>(), 3);
    }
    assert_eq!(report.row(SUM, Variant::Loop).unwrap().summary["vs_baseline"].median, 1.0);
    // The JSON has the documented top-level shape, with its format version.
    let raw: serde_json::Value = serde_json::from_slice(&std::fs::read(sandbox.json()).unwrap()).unwrap();
    for key in ["version", "case", "env", "params", "rows", "claims", "correctness", "verdicts", "tables"] {
        assert!(raw.get(key).is_some(), "missing {key}");
    }
    for key in ["variant", "model", "digest", "runs", "summary", "notes"] {
        assert!(raw["rows"][0].get(key).is_some(), "missing rows[].{key}");
    }
    let text = stdout(&output);
    assert!(text.contains("machine: "), "{text}");
    assert!(text.contains("all 2 rows that ran produced the same answer"), "{text}");
    assert!(text.contains("multiplied ×3"), "{text}");
    assert!(sandbox.leftovers().is_empty(), "scratch left behind: {:?}", sandbox.leftovers());
}

#[test]
fn a_saved_report_renders_as_markdown_and_round_trips() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["--quick"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = sandbox.report();
    let again: Report = serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
    assert_eq!(report, again);

    let rendered = Command::new(TOY).args(["--format", "markdown", "--render"]).arg(sandbox.json()).output().unwrap();
    assert!(rendered.status.success(), "{}", stderr(&rendered));
    let markdown = stdout(&rendered);
    assert!(markdown.contains("**Machine:**"), "{markdown}");
    assert!(markdown.contains("| variant"), "{markdown}");
    assert!(markdown.contains("\n### Correctness\n"), "{markdown}");
}

#[test]
fn a_report_of_the_old_format_is_refused_by_name() {
    let sandbox = Sandbox::new();
    let old = sandbox.path().join("old.json");
    std::fs::write(&old, r#"{"case": "parallel-math", "variants": []}"#).unwrap();
    let output = Command::new(TOY).arg("--render").arg(&old).output().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("format 1") && err.contains("run the case again"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
