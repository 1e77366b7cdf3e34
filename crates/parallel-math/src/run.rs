//! One run of one row: build and warm the pools, start the probe, run the job in the
//! measured region, and record the probe's lateness, the units created and the answer.

use std::sync::Arc;

use casebook::Ctx;

use crate::{
    figures::{PROBE, UNITS},
    mandelbrot::Mandelbrot,
    nbody::{NBody, Snapshot},
    params::{Params, RowSpec, WorkloadKind},
    probe::Probe,
    workload::{
        self, Job, RAYON, SEQUENTIAL, THREAD_PER_ITEM, THREADS_SHARED_COUNTER, THREADS_STATIC, TOKIO_RAYON,
        TOKIO_SPAWN, TOKIO_SPAWN_BLOCKING, TOKIO_SPAWN_BLOCKING_UNBOUNDED, Workload, drive, drive_async,
    },
};

/// Runs the row's workload with its variant at its unit size.
pub fn execute(params: &Params, spec: RowSpec, variant: &str, ctx: &mut Ctx) -> anyhow::Result<()> {
    match spec.workload {
        WorkloadKind::Mandelbrot => {
            run_job(MandelbrotJob::new(params.mandelbrot), variant, params.threads, spec.granularity, ctx)
        }
        WorkloadKind::Nbody => run_job(NBodyJob::new(params.nbody), variant, params.threads, spec.granularity, ctx),
        WorkloadKind::Both => anyhow::bail!("a row runs one workload, not both"),
    }
}

// ANCHOR: run_job
/// Runs one variant on one job inside the measured region, with the latency probe ticking
/// beside it. Pools and runtimes are built (and warmed) before the clock starts: a real
/// service has them running long before the work arrives.
fn run_job<J: Job>(mut job: J, variant: &str, threads: usize, granularity: usize, ctx: &mut Ctx) -> anyhow::Result<()> {
    let granularity = granularity.max(1);
    // In the async variants this runtime runs the math and the probe; otherwise only the probe.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?;
    // Only the variants that use rayon get its pool, so no row carries idle threads it never
    // asked for in its thread count.
    let pool = if matches!(variant, RAYON | TOKIO_RAYON) {
        let pool = Arc::new(rayon::ThreadPoolBuilder::new().num_threads(threads).build()?);
        pool.broadcast(|_| ());
        Some(pool)
    } else {
        None
    };
    if matches!(variant, TOKIO_SPAWN_BLOCKING | TOKIO_SPAWN_BLOCKING_UNBOUNDED) {
        // Start as many blocking threads as the other pools have, so that none of the
        // variants pays for its first threads inside the measured region.
        runtime.block_on(async {
            let warm: Vec<_> = (0..threads).map(|_| tokio::task::spawn_blocking(|| ())).collect();
            for handle in warm {
                handle.await?;
            }
            anyhow::Ok(())
        })?;
    }
    let rayon_pool = || pool.clone().ok_or_else(|| anyhow::anyhow!("no rayon pool for {variant}"));
    let probe = Probe::start(runtime.handle());
    let mut units = 0usize;
    let outcome = ctx.measure(|| -> anyhow::Result<()> {
        let count = |w: &J::W, per_unit: usize| w.item_count().div_ceil(per_unit);
        match variant {
            SEQUENTIAL => drive(&mut job, |w| {
                units += 1;
                workload::sequential(&*w)
            }),
            THREADS_STATIC => drive(&mut job, |w| {
                units += threads.min(w.item_count());
                workload::threads_static(&*w, threads)
            }),
            THREADS_SHARED_COUNTER => drive(&mut job, |w| {
                units += threads.min(w.item_count());
                workload::threads_shared_counter(&*w, threads, granularity)
            }),
            THREAD_PER_ITEM => drive(&mut job, |w| {
                units += count(&w, granularity);
                workload::thread_per_item(&*w, granularity)
            }),
            RAYON => {
                let pool = rayon_pool()?;
                drive(&mut job, |w| {
                    units += count(&w, granularity);
                    workload::rayon_pass(&pool, &*w, granularity)
                })
            }
            TOKIO_SPAWN => runtime.block_on(drive_async(&mut job, |w| {
                units += count(&w, granularity);
                workload::tokio_spawn(w, granularity)
            }))?,
            TOKIO_SPAWN_BLOCKING => runtime.block_on(drive_async(&mut job, |w| {
                units += count(&w, granularity);
                workload::tokio_spawn_blocking(w, granularity, threads)
            }))?,
            TOKIO_SPAWN_BLOCKING_UNBOUNDED => runtime.block_on(drive_async(&mut job, |w| {
                units += count(&w, granularity);
                workload::tokio_spawn_blocking_unbounded(w, granularity)
            }))?,
            TOKIO_RAYON => {
                let pool = rayon_pool()?;
                runtime.block_on(drive_async(&mut job, |w| {
                    units += count(&w, granularity);
                    workload::tokio_rayon(Arc::clone(&pool), w, granularity)
                }))?
            }
            other => anyhow::bail!("unknown variant {other}"),
        }
        Ok(())
    });
    outcome?;
    // Recorded even when empty: its quantiles are then missing, not zero.
    ctx.histogram(PROBE, &probe.finish(runtime.handle())?);
    ctx.figure(UNITS, units as f64);
    ctx.digest(job.digest());
    Ok(())
}
// ANCHOR_END: run_job

