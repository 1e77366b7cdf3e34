//! Typed names for what a run records, declared once and checked by the compiler everywhere
//! else: a [`Figure`] is a number, a [`Hist`] a distribution (an HDR histogram), a [`Note`]
//! a short string. A figure key typed twice as a string is a rename waiting to break a
//! verdict silently; a `const` is not.
//!
//! The figures every run gets from the harness are declared here too ([`WALL`],
//! [`PEAK_RSS`], ...), as are those of a run's load generator ([`LOADGEN_CPU`], ...).

use serde::{Deserialize, Serialize};

use crate::model::format::Format;

/// A number one run records, under a fixed key, printed in a fixed format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Figure {
    pub key: &'static str,
    pub format: Format,
}

impl Figure {
    pub const fn new(key: &'static str, format: Format) -> Figure {
        Figure { key, format }
    }
}

/// A distribution one run records as an HDR histogram of integer values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hist {
    pub key: &'static str,
    /// The unit of the recorded integers, which is how quantiles are printed.
    pub format: Format,
}

impl Hist {
    /// A latency distribution recorded in microseconds.
    pub const fn micros(key: &'static str) -> Hist {
        Hist { key, format: Format::Micros }
    }
    /// A latency distribution recorded in nanoseconds.
    pub const fn nanos(key: &'static str) -> Hist {
        Hist { key, format: Format::Nanos }
    }
    /// A distribution of counts or sizes.
    pub const fn of(key: &'static str, format: Format) -> Hist {
        Hist { key, format }
    }
}

/// A short string a run records: a server's version, an error kind, why a run stopped.
/// Reports summarise a note as its distinct values with how often each was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Note {
    pub key: &'static str,
}

impl Note {
    pub const fn new(key: &'static str) -> Note {
        Note { key }
    }
}

/// Which way a figure is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Lower,
    Higher,
}

impl Better {
    /// How many times better `value` is than `baseline`: above 1 is better, whichever way.
    pub fn gain(self, value: f64, baseline: f64) -> f64 {
        match self {
            Better::Lower => baseline / value,
            Better::Higher => value / baseline,
        }
    }

    /// Whether `a` is better than `b`.
    pub fn prefers(self, a: f64, b: f64) -> bool {
        match self {
            Better::Lower => a < b,
            Better::Higher => a > b,
        }
    }
}

/// What a column shows or a table is judged by, in a form that survives the JSON report:
/// a figure, a quantile of a row's merged histogram, a note's values, or the gain over the
/// baseline on the table's primary measure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Measure {
    Figure { key: String, format: Format },
    Quantile { hist: String, q: f64, format: Format },
    Note { key: String },
    VsBaseline,
}

impl Measure {
    pub fn quantile(hist: Hist, q: f64) -> Measure {
        Measure::Quantile { hist: hist.key.into(), q, format: hist.format }
    }

    pub fn format(&self) -> Format {
        match self {
            Measure::Figure { format, .. } | Measure::Quantile { format, .. } => *format,
            Measure::Note { .. } => Format::Count,
            Measure::VsBaseline => Format::Ratio,
        }
    }

    /// A short name for evidence and plots: the figure's key, or `latency p99`.
    pub fn name(&self) -> String {
        match self {
            Measure::Figure { key, .. } | Measure::Note { key } => display_name(key),
            Measure::Quantile { hist, q, .. } => format!("{} {}", display_name(hist), quantile_name(*q)),
            Measure::VsBaseline => "vs baseline".into(),
        }
    }
}

impl From<Figure> for Measure {
    fn from(figure: Figure) -> Measure {
        Measure::Figure { key: figure.key.into(), format: figure.format }
    }
}

