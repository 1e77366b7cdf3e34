//! Every variant's pass, on a toy workload and on both real ones at tiny sizes: each must
//! compute every item, in order, whatever its unit size, so every variant agrees.

use std::sync::Arc;

use casebook::{Case, Ctx, Preset, VariantSet};
use parallel_math::{
    ParallelMath,
    figures::{PROBE, UNITS},
    params::{Args, Params, Spec, WorkloadKind},
    variants::{Pools, Variant},
    workloads::{Job, Workload},
};

struct Squares(usize);

impl Workload for Squares {
    type Item = u64;
    fn item_count(&self) -> usize {
        self.0
    }
    fn compute(&self, index: usize) -> u64 {
        (index as u64) * (index as u64)
    }
}

/// One pass over the squares, keeping what it returned.
struct Once(Option<Arc<Squares>>, Vec<u64>);

impl Job for Once {
    type W = Squares;
    fn next_pass(&mut self) -> Option<Arc<Squares>> {
        self.0.take()
    }
    fn absorb(&mut self, items: Vec<u64>) {
        self.1 = items;
    }
    fn digest(&self) -> String {
        String::new()
    }
}

#[test]
fn every_pass_computes_every_item_in_order() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let rayon = Some(Arc::new(rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap()));
    let pools = Pools { threads: 3, runtime, rayon };
    for n in [0, 1, 7, 100] {
        let expected: Vec<u64> = (0..n as u64).map(|i| i * i).collect();
        for variant in Variant::ALL {
            for g in [1, 3, 200] {
                let mut job = Once(Some(Arc::new(Squares(n))), Vec::new());
                variant.drive(&mut job, &pools, g).unwrap();
                assert_eq!(job.1, expected, "{variant} n={n} g={g}");
            }
        }
    }
}

fn tiny() -> Params {
    let args = Args {
        threads: Some(2),
        width: Some(48),
        height: Some(36),
        max_iter: Some(200),
        bodies: Some(40),
        steps: Some(2),
        body_block: Some(3),
        no_sweep: true,
        ..Args::default()
    };
    ParallelMath::params(&args, Preset::Quick).unwrap()
}

fn digest(params: &Params, workload: WorkloadKind, variant: Variant, granularity: usize) -> String {
    let mut ctx = Ctx::new(std::env::temp_dir());
    ParallelMath::run(params, &(), variant, Spec { workload, granularity }, &mut ctx).unwrap();
    let record = ctx.finish().unwrap();
    // A pass this small can end before the probe's first tick: recorded, possibly empty.
    assert!(record.histogram(PROBE).is_some(), "{variant} recorded no probe histogram");
    assert!(record.figure(UNITS).is_some_and(|u| u >= 1.0), "{variant} created no unit");
    record.digest.unwrap()
}

#[test]
fn every_variant_computes_the_same_answer_at_every_granularity() {
    let params = tiny();
    for workload in [WorkloadKind::Mandelbrot, WorkloadKind::Nbody] {
        let expected = digest(&params, workload, Variant::Sequential, 1);
        for &variant in Variant::ALL {
            for granularity in [1, 4, 100] {
                let got = digest(&params, workload, variant, granularity);
                assert_eq!(got, expected, "{variant} on {workload:?} at {granularity}");
            }
        }
    }
}
