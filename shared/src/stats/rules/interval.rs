//! The interval every rule reads: a percentile bootstrap of the median, seeded so the same
//! runs always give the same interval.

/// The confidence of every interval the rules use.
pub const CONFIDENCE: f64 = 0.95;
pub use crate::model::claims::MIN_RUNS;
/// Bootstrap resamples: enough that the interval's ends move by less than the figures' noise.
const RESAMPLES: usize = 4000;
/// A fixed seed: the same runs always give the same interval, so a report is reproducible
/// from its own raw records.
const SEED: u64 = 0x5eed_cafe_f00d_0001;

/// The median of `values` with its percentile-bootstrap interval. Needs two values or more.
pub(super) fn median_interval(values: &[f64]) -> (f64, f64, f64) {
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