/// One render: a single pass over all rows.
struct MandelbrotJob {
    spec: Arc<Mandelbrot>,
    started: bool,
    rows: Vec<Vec<u32>>,
}

impl MandelbrotJob {
    fn new(spec: Mandelbrot) -> Self {
        MandelbrotJob { spec: Arc::new(spec), started: false, rows: Vec::new() }
    }
}

impl Job for MandelbrotJob {
    type W = Mandelbrot;
    fn next_pass(&mut self) -> Option<Arc<Mandelbrot>> {
        (!std::mem::replace(&mut self.started, true)).then(|| Arc::clone(&self.spec))
    }
    fn absorb(&mut self, rows: Vec<Vec<u32>>) {
        self.rows = rows;
    }
    fn digest(&self) -> String {
        casebook::digest_of(&self.rows)
    }
}

/// A short simulation: one parallel pass per step, then a sequential integration.
struct NBodyJob {
    spec: NBody,
    /// Shared with the workers during a pass; by the time the pass is absorbed they have let
    /// go, so `Arc::make_mut` integrates in place instead of copying every step.
    snapshot: Arc<Snapshot>,
    velocities: Vec<[f64; 3]>,
    step: usize,
}

impl NBodyJob {
    fn new(spec: NBody) -> Self {
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

#[cfg(test)]
mod tests {
    use casebook::{Case, Point, Preset};

    use super::*;
    use crate::{ParallelMath, params::Args};

    fn tiny() -> Params {
        let args = Args {
            workload: WorkloadKind::Both,
            threads: Some(2),
            width: Some(48),
            height: Some(36),
            max_iter: Some(200),
            bodies: Some(40),
            steps: Some(2),
            body_block: Some(3),
            sweep: None,
            no_sweep: true,
            min_efficiency: None,
        };
        ParallelMath::params(&args, Preset::Quick).unwrap()
    }

    fn digest(params: &Params, workload: WorkloadKind, variant: &str, granularity: usize) -> String {
        let point = Point {
            table: "test".into(),
            variant: variant.into(),
            label: variant.into(),
            axis_value: None,
            point: serde_json::to_value(RowSpec { workload, granularity }).unwrap(),
        };
        let mut ctx = Ctx::new(std::env::temp_dir());
        ParallelMath::run(params, &(), &point, &mut ctx).unwrap();
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
            let expected = digest(&params, workload, SEQUENTIAL, 1);
            for variant in ParallelMath::INFO.variants {
                for granularity in [1, 4, 100] {
                    assert_eq!(
                        digest(&params, workload, variant.name, granularity),
                        expected,
                        "{} on {workload:?} at {granularity}",
                        variant.name
                    );
                }
            }
        }
    }
}
