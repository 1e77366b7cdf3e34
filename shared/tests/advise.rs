//! `casebook advise` end to end: input that cannot describe one workload is one line on
//! stderr and exit 2, before any report is read.

use std::process::Command;

fn advise(flags: &[&str]) -> (Option<i32>, String) {
    let empty = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .arg("advise")
        .args(flags)
        .arg("--reports")
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(output.stdout.is_empty(), "{}", String::from_utf8_lossy(&output.stdout));
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn contradictory_or_negative_flags_are_one_line_and_exit_2() {
    for (flags, says) in [
        (&["--cpu-us", "200", "--wait-us", "800", "--in-flight", "1000", "--connections", "10"][..], "--connections"),
        (&["--cpu-us", "-5", "--wait-us", "800", "--in-flight", "16"], "--cpu-us"),
        (&["--cpu-us", "200", "--wait-us", "800", "--in-flight", "-3"], "--in-flight"),
        (&["--file-size-kib", "-64"], "--file-size-kib"),
        (&["--cpu-us", "200", "--in-flight", "16"], "--wait-us"),
        (&[], "describe a workload"),
    ] {
        let (code, stderr) = advise(flags);
        assert_eq!(code, Some(2), "{flags:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{flags:?}: {stderr}");
        assert!(stderr.contains(says), "{flags:?}: {stderr}");
    }
}

#[test]
fn a_missing_report_is_one_line_and_exit_1_naming_where_it_looked() {
    let (code, stderr) = advise(&["--cpu-us", "200", "--wait-us", "800", "--in-flight", "16"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("just run request-mix"), "{stderr}");
}
