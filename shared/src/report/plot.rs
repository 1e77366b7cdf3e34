//! Sweeps as SVG plots: one line per variant against the table's axis, drawn from the
//! report's figures by `--plots DIR` (which `just report` passes for the docs). Every swept
//! point is drawn: what the axis's scale cannot place (`unbounded`, or 0 on a log scale) sits
//! past its end, ringed, with its own tick ([`axis`]). A scatter reads one point of a sweep
//! instead: a marker per variant, one measure against another.

mod axis;

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

const WIDTH: u32 = 860;
const HEIGHT: u32 = 500;
/// The legend's column, right of the data: names never cover a line.
const LEGEND: u32 = 230;

/// Okabe and Ito's eight colours, told apart with the common kinds of colour blindness
/// (black last, for a ninth line and on).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

fn colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// A marker per line as well as a colour, so a line reads in grey too.
fn marker<DB: DrawingBackend>(index: usize, at: (i32, i32), colour: RGBColor) -> DynElement<'static, DB, (i32, i32)> {
    let style = colour.filled();
    match (index / PALETTE.len() + index) % 4 {
        0 => Circle::new(at, 4, style).into_dyn(),
        1 => TriangleMarker::new(at, 5, style).into_dyn(),
        2 => Rectangle::new([(at.0 - 3, at.1 - 3), (at.0 + 3, at.1 + 3)], style).into_dyn(),
        _ => Cross::new(at, 4, colour.stroke_width(2)).into_dyn(),
    }
}

/// The x axis of a percentile plot: `1 / (1 - q)`, on a log scale, so p50, p90, p99, p99.9
/// and p99.99 fall at even steps.
const PERCENTILE_AXIS: &str = "percentile";
const PERCENTILES: [f64; 6] = [0.5, 0.75, 0.9, 0.99, 0.999, 0.9999];

/// A percentile axis value's label: `p99.9` at 1,000.
fn percentile_label(x: f64) -> String {
    let q = 100.0 * (1.0 - 1.0 / x);
    // Four decimals at most (p99.99), trailing zeros dropped.
    let text = format!("{q:.4}");
    format!("p{}", text.trim_end_matches('0').trim_end_matches('.'))
}

/// A point past the scale's end wears a ring of this radius round its marker, so it reads
/// as set apart from the curve.
const RING: i32 = 8;

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

/// A colour per model that reads apart for every kind of colour vision (Okabe and Ito).
fn model_colour(model: crate::model::variant::Model) -> RGBColor {
    use crate::model::variant::Model;
    match model {
        Model::Threads => RGBColor(0, 114, 178),
        Model::Async => RGBColor(230, 159, 0),
        Model::Hybrid => RGBColor(0, 158, 115),
        Model::Sequential => RGBColor(86, 180, 233),
        Model::Anchor => RGBColor(120, 120, 120),
    }
}

/// A map as a grid of coloured cells: the winner's model as the colour, its name and lead
/// as the text; a cell too close to call is left pale and says so.
fn heatmap(path: &Path, title: &str, map: &crate::report::map::Map) -> anyhow::Result<()> {
    let err = |e: &dyn std::fmt::Debug| anyhow!("{e:?}");
    let (columns, rows) = (map.xs.len().max(1), map.ys.len().max(1));
    let height = 140 + 70 * rows as u32;
    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (plot, legend) = root.split_horizontally(WIDTH - 170);
    let mut chart = ChartBuilder::on(&plot)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..columns as f64, 0f64..rows as f64)
        .map_err(|e| err(&e))?;
    let label = |values: &[f64], v: f64| values.get(v as usize).map(|x| format_count(*x)).unwrap_or_default();
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(&map.x_axis)
        .y_desc(&map.y_axis)
        .x_labels(columns * 2 + 1)
        .y_labels(rows * 2 + 1)
        .x_label_formatter(&|v| if v.fract() == 0.5 { label(&map.xs, *v) } else { String::new() })
        .y_label_formatter(&|v| if v.fract() == 0.5 { label(&map.ys, *v) } else { String::new() })
        .draw()
        .map_err(|e| err(&e))?;
    for cell in &map.cells {
        let (Some(i), Some(j)) = (map.xs.iter().position(|x| *x == cell.x), map.ys.iter().position(|y| *y == cell.y))
        else {
            continue;
        };
        let (x, y) = (i as f64, j as f64);
        let (fill, text) = match (cell.clear_winner(), &cell.winner) {
            (Some(w), _) => (model_colour(w.model).mix(0.85), cell.verdict()),
            (None, Some(_)) => (RGBColor(235, 235, 235).mix(1.0), "too close to call".to_string()),
            (None, None) => (WHITE.mix(1.0), "–".to_string()),
        };
        chart
            .draw_series([Rectangle::new([(x + 0.02, y + 0.04), (x + 0.98, y + 0.96)], fill.filled())])
            .map_err(|e| err(&e))?;
        let style = ("sans-serif", 13).into_font().color(&BLACK).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Center,
        ));
        chart.draw_series([Text::new(text, (x + 0.5, y + 0.5), style)]).map_err(|e| err(&e))?;
    }
    let mut models: Vec<crate::model::variant::Model> =
        map.cells.iter().filter_map(|c| c.clear_winner().map(|w| w.model)).collect();
    models.dedup();
    models.sort_by_key(|m| m.to_string());
    models.dedup();
    for (k, model) in models.iter().enumerate() {
        let y = 60 + 26 * k as i32;
        legend
            .draw(&Rectangle::new([(10, y), (28, y + 16)], model_colour(*model).mix(0.85).filled()))
            .map_err(|e| err(&e))?;
        legend.draw(&Text::new(model.to_string(), (36, y + 2), ("sans-serif", 14))).map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))
}

