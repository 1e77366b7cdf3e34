//! The built binary, end to end: a quick run succeeds and writes a report with every table,
//! every declared claim and the capacity runs' stops; sizes above a cap are skipped rows in
//! the JSON and the table; bad options exit 2 with one line.

use casebook::{Case, ClaimId, Outcome, Report, VariantSet, testing::CaseBinary};
use spawn_costs::{
    SpawnCosts,
    figures::*,
    tables::{CAPACITY, CREATION, RESIDENCY, SWITCHING},
    variants::Variant::{self, ThreadsSmallStack},
};

fn binary() -> CaseBinary {
    CaseBinary::new(env!("CARGO_BIN_EXE_spawn-costs"))
}

/// Runs the binary with `args` and returns its report and its standard output, after
/// checking that it succeeded and left no file and no process behind.
fn run(args: &[&str]) -> (Report, String) {
    let run = binary().run(args);
    (run.clean_success().clone(), run.stdout())
}

#[test]
fn a_quick_run_succeeds_with_every_table_and_claim() {
    let (report, stdout) = run(&["--quick"]);
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    for table in [CREATION, RESIDENCY, SWITCHING, CAPACITY] {
        assert!(report.ran_in(table).count() > 0, "{table} has rows that ran");
    }
    for id in SpawnCosts::INFO.claims {
        let readings: Vec<_> = report.claims.iter().filter(|c| c.id == *id).map(|c| c.reading.as_deref()).collect();
        // A claim reported more than once says which reading each result decides.
        match id {
            ClaimId::ThreadStack => assert_eq!(readings, [Some("resident memory"), Some("reserved address space")]),
            _ => assert_eq!(readings, [None], "{id}"),
        }
    }
    // The quick preset's task cap (10k) cannot show millions.
    let millions = report.claims.iter().find(|c| c.id == ClaimId::TaskMillions).expect("claim");
    assert_eq!(millions.outcome, Outcome::Inconclusive);
    assert!(millions.evidence.contains("cannot show millions"), "{}", millions.evidence);
    // Every capacity run stopped at its cap, and says so as a note.
    for row in report.ran_in(CAPACITY) {
        assert!(row.runs.iter().all(|r| r.notes(STOPPED_BY) == [AT_CAP]), "{}: {:?}", row.label, row.notes);
    }
    // Creation timed warm batches after the cold one, and recorded both.
    for row in report.ran_in(CREATION) {
        assert!(row.median(BATCHES).is_some_and(|b| b >= 1.0), "{}", row.label);
        assert!(row.median(COLD_SPAWN_PER_UNIT).is_some() && row.median(SPAWN_PER_UNIT).is_some(), "{}", row.label);
    }
    // The case's own verdicts: the books held, and each capacity row says how it ended.
    assert!(report.verdicts.iter().any(|v| v.starts_with("accounting:")), "{:?}", report.verdicts);
    for variant in Variant::ALL {
        assert!(stdout.contains(&format!("capacity, {variant}:")), "{stdout}");
    }
}

#[test]
fn sizes_above_the_cap_are_skipped_rows_and_claims_without_their_variants_are_not_measured() {
    let (report, stdout) = run(&[
        "--quick",
        "--variants",
        "threads-small-stack",
        "--sizes",
        "20,50",
        "--ring",
        "3",
        "--handoffs",
        "50",
        "--thread-cap",
        "40",
    ]);
    for id in [ClaimId::TaskLight, ClaimId::TaskMillions, ClaimId::ThreadSwitch, ClaimId::AsyncLowMemory] {
        let claim = report.claims.iter().find(|c| c.id == id).expect("claim");
        assert_eq!(claim.outcome, Outcome::Inconclusive, "{id}");
        assert!(claim.evidence.starts_with("not measured"), "{id}: {}", claim.evidence);
    }
    assert_eq!(report.median(CAPACITY, ThreadsSmallStack, ALIVE_AT_ONCE), Some(40.0));
    for table in [CREATION, RESIDENCY] {
        let skipped = report.row(table, (ThreadsSmallStack, 50.0)).expect("the row is reported");
        assert_eq!(skipped.skipped.as_deref(), Some("above the small-stack thread cap of 40 set by --thread-cap"));
        assert!(skipped.runs.is_empty());
        assert!(report.need(table, (ThreadsSmallStack, 20.0)).is_ok());
    }
    assert!(stdout.contains("threads-small-stack @50 (above the small-stack thread cap of 40"), "{stdout}");
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
}

#[test]
fn bad_options_exit_2_with_one_line() {
    for args in [
        &["--variants", "nope"][..],
        &["--ring", "1"][..],
        &["--sizes", "0"][..],
        &["--small-stack-kib", "4"][..],
        &["--thread-cap", "100000000"][..],
    ] {
        let stderr = binary().refuses(args);
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
    let unknown = binary().refuses(&["--variants", "nope"]);
    for variant in Variant::ALL {
        assert!(unknown.contains(variant.name()), "{unknown}");
    }
}

#[test]
fn variants_are_listed() {
    binary().lists_variants(Variant::ALL.iter().map(|v| v.name()));
}
