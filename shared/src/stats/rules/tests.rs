//! The rules' own tests: outcomes from intervals, pairing, combining, and the words.

use super::{interval::median_interval, *};
use crate::model::{claims::Outcome, format::Format};
use Outcome::*;

fn s(values: &[f64]) -> Series {
    Series::of("x", Format::Seconds, values)
}

#[test]
fn at_least_reads_the_whole_interval() {
    assert_eq!(at_least(&s(&[1.8, 1.9, 1.85, 1.82, 1.88]), 1.7).outcome, Held);
    assert_eq!(at_least(&s(&[1.2, 1.3, 1.25, 1.22, 1.28]), 1.7).outcome, DidNotHold);
    assert_eq!(at_least(&s(&[1.6, 1.8, 1.65, 1.75, 1.7]), 1.7).outcome, Inconclusive);
    // One run decides nothing, however far from the line it lands.
    let one = at_least(&s(&[9.0]), 1.7);
    assert_eq!(one.outcome, Inconclusive);
    assert!(one.describe().unwrap().contains("no spread"), "{:?}", one.describe());
    assert_eq!(at_least(&s(&[]), 1.7).outcome, Inconclusive);
}

#[test]
fn at_most_and_within_mirror_it() {
    assert_eq!(at_most(&s(&[1.0, 1.1, 1.05]), 2.0).outcome, Held);
    assert_eq!(at_most(&s(&[3.0, 3.1, 3.05]), 2.0).outcome, DidNotHold);
    assert_eq!(at_most(&s(&[1.5, 2.5, 2.0]), 2.0).outcome, Inconclusive);
    assert_eq!(within(&s(&[5.0, 5.1, 5.2]), 4.0, 6.0).outcome, Held);
    assert_eq!(within(&s(&[7.0, 7.1, 7.2]), 4.0, 6.0).outcome, DidNotHold);
    assert_eq!(within(&s(&[3.0, 3.1, 3.2]), 4.0, 6.0).outcome, DidNotHold);
    assert_eq!(within(&s(&[5.9, 6.1, 6.0]), 4.0, 6.0).outcome, Inconclusive);
}

#[test]
fn a_bimodal_baseline_no_longer_makes_a_clear_speedup_inconclusive() {
    // The fresh-clone n-body runs: one of five sequential runs fell into a faster mode.
    // Every run was still well over 1.5x the parallel run beside it.
    let sequential = s(&[0.450, 0.378, 0.453, 0.453, 0.380]);
    let parallel = s(&[0.250, 0.210, 0.251, 0.252, 0.211]);
    let d = ratio_at_least(&sequential, &parallel, 1.5);
    assert_eq!(d.outcome, Held);
    let (low, high) = d.interval().unwrap();
    assert!(low >= 1.5 && high <= 1.81, "{low}..{high}");
    assert!(d.describe().unwrap().contains("interval"), "{:?}", d.describe());
    assert_eq!(ratio_at_least(&parallel, &sequential, 1.5).outcome, DidNotHold);
    assert_eq!(ratio_at_most(&parallel, &sequential, 0.7).outcome, Held);
    assert_eq!(ratio_at_most(&sequential, &parallel, 1.0).outcome, DidNotHold);
}

#[test]
fn pairing_drops_runs_missing_on_either_side() {
    let a = Series::new("a", Format::Count, vec![Some(10.0), None, Some(12.0), Some(11.0)]);
    let b = Series::new("b", Format::Count, vec![Some(1.0), Some(1.0), None, Some(1.0)]);
    let d = ratio_at_least(&a, &b, 5.0);
    assert_eq!(d.basis[0].runs, 2);
    assert_eq!(d.outcome, Held);
}

#[test]
fn exceeds_by_works_on_differences() {
    let held = s(&[10.0, 11.0, 12.0]);
    let control = s(&[1.0, 1.5, 1.2]);
    assert_eq!(exceeds_by(&held, &control, 5.0).outcome, Held);
    assert_eq!(exceeds_by(&held, &control, 20.0).outcome, DidNotHold);
    assert_eq!(exceeds_by(&held, &control, 10.0).outcome, Inconclusive);
}