/// What a plot of `table` draws.
fn plot(report: &Report, table: &Table, spec: &PlotSpec) -> Plot {
    let variants = sweep::variants(report, table);
    let curve = |variant: &str, measure: &Measure| sweep::curve(report, table, variant, measure);
    let sweep_x = || XScale {
        name: table.axis.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
        log: table.axis.as_ref().is_some_and(|a| a.log),
        ticks: None,
        label: TickLabel::Count,
    };
    match spec {
        PlotSpec::Primary | PlotSpec::Measure { .. } => {
            let (measure, log_y) = match spec {
                PlotSpec::Measure { measure, log_y } => (measure.clone(), *log_y),
                _ => (table.primary.measure.clone(), false),
            };
            let lines = variants
                .iter()
                .enumerate()
                .map(|(i, v)| Line { name: v.clone(), points: curve(v, &measure), stroke: Stroke::Solid, colour: i })
                .collect();
            Plot {
                title: format!("{}: {}", table.title, measure.name()),
                heading: measure.name(),
                x: sweep_x(),
                y_label: measure.name(),
                y_format: measure.format(),
                log_y,
                lines,
            }
        }
        PlotSpec::Quantiles { hist, format } => {
            let mut lines = Vec::new();
            for (i, v) in variants.iter().enumerate() {
                for (q, stroke) in [(0.5, Stroke::Solid), (0.99, Stroke::Dashed)] {
                    let measure = Measure::Quantile { hist: hist.clone(), q, format: *format };
                    let name = format!("{v} {}", crate::model::figure::quantile_name(q));
                    lines.push(Line { name, points: curve(v, &measure), stroke, colour: i });
                }
            }
            let heading = format!("{hist}, p50 and p99");
            Plot {
                title: format!("{}: {hist} p50 (solid) and p99 (dashed)", table.title),
                y_label: heading.clone(),
                heading,
                x: sweep_x(),
                y_format: *format,
                log_y: true,
                lines,
            }
        }
        PlotSpec::Percentiles { hist, format } => {
            let last = sweep::largest_axis_value(report, table);
            let lines = report
                .ran_in(table)
                .filter(|r| r.axis_value == last)
                .enumerate()
                .map(|(i, row)| {
                    let points = PERCENTILES
                        .iter()
                        .filter_map(|q| {
                            let measure = Measure::Quantile { hist: hist.clone(), q: *q, format: *format };
                            row.value(&measure).map(|v| (AxisPoint::Value(1.0 / (1.0 - q)), v))
                        })
                        .collect();
                    Line { name: row.label.clone(), points, stroke: Stroke::Solid, colour: i }
                })
                .collect();
            let at = at_point(table, last);
            let heading = format!("{hist} by percentile");
            Plot {
                title: format!("{}: the {hist} distribution{at}, p50 to p99.99", table.title),
                y_label: heading.clone(),
                heading,
                x: XScale {
                    name: PERCENTILE_AXIS.into(),
                    log: true,
                    ticks: Some(PERCENTILES.iter().map(|q| 1.0 / (1.0 - q)).collect()),
                    label: TickLabel::Percentile,
                },
                y_format: *format,
                // Log y only where the tail spans over a decade (decided when drawn).
                log_y: false,
                lines,
            }
        }
        PlotSpec::Scatter { x, y, at } => {
            let at = match at {
                SweepPoint::At(value) => Some(*value),
                SweepPoint::Largest => sweep::largest_axis_value(report, table),
            };
            let lines: Vec<Line> = report
                .ran_in(table)
                .filter(|r| r.axis_value == at)
                .enumerate()
                .map(|(i, row)| {
                    let point = row.value(x).zip(row.value(y)).map(|(x, y)| (AxisPoint::Value(x), y));
                    // The variant's colour and marker in the table's other plots.
                    let colour = variants.iter().position(|v| *v == row.variant).unwrap_or(i);
                    let name = if at.is_some() { row.variant.clone() } else { row.label.clone() };
                    Line { name, points: point.into_iter().collect(), stroke: Stroke::None, colour }
                })
                .collect();
            let xs = lines.iter().flat_map(|l| &l.points).filter_map(|p| match p.0 {
                AxisPoint::Value(x) => Some(x),
                AxisPoint::Mark(_) => None,
            });
            let at = at_point(table, at);
            Plot {
                title: format!("{}: {} against {}{at}", table.title, y.name(), x.name()),
                heading: format!("{} against {}{at}", y.name(), x.name()),
                x: XScale {
                    name: axis_label(x),
                    log: spans_decades(xs),
                    ticks: None,
                    label: TickLabel::Value(x.format()),
                },
                y_label: axis_label(y),
                y_format: y.format(),
                log_y: false,
                lines,
            }
        }
    }
}

