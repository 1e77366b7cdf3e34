//! The built binary end to end: a quick run succeeds, its report's books balance, it leaves
//! nothing on disk and no process behind, bad options are one line and exit 2, and an
//! unbounded queue that reaches the memory guard is a finding, not a crash.

use bridges::{figures::GUARD_HIT, tables::*, variants::Variant};
use casebook::{ClaimId, VariantSet, testing::CaseBinary};

fn binary() -> CaseBinary {
    CaseBinary::new(env!("CARGO_BIN_EXE_bridges"))
}

#[test]
fn quick_run_reports_balances_its_books_and_cleans_up() {
    let run = binary().run(&["--quick"]);
    // It succeeded, left nothing on disk and no process behind.
    let report = run.clean_success();
    assert_eq!(report.case, "bridges");
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    assert!(bridges::findings::checks::check(report).is_empty(), "{:?}", bridges::findings::checks::check(report));
    for id in [
        ClaimId::SameStream,
        ClaimId::HybridCoordination,
        ClaimId::ChannelCapacity,
        ClaimId::NoNeedlessMixing,
        ClaimId::ThreadsFireForget,
        ClaimId::StructuredConcurrency,
    ] {
        assert!(report.claims.iter().any(|c| c.id == id), "claim {id} missing");
    }
    // Every table ran, and the fire-and-forget program's books were read after it exited.
    for table in [BOOK, DRIFT, THREAD_TO_THREAD, TASK_TO_TASK, MANY_PRODUCERS, FIRE_AND_FORGET] {
        assert!(report.ran_in(table).any(|r| !r.runs.is_empty()), "{table} did not run");
    }
}

#[test]
fn bad_options_exit_2_with_one_line() {
    for args in [
        &["--variants", "nope"][..],
        &["--messages", "0"][..],
        &["--messages", "5000000000"][..],
        &["--capacities", "lots"][..],
        &["--drift-secs", "0"][..],
        &["--fix-capacity", "0"][..],
        &["--producers", "1"][..],
        &["--memory-guard-mib", "0"][..],
    ] {
        binary().refuses(args);
    }
}

#[test]
fn a_queue_that_reaches_the_memory_guard_is_a_finding_not_a_crash() {
    // 64 KiB intervals under a 1 MiB guard: the unbounded producer stops after about 15.
    let args =
        ["--quick", "--variants", Variant::TaskProducer.name(), "--drift-payload", "65536", "--memory-guard-mib", "1"];
    let run = binary().run(&args);
    let report = run.clean_success();
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    let row = report.row(DRIFT, Variant::TaskProducer).expect("the drift row");
    assert!(!row.runs.is_empty() && row.runs.iter().all(|r| r.figure(GUARD_HIT) == Some(1.0)), "{:?}", row.summary);
    assert!(report.verdicts.iter().any(|v| v.contains("memory guard")), "{:?}", report.verdicts);
}

#[test]
fn every_variant_is_listed() {
    binary().lists_variants(Variant::ALL.iter().map(|v| v.name()));
}
