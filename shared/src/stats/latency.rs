//! Latency distributions done right: HDR histograms recorded per run, stored whole in the
//! report, and merged across a row's runs before any quantile is taken. The median of five
//! per-run p99s is not a p99 of anything; the p99 of the merged histogram is.
//!
//! For open-loop load, [`OpenLoop`] gives each request its intended start, and latency is
//! measured from there, so a stalled server is charged for the requests it delayed
//! (coordinated omission corrected) rather than for the few it eventually answered.

use std::time::{Duration, Instant};

use base64::Engine;
use hdrhistogram::{
    Histogram,
    serialization::{Deserializer, Serializer, V2DeflateSerializer},
};
use serde::{Deserialize, Serialize};

/// The largest value the harness's histograms hold: an hour in microseconds. Larger values
/// saturate rather than fail the run.
pub const MAX_MICROS: u64 = 3_600_000_000;

/// A histogram for latencies in microseconds: 1 µs to an hour at 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds")
}

/// A histogram for latencies in nanoseconds: 1 ns to an hour at 3 significant digits.
pub fn histogram_ns() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS * 1000, 3).expect("valid histogram bounds")
}

/// Microseconds from `from` to `to`, at least 1 (the histogram's floor), 0 for a clock that
/// did not move forward.
pub fn micros_between(from: Instant, to: Instant) -> u64 {
    to.saturating_duration_since(from).as_micros().min(u128::from(MAX_MICROS)) as u64
}

/// The histogram as base64 of its compressed V2 encoding, the form the report stores.
pub fn encode(histogram: &Histogram<u64>) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(histogram, &mut bytes)
        .map_err(|e| anyhow::anyhow!("cannot encode a histogram: {e:?}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

pub fn decode(text: &str) -> anyhow::Result<Histogram<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| anyhow::anyhow!("a stored histogram is not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut std::io::Cursor::new(bytes))
        .map_err(|e| anyhow::anyhow!("a stored histogram does not decode: {e:?}"))
}

/// Adds every histogram into one. `None` when there is none to merge.
pub fn merge<'a>(histograms: impl IntoIterator<Item = &'a Histogram<u64>>) -> Option<Histogram<u64>> {
    let mut merged: Option<Histogram<u64>> = None;
    for histogram in histograms {
        match &mut merged {
            None => {
                let mut first = histogram.clone();
                first.auto(true);
                merged = Some(first);
            }
            Some(m) => m.add(histogram).ok()?,
        }
    }
    merged
}

/// A distribution's shape, for the report: what a reader and a claim usually need.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    pub min: f64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Summary {
    /// `None` for an empty histogram: quantiles of nothing are missing, not zero.
    pub fn of(histogram: &Histogram<u64>) -> Option<Summary> {
        if histogram.is_empty() {
            return None;
        }
        let q = |q: f64| histogram.value_at_quantile(q) as f64;
        Some(Summary {
            count: histogram.len(),
            min: histogram.min() as f64,
            mean: histogram.mean(),
            p50: q(0.50),
            p90: q(0.90),
            p99: q(0.99),
            p999: q(0.999),
            max: histogram.max() as f64,
        })
    }
}

/// The value at quantile `q` (1.0 is the maximum); `None` for an empty histogram.
pub fn quantile(histogram: &Histogram<u64>, q: f64) -> Option<f64> {
    if histogram.is_empty() {
        None
    } else if q >= 1.0 {
        Some(histogram.max() as f64)
    } else {
        Some(histogram.value_at_quantile(q) as f64)
    }
}

/// The intended start times of open-loop load at a fixed rate: request `i` is due at
/// `start + i / rate`, whether or not the one before it has been answered.
#[derive(Clone, Debug)]
pub struct OpenLoop {
    start: Instant,
    interval: Duration,
    issued: u64,
}

impl OpenLoop {
    /// # Panics
    /// On a rate that is not a positive, finite number.
    pub fn new(rate_per_s: f64, start: Instant) -> OpenLoop {
        assert!(rate_per_s.is_finite() && rate_per_s > 0.0, "open-loop rate must be positive, got {rate_per_s}");
        OpenLoop { start, interval: Duration::from_secs_f64(1.0 / rate_per_s), issued: 0 }
    }

    /// The next request's intended start; the caller sleeps until then (or sends at once if
    /// it is already late) and measures latency from this instant, not from when it sent.
    pub fn next_due(&mut self) -> Instant {
        let due = self.start + self.interval.mul_f64(self.issued as f64);
        self.issued += 1;
        due
    }

    /// Requests scheduled so far.
    pub fn issued(&self) -> u64 {
        self.issued
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }
}

/// Records a closed-loop sender's latency with HdrHistogram's correction for an expected
/// interval between samples: a 1 s stall of a sender that samples every 10 ms also records
/// the 99 samples it could not send.
pub fn record_corrected(histogram: &mut Histogram<u64>, value: u64, expected_interval: u64) {
    if histogram.record_correct(value, expected_interval).is_err() {
        histogram.saturating_record(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_survives_the_round_trip() {
        let mut h = histogram();
        for v in [3, 50, 700, 700, 9_000, 120_000] {
            h.record(v).unwrap();
        }
        let back = decode(&encode(&h).unwrap()).unwrap();
        assert_eq!(back.len(), 6);
        assert_eq!(back.max(), h.max());
        assert_eq!(back.value_at_quantile(0.5), h.value_at_quantile(0.5));
        assert!(decode("not base64!").is_err());
    }

    #[test]
    fn merged_quantiles_are_not_medians_of_quantiles() {
        // Five runs: four quiet, one with a long tail. The median of per-run p99s says 10 µs;
        // the merged p99 sees the tail.
        let mut runs = Vec::new();
        for run in 0..5 {
            let mut h = histogram();
            for _ in 0..100 {
                h.record(10).unwrap();
            }
            if run == 4 {
                for _ in 0..20 {
                    h.record(5_000).unwrap();
                }
            }
            runs.push(h);
        }
        let merged = merge(&runs).unwrap();
        assert_eq!(merged.len(), 520);
        assert!(quantile(&merged, 0.99).unwrap() >= 4_990.0);
        let mut per_run: Vec<f64> = runs.iter().map(|h| quantile(h, 0.99).unwrap()).collect();
        per_run.sort_by(f64::total_cmp);
        assert_eq!(per_run[2], 10.0);
        assert!(merge(std::iter::empty()).is_none());
        assert!(Summary::of(&histogram()).is_none());
        assert_eq!(quantile(&merged, 1.0), Some(merged.max() as f64));
    }

    #[test]
    fn open_loop_schedules_from_the_start_not_from_the_last_answer() {
        let start = Instant::now();
        let mut schedule = OpenLoop::new(1000.0, start);
        let due: Vec<Duration> = (0..4).map(|_| schedule.next_due() - start).collect();
        assert_eq!(due, [0, 1, 2, 3].map(Duration::from_millis));
        assert_eq!(schedule.issued(), 4);
    }

    #[test]
    fn correction_fills_in_what_a_stall_hid() {
        let mut h = histogram();
        record_corrected(&mut h, 1_000, 100);
        // 1000, 900, ..., 100: the samples a sender every 100 µs would have taken.
        assert_eq!(h.len(), 10);
    }
}