/// ` at 1,000 clients`: the sweep point a plot of one point reads, for its title.
fn at_point(table: &Table, at: Option<f64>) -> String {
    let value = |x: f64| match x {
        whole if whole.fract() == 0.0 && whole >= 0.0 => crate::model::format::thousands(whole as u64),
        x => format_count(x),
    };
    match (at, &table.axis) {
        (Some(x), Some(axis)) => format!(" at {} {}", value(x), axis.name),
        _ => String::new(),
    }
}

/// A measure's name as an axis label, with its unit where the ticks carry none.
fn axis_label(measure: &Measure) -> String {
    match measure.format() {
        // Cores busy is CPU time over wall time: 1.00 is one core's worth.
        Format::Cores => format!("{} (CPU s per s)", measure.name()),
        _ => measure.name(),
    }
}

/// Whether the positive values span more than a decade: drawn on a linear scale, the small
/// ones would vanish into the axis.
fn spans_decades(values: impl Iterator<Item = f64>) -> bool {
    let positive: Vec<f64> = values.filter(|v| *v > 0.0).collect();
    let (lo, hi) = positive.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    hi / lo > 10.0
}

fn render(path: &Path, plot: &Plot) -> anyhow::Result<()> {
    // Values over more than a decade are drawn on a log scale, or the small ones vanish.
    let log_y = plot.log_y || spans_decades(plot.lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)));
    // A log y axis cannot show zero or less: such values are left out. (The x axis places
    // every point: what its scale cannot, it draws past an end.)
    let lines: Vec<Line> = plot
        .lines
        .iter()
        .map(|l| Line {
            name: l.name.clone(),
            points: l.points.iter().filter(|(_, y)| !log_y || *y > 0.0).cloned().collect(),
            stroke: l.stroke,
            colour: l.colour,
        })
        .collect();
    let lines = lines.as_slice();
    let log_x = plot.x.log;
    let x =
        XAxis::new(lines.iter().flat_map(|l| l.points.iter().map(|p| &p.0)), log_x, plot.x.ticks.clone(), plot.x.label);
    let (y_lo, y_hi) = bounds(lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)), log_y);
    let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let (area, legend) = root.split_horizontally(WIDTH - LEGEND);
    let labels = Labels { heading: &plot.heading, x: &plot.x.name, y: &plot.y_label, y_format: plot.y_format };
    // Ticks of our own on x (the scale's and one per slot past it), and on a log y:
    // plotters' leave a short log range with one or two labels.
    let (log_xs, lin_xs) = ((x.lo..x.hi).log_scale().with_key_points(x.ticks()), x.linear());
    let log_ys = (y_lo..y_hi).log_scale().with_key_points(log_ticks(y_lo, y_hi));
    let drawn = match (log_x, log_y) {
        (false, false) => chart(&area, &labels, &x, lin_xs, y_lo..y_hi, lines),
        (true, false) => chart(&area, &labels, &x, log_xs, y_lo..y_hi, lines),
        (false, true) => chart(&area, &labels, &x, lin_xs, log_ys, lines),
        (true, true) => chart(&area, &labels, &x, log_xs, log_ys, lines),
    };
    drawn?;
    draw_legend(&legend, lines, !x.slot_labels().is_empty())?;
    root.present().map_err(|e| anyhow!("{e:?}"))
}

