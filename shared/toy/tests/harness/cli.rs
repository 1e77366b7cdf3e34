//! The command line: bad input is one line and exit 2, before anything runs.

use std::process::Command;

use crate::sandbox::{Sandbox, TOY, stderr, stdout};

#[test]
fn usage_errors_exit_2_with_one_line() {
    let sandbox = Sandbox::new();
    for (args, expect) in [
        (vec!["--variants", "nope"], "unknown variant 'nope'"),
        (vec!["--repeat", "0"], "--repeat"),
        (vec!["--quick", "--full"], "cannot be used with"),
        (vec!["--preset", "quick", "--full"], "cannot be used with"),
        (vec!["--preset", "huge"], "--preset"),
        (vec!["--n", "0"], "--n must be at least 1"),
        (vec!["--timeout", "0"], "--timeout"),
        (vec!["--format", "yaml"], "--format"),
        (vec!["--no-such-flag"], "--no-such-flag"),
        (vec!["--n", "99999999999"], "at most 2^32"),
        (vec!["--need-bytes", "4000000000000000000"], "3.5 EiB"),
        (vec!["--cores", "99999"], "--cores must be between 1 and"),
        (vec!["--cores", "0"], "--cores"),
    ] {
        let output = sandbox.run(&args);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(expect), "{args:?}: {err}");
    }
    let unreadable = Command::new(TOY).args(["--render", "/nonexistent/report.json"]).output().unwrap();
    assert_eq!(unreadable.status.code(), Some(2));
    assert!(stderr(&unreadable).contains("cannot read"), "{}", stderr(&unreadable));
    let listed = sandbox.run(&["--variants", "nope"]);
    assert!(stderr(&listed).contains("valid variants: loop, formula"));
    assert!(sandbox.leftovers().is_empty(), "a usage error left files: {:?}", sandbox.leftovers());
}

#[test]
fn render_refuses_options_it_would_ignore() {
    let sandbox = Sandbox::new();
    assert!(sandbox.run(&["--quick"]).status.success());
    let json = sandbox.json();
    let output = Command::new(TOY).args(["--repeat", "3", "--render"]).arg(&json).output().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("--render") && err.contains("--repeat"), "{err}");
    let output = Command::new(TOY).args(["--format", "markdown", "--render"]).arg(&json).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn preset_and_its_aliases_agree() {
    let sandbox = Sandbox::new();
    assert!(sandbox.run(&["--preset", "quick"]).status.success());
    assert_eq!(sandbox.report().preset, casebook::Preset::Quick);
    assert!(sandbox.run(&["--quick"]).status.success());
    assert_eq!(sandbox.report().repeat, 2);
}

#[test]
fn list_variants_help_and_version_exit_0() {
    let listed = Command::new(TOY).arg("--list-variants").output().unwrap();
    assert!(listed.status.success());
    let text = stdout(&listed);
    assert!(text.contains("loop") && text.contains("formula") && text.contains("sequential"));
    let help = Command::new(TOY).arg("--help").output().unwrap();
    assert!(help.status.success());
    let text = stdout(&help);
    for flag in ["--preset", "--quick", "--repeat", "--variants", "--format", "--json", "--timeout", "--plots"] {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
    let version = Command::new(TOY).arg("--version").output().unwrap();
    assert!(version.status.success());
    let text = stdout(&version);
    assert!(text.starts_with("casebook-toy ") && text.contains("report format 2"), "{text}");
}
