//! The built binary end to end: a quick run succeeds, its JSON is a casebook report whose
//! claims use known ids and whose accounting holds, and it leaves nothing on disk.

use std::{path::Path, process::Command};

use casebook::{ClaimId, Report};

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cancellation"))
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

#[test]
fn quick_run_reports_and_cleans_up() {
    let work = tempfile::tempdir().expect("temp dir");
    let scratch = work.path().join("tmp");
    std::fs::create_dir(&scratch).expect("scratch dir");
    let json = work.path().join("report.json");
    let output = binary()
        .args(["--quick", "--no-progress", "--json"])
        .arg(&json)
        // The harness makes its scratch root under TMPDIR: an empty one shows what is left.
        .env("TMPDIR", &scratch)
        .output()
        .expect("the binary runs");
    assert!(output.status.success(), "exit {:?}: {}", output.status.code(), String::from_utf8_lossy(&output.stderr));

    let report = Report::from_json(&std::fs::read(&json).expect("report written")).expect("a report");
    assert_eq!(report.case, "cancellation");
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    assert!(!report.claims.is_empty());
    for id in [ClaimId::CancelAsyncDrop, ClaimId::CancelThreads, ClaimId::TaskCooperative] {
        assert!(report.claims.iter().any(|c| c.id == id), "claim {id} missing");
    }
    let left = files_under(&scratch);
    assert!(left.is_empty(), "left behind: {left:?}");

    // The accounting check is not vacuous: one file too many on disk is caught.
    assert!(cancellation::findings::check(&report).is_empty());
    let mut tampered = report.clone();
    let run = &mut tampered.rows[0].runs[0];
    *run.figures.get_mut(cancellation::figures::FILES_LEFT.key).expect("figure") += 1.0;
    assert_eq!(cancellation::findings::check(&tampered).len(), 1);
}

#[test]
fn bad_options_exit_2_with_one_line() {
    for args in [&["--variants", "nope"][..], &["--workers", "0"][..], &["--deadline-ms", "1"][..]] {
        let output = binary().args(args).output().expect("the binary runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    }
}

#[test]
fn variants_are_listed() {
    let output = binary().arg("--list-variants").output().expect("the binary runs");
    assert!(output.status.success());
    let listing = String::from_utf8_lossy(&output.stdout);
    for name in cancellation::variants::IO_VARIANTS.iter().chain(cancellation::variants::CPU_VARIANTS.iter()) {
        assert!(listing.contains(name), "{name} not listed");
    }
}
