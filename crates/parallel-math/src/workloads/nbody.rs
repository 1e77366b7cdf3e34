//! The uniform workload: an all-pairs gravitational n-body simulation, floating-point heavy
//! and evenly spread, advanced for a few steps.
//!
//! Each step computes every body's acceleration (the parallel part: O(n²)), then integrates
//! positions in one sequential O(n) pass. Each body's sum runs over the other bodies in a
//! fixed order, so every variant produces bit-identical positions.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Job, Workload};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NBody {
    pub bodies: usize,
    pub steps: usize,
}

/// The positions and masses one step reads; shared read-only by every worker.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub positions: Vec<[f64; 3]>,
    pub masses: Vec<f64>,
}

const SOFTENING_SQUARED: f64 = 1e-3;
const DT: f64 = 1e-3;

impl NBody {
    /// A deterministic starting state: bodies on a jittered spiral (no RNG crate needed for
    /// reproducibility, and none of the variants' results depend on it), all at rest.
    pub fn initial(&self) -> (Snapshot, Vec<[f64; 3]>) {
        let n = self.bodies;
        let positions = (0..n)
            .map(|i| {
                let t = i as f64 * 0.618_033_988_75 * std::f64::consts::TAU;
                let r = 1.0 + (i % 97) as f64 / 97.0;
                [r * t.cos(), r * t.sin(), ((i % 13) as f64 - 6.0) * 0.05]
            })
            .collect();
        let masses = (0..n).map(|i| 1.0 + (i % 7) as f64 * 0.1).collect();
        (Snapshot { positions, masses }, vec![[0.0; 3]; n])
    }

    /// Applies one step's accelerations: the sequential part of each step.
    pub fn integrate(snapshot: &mut Snapshot, velocities: &mut [[f64; 3]], accelerations: &[[f64; 3]]) {
        for ((p, v), a) in snapshot.positions.iter_mut().zip(velocities.iter_mut()).zip(accelerations) {
            for k in 0..3 {
                v[k] += a[k] * DT;
                p[k] += v[k] * DT;
            }
        }
    }
}

// ANCHOR: workload
impl Workload for Snapshot {
    /// One body's acceleration.
    type Item = [f64; 3];

    fn item_count(&self) -> usize {
        self.positions.len()
    }

    fn compute(&self, i: usize) -> [f64; 3] {
        let pi = self.positions[i];
        let mut acc = [0.0f64; 3];
        for (j, (pj, mj)) in self.positions.iter().zip(&self.masses).enumerate() {
            if i == j {
                continue;
            }
            let d = [pj[0] - pi[0], pj[1] - pi[1], pj[2] - pi[2]];
            let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] + SOFTENING_SQUARED;
            let inv_r3 = mj / (r2 * r2.sqrt());
            acc[0] += d[0] * inv_r3;
            acc[1] += d[1] * inv_r3;
            acc[2] += d[2] * inv_r3;
        }
        acc
    }
}
// ANCHOR_END: workload

/// A short simulation: one parallel pass per step, then a sequential integration.
pub struct NBodyJob {
    spec: NBody,
    /// Shared with the workers during a pass; by the time the pass is absorbed they have let
    /// go, so `Arc::make_mut` integrates in place instead of copying every step.
    snapshot: Arc<Snapshot>,
    velocities: Vec<[f64; 3]>,
    step: usize,
}

impl NBodyJob {
    pub fn new(spec: NBody) -> Self {
        let (snapshot, velocities) = spec.initial();
        NBodyJob { spec, snapshot: Arc::new(snapshot), velocities, step: 0 }
    }
}

impl Job for NBodyJob {
    type W = Snapshot;
    fn next_pass(&mut self) -> Option<Arc<Snapshot>> {
        (self.step < self.spec.steps).then(|| Arc::clone(&self.snapshot))
    }
    fn absorb(&mut self, accelerations: Vec<[f64; 3]>) {
        NBody::integrate(Arc::make_mut(&mut self.snapshot), &mut self.velocities, &accelerations);
        self.step += 1;
    }
    fn digest(&self) -> String {
        let bits: Vec<[u64; 3]> = self.snapshot.positions.iter().map(|p| p.map(f64::to_bits)).collect();
        casebook::digest_of(&bits)
    }
}
