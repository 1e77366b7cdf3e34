//! A row's figure run by run, the input of every rule.

use crate::{model::format::Format, stats::Stats};

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
