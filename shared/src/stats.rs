//! Medians, spreads, and the rule that decides when two figures are too close to call.
//!
//! With five runs on a shared two-core machine, means are pulled around by one unlucky run,
//! so everything here is robust: the median for the centre, the median absolute deviation
//! (MAD) for the typical spread, and min..max for the rule below.

use serde::{Deserialize, Serialize};

/// A summary of one figure over a row's measured runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub n: usize,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Median absolute deviation from the median.
    pub mad: f64,
}

impl Stats {
    /// `None` for an empty sample or one holding a NaN.
    pub fn of(values: &[f64]) -> Option<Stats> {
        if values.is_empty() || values.iter().any(|v| v.is_nan()) {
            return None;
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = median_sorted(&sorted);
        let mut deviations: Vec<f64> = sorted.iter().map(|v| (v - median).abs()).collect();
        deviations.sort_by(f64::total_cmp);
        Some(Stats {
            n: sorted.len(),
            median,
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            mad: median_sorted(&deviations),
        })
    }
}

fn median_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 }
}

/// Two figures side by side.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// `a.median / b.median`.
    pub ratio: f64,
    /// True when the min..max ranges do not overlap: every run of one beat every run of the
    /// other. When they overlap, the comparison is too close to call on this machine.
    pub separated: bool,
}

impl Comparison {
    pub fn of(a: &Stats, b: &Stats) -> Comparison {
        Comparison {
            ratio: if b.median != 0.0 { a.median / b.median } else { f64::INFINITY },
            separated: a.max < b.min || b.max < a.min,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_mad_of_odd_sample() {
        let s = Stats::of(&[5.0, 1.0, 3.0, 100.0, 2.0]).unwrap();
        assert_eq!(s.median, 3.0);
        assert_eq!(s.min, 1.0);
        assert_eq!(s.max, 100.0);
        // deviations: 2, 2, 0, 97, 1 -> sorted 0 1 2 2 97 -> median 2
        assert_eq!(s.mad, 2.0);
        assert_eq!(s.n, 5);
    }

    #[test]
    fn median_of_even_sample_is_midpoint() {
        let s = Stats::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(s.median, 2.5);
    }

    #[test]
    fn empty_or_nan_has_no_stats() {
        assert!(Stats::of(&[]).is_none());
        assert!(Stats::of(&[1.0, f64::NAN]).is_none());
    }

    #[test]
    fn overlapping_ranges_are_too_close_to_call() {
        let a = Stats::of(&[1.0, 1.2, 1.4]).unwrap();
        let b = Stats::of(&[1.3, 1.5, 1.7]).unwrap();
        let c = Comparison::of(&a, &b);
        assert!(!c.separated);
    }

    #[test]
    fn separated_ranges_are_called() {
        let a = Stats::of(&[1.0, 1.1, 1.05]).unwrap();
        let b = Stats::of(&[2.0, 2.2, 2.1]).unwrap();
        let c = Comparison::of(&a, &b);
        assert!(c.separated);
        assert!((c.ratio - 0.5).abs() < 1e-9);
    }
}
