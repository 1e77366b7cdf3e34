//! How a plot looks: its size, the palette, a marker per line, a colour per model.

use super::*;

pub(super) const WIDTH: u32 = 860;
pub(super) const HEIGHT: u32 = 500;
/// The legend's column, right of the data: names never cover a line.
pub(super) const LEGEND: u32 = 230;

/// Okabe and Ito's eight colours, told apart with the common kinds of colour blindness
/// (black last, for a ninth line and on).
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

pub(super) fn colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// A marker per line as well as a colour, so a line reads in grey too.
pub(super) fn marker<DB: DrawingBackend>(
    index: usize,
    at: (i32, i32),
    colour: RGBColor,
) -> DynElement<'static, DB, (i32, i32)> {
    let style = colour.filled();
    match (index / PALETTE.len() + index) % 4 {
        0 => Circle::new(at, 4, style).into_dyn(),
        1 => TriangleMarker::new(at, 5, style).into_dyn(),
        2 => Rectangle::new([(at.0 - 3, at.1 - 3), (at.0 + 3, at.1 + 3)], style).into_dyn(),
        _ => Cross::new(at, 4, colour.stroke_width(2)).into_dyn(),
    }
}

/// A point past the scale's end wears a ring of this radius round its marker, so it reads
/// as set apart from the curve.
pub(super) const RING: i32 = 8;

/// A colour per model that reads apart for every kind of colour vision (Okabe and Ito).
pub(super) fn model_colour(model: crate::model::variant::Model) -> RGBColor {
    use crate::model::variant::Model;
    match model {
        Model::Threads => RGBColor(0, 114, 178),
        Model::Async => RGBColor(230, 159, 0),
        Model::Hybrid => RGBColor(0, 158, 115),
        Model::Sequential => RGBColor(86, 180, 233),
        Model::Anchor => RGBColor(120, 120, 120),
    }
}
