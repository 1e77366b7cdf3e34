//! Rules that put a median (of one series, or of two paired run by run) against a line.

use super::{basis::Basis, decision::Decision, interval::median_interval, series::Series};
use crate::model::{claims::Outcome, format::Format};

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
    /// `held if X is at least 1.5x, the whole interval of its median at or above it; did
    /// not hold if the whole interval is below`. The interval's confidence, which depends
    /// on the runs, is stated where the interval is.
    fn threshold(self, what: &str, line: &str) -> String {
        let (bound, side, other) = match self {
            Side::AtLeast => ("at least", "at or above", "below"),
            Side::AtMost => ("at most", "at or below", "above"),
        };
        format!(
            "held if {what} is {bound} {line}, the whole interval of its median {side} it; did not hold if the whole interval is {other}"
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
    let threshold = side.threshold(&series.label, &series.format.show(line));
    of_one(series, threshold, |low, high| side.held(low, high, line), |low, high| side.missed(low, high, line))
}

/// Decides from one series' own median, its spread as the evidence.
fn of_one(
    series: &Series,
    threshold: String,
    held: impl Fn(f64, f64) -> bool,
    missed: impl Fn(f64, f64) -> bool,
) -> Decision {
    let (outcome, basis) = decide(&series.label, series.format, &series.present(), held, missed);
    let evidence = format!("{} {}", series.label, series.spread());
    Decision { outcome, basis, threshold, evidence, rows: series.rows.clone() }
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
    let threshold = format!(
        "held if {} lies between {} and {}, the whole interval of its median inside; did not hold if the whole interval is outside",
        series.label,
        series.format.show(low),
        series.format.show(high),
    );
    of_one(series, threshold, |l, h| l >= low && h <= high, |l, h| h < low || l > high)
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
