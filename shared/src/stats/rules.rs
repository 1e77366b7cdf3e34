//! The outcome rules: the only way a figure becomes "held", "did not hold" or
//! "inconclusive". Every case decides its claims with these, so a rule is written and
//! tested once.
//!
//! A rule looks at a [`Series`] (one value per measured run of a row, in run order) and
//! decides from an interval, not from a single median: a 95% bootstrap interval of the
//! median (of the values, or of the run-by-run ratios or differences between two rows).
//! Held when the whole interval is on the claim's side of the threshold, did not hold when
//! the whole interval is on the other side, inconclusive when it straddles the line. Runs
//! of a table are interleaved (A B C A B C ...), so run `i` of one row and run `i` of
//! another ran under the same background load: pairing them cancels much of it.
//!
//! One run has no spread: it decides nothing, however far from the line it lands.

use serde::{Deserialize, Serialize};

use crate::{model::claims::Outcome, model::format::Format, stats::Stats};

/// One figure of one row, run by run (`None` where a run did not record it).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The rows the values come from, `(table, row label)`: what a claim's reader is sent to.
    pub rows: Vec<(String, String)>,
    /// What it is, for evidence: `rayon wall_s`.
    pub label: String,
    pub format: Format,
    pub values: Vec<Option<f64>>,
}

impl Series {
    pub fn new(label: impl Into<String>, format: Format, values: Vec<Option<f64>>) -> Series {
        Series { rows: Vec::new(), label: label.into(), format, values }
    }

    /// A series where every run has a value (tests and derived figures).
    pub fn of(label: impl Into<String>, format: Format, values: &[f64]) -> Series {
        Series::new(label, format, values.iter().copied().map(Some).collect())
    }

    /// The values that were recorded, in run order.
    pub fn present(&self) -> Vec<f64> {
        self.values.iter().flatten().copied().collect()
    }

    pub fn stats(&self) -> Option<Stats> {
        Stats::of(&self.present())
    }

    /// The median, or NaN for a series with no value (which `show` prints as `–`).
    pub fn median(&self) -> f64 {
        self.stats().map(|s| s.median).unwrap_or(f64::NAN)
    }

    /// The median in the series' format.
    pub fn show(&self) -> String {
        show(self.median(), self.format)
    }

    /// The median with its range: `9.6 KiB (3 runs, 9.6 KiB to 9.7 KiB)`.
    pub fn spread(&self) -> String {
        match self.stats() {
            None => "–".into(),
            Some(s) if s.n < 2 => format!("{} (1 run)", show(s.median, self.format)),
            Some(s) => format!(
                "{} ({} runs, {} to {})",
                show(s.median, self.format),
                s.n,
                show(s.min, self.format),
                show(s.max, self.format)
            ),
        }
    }

    /// The same series, known to come from row `label` of `table`.
    pub fn from_row(mut self, table: &str, label: &str) -> Series {
        self.rows = vec![(table.to_string(), label.to_string())];
        self
    }

    /// The same runs under a label that says what they are in the claim's words: the label
    /// is what a rule's threshold and evidence sentences are made of.
    pub fn named(mut self, label: impl Into<String>) -> Series {
        self.label = label.into();
        self
    }

    /// The same runs, each value transformed (a change of unit, a per-unit cost).
    pub fn map(&self, format: Format, f: impl Fn(f64) -> f64) -> Series {
        Series {
            rows: self.rows.clone(),
            ..Series::new(self.label.clone(), format, self.values.iter().map(|v| v.map(&f)).collect())
        }
    }

    /// Run-by-run combination with another row's series; runs missing on either side drop out.
    pub fn paired(&self, other: &Series, format: Format, label: &str, f: impl Fn(f64, f64) -> f64) -> Series {
        let values = self.values.iter().zip(&other.values).map(|(a, b)| Some(f((*a)?, (*b)?))).collect();
        let rows = self.rows.iter().chain(&other.rows).cloned().collect();
        Series { rows, ..Series::new(label, format, values) }
    }
}

fn show(value: f64, format: Format) -> String {
    if value.is_nan() { "–".into() } else { format.show(value) }
}

/// What one rule saw: the estimate (the median), its interval, and over how many runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Basis {
    /// `paired ratio`, `median`, `runs that stopped in time`.
    pub what: String,
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    pub runs: usize,
    pub format: Format,
}

