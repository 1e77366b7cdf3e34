//! A map drawn as a grid of cells, one winner per cell.

use super::style::model_colour;
use super::*;

/// A map as a grid of coloured cells: the winner's model as the colour, its name and lead
/// as the text; a cell too close to call is left pale and says so.
pub(super) fn heatmap(path: &Path, title: &str, map: &crate::report::map::Map) -> anyhow::Result<()> {
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