/// The words round a chart: its heading, its axes' labels and how y's ticks read.
struct Labels<'a> {
    heading: &'a str,
    x: &'a str,
    y: &'a str,
    y_format: Format,
}

/// Ticks for a log axis from `lo` to `hi`: powers of ten, then 1-2-5 steps, then finer
/// steps, whichever first gives at least three inside the range.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let steps: [&[f64]; 4] = [
        &[1.0],
        &[1.0, 2.0, 5.0],
        &[1.0, 1.5, 2.0, 3.0, 5.0, 7.0],
        &[1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    ];
    let mut ticks = Vec::new();
    for mantissas in steps {
        ticks.clear();
        let mut decade = 10f64.powf(lo.max(f64::MIN_POSITIVE).log10().floor());
        while decade <= hi {
            ticks.extend(mantissas.iter().map(|m| m * decade).filter(|t| *t >= lo && *t <= hi));
            decade *= 10.0;
        }
        if ticks.len() >= 3 && ticks.len() <= 14 {
            break;
        }
    }
    ticks
}

/// The legend in its own column: a line sample, the marker and the name, one per line; and
/// what a ringed marker means, when the plot has one.
fn draw_legend(area: &DrawingArea<SVGBackend<'_>, Shift>, lines: &[Line], ringed_points: bool) -> anyhow::Result<()> {
    let err = |e: &dyn std::fmt::Debug| anyhow!("{e:?}");
    let drawn = lines.iter().filter(|l| !l.points.is_empty()).count();
    if ringed_points {
        let y = 40 + 20 * drawn as i32 + 10;
        let grey = RGBColor(110, 110, 110);
        area.draw(&Circle::new((17, y), RING, grey.stroke_width(1))).map_err(|e| err(&e))?;
        area.draw(&marker(0, (17, y), grey)).map_err(|e| err(&e))?;
        area.draw(&Text::new("off the scale, at its end", (32, y - 7), ("sans-serif", 13))).map_err(|e| err(&e))?;
    }
    for (row, line) in lines.iter().filter(|l| !l.points.is_empty()).enumerate() {
        let y = 40 + 20 * row as i32;
        let c = colour(line.colour);
        let style = c.stroke_width(2);
        match line.stroke {
            Stroke::Dashed => {
                area.draw(&PathElement::new(vec![(8, y), (14, y)], style)).map_err(|e| err(&e))?;
                area.draw(&PathElement::new(vec![(20, y), (26, y)], style)).map_err(|e| err(&e))?;
            }
            Stroke::Solid => area.draw(&PathElement::new(vec![(8, y), (26, y)], style)).map_err(|e| err(&e))?,
            Stroke::None => {}
        }
        area.draw(&marker(line.colour, (17, y), c)).map_err(|e| err(&e))?;
        let name: String = if line.name.chars().count() > 30 {
            line.name.chars().take(29).chain(std::iter::once('…')).collect()
        } else {
            line.name.clone()
        };
        area.draw(&Text::new(name, (32, y - 7), ("sans-serif", 13))).map_err(|e| err(&e))?;
    }
    Ok(())
}

/// The range a set of values is drawn over: from zero on a linear scale (so ratios between
/// lines read true), a little past the ends on a log scale.
fn bounds(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let values: Vec<f64> = values.filter(|v| v.is_finite() && (!log || *v > 0.0)).collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if values.is_empty() {
        return (if log { 1.0 } else { 0.0 }, 1.0);
    }
    if log { (lo / 1.3, hi * 1.3) } else { (lo.min(0.0), if hi > 0.0 { hi * 1.08 } else { 1.0 }) }
}