#[test]
fn every_run_needs_agreement() {
    assert_eq!(every_run("stopped", &[true, true]).outcome, Held);
    assert_eq!(every_run("stopped", &[false, false]).outcome, DidNotHold);
    assert_eq!(every_run("stopped", &[true, false]).outcome, Inconclusive);
    assert_eq!(every_run("stopped", &[true]).outcome, Inconclusive);
}

#[test]
fn combining() {
    assert_eq!(combine(&[]), Inconclusive);
    assert_eq!(combine(&[Held, Held]), Held);
    assert_eq!(combine(&[Held, Inconclusive]), Inconclusive);
    assert_eq!(combine(&[Held, DidNotHold, Inconclusive]), DidNotHold);
    let d = Decision::all([at_least(&s(&[2.0, 2.1]), 1.0), undecided("no second row")]);
    assert_eq!(d.outcome, Inconclusive);
    assert_eq!(d.basis.len(), 1);
    assert!(d.threshold.starts_with("held if x is at least"), "{}", d.threshold);
    assert!(d.evidence.ends_with("; no second row"), "{}", d.evidence);
}

#[test]
fn intervals_are_made_of_runs_and_narrow_with_more_of_them() {
    let seven = [1.0, 1.3, 0.9, 1.1, 1.2, 1.05, 0.95];
    let (estimate, low, high) = median_interval(&seven);
    // Seven runs reach 95% only with their whole range ...
    assert_eq!((estimate, low, high), (1.05, 0.9, 1.3));
    // ... eleven leave the outermost run out at each end.
    let eleven = [1.0, 1.3, 0.9, 1.1, 1.2, 1.05, 0.95, 1.15, 1.25, 0.85, 1.35];
    assert_eq!(median_interval(&eleven), (1.1, 0.9, 1.3));
}

#[test]
fn outcome_serializes_in_kebab_case() {
    assert_eq!(serde_json::to_string(&DidNotHold).unwrap(), "\"did-not-hold\"");
}

#[test]
fn rules_say_in_words_what_they_decided() {
    let fast = Series::of("rayon wall", Format::Seconds, &[0.25, 0.24, 0.26, 0.25, 0.24]);
    let slow = Series::of("sequential wall", Format::Seconds, &[0.48, 0.47, 0.49, 0.48, 0.50]);
    let d = ratio_at_least(&slow, &fast, 1.5);
    assert_eq!(
        d.threshold,
        "held if sequential wall / rayon wall, paired run by run, is at least 1.50x, the whole interval of its median at or above it; did not hold if the whole interval is below"
    );
    assert!(
        d.evidence.starts_with("sequential wall 480.0 ms (5 runs, 470.0 ms to 500.0 ms), rayon wall"),
        "{}",
        d.evidence
    );
    assert!(d.describe().unwrap().contains("94% interval"), "five runs: their range, {:?}", d.describe());
    assert_eq!(
        at_most(&fast, 0.3).threshold.split(';').next().unwrap(),
        "held if rayon wall is at most 300.0 ms, the whole interval of its median at or below it"
    );
    assert_eq!(every_run("it stopped", &[true, true]).evidence, "it stopped: 2 of 2 runs");
    assert_eq!(fact("the digests agree", false).outcome, DidNotHold);
    assert_eq!(at_least(&fast, 0.1).noting("3 cores").evidence, format!("rayon wall {}; 3 cores", fast.spread()));
}

#[test]
fn fewer_runs_than_the_minimum_give_a_range_not_an_interval() {
    let d = at_least(&s(&[1.8, 1.9, 1.85]), 1.0);
    assert_eq!(d.outcome, Held);
    assert_eq!(d.runs(), Some(3));
    assert!(d.describe().unwrap().contains("range of 3 runs"), "{:?}", d.describe());
}