impl Basis {
    /// `a / b 1.80x, 95% interval 1.51x to 1.81x, 5 runs`; with fewer than [`MIN_RUNS`]
    /// runs the bootstrap interval is little more than their range, and says so:
    /// `a / b 1.80x, range of 3 runs 1.51x to 1.81x`.
    pub fn describe(&self) -> String {
        let show = |v: f64| self.format.show(v);
        if self.runs < 2 {
            return format!("{} {}, {} run: no spread to judge by", self.what, show(self.estimate), self.runs);
        }
        if self.low == self.high {
            return format!("{} {}, {} runs", self.what, show(self.estimate), self.runs);
        }
        if self.runs < MIN_RUNS {
            return format!(
                "{} {}, range of {} runs {} to {}",
                self.what,
                show(self.estimate),
                self.runs,
                show(self.low),
                show(self.high)
            );
        }
        format!(
            "{} {}, {:.0}% interval {} to {}, {} runs",
            self.what,
            show(self.estimate),
            CONFIDENCE * 100.0,
            show(self.low),
            show(self.high),
            self.runs
        )
    }
}

/// A rule's verdict with what it rests on, and the rule and the figures in words, rendered
/// from the rule's own parameters so that the sentence a reader sees cannot drift from the
/// rule that decided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub basis: Vec<Basis>,
    /// When the claim holds and when it does not: `held if ...; did not hold if ...`.
    pub threshold: String,
    /// The figures the rule compared, each with its runs.
    pub evidence: String,
    /// The rows the compared series came from, `(table, row label)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<(String, String)>,
}

impl Decision {
    /// Several rules that must all hold: held if all held, did not hold if any did not,
    /// inconclusive otherwise (and with nothing to combine).
    pub fn all(decisions: impl IntoIterator<Item = Decision>) -> Decision {
        let decisions: Vec<Decision> = decisions.into_iter().collect();
        let outcome = combine(&decisions.iter().map(|d| d.outcome).collect::<Vec<_>>());
        let parts = |part: fn(&Decision) -> &str| -> Vec<&str> {
            decisions.iter().map(part).filter(|t| !t.is_empty()).collect()
        };
        let thresholds = parts(|d| &d.threshold);
        let threshold = match thresholds.len() {
            0 | 1 => thresholds.concat(),
            _ => format!("all of: {}", thresholds.join("; and ")),
        };
        let evidence = parts(|d| &d.evidence).join("; ");
        let mut rows: Vec<(String, String)> = Vec::new();
        for row in decisions.iter().flat_map(|d| d.rows.iter()) {
            if !rows.contains(row) {
                rows.push(row.clone());
            }
        }
        Decision { outcome, basis: decisions.into_iter().flat_map(|d| d.basis).collect(), threshold, evidence, rows }
    }

    /// The same decision with `context` added to its evidence: figures beside the compared
    /// ones that help a reader (a count, a cost per request), never the compared ones again.
    pub fn noting(mut self, context: impl AsRef<str>) -> Decision {
        let context = context.as_ref();
        if !context.is_empty() {
            self.evidence =
                if self.evidence.is_empty() { context.into() } else { format!("{}; {context}", self.evidence) };
        }
        self
    }

    /// The first interval, as `(low, high)`.
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.basis.first().map(|b| (b.low, b.high))
    }

    /// Every basis, one clause each.
    pub fn describe(&self) -> Option<String> {
        (!self.basis.is_empty()).then(|| self.basis.iter().map(Basis::describe).collect::<Vec<_>>().join("; "))
    }

    /// The fewest runs any basis rests on.
    pub fn runs(&self) -> Option<usize> {
        self.basis.iter().map(|b| b.runs).min()
    }
}

/// One outcome from several parts of the same claim: held only if all held, did not hold
/// if any did not, inconclusive otherwise, and inconclusive when there is nothing to combine.
pub fn combine(outcomes: &[Outcome]) -> Outcome {
    if outcomes.is_empty() {
        Outcome::Inconclusive
    } else if outcomes.contains(&Outcome::DidNotHold) {
        Outcome::DidNotHold
    } else if outcomes.iter().all(|o| *o == Outcome::Held) {
        Outcome::Held
    } else {
        Outcome::Inconclusive
    }
}

/// The confidence of every interval the rules use.
pub const CONFIDENCE: f64 = 0.95;
pub use crate::model::claims::MIN_RUNS;
/// Bootstrap resamples: enough that the interval's ends move by less than the figures' noise.
const RESAMPLES: usize = 4000;
/// A fixed seed: the same runs always give the same interval, so a report is reproducible
/// from its own raw records.
const SEED: u64 = 0x5eed_cafe_f00d_0001;

