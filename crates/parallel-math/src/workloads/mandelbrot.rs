//! The uneven workload: a Mandelbrot render whose rows differ wildly in cost.
//!
//! The view is deliberately off-centre, so the expensive rows (inside the set) are not split
//! evenly between the halves of the image: equal contiguous chunks leave one core with most
//! of the work, which is exactly when load balancing earns its keep.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Job, Workload};

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
    pub fn escape_time(&self, c_re: f64, c_im: f64) -> u32 {
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

/// One render: a single pass over all rows.
pub struct MandelbrotJob {
    /// The image to render, until its one pass has started.
    spec: Option<Arc<Mandelbrot>>,
    rows: Vec<Vec<u32>>,
}

impl MandelbrotJob {
    pub fn new(spec: Mandelbrot) -> Self {
        MandelbrotJob { spec: Some(Arc::new(spec)), rows: Vec::new() }
    }
}

impl Job for MandelbrotJob {
    type W = Mandelbrot;
    fn next_pass(&mut self) -> Option<Arc<Mandelbrot>> {
        self.spec.take()
    }
    fn absorb(&mut self, rows: Vec<Vec<u32>>) {
        self.rows = rows;
    }
    fn digest(&self) -> String {
        casebook::digest_of(&self.rows)
    }
}
