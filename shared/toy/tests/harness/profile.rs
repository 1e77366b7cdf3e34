//! `casebook profile` end to end on the toy: callgrind counts each variant's measured runs,
//! told from the harness by their command line, and the profile leaves no file behind, also
//! when a variant fails. Where valgrind is missing the test says so and passes, unless
//! `CASEBOOK_REQUIRE_VALGRIND` is set (CI installs valgrind and sets it): then it fails.

use std::path::{Path, PathBuf};

use casebook::{
    UsageError,
    tool::profile::{Selection, measure, valgrind},
};

use crate::sandbox::{Sandbox, TOY};

fn valgrind_here() -> Option<PathBuf> {
    match valgrind() {
        Ok(path) => Some(path),
        Err(e) => {
            assert!(
                std::env::var_os("CASEBOOK_REQUIRE_VALGRIND").is_none(),
                "CASEBOOK_REQUIRE_VALGRIND is set, but {e}"
            );
            eprintln!("skipped: {e} (CI runs this test)");
            None
        }
    }
}

fn selection(flags: &[&str]) -> Selection {
    Selection::parse(&flags.iter().map(|f| f.to_string()).collect::<Vec<_>>()).unwrap()
}

/// The loop adds `N` numbers one by one, the formula multiplies once: if the counts were not
/// each variant's own measured runs (the harness's counted in, or the variants mixed up), the
/// loop's could not exceed the formula's by at least one instruction per number.
#[test]
fn callgrind_counts_each_variants_measured_runs_alone() {
    const N: u64 = 200_000;
    let Some(valgrind) = valgrind_here() else { return };
    let sandbox = Sandbox::new();
    let n = N.to_string();
    let profile =
        measure(&valgrind, Path::new(TOY), &selection(&["--variants", "loop,formula", "--n", &n]), &sandbox.tmp())
            .unwrap();
    let names: Vec<&str> = profile.rows.iter().map(|r| r.variant.as_str()).collect();
    assert_eq!(names, ["loop", "formula"]);
    // The quick preset: one warm-up and two measured runs of the toy's one row.
    assert!(profile.rows.iter().all(|r| r.runs == 3), "{profile:?}");
    let (looped, formula) = (profile.rows[0].per_run(), profile.rows[1].per_run());
    assert!(formula > 0.0 && looped > formula + N as f64, "{profile:?}");
    assert!(profile.machine.contains("commit") && profile.valgrind.starts_with("valgrind"), "{profile:?}");
    assert!(sandbox.leftovers().is_empty(), "the profile left files: {:?}", sandbox.leftovers());
}

#[test]
fn a_failing_or_unknown_variant_fails_the_profile_and_leaves_nothing() {
    let Some(valgrind) = valgrind_here() else { return };
    let sandbox = Sandbox::new();
    let failed = measure(&valgrind, Path::new(TOY), &selection(&["--variants", "formula", "--fail"]), &sandbox.tmp())
        .unwrap_err();
    assert!(failed.downcast_ref::<UsageError>().is_none(), "{failed:#}");
    assert!(format!("{failed:#}").contains("formula failed under callgrind"), "{failed:#}");
    let unknown = measure(&valgrind, Path::new(TOY), &selection(&["--variants", "nope"]), &sandbox.tmp()).unwrap_err();
    assert!(unknown.downcast_ref::<UsageError>().is_some(), "{unknown:#}");
    assert!(unknown.to_string().contains("unknown variant 'nope'"), "{unknown:#}");
    assert!(sandbox.leftovers().is_empty(), "the profile left files: {:?}", sandbox.leftovers());
}