/// The median of `values` with its percentile-bootstrap interval. Needs two values or more.
fn median_interval(values: &[f64]) -> (f64, f64, f64) {
    let estimate = crate::stats::median(values).unwrap_or(f64::NAN);
    let mut rng = fastrand::Rng::with_seed(SEED);
    let n = values.len();
    let mut resample = vec![0.0; n];
    let mut medians: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            for slot in resample.iter_mut() {
                *slot = values[rng.usize(..n)];
            }
            resample.sort_by(f64::total_cmp);
            crate::stats::median_sorted(&resample)
        })
        .collect();
    medians.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    let at = |q: f64| medians[((q * RESAMPLES as f64) as usize).min(RESAMPLES - 1)];
    (estimate, at(tail), at(1.0 - tail))
}

/// Which side of a line the claim is on.
#[derive(Clone, Copy)]
enum Side {
    /// The median must be at least the line.
    AtLeast,
    /// The median must be at most the line.
    AtMost,
}

impl Side {
    fn held(self, low: f64, high: f64, line: f64) -> bool {
        match self {
            Side::AtLeast => low >= line,
            Side::AtMost => high <= line,
        }
    }
    fn missed(self, low: f64, high: f64, line: f64) -> bool {
        match self {
            Side::AtLeast => high < line,
            Side::AtMost => low > line,
        }
    }
    /// `held if X is at least 1.5x, the whole 95% interval at or above it; did not hold if
    /// the whole interval is below`.
    fn threshold(self, what: &str, line: &str) -> String {
        let (bound, side, other) = match self {
            Side::AtLeast => ("at least", "at or above", "below"),
            Side::AtMost => ("at most", "at or below", "above"),
        };
        format!(
            "held if {what} is {bound} {line}, the whole {:.0}% interval of its median {side} it; did not hold if the whole interval is {other}",
            CONFIDENCE * 100.0
        )
    }
}

/// Decides from the interval of the median of `values`.
fn decide(
    what: &str,
    format: Format,
    values: &[f64],
    held: impl Fn(f64, f64) -> bool,
    missed: impl Fn(f64, f64) -> bool,
) -> (Outcome, Vec<Basis>) {
    if values.is_empty() {
        return (Outcome::Inconclusive, Vec::new());
    }
    if values.len() < 2 {
        let basis = Basis { what: what.into(), estimate: values[0], low: values[0], high: values[0], runs: 1, format };
        return (Outcome::Inconclusive, vec![basis]);
    }
    let (estimate, low, high) = median_interval(values);
    let outcome = if held(low, high) {
        Outcome::Held
    } else if missed(low, high) {
        Outcome::DidNotHold
    } else {
        Outcome::Inconclusive
    };
    (outcome, vec![Basis { what: what.into(), estimate, low, high, runs: values.len(), format }])
}

/// The median of one series against a line.
fn against_line(series: &Series, line: f64, side: Side) -> Decision {
    let (outcome, basis) = decide(
        &series.label,
        series.format,
        &series.present(),
        |low, high| side.held(low, high, line),
        |low, high| side.missed(low, high, line),
    );
    let threshold = side.threshold(&series.label, &series.format.show(line));
    Decision {
        outcome,
        basis,
        threshold,
        evidence: format!("{} {}", series.label, series.spread()),
        rows: series.rows.clone(),
    }
}

/// Two series paired run by run (`a / b`, `a − b`), the median of the pairs against a line.
fn paired_against_line(a: &Series, b: &Series, pair: Pair, line: f64, side: Side) -> Decision {
    let (label, format, line_text) = match pair {
        Pair::Ratio => (format!("{} / {}", a.label, b.label), Format::Ratio, Format::Ratio.show(line)),
        Pair::Difference => (format!("{} − {}", a.label, b.label), a.format, a.format.show(line)),
    };
    let combined = a.paired(b, format, &label, |x, y| match pair {
        Pair::Ratio => x / y,
        Pair::Difference => x - y,
    });
    let (outcome, basis) = decide(
        &combined.label,
        format,
        &combined.present(),
        |low, high| side.held(low, high, line),
        |low, high| side.missed(low, high, line),
    );
    let threshold = side.threshold(&format!("{label}, paired run by run,"), &line_text);
    let evidence = format!("{} {}, {} {}", a.label, a.spread(), b.label, b.spread());
    Decision { outcome, basis, threshold, evidence, rows: combined.rows }
}

#[derive(Clone, Copy)]
enum Pair {
    Ratio,
    Difference,
}

/// The series' median is at least `threshold`.
pub fn at_least(series: &Series, threshold: f64) -> Decision {
    against_line(series, threshold, Side::AtLeast)
}

