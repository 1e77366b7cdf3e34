//! Sweeps as SVG plots: one line per variant against the table's axis, drawn from the
//! report's figures by `--plots DIR` (which `just report` passes for the docs). Every swept
//! point is drawn: what the axis's scale cannot place (`unbounded`, or 0 on a log scale) sits
//! past its end, ringed, with its own tick ([`axis`]).

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
    model::format::{format_count, format_value},
    model::plan::{PlotSpec, Table},
    report::sweep::{self, AxisPoint},
    report::{PlotFile, Report},
};

use axis::XAxis;

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

/// One line of a plot.
struct Line {
    name: String,
    points: Vec<(AxisPoint, f64)>,
    /// The second quantile of a pair is drawn dashed in its variant's colour.
    dashed: bool,
    colour: usize,
}

/// Draws every plot the report's tables ask for into `dir`; returns what it drew.
pub fn draw(report: &Report, dir: &Path) -> anyhow::Result<Vec<PlotFile>> {
    std::fs::create_dir_all(dir)?;
    let mut drawn = Vec::new();
    for table in &report.tables {
        for (index, spec) in table.plots.iter().enumerate() {
            let percentiles = matches!(spec, PlotSpec::Percentiles { .. });
            if table.axis.is_none() && !percentiles {
                continue;
            }
            let (title, heading, format, lines, log_y) = lines(report, table, spec);
            if lines.iter().all(|l| l.points.is_empty()) {
                continue;
            }
            let file = format!("{}-{}-{}.svg", report.case, table.id, index + 1);
            let path = dir.join(&file);
            let axis = match (percentiles, &table.axis) {
                (true, _) => (PERCENTILE_AXIS, true),
                (false, Some(a)) => (a.name.as_str(), a.log),
                (false, None) => ("", false),
            };
            render(&path, &heading, axis, format, log_y, &lines)?;
            drawn.push(PlotFile { table: table.id.clone(), title, file });
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

/// A plot's lines, with its title (for the caption below it in the book), its short heading
/// and y-axis label, the y format and whether y is drawn on a log scale.
fn lines(
    report: &Report,
    table: &Table,
    spec: &PlotSpec,
) -> (String, String, crate::model::format::Format, Vec<Line>, bool) {
    let variants = sweep::variants(report, table);
    let curve = |variant: &str, measure: &Measure| sweep::curve(report, table, variant, measure);
    match spec {
        PlotSpec::Primary | PlotSpec::Measure { .. } => {
            let (measure, log_y) = match spec {
                PlotSpec::Measure { measure, log_y } => (measure.clone(), *log_y),
                _ => (table.primary.measure.clone(), false),
            };
            let lines = variants
                .iter()
                .enumerate()
                .map(|(i, v)| Line { name: v.clone(), points: curve(v, &measure), dashed: false, colour: i })
                .collect();
            (format!("{}: {}", table.title, measure.name()), measure.name(), measure.format(), lines, log_y)
        }
        PlotSpec::Quantiles { hist, format } => {
            let mut lines = Vec::new();
            for (i, v) in variants.iter().enumerate() {
                for (q, dashed) in [(0.5, false), (0.99, true)] {
                    let measure = Measure::Quantile { hist: hist.clone(), q, format: *format };
                    let name = format!("{v} {}", crate::model::figure::quantile_name(q));
                    lines.push(Line { name, points: curve(v, &measure), dashed, colour: i });
                }
            }
            (
                format!("{}: {hist} p50 (solid) and p99 (dashed)", table.title),
                format!("{hist}, p50 and p99"),
                *format,
                lines,
                true,
            )
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
                    Line { name: row.label.clone(), points, dashed: false, colour: i }
                })
                .collect();
            let at = match (last, &table.axis) {
                (Some(x), Some(axis)) => format!(" at {} {}", format_count(x), axis.name),
                _ => String::new(),
            };
            // Log y only where the tail spans over a decade (decided when drawn).
            (
                format!("{}: the {hist} distribution{at}, p50 to p99.99", table.title),
                format!("{hist} by percentile"),
                *format,
                lines,
                false,
            )
        }
    }
}

fn render(
    path: &Path,
    heading: &str,
    (axis, log_x): (&str, bool),
    format: crate::model::format::Format,
    log_y: bool,
    lines: &[Line],
) -> anyhow::Result<()> {
    // Values over more than a decade are drawn on a log scale, or the small ones vanish.
    let positive: Vec<f64> = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).filter(|y| *y > 0.0).collect();
    let spread = positive.iter().copied().fold(0.0, f64::max) / positive.iter().copied().fold(f64::INFINITY, f64::min);
    let log_y = log_y || spread > 10.0;
    // A log y axis cannot show zero or less: such values are left out. (The x axis places
    // every point: what its scale cannot, it draws past an end.)
    let lines: Vec<Line> = lines
        .iter()
        .map(|l| Line {
            name: l.name.clone(),
            points: l.points.iter().filter(|(_, y)| !log_y || *y > 0.0).cloned().collect(),
            dashed: l.dashed,
            colour: l.colour,
        })
        .collect();
    let lines = lines.as_slice();
    let percentiles = axis == PERCENTILE_AXIS;
    let x = XAxis::new(
        lines.iter().flat_map(|l| l.points.iter().map(|p| &p.0)),
        log_x,
        percentiles.then(|| PERCENTILES.iter().map(|q| 1.0 / (1.0 - q)).collect()),
        if percentiles { percentile_label } else { format_count },
    );
    let (y_lo, y_hi) = bounds(lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)), log_y);
    let root = SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let (area, legend) = root.split_horizontally(WIDTH - LEGEND);
    let labels = (axis, heading);
    // Ticks of our own on x (the scale's and one per slot past it), and on a log y:
    // plotters' leave a short log range with one or two labels.
    let (log_xs, lin_xs) = ((x.lo..x.hi).log_scale().with_key_points(x.ticks()), x.linear());
    let log_ys = (y_lo..y_hi).log_scale().with_key_points(log_ticks(y_lo, y_hi));
    let drawn = match (log_x, log_y) {
        (false, false) => chart(&area, labels, format, &x, lin_xs, y_lo..y_hi, lines),
        (true, false) => chart(&area, labels, format, &x, log_xs, y_lo..y_hi, lines),
        (false, true) => chart(&area, labels, format, &x, lin_xs, log_ys, lines),
        (true, true) => chart(&area, labels, format, &x, log_xs, log_ys, lines),
    };
    drawn?;
    draw_legend(&legend, lines, !x.slot_labels().is_empty())?;
    root.present().map_err(|e| anyhow!("{e:?}"))
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
        if line.dashed {
            area.draw(&PathElement::new(vec![(8, y), (14, y)], style)).map_err(|e| err(&e))?;
            area.draw(&PathElement::new(vec![(20, y), (26, y)], style)).map_err(|e| err(&e))?;
        } else {
            area.draw(&PathElement::new(vec![(8, y), (26, y)], style)).map_err(|e| err(&e))?;
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
    (axis, heading): (&str, &str),
    format: crate::model::format::Format,
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
        .caption(heading, ("sans-serif", 17))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(90)
        .build_cartesian_2d(x, y)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc(axis)
        .y_desc(heading)
        .x_labels(12)
        .y_labels(12)
        .x_label_formatter(&|v| x_axis.label(*v))
        .y_label_formatter(&|v| format_value(*v, format))
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
        if line.dashed {
            chart.draw_series(DashedLineSeries::new(on_scale, 6, 4, style)).map_err(|e| err(&e))?;
        } else {
            chart.draw_series(LineSeries::new(on_scale, style)).map_err(|e| err(&e))?;
        }
        // A step to or from a point past the scale is dotted: its length means nothing.
        for step in placed.windows(2).filter(|w| w[0].2 || w[1].2) {
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
        // Every text with where it starts across: `<text x="12" ...>label\n</text>`.
        let texts: Vec<(f64, &str)> = svg
            .split("<text x=\"")
            .skip(1)
            .filter_map(|t| {
                let (x, rest) = t.split_once('"')?;
                Some((x.parse().ok()?, rest.split_once('>')?.1.split_once("</text>")?.0.trim()))
            })
            .collect();
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