fn chart<X, Y>(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    labels: &Labels<'_>,
    x_axis: &XAxis,
    x: X,
    y: Y,
    lines: &[Line],
) -> anyhow::Result<()>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let err = |e: &dyn std::fmt::Debug| anyhow!("{e:?}");
    let mut chart = ChartBuilder::on(root)
        .caption(labels.heading, ("sans-serif", 17))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(90)
        .build_cartesian_2d(x, y)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc(labels.x)
        .y_desc(labels.y)
        .x_labels(12)
        .y_labels(12)
        .x_label_formatter(&|v| x_axis.label(*v))
        .y_label_formatter(&|v| format_value(*v, labels.y_format))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(|e| err(&e))?;
    // Where the scale ends and a slot past it begins: a break in the axis.
    let (y_lo, y_hi) = (chart.y_range().start, chart.y_range().end);
    for at in &x_axis.breaks {
        let grey = RGBColor(150, 150, 150).stroke_width(1);
        chart.draw_series(DashedLineSeries::new([(*at, y_lo), (*at, y_hi)], 3, 3, grey)).map_err(|e| err(&e))?;
    }
    for line in lines.iter().filter(|l| !l.points.is_empty()) {
        let c = colour(line.colour);
        let style = c.stroke_width(2);
        let placed: Vec<(f64, f64, bool)> =
            line.points.iter().filter_map(|(at, v)| x_axis.place(at).map(|(x, beyond)| (x, *v, beyond))).collect();
        let on_scale = placed.iter().filter(|p| !p.2).map(|p| (p.0, p.1));
        match line.stroke {
            Stroke::Dashed => {
                chart.draw_series(DashedLineSeries::new(on_scale, 6, 4, style)).map_err(|e| err(&e))?;
            }
            Stroke::Solid => {
                chart.draw_series(LineSeries::new(on_scale, style)).map_err(|e| err(&e))?;
            }
            Stroke::None => {}
        }
        // A step to or from a point past the scale is dotted: its length means nothing.
        for step in placed.windows(2).filter(|w| line.stroke != Stroke::None && (w[0].2 || w[1].2)) {
            let ends = step.iter().map(|p| (p.0, p.1));
            chart.draw_series(DashedLineSeries::new(ends, 2, 4, c.stroke_width(2))).map_err(|e| err(&e))?;
        }
        let index = line.colour;
        chart
            .draw_series(placed.iter().map(|(x, y, _)| EmptyElement::at((*x, *y)) + marker(index, (0, 0), c)))
            .map_err(|e| err(&e))?;
        let ring = c.stroke_width(1);
        chart
            .draw_series(placed.iter().filter(|p| p.2).map(|(x, y, _)| Circle::new((*x, *y), RING, ring)))
            .map_err(|e| err(&e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use plotters::style::RGBColor;

    use crate::model::figure::Measure;

    /// Headless Chromium, when this machine has it. Where `CASEBOOK_REQUIRE_CHROMIUM` is set
    /// (CI installs it and sets it), a missing browser fails the test instead of skipping it.
    fn chromium() -> Option<PathBuf> {
        let found = ["chromium", "chromium-browser", "google-chrome"].into_iter().find_map(|name| {
            std::env::var_os("PATH")?.to_str()?.split(':').map(|dir| Path::new(dir).join(name)).find(|p| p.exists())
        });
        if found.is_none() {
            assert!(
                std::env::var_os("CASEBOOK_REQUIRE_CHROMIUM").is_none(),
                "CASEBOOK_REQUIRE_CHROMIUM is set but no chromium is on the PATH"
            );
            eprintln!("no chromium on the PATH: the rendering check is skipped here (CI runs it)");
        }
        found
    }

    /// Renders an SVG in headless Chromium and returns every text element that runs outside
    /// the canvas, as the browser lays it out (rotations and fonts included), or why it could
    /// not render.
    fn overflowing_text(browser: &Path, svg: &Path) -> Result<Vec<String>, String> {
        let body = std::fs::read_to_string(svg).map_err(|e| e.to_string())?;
        let page = format!(
            r#"<!DOCTYPE html><html><body style="margin:0">{body}<pre id="result"></pre><script>
const svg = document.querySelector('svg');
const frame = svg.getBoundingClientRect();
const out = [];
let texts = 0;
for (const t of svg.querySelectorAll('text')) {{
  texts++;
  const b = t.getBoundingClientRect();
  if (b.width > 0 && (b.left < frame.left - 0.5 || b.top < frame.top - 0.5 || b.right > frame.right + 0.5 || b.bottom > frame.bottom + 0.5))
    out.push(t.textContent.trim());
}}
document.getElementById('result').textContent = 'RESULT ' + texts + ' ' + JSON.stringify(out) + ' END';
</script></body></html>"#
        );
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let html = dir.path().join("page.html");
        std::fs::write(&html, page).map_err(|e| e.to_string())?;
        let output = std::process::Command::new(browser)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
            .arg(format!("file://{}", html.display()))
            .output()
            .map_err(|e| e.to_string())?;
        let dom = String::from_utf8_lossy(&output.stdout);
        let result =
            dom.split("RESULT ").nth(1).and_then(|r| r.split(" END").next()).ok_or("chromium printed no result")?;
        let (texts, list) = result.split_once(' ').ok_or("a malformed result")?;
        if texts == "0" {
            return Err("the SVG has no text".into());
        }
        let list = list.replace("&quot;", "\"");
        serde_json::from_str::<Vec<String>>(&list).map_err(|e| format!("{e}: {list}"))
    }

    #[test]
    fn text_outside_the_canvas_is_caught_and_no_plot_has_any() {
        let Some(browser) = chromium() else { return };
        let dir = tempfile::tempdir().unwrap();
        let planted = dir.path().join("planted.svg");
        std::fs::write(&planted, r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><text x="150" y="50" font-size="20">far too long a label</text><text x="10" y="50">fits</text></svg>"#).unwrap();
        assert_eq!(overflowing_text(&browser, &planted).unwrap(), ["far too long a label"]);
        let mut drawn = super::draw(&crate::report::map::tests::report(), dir.path()).unwrap();
        drawn.extend(super::draw(&crate::report::verdicts::tests::report(), dir.path()).unwrap());
        drawn.extend(super::draw(&crate::report::sweep::tests::capacity_report(), dir.path()).unwrap());
        drawn.extend(super::draw(&scatter_report(), dir.path()).unwrap());
        for plot in drawn {
            assert_eq!(
                overflowing_text(&browser, &dir.path().join(&plot.file)).unwrap(),
                Vec::<String>::new(),
                "{}",
                plot.file
            );
        }
    }

    #[test]
    fn every_plot_in_the_book_renders_with_its_text_inside_the_canvas() {
        let Some(browser) = chromium() else { return };
        let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/src/results");
        let mut dirs = vec![results];
        let mut checked = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "svg") {
                    assert_eq!(overflowing_text(&browser, &path).unwrap(), Vec::<String>::new(), "{}", path.display());
                    checked += 1;
                }
            }
        }
        eprintln!("{checked} plots in the book rendered in chromium");
    }

    /// Every text of an SVG with where it starts across: `<text x="12" ...>label\n</text>`.
    fn texts(svg: &str) -> Vec<(f64, &str)> {
        svg.split("<text x=\"")
            .skip(1)
            .filter_map(|t| {
                let (x, rest) = t.split_once('"')?;
                Some((x.parse().ok()?, rest.split_once('>')?.1.split_once("</text>")?.0.trim()))
            })
            .collect()
    }

    /// A sweep of three variants over two points, with a scatter of cores busy against
    /// lateness p99 at the smaller one, where the lateness spans two decades.
    fn scatter_report() -> crate::Report {
        use crate::{
            model::figure::{CORES_BUSY, Hist},
            model::plan::{Axis, PlotSpec, Row, SweepPoint, Table, TableId},
            report::verdicts::tests::{Demo, INFO},
            testing::ReportBuilder,
        };
        const CLIENTS: TableId = TableId::new("clients");
        const LATENESS: Hist = Hist::micros("lateness");
        let mut table = Table::new(CLIENTS, "clients");
        table.axis = Some(Axis::new("clients").log());
        table.plots = vec![PlotSpec::scatter(CORES_BUSY, Measure::quantile(LATENESS, 0.99), SweepPoint::At(1000.0))];
        let points = [(Demo::Seq, 0.4, 20u64), (Demo::Threads, 1.1, 300), (Demo::Tasks, 0.7, 2500)];
        let sweep = [1000.0, 5000.0];
        table.rows = points.iter().flat_map(|p| sweep.map(|clients| Row::at(p.0, clients, ()))).collect();
        let mut report = ReportBuilder::new::<Demo>(&INFO, &(), vec![table]);
        for (variant, cores, lateness) in points {
            for clients in sweep {
                let late = [lateness * clients as u64 / 1000; 100];
                report = report.figure(CLIENTS, (variant, clients), CORES_BUSY, &[cores, cores]).histogram(
                    CLIENTS,
                    (variant, clients),
                    LATENESS,
                    &[&late, &late],
                );
            }
        }
        report.build()
    }

    #[test]
    fn a_scatter_draws_one_marker_per_variant_at_its_sweep_point() {
        let dir = tempfile::tempdir().unwrap();
        let drawn = super::draw(&scatter_report(), dir.path()).unwrap();
        assert_eq!(drawn.len(), 1);
        assert_eq!(drawn[0].title, "clients: lateness p99 against cores busy at 1,000 clients");
        let svg = std::fs::read_to_string(dir.path().join(&drawn[0].file)).unwrap();
        // Each variant's marker twice, in its colour: once in the data, once in the legend.
        for (i, name) in ["seq", "threads", "tasks"].into_iter().enumerate() {
            let RGBColor(r, g, b) = super::colour(i);
            let fill = format!("fill=\"#{r:02X}{g:02X}{b:02X}\"");
            assert_eq!(svg.matches(&fill).count(), 2, "{name}'s marker ({fill}) in {svg}");
            // No line joins them, nor stands for one in the legend.
            assert!(!svg.contains(&fill.replace("fill", "stroke")), "{name} has a line in {svg}");
        }
        let texts: Vec<&str> = texts(&svg).into_iter().map(|t| t.1).collect();
        for name in ["seq", "threads", "tasks"] {
            assert_eq!(texts.iter().filter(|t| **t == name).count(), 1, "{name} in the legend: {texts:?}");
        }
        for text in ["cores busy (CPU s per s)", "lateness p99", "1.0 ms", "0.80"] {
            assert!(texts.contains(&text), "the scatter lacks {text}: {texts:?}");
        }
        assert!(texts.iter().any(|t| t.ends_with("at 1,000 clients")), "{texts:?}");
    }

    #[test]
    fn a_map_becomes_a_heatmap_with_a_cell_per_point() {
        let report = crate::report::map::tests::report();
        let dir = tempfile::tempdir().unwrap();
        let drawn = super::draw(&report, dir.path()).unwrap();
        let map = drawn.iter().find(|p| p.table == "map:mix").expect("the map is drawn");
        let svg = std::fs::read_to_string(dir.path().join(&map.file)).unwrap();
        for text in ["tasks by 1.50x", "too close to call", "threads by", "in flight", "CPU µs", "4096", "async"] {
            assert!(svg.contains(text), "the heatmap lacks {text}");
        }
    }

    #[test]
    fn a_sweep_becomes_an_svg_with_one_line_per_variant() {
        let report = crate::report::verdicts::tests::report();
        let dir = tempfile::tempdir().unwrap();
        let drawn = super::draw(&report, dir.path()).unwrap();
        assert_eq!(drawn.len(), 1);
        assert_eq!(drawn[0].file, "demo-sweep-1.svg");
        let svg = std::fs::read_to_string(dir.path().join(&drawn[0].file)).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        for text in ["threads", "tasks", "in flight", "ops/s"] {
            assert!(svg.contains(text), "the plot lacks {text}");
        }
    }

    #[test]
    fn points_a_log_axis_cannot_place_are_drawn_past_its_ends_with_their_own_ticks() {
        let report = crate::report::sweep::tests::capacity_report();
        let dir = tempfile::tempdir().unwrap();
        let drawn = super::draw(&report, dir.path()).unwrap();
        assert_eq!(drawn.len(), 1);
        let svg = std::fs::read_to_string(dir.path().join(&drawn[0].file)).unwrap();
        let texts = texts(&svg);
        let x = |label: &str| {
            texts.iter().find(|t| t.1 == label).unwrap_or_else(|| panic!("no text {label} in {texts:?}")).0
        };
        // The ticks, left to right: the rendezvous point, the scale's own, then unbounded.
        assert!(x("0") < x("1") && x("1") < x("1000") && x("1000") < x("unbounded"), "{texts:?}");
        // Each line's two points past the scale are ringed, and the legend says what a ring is.
        let rings = svg.matches(&format!(r#"r="{}""#, super::RING)).count();
        assert_eq!(rings, 2 * 2 + 1, "{svg}");
        x("off the scale, at its end");
    }
}
