//! A plot drawn as SVG: axes, ticks, lines, markers and the legend.

use super::*;

pub(super) fn render(path: &Path, plot: &Plot) -> anyhow::Result<()> {
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
pub(super) struct Labels<'a> {
    heading: &'a str,
    x: &'a str,
    y: &'a str,
    y_format: Format,
}

/// Ticks for a log axis from `lo` to `hi`: powers of ten, then 1-2-5 steps, then finer
/// steps, whichever first gives at least three inside the range.
pub(super) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
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
pub(super) fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    lines: &[Line],
    ringed_points: bool,
) -> anyhow::Result<()> {
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
pub(super) fn bounds(values: impl Iterator<Item = f64>, log: bool) -> (f64, f64) {
    let values: Vec<f64> = values.filter(|v| v.is_finite() && (!log || *v > 0.0)).collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if values.is_empty() {
        return (if log { 1.0 } else { 0.0 }, 1.0);
    }
    if log { (lo / 1.3, hi * 1.3) } else { (lo.min(0.0), if hi > 0.0 { hi * 1.08 } else { 1.0 }) }
}

pub(super) fn chart<X, Y>(
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
