//! The built binary end to end: a quick map succeeds, every variant returns the same digest
//! cell by cell and leaves nothing behind; bad options exit 2 with one line. What happens
//! when something around the server misbehaves is in `reliability`.

use casebook::{VariantSet, testing::CaseBinary};

use request_mix::variants::Variant;

fn binary() -> CaseBinary {
    CaseBinary::new(env!("CARGO_BIN_EXE_request-mix"))
}

#[test]
fn a_quick_map_succeeds_and_its_variants_agree_cell_by_cell() {
    // Under a TMPDIR of its own: it must succeed and leave no file and no process behind.
    let run = binary().run(&["--quick"]);
    let report = run.clean_success();
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    // 2 levels in flight by 2 CPU points, every variant in every cell.
    assert_eq!(report.rows.len(), 4 * Variant::ALL.len());
    assert_eq!(report.tables.len(), 2);
}

#[test]
fn bad_options_exit_2_with_one_line() {
    binary().refuses(&["--cpu-us", "1001"]);
    binary().refuses(&["--in-flight", "0"]);
    binary().refuses(&["--cpu-us", "10,10"]);
    binary().refuses(&["--pool-threads", "0"]);
    binary().refuses(&["--variants", "nope"]);
}

#[test]
fn variants_are_listed() {
    binary().lists_variants(Variant::ALL.iter().map(|v| v.name()));
}
