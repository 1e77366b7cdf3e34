//! The x axis of a sweep plot: where each point of a curve is drawn, which ticks the axis
//! gets and what they say. Numbers go on the axis's scale. What the scale cannot place (a
//! row's [`AxisMark`] such as `unbounded`, or zero and below on a log scale, such as a
//! rendezvous channel's capacity 0) gets a slot of its own past one end of the scale, with
//! its label as the tick, so every swept point is drawn and none is silently left out.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;

use crate::{
    model::format::{Format, format_count, format_value},
    model::plan::{AxisEnd, AxisMark},
    report::sweep::AxisPoint,
};

/// A slot's width, as a share of the scale's width: room for a label such as `unbounded`.
const SLOT_SHARE: f64 = 0.2;

/// What an x tick says at a number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TickLabel {
    /// A sweep's axis: `1000`, `16.4k`.
    Count,
    /// A percentile axis's `1 / (1 - q)`: `p99.9`.
    Percentile,
    /// A measure's value, with its unit: `1.5 ms`.
    Value(Format),
}

impl TickLabel {
    pub fn text(self, x: f64) -> String {
        match self {
            TickLabel::Count => format_count(x),
            TickLabel::Percentile => super::percentile_label(x),
            TickLabel::Value(format) => format_value(x, format),
        }
    }
}

/// What a slot past the scale holds.
#[derive(Clone, Debug, PartialEq)]
enum Beyond {
    Mark(AxisMark),
    /// A number the scale cannot place (zero or below on a log scale).
    Value(f64),
}

#[derive(Clone, Debug)]
struct Slot {
    what: Beyond,
    /// Where it is drawn, in axis units.
    at: f64,
    label: String,
}

/// A sweep plot's x axis, laid out for a set of points.
#[derive(Clone, Debug)]
pub struct XAxis {
    log: bool,
    /// The drawn range, the slots included.
    pub lo: f64,
    pub hi: f64,
    /// Where the scale ends and a slot begins, one per end that has slots.
    pub breaks: Vec<f64>,
    slots: Vec<Slot>,
    /// The scale's own ticks (the slots' come on top).
    scale_ticks: Vec<f64>,
    /// A number's tick label.
    label_value: TickLabel,
}

impl XAxis {
    /// Lays out an axis for `points`. `ticks` are the scale's ticks where the plot fixes them
    /// (percentiles); otherwise they are chosen from the range.
    pub fn new<'a>(
        points: impl Iterator<Item = &'a AxisPoint>,
        log: bool,
        ticks: Option<Vec<f64>>,
        label_value: TickLabel,
    ) -> XAxis {
        let mut numbers = Vec::new();
        let (mut low, mut high): (Vec<Beyond>, Vec<Beyond>) = (Vec::new(), Vec::new());
        let mut below_scale = Vec::new();
        for point in points {
            match point {
                AxisPoint::Value(x) if !x.is_finite() => {}
                AxisPoint::Value(x) if log && *x <= 0.0 => below_scale.push(*x),
                AxisPoint::Value(x) => numbers.push(*x),
                AxisPoint::Mark(mark) => {
                    let side = if mark.end == AxisEnd::Low { &mut low } else { &mut high };
                    if !side.iter().any(|b| matches!(b, Beyond::Mark(m) if m.label == mark.label)) {
                        side.push(Beyond::Mark(mark.clone()));
                    }
                }
            }
        }
        // Left to right: the low marks outermost, then the numbers below a log scale, in order.
        below_scale.sort_by(f64::total_cmp);
        below_scale.dedup();
        low.extend(below_scale.into_iter().map(Beyond::Value));

        // Slots are spaced evenly in the scale's own units: decades on a log scale.
        let to = |x: f64| if log { x.log10() } else { x };
        let from = |t: f64| if log { 10f64.powf(t) } else { t };
        let (scale_lo, scale_hi) = if numbers.is_empty() {
            if log { (1.0, 10.0) } else { (0.0, 1.0) }
        } else {
            super::bounds(numbers.iter().copied(), log)
        };
        let (t_lo, t_hi) = (to(scale_lo), to(scale_hi));
        let width = SLOT_SHARE * (t_hi - t_lo);
        let (n_low, n_high) = (low.len(), high.len());
        let start = t_lo - width * n_low as f64;
        let mut slots = Vec::new();
        for (i, what) in low.into_iter().enumerate() {
            slots.push(Slot::new(what, from(start + width * (i as f64 + 0.5)), label_value));
        }
        for (i, what) in high.into_iter().enumerate() {
            slots.push(Slot::new(what, from(t_hi + width * (i as f64 + 0.5)), label_value));
        }
        let mut breaks = Vec::new();
        if n_low > 0 {
            breaks.push(scale_lo);
        }
        if n_high > 0 {
            breaks.push(scale_hi);
        }
        let scale_ticks = if numbers.is_empty() {
            Vec::new()
        } else {
            let ticks = ticks.unwrap_or_else(|| {
                if log { super::log_ticks(scale_lo, scale_hi) } else { linear_ticks(scale_lo, scale_hi) }
            });
            ticks.into_iter().filter(|t| *t >= scale_lo && *t <= scale_hi).collect()
        };
        XAxis { log, lo: from(start), hi: from(t_hi + width * n_high as f64), breaks, slots, scale_ticks, label_value }
    }

    /// Where a point is drawn, and whether that is a slot past the scale.
    pub fn place(&self, point: &AxisPoint) -> Option<(f64, bool)> {
        let beyond = match point {
            AxisPoint::Value(x) if !x.is_finite() => return None,
            AxisPoint::Value(x) if !self.log || *x > 0.0 => return Some((*x, false)),
            AxisPoint::Value(x) => Beyond::Value(*x),
            AxisPoint::Mark(mark) => Beyond::Mark(mark.clone()),
        };
        let same = |slot: &&Slot| match (&slot.what, &beyond) {
            (Beyond::Mark(a), Beyond::Mark(b)) => a.label == b.label && a.end == b.end,
            (a, b) => a == b,
        };
        self.slots.iter().find(same).map(|s| (s.at, true))
    }

    /// Every tick: the scale's, then a slot's each.
    pub fn ticks(&self) -> Vec<f64> {
        self.scale_ticks.iter().copied().chain(self.slots.iter().map(|s| s.at)).collect()
    }

    /// A tick's label: the slot's own at a slot, the number's elsewhere.
    pub fn label(&self, x: f64) -> String {
        let near = |a: f64| (a - x).abs() <= 1e-9 * a.abs().max(x.abs()).max(f64::MIN_POSITIVE);
        match self.slots.iter().find(|s| near(s.at)) {
            Some(slot) => slot.label.clone(),
            None => self.label_value.text(x),
        }
    }

    /// The axis as a linear plotters range with these ticks.
    pub fn linear(&self) -> Linear {
        Linear { range: (self.lo..self.hi).into(), ticks: self.ticks() }
    }

    /// The slots' labels, left to right.
    pub fn slot_labels(&self) -> Vec<&str> {
        self.slots.iter().map(|s| s.label.as_str()).collect()
    }
}

