//! The uneven workload: a Mandelbrot render whose rows differ wildly in cost.
//!
//! The view is deliberately off-centre, so the expensive rows (inside the set) are not split
//! evenly between the halves of the image: equal contiguous chunks leave one core with most
//! of the work, which is exactly when load balancing earns its keep.

use serde::{Deserialize, Serialize};

use crate::workload::Workload;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mandelbrot {
    pub width: usize,
    pub height: usize,
    pub max_iter: u32,
}

impl Mandelbrot {
    const RE: (f64, f64) = (-2.2, 0.8);
    const IM: (f64, f64) = (-0.55, 1.35);

    /// Escape-time iteration count for one pixel: an integer, so every variant agrees exactly.
    fn escape_time(&self, c_re: f64, c_im: f64) -> u32 {
        let (mut re, mut im) = (0.0f64, 0.0f64);
        let mut i = 0;
        while i < self.max_iter {
            let (re2, im2) = (re * re, im * im);
            if re2 + im2 > 4.0 {
                break;
            }
            im = 2.0 * re * im + c_im;
            re = re2 - im2 + c_re;
            i += 1;
        }
        i
    }
}

// ANCHOR: workload
impl Workload for Mandelbrot {
    /// One row of iteration counts.
    type Item = Vec<u32>;

    fn item_count(&self) -> usize {
        self.height
    }

    fn compute(&self, row: usize) -> Vec<u32> {
        let im = Self::IM.0 + (Self::IM.1 - Self::IM.0) * row as f64 / self.height as f64;
        let step = (Self::RE.1 - Self::RE.0) / self.width as f64;
        (0..self.width).map(|x| self.escape_time(Self::RE.0 + step * x as f64, im)).collect()
    }
}
// ANCHOR_END: workload

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_inside_the_set_reach_max_iter_and_outside_escape() {
        let m = Mandelbrot { width: 4, height: 4, max_iter: 500 };
        assert_eq!(m.escape_time(0.0, 0.0), 500);
        assert_eq!(m.escape_time(-1.0, 0.0), 500);
        assert!(m.escape_time(1.0, 1.0) < 5);
    }

    #[test]
    fn rows_are_uneven() {
        let m = Mandelbrot { width: 200, height: 100, max_iter: 500 };
        let cost = |row: usize| m.compute(row).iter().map(|&c| c as u64).sum::<u64>();
        let first_half: u64 = (0..50).map(cost).sum();
        let second_half: u64 = (50..100).map(cost).sum();
        // The off-centre view puts far more work in one half than the other.
        assert!(first_half > 2 * second_half || second_half > 2 * first_half, "{first_half} vs {second_half}");
    }
}
