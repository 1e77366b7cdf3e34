//! The built binary end to end: a quick run succeeds, its JSON is a casebook report whose
//! claims use known ids and whose accounting holds, and it leaves nothing on disk.

use casebook::{ClaimId, testing::CaseBinary};

fn binary() -> CaseBinary {
    CaseBinary::new(env!("CARGO_BIN_EXE_cancellation"))
}

#[test]
fn quick_run_reports_and_cleans_up() {
    let run = binary().run(&["--quick"]);
    let report = run.clean_success();
    assert_eq!(report.case, "cancellation");
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    assert!(!report.claims.is_empty());
    for id in [ClaimId::CancelAsyncDrop, ClaimId::CancelThreads, ClaimId::TaskCooperative] {
        assert!(report.claims.iter().any(|c| c.id == id), "claim {id} missing");
    }

    // The accounting check is not vacuous: one file too many on disk is caught.
    assert!(cancellation::findings::check(report).is_empty());
    let mut tampered = report.clone();
    let run = &mut tampered.rows[0].runs[0];
    *run.figures.get_mut(cancellation::figures::FILES_LEFT.key).expect("figure") += 1.0;
    assert_eq!(cancellation::findings::check(&tampered).len(), 1);
}

#[test]
fn bad_options_exit_2_with_one_line() {
    for args in [&["--variants", "nope"][..], &["--workers", "0"][..], &["--deadline-ms", "1"][..]] {
        binary().refuses(args);
    }
}

#[test]
fn variants_are_listed() {
    use casebook::VariantSet;
    binary().lists_variants(cancellation::variants::Variant::ALL.iter().map(|v| v.name()));
}