/// The series' median is at most `threshold`.
pub fn at_most(series: &Series, threshold: f64) -> Decision {
    against_line(series, threshold, Side::AtMost)
}

/// The series' median lies in `low..=high`.
pub fn within(series: &Series, low: f64, high: f64) -> Decision {
    let (outcome, basis) = decide(
        &series.label,
        series.format,
        &series.present(),
        |l, h| l >= low && h <= high,
        |l, h| h < low || l > high,
    );
    let threshold = format!(
        "held if {} lies between {} and {}, the whole {:.0}% interval of its median inside; did not hold if the whole interval is outside",
        series.label,
        series.format.show(low),
        series.format.show(high),
        CONFIDENCE * 100.0
    );
    Decision {
        outcome,
        basis,
        threshold,
        evidence: format!("{} {}", series.label, series.spread()),
        rows: series.rows.clone(),
    }
}

/// Run by run, `a / b`: its median is at least `factor`.
pub fn ratio_at_least(a: &Series, b: &Series, factor: f64) -> Decision {
    paired_against_line(a, b, Pair::Ratio, factor, Side::AtLeast)
}

/// Run by run, `a / b`: its median is at most `factor`.
pub fn ratio_at_most(a: &Series, b: &Series, factor: f64) -> Decision {
    paired_against_line(a, b, Pair::Ratio, factor, Side::AtMost)
}

/// Run by run, `a - b`: its median is at least `margin`.
pub fn exceeds_by(a: &Series, b: &Series, margin: f64) -> Decision {
    paired_against_line(a, b, Pair::Difference, margin, Side::AtLeast)
}

/// A yes-or-no fact per run: held if it was true in every run, did not hold if it was true
/// in none, inconclusive when the runs disagree or there was only one.
pub fn every_run(what: &str, facts: &[bool]) -> Decision {
    let yes = facts.iter().filter(|f| **f).count();
    let outcome = match (facts.len(), yes) {
        (n, _) if n < 2 => Outcome::Inconclusive,
        (n, y) if y == n => Outcome::Held,
        (_, 0) => Outcome::DidNotHold,
        _ => Outcome::Inconclusive,
    };
    let share = if facts.is_empty() { 0.0 } else { yes as f64 / facts.len() as f64 };
    let basis = Basis {
        what: what.into(),
        estimate: share,
        low: share,
        high: share,
        runs: facts.len(),
        format: Format::Percent,
    };
    Decision {
        outcome,
        basis: vec![basis],
        threshold: format!("held if {what} in every run; did not hold if in none"),
        evidence: format!("{what}: {yes} of {} runs", facts.len()),
        rows: Vec::new(),
    }
}

/// A fact established over the whole row rather than run by run (every run's digest
/// agreed with the reference's, say): held if it is true.
pub fn fact(what: &str, holds: bool) -> Decision {
    Decision {
        outcome: if holds { Outcome::Held } else { Outcome::DidNotHold },
        basis: Vec::new(),
        threshold: format!("held if {what}"),
        evidence: format!("{what}: {}", if holds { "yes" } else { "no" }),
        rows: Vec::new(),
    }
}

/// Nothing to decide from (a precondition failed, a figure is not meaningful here):
/// inconclusive, with why.
pub fn undecided(why: &str) -> Decision {
    Decision {
        outcome: Outcome::Inconclusive,
        basis: Vec::new(),
        threshold: String::new(),
        evidence: why.into(),
        rows: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn intervals_are_reproducible() {
        let values = [1.0, 1.3, 0.9, 1.1, 1.2, 1.05, 0.95];
        assert_eq!(median_interval(&values), median_interval(&values));
        let (estimate, low, high) = median_interval(&values);
        assert!(low <= estimate && estimate <= high);
        // With seven runs the interval is narrower than min..max.
        assert!(low > 0.9 || high < 1.3, "{low}..{high}");
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
            "held if sequential wall / rayon wall, paired run by run, is at least 1.50x, the whole 95% interval of its median at or above it; did not hold if the whole interval is below"
        );
        assert!(
            d.evidence.starts_with("sequential wall 480.0 ms (5 runs, 470.0 ms to 500.0 ms), rayon wall"),
            "{}",
            d.evidence
        );
        assert!(d.describe().unwrap().contains("95% interval"), "{:?}", d.describe());
        assert_eq!(
            at_most(&fast, 0.3).threshold.split(';').next().unwrap(),
            "held if rayon wall is at most 300.0 ms, the whole 95% interval of its median at or below it"
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
}