/// A key as a reader would name it: `wall_s` is "wall", `files_per_s` is "files/s",
/// `peak_rss_bytes` is "peak rss".
pub fn display_name(key: &str) -> String {
    let key = match key.strip_suffix("_per_s") {
        Some(stem) => return format!("{}/s", stem.replace('_', " ")),
        None => key,
    };
    let stem = ["_s", "_us", "_ns", "_bytes"].iter().find_map(|unit| key.strip_suffix(unit)).unwrap_or(key);
    stem.replace('_', " ")
}

/// `p50`, `p99`, `p99.9`, `max` for 1.0.
pub fn quantile_name(q: f64) -> String {
    if q >= 1.0 {
        return "max".into();
    }
    let percent = format!("{:.3}", q * 100.0);
    format!("p{}", percent.trim_end_matches('0').trim_end_matches('.'))
}

/// Wall time of the measured region.
pub const WALL: Figure = Figure::new("wall_s", Format::Seconds);
/// User CPU time of the whole child process in the measured region.
pub const USER_CPU: Figure = Figure::new("user_s", Format::Seconds);
/// System CPU time of the whole child process in the measured region.
pub const SYSTEM_CPU: Figure = Figure::new("sys_s", Format::Seconds);
/// CPU time over wall time in the measured region.
pub const CORES_BUSY: Figure = Figure::new("cores_busy", Format::Cores);
/// CPU time (user + system) of processes the measured region started and waited for: a
/// peer tool (b3sum, pgbench) run as a variant. Not part of [`CORES_BUSY`].
pub const CHILD_CPU: Figure = Figure::new("child_cpu_s", Format::Seconds);
/// The child's resident-memory high-water mark, for its whole life (`VmHWM`: the process's
/// own, not the harness's that started it).
pub const PEAK_RSS: Figure = Figure::new("peak_rss_bytes", Format::Bytes);
/// The child's thread count, sampled by the parent: a lower bound on the true peak.
pub const PEAK_THREADS: Figure = Figure::new("peak_threads", Format::Count);
/// The share of the whole machine's CPU time the host took from this virtual machine
/// (steal) during the measured region: every variant of a run pays it, no other figure shows
/// it, and a run taken under it may not repeat. Recorded only for regions long enough to
/// count it to a percent (see `run::child`).
pub const STEAL: Figure = Figure::new("steal", Format::Percent);
pub const VOLUNTARY_CS: Figure = Figure::new("voluntary_cs", Format::Count);
pub const INVOLUNTARY_CS: Figure = Figure::new("involuntary_cs", Format::Count);
/// The load generators' CPU time (user + system), for their whole lives.
pub const LOADGEN_CPU: Figure = Figure::new("loadgen_cpu_s", Format::Seconds);
/// The load generators' CPU time over their wall time.
pub const LOADGEN_CORES: Figure = Figure::new("loadgen_cores", Format::Cores);
pub const LOADGEN_PEAK_RSS: Figure = Figure::new("loadgen_peak_rss_bytes", Format::Bytes);
pub const LOADGEN_PEAK_THREADS: Figure = Figure::new("loadgen_peak_threads", Format::Count);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_named_as_people_write_them() {
        assert_eq!(quantile_name(0.5), "p50");
        assert_eq!(quantile_name(0.99), "p99");
        assert_eq!(quantile_name(0.999), "p99.9");
        assert_eq!(quantile_name(0.9999), "p99.99");
        assert_eq!(quantile_name(1.0), "max");
    }

    #[test]
    fn keys_read_as_names() {
        assert_eq!(display_name("wall_s"), "wall");
        assert_eq!(display_name("files_per_s"), "files/s");
        assert_eq!(display_name("peak_rss_bytes"), "peak rss");
        assert_eq!(display_name("probe"), "probe");
    }

    #[test]
    fn gain_is_above_one_when_better_either_way() {
        assert_eq!(Better::Lower.gain(1.0, 2.0), 2.0);
        assert_eq!(Better::Higher.gain(4.0, 2.0), 2.0);
        assert!(Better::Higher.prefers(3.0, 2.0));
        assert!(Better::Lower.prefers(2.0, 3.0));
    }
}
