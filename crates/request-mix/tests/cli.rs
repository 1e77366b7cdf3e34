//! The built binary end to end: a quick run succeeds, its variants agree and it leaves nothing
//! behind; bad options exit 2 with one line.

use casebook::{VariantSet, testing::CaseBinary};

use request_mix::variants::Variant;

fn binary() -> CaseBinary {
    CaseBinary::new(env!("CARGO_BIN_EXE_request-mix"))
}

#[test]
fn a_quick_run_succeeds_and_its_variants_agree() {
    // Under a TMPDIR of its own: it must succeed and leave no file and no process behind.
    let run = binary().run(&["--quick"]);
    let report = run.clean_success();
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    assert_eq!(report.rows.len(), Variant::ALL.len());
}

#[test]
fn bad_options_exit_2_with_one_line() {
    binary().refuses(&["--items", "0"]);
    binary().refuses(&["--variants", "nope"]);
}

#[test]
fn variants_are_listed() {
    binary().lists_variants(Variant::ALL.iter().map(|v| v.name()));
}
