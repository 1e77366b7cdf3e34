//! Statistics, depending on nothing but figures' formats: medians, spreads and runs that
//! split into two clusters (here), HDR histograms ([`latency`]) and the outcome rules that
//! turn series of runs into held, did not hold or inconclusive ([`rules`]).
//!
//! With five runs on a shared two-core machine, means are pulled around by one unlucky run,
//! so everything here is robust: the median for the centre, the median absolute deviation
//! (MAD) for the typical spread, min..max for the whole range.

pub mod claim;
pub mod latency;
pub mod rules;

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
        let sorted = sorted(values);
        let median = median_sorted(&sorted);
        let deviations = sorted_by_value(sorted.iter().map(|v| (v - median).abs()));
        Some(Stats {
            n: sorted.len(),
            median,
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            mad: median_sorted(&deviations),
        })
    }
}

fn sorted(values: &[f64]) -> Vec<f64> {
    sorted_by_value(values.iter().copied())
}

fn sorted_by_value(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.collect();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// The median of an already sorted, non-empty slice.
pub fn median_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 }
}

/// The median of any slice; `None` when it is empty.
pub fn median(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| median_sorted(&sorted(values)))
}

/// A row's runs that fell into two separate groups, such as wall times of 378, 380, 450,
/// 453 and 453 ms: the median hides it, and a reader should know to look.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Clusters {
    pub low: (f64, f64),
    pub low_runs: usize,
    pub high: (f64, f64),
    pub high_runs: usize,
}

/// Runs needed before a split is worth flagging: with fewer, any gap looks like one.
const CLUSTER_MIN_RUNS: usize = 4;
/// Each side of a split needs this many runs: one outlier is an outlier, not a cluster.
const CLUSTER_MIN_SIDE: usize = 2;
/// The gap must be this share of the median ...
const CLUSTER_MIN_GAP_SHARE: f64 = 0.05;
/// ... and this many times the two clusters' own widths together.
const CLUSTER_GAP_OVER_WIDTHS: f64 = 2.0;

impl Clusters {
    /// Splits the runs at their widest gap, and reports the split only when the gap is
    /// wide against the median and against the spread within each side.
    pub fn of(values: &[f64]) -> Option<Clusters> {
        if values.len() < CLUSTER_MIN_RUNS || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let sorted = sorted(values);
        let (at, gap) =
            sorted.windows(2).enumerate().map(|(i, w)| (i + 1, w[1] - w[0])).max_by(|a, b| a.1.total_cmp(&b.1))?;
        let (low, high) = sorted.split_at(at);
        if low.len() < CLUSTER_MIN_SIDE || high.len() < CLUSTER_MIN_SIDE {
            return None;
        }
        let width = |side: &[f64]| side[side.len() - 1] - side[0];
        let centre = median_sorted(&sorted).abs();
        let wide = gap >= CLUSTER_MIN_GAP_SHARE * centre && gap > CLUSTER_GAP_OVER_WIDTHS * (width(low) + width(high));
        wide.then(|| Clusters {
            low: (low[0], low[low.len() - 1]),
            low_runs: low.len(),
            high: (high[0], high[high.len() - 1]),
            high_runs: high.len(),
        })
    }

    /// `378.0 ms–380.0 ms (2 runs) and 450.0 ms–453.0 ms (3 runs)`.
    pub fn describe(&self, show: impl Fn(f64) -> String) -> String {
        let range = |(a, b): (f64, f64)| if a == b { show(a) } else { format!("{}–{}", show(a), show(b)) };
        format!("{} ({} runs) and {} ({} runs)", range(self.low), self.low_runs, range(self.high), self.high_runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_mad_of_odd_sample() {
        let s = Stats::of(&[5.0, 1.0, 3.0, 100.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min, s.max, s.n), (3.0, 1.0, 100.0, 5));
        // deviations: 2, 2, 0, 97, 1 -> sorted 0 1 2 2 97 -> median 2
        assert_eq!(s.mad, 2.0);
    }

    #[test]
    fn median_of_even_sample_is_midpoint() {
        assert_eq!(Stats::of(&[4.0, 1.0, 3.0, 2.0]).unwrap().median, 2.5);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn empty_or_nan_has_no_stats() {
        assert!(Stats::of(&[]).is_none());
        assert!(Stats::of(&[1.0, f64::NAN]).is_none());
    }

    #[test]
    fn bimodal_runs_are_flagged_and_noise_is_not() {
        // The fresh-clone n-body sequential runs that once made a claim inconclusive.
        let split = Clusters::of(&[0.450, 0.378, 0.453, 0.453, 0.380]).expect("two clusters");
        assert_eq!((split.low, split.low_runs), ((0.378, 0.380), 2));
        assert_eq!((split.high, split.high_runs), ((0.450, 0.453), 3));
        assert_eq!(split.describe(|v| format!("{:.0}", v * 1e3)), "378–380 (2 runs) and 450–453 (3 runs)");
        assert!(Clusters::of(&[100.0, 102.0, 104.0, 106.0, 108.0]).is_none(), "even spread");
        assert!(Clusters::of(&[100.0, 101.0, 102.0, 101.0, 150.0]).is_none(), "one outlier");
        assert!(Clusters::of(&[100.0, 150.0, 100.0]).is_none(), "too few runs");
    }
}
