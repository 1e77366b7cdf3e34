//! Sweeps as SVG plots: one line per variant against the table's axis, drawn from the
//! report's figures by `--plots DIR` (which `just report` passes for the docs). Every swept
//! point is drawn: what the axis's scale cannot place (`unbounded`, or 0 on a log scale) sits
//! past its end, ringed, with its own tick ([`axis`]). A scatter reads one point of a sweep
//! instead: a marker per variant, one measure against another.

mod axis;
mod build;
mod canvas;
mod heatmap;
mod style;
#[cfg(test)]
mod tests;

use std::path::Path;

use anyhow::anyhow;
use plotters::{
    coord::{
        Shift,
        ranged1d::{AsRangedCoord, ValueFormatter},
    },
    prelude::*,
};

use crate::{
    model::figure::Measure,
    model::format::{Format, format_count, format_value},
    model::plan::{PlotSpec, SweepPoint, Table},
    report::sweep::{self, AxisPoint},
    report::{PlotFile, Report},
};

use axis::{TickLabel, XAxis};
use build::{percentile_label, plot, spans_decades};
use canvas::{bounds, log_ticks, render};
use heatmap::heatmap;
use style::{HEIGHT, LEGEND, RING, WIDTH, colour, marker};

/// How a line joins its points.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stroke {
    Solid,
    /// The second quantile of a pair, in its variant's colour.
    Dashed,
    /// A scatter's markers stand alone.
    None,
}

/// One line of a plot.
struct Line {
    name: String,
    points: Vec<(AxisPoint, f64)>,
    stroke: Stroke,
    colour: usize,
}

/// A plot's x axis before it meets its points.
struct XScale {
    /// The axis label.
    name: String,
    log: bool,
    /// The ticks where the plot fixes them (percentiles); chosen from the range otherwise.
    ticks: Option<Vec<f64>>,
    label: TickLabel,
}

/// One plot, ready to draw.
struct Plot {
    /// For the caption below it in the book.
    title: String,
    /// Above the data.
    heading: String,
    x: XScale,
    y_label: String,
    y_format: Format,
    /// Asked for; values over more than a decade get a log scale anyway.
    log_y: bool,
    lines: Vec<Line>,
}

/// Draws every plot the report's tables ask for into `dir`; returns what it drew.
pub fn draw(report: &Report, dir: &Path) -> anyhow::Result<Vec<PlotFile>> {
    std::fs::create_dir_all(dir)?;
    let mut drawn = Vec::new();
    for table in &report.tables {
        for (index, spec) in table.plots.iter().enumerate() {
            let one_point = matches!(spec, PlotSpec::Percentiles { .. } | PlotSpec::Scatter { .. });
            if table.axis.is_none() && !one_point {
                continue;
            }
            let plot = plot(report, table, spec);
            if plot.lines.iter().all(|l| l.points.is_empty()) {
                continue;
            }
            let file = format!("{}-{}-{}.svg", report.case, table.id, index + 1);
            render(&dir.join(&file), &plot)?;
            drawn.push(PlotFile { table: table.id.clone(), title: plot.title, file });
        }
    }
    for map in crate::report::map::maps(report) {
        let file = format!("{}-map-{}.svg", report.case, map.id);
        let title = format!("{}: who wins, by {} and {}", report.case, map.y_axis, map.x_axis);
        heatmap(&dir.join(&file), &title, &map)?;
        drawn.push(PlotFile { table: format!("map:{}", map.id), title, file });
    }
    Ok(drawn)
}
