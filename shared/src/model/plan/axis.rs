//! A sweep's axis, the points it cannot place as numbers, and the plots drawn over it.

use serde::{Deserialize, Serialize};

use crate::model::figure::{Hist, Measure};
use crate::model::format::Format;

/// A sweep's axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    pub name: String,
    /// Plot the axis on a log scale (in-flight requests 1..4096, clients 10..5000).
    pub log: bool,
}

impl Axis {
    pub fn new(name: impl Into<String>) -> Axis {
        Axis { name: name.into(), log: false }
    }
    pub fn log(mut self) -> Axis {
        self.log = true;
        self
    }
}

/// A point of a sweep that its axis cannot place as a number: an unbounded channel on a
/// capacity axis. Its row has no axis value and carries this instead; a plot draws it past
/// the given end of the axis, with its label as the tick and a marker of its own. (A log
/// axis's zero needs no mark: the plot places values it cannot scale the same way.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AxisMark {
    /// The tick's text, and the end of the row's label: `unbounded`.
    pub label: String,
    pub end: AxisEnd,
}

/// Which end of a sweep axis an [`AxisMark`] sits past.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AxisEnd {
    /// Before the smallest value (left).
    Low,
    /// After the largest value (right).
    High,
}

impl AxisMark {
    /// A mark past the largest value: `AxisMark::high("unbounded")`.
    pub fn high(label: impl Into<String>) -> AxisMark {
        AxisMark { label: label.into(), end: AxisEnd::High }
    }
    /// A mark before the smallest value.
    pub fn low(label: impl Into<String>) -> AxisMark {
        AxisMark { label: label.into(), end: AxisEnd::Low }
    }
}

/// A plot of a sweep table that `--plots DIR` draws as SVG: one line per variant against
/// the axis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlotSpec {
    /// The table's primary measure.
    Primary,
    /// Any measure (a figure, a quantile).
    Measure { measure: Measure, log_y: bool },
    /// p50 and p99 of a histogram, merged over each row's runs.
    Quantiles { hist: String, format: Format },
    /// The distribution of a histogram, p50 to p99.99, one curve per row (in a sweep, the
    /// rows at its largest point): the tail a table's p99 column sums up, drawn whole.
    Percentiles { hist: String, format: Format },
    /// One marker per variant at one point of the sweep: `x` against `y`. Where every curve
    /// against the axis runs together at that point, two measures side by side can still
    /// set the variants apart.
    Scatter { x: Measure, y: Measure, at: SweepPoint },
}

/// The point of a sweep a plot reads.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepPoint {
    /// The rows at this axis value.
    At(f64),
    /// The rows at the largest axis value (or every row, in a table without an axis).
    Largest,
}

impl PlotSpec {
    pub fn of(measure: impl Into<Measure>) -> PlotSpec {
        PlotSpec::Measure { measure: measure.into(), log_y: false }
    }
    pub fn log_y(measure: impl Into<Measure>) -> PlotSpec {
        PlotSpec::Measure { measure: measure.into(), log_y: true }
    }
    pub fn quantiles(hist: Hist) -> PlotSpec {
        PlotSpec::Quantiles { hist: hist.key.into(), format: hist.format }
    }
    pub fn percentiles(hist: Hist) -> PlotSpec {
        PlotSpec::Percentiles { hist: hist.key.into(), format: hist.format }
    }
    pub fn scatter(x: impl Into<Measure>, y: impl Into<Measure>, at: SweepPoint) -> PlotSpec {
        PlotSpec::Scatter { x: x.into(), y: y.into(), at }
    }
}
