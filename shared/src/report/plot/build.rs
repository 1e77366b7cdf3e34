//! From a report's table and a plot spec to the lines of a plot.

use super::*;

/// The x axis of a percentile plot: `1 / (1 - q)`, on a log scale, so p50, p90, p99, p99.9
/// and p99.99 fall at even steps.
pub(super) const PERCENTILE_AXIS: &str = "percentile";
pub(super) const PERCENTILES: [f64; 6] = [0.5, 0.75, 0.9, 0.99, 0.999, 0.9999];

/// A percentile axis value's label: `p99.9` at 1,000.
pub(super) fn percentile_label(x: f64) -> String {
    let q = 100.0 * (1.0 - 1.0 / x);
    // Four decimals at most (p99.99), trailing zeros dropped.
    let text = format!("{q:.4}");
    format!("p{}", text.trim_end_matches('0').trim_end_matches('.'))
}

/// What a plot of `table` draws.
pub(super) fn plot(report: &Report, table: &Table, spec: &PlotSpec) -> Plot {
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
pub(super) fn at_point(table: &Table, at: Option<f64>) -> String {
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
pub(super) fn axis_label(measure: &Measure) -> String {
    match measure.format() {
        // Cores busy is CPU time over wall time: 1.00 is one core's worth.
        Format::Cores => format!("{} (CPU s per s)", measure.name()),
        _ => measure.name(),
    }
}

/// Whether the positive values span more than a decade: drawn on a linear scale, the small
/// ones would vanish into the axis.
pub(super) fn spans_decades(values: impl Iterator<Item = f64>) -> bool {
    let positive: Vec<f64> = values.filter(|v| *v > 0.0).collect();
    let (lo, hi) = positive.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    hi / lo > 10.0
}