impl Slot {
    fn new(what: Beyond, at: f64, label_value: TickLabel) -> Slot {
        let label = match &what {
            Beyond::Mark(mark) => mark.label.clone(),
            Beyond::Value(x) => label_value.text(*x),
        };
        Slot { what, at, label }
    }
}

/// A linear range with ticks of our own: plotters' `with_key_points` does that for a log
/// range, but a linear one it wraps cannot be labelled by the mesh.
pub struct Linear {
    range: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ranged for Linear {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.range.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, _: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> Range<f64> {
        self.range.range()
    }
}

/// Ticks for a linear axis from `lo` to `hi`: steps of 1, 2 or 5 times a power of ten, at
/// most a dozen of them.
fn linear_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = hi - lo;
    if span.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return vec![lo];
    }
    let decade = 10f64.powf((span / 10.0).log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * decade).find(|s| span / s <= 12.0).unwrap_or(span);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capacities() -> Vec<AxisPoint> {
        let mut points: Vec<AxisPoint> = [0.0, 1.0, 16.0, 1024.0].into_iter().map(AxisPoint::Value).collect();
        points.push(AxisPoint::Mark(AxisMark::high("unbounded")));
        points
    }

    #[test]
    fn zero_on_a_log_scale_and_a_mark_get_slots_at_the_ends() {
        let points = capacities();
        let axis = XAxis::new(points.iter(), true, None, TickLabel::Count);
        assert_eq!(axis.slot_labels(), ["0", "unbounded"]);
        let (zero, beyond) = axis.place(&points[0]).unwrap();
        assert!(beyond && zero > axis.lo && zero < 1.0, "{zero} in {}..{}", axis.lo, axis.hi);
        let (unbounded, beyond) = axis.place(&points[4]).unwrap();
        assert!(beyond && unbounded > 1024.0 && unbounded < axis.hi, "{unbounded} in {}..{}", axis.lo, axis.hi);
        assert_eq!(axis.place(&points[2]), Some((16.0, false)));
        assert_eq!(axis.label(zero), "0");
        assert_eq!(axis.label(unbounded), "unbounded");
        assert_eq!(axis.label(16.0), "16");
        assert_eq!(axis.breaks.len(), 2);
        let ticks = axis.ticks();
        assert!(ticks.contains(&zero) && ticks.contains(&unbounded) && ticks.contains(&1.0), "{ticks:?}");
        // A low mark goes outermost, left of the numbers the scale cannot place.
        let mut with_low = points.clone();
        with_low.push(AxisPoint::Mark(AxisMark::low("none")));
        let axis = XAxis::new(with_low.iter(), true, None, TickLabel::Count);
        assert_eq!(axis.slot_labels(), ["none", "0", "unbounded"]);
        let none = axis.place(&with_low[5]).unwrap().0;
        assert!(none < axis.place(&points[0]).unwrap().0, "{none}");
    }

    #[test]
    fn a_linear_scale_places_zero_itself_and_plain_numbers_need_no_slots() {
        let points = capacities();
        let axis = XAxis::new(points.iter(), false, None, TickLabel::Count);
        assert_eq!(axis.slot_labels(), ["unbounded"]);
        assert_eq!(axis.place(&points[0]), Some((0.0, false)));
        let plain = XAxis::new(points[1..4].iter(), true, None, TickLabel::Count);
        assert!(plain.slot_labels().is_empty() && plain.breaks.is_empty());
        assert!(plain.lo > 0.5 && plain.hi < 2000.0, "{}..{}", plain.lo, plain.hi);
    }

    #[test]
    fn linear_ticks_step_evenly_inside_the_range() {
        assert_eq!(linear_ticks(0.0, 10.0), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]);
        assert_eq!(linear_ticks(0.0, 1105.0), (0..=11).map(|i| i as f64 * 100.0).collect::<Vec<_>>());
        assert_eq!(linear_ticks(0.0, 2600.0), [0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0]);
        assert_eq!(linear_ticks(3.0, 3.0), [3.0]);
    }
}
