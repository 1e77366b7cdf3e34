//! How a figure is printed: the one place that turns numbers into `12.3 ms`, `4.1 MiB` or
//! `1.2k/s`, so every case and every rendering of a report reads the same.

use serde::{Deserialize, Serialize};

/// How a figure is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A figure in seconds, printed with a fitting unit (s, ms, µs, ns).
    Seconds,
    /// A figure in microseconds (latency histograms), printed like [`Format::Seconds`].
    Micros,
    /// A figure in nanoseconds, printed like [`Format::Seconds`].
    Nanos,
    /// Bytes, printed in KiB/MiB/GiB.
    Bytes,
    /// A plain count.
    Count,
    /// A ratio such as a speedup, printed as `3.1x`.
    Ratio,
    /// A number of cores kept busy (CPU time / wall time).
    Cores,
    /// Events per second, printed as `1.2k/s`.
    Rate,
    /// Bytes per second, printed as `412.0 MiB/s`.
    BytesRate,
    /// A fraction printed as a percentage (0.123 prints as `12.3%`).
    Percent,
}

impl Format {
    /// Prints `value` in this format.
    pub fn show(self, value: f64) -> String {
        format_value(value, self)
    }

    /// The factor that turns a value in this format into seconds, for time formats.
    pub fn seconds_per_unit(self) -> Option<f64> {
        match self {
            Format::Seconds => Some(1.0),
            Format::Micros => Some(1e-6),
            Format::Nanos => Some(1e-9),
            _ => None,
        }
    }
}

pub fn format_value(value: f64, format: Format) -> String {
    // Differences of noisy figures can come out as a tiny negative; "-0 B" reads as a bug.
    let value = if value.abs() < 1e-12 { 0.0 } else { value };
    match format {
        Format::Seconds => format_seconds(value),
        Format::Micros => format_seconds(value / 1e6),
        Format::Nanos => format_seconds(value / 1e9),
        Format::Bytes => format_bytes(value),
        Format::Count => format_count(value),
        Format::Ratio => format!("{value:.2}x"),
        Format::Cores => format!("{value:.2}"),
        Format::Rate => format!("{}/s", format_count_rounded(value)),
        Format::BytesRate => format!("{}/s", format_bytes(value)),
        Format::Percent => format!("{:.1}%", value * 100.0),
    }
}

pub fn format_seconds(seconds: f64) -> String {
    let abs = seconds.abs();
    if abs >= 1.0 {
        format!("{seconds:.2} s")
    } else if abs >= 1e-3 {
        format!("{:.1} ms", seconds * 1e3)
    } else if abs >= 1e-6 {
        format!("{:.1} µs", seconds * 1e6)
    } else if abs < 0.5e-9 {
        "0 ns".to_string()
    } else {
        format!("{:.0} ns", seconds * 1e9)
    }
}

pub fn format_bytes(bytes: f64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 && value.abs() < 0.5 {
        "0 B".to_string()
    } else if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub fn format_count(value: f64) -> String {
    let abs = value.abs();
    if abs >= 1e9 {
        format!("{:.2}G", value / 1e9)
    } else if abs >= 1e6 {
        format!("{:.2}M", value / 1e6)
    } else if abs >= 1e4 {
        format!("{:.1}k", value / 1e3)
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// A count that is a measured rate: whole numbers below a thousand need no decimals, and
/// thousands keep one so that 1.2k/s and 1.3k/s stay apart.
fn format_count_rounded(value: f64) -> String {
    let abs = value.abs();
    if abs >= 1e9 {
        format!("{:.2}G", value / 1e9)
    } else if abs >= 1e6 {
        format!("{:.2}M", value / 1e6)
    } else if abs >= 1e3 {
        format!("{:.1}k", value / 1e3)
    } else if abs >= 10.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// "12% slower" for small gaps ("0.4% slower" below one percent), "3.10x slower" for large ones.
pub fn slower_by(ratio: f64) -> String {
    let percent = (ratio - 1.0) * 100.0;
    if ratio >= 2.0 {
        format!("{ratio:.2}x slower")
    } else if percent.abs() < 1.0 {
        format!("{percent:.1}% slower")
    } else {
        format!("{percent:.0}% slower")
    }
}

/// A count with thousands separators, for limits people search for: `65,530`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_readable() {
        assert_eq!(format_seconds(1.5), "1.50 s");
        assert_eq!(format_seconds(0.0123), "12.3 ms");
        assert_eq!(format_seconds(4.2e-6), "4.2 µs");
        assert_eq!(format_seconds(3e-8), "30 ns");
        assert_eq!(format_seconds(-1e-10), "0 ns");
        assert_eq!(format_value(1500.0, Format::Micros), "1.5 ms");
        assert_eq!(format_value(250.0, Format::Nanos), "250 ns");
        assert_eq!(format_bytes(-0.3), "0 B");
        assert_eq!(format_bytes(512.0), "512 B");
        assert_eq!(format_bytes(8.0 * 1024.0 * 1024.0), "8.0 MiB");
        assert_eq!(format_bytes(4e18), "3.5 EiB");
        assert_eq!(format_count(12.0), "12");
        assert_eq!(format_count(65_530.0), "65.5k");
        assert_eq!(format_count(1_000_000.0), "1.00M");
        assert_eq!(format_value(1234.0, Format::Rate), "1.2k/s");
        assert_eq!(format_value(99.4, Format::Rate), "99/s");
        assert_eq!(format_value(3.0 * 1024.0 * 1024.0, Format::BytesRate), "3.0 MiB/s");
        assert_eq!(format_value(0.1234, Format::Percent), "12.3%");
        assert_eq!(format_value(1.234, Format::Ratio), "1.23x");
        assert_eq!(thousands(65_530), "65,530");
        assert_eq!(thousands(999), "999");
        assert_eq!(slower_by(1.12), "12% slower");
        assert_eq!(slower_by(3.1), "3.10x slower");
        assert_eq!(slower_by(1.004), "0.4% slower");
        assert_eq!(format_count(1e9), "1.00G");
    }
}
