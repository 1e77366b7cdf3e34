//! One run of one row: build and warm the pools, start the probe, run the job in the
//! measured region, and record the probe's lateness, the units created and the answer.

use std::sync::Arc;

use casebook::Ctx;

use crate::{
    figures::{PROBE, UNITS},
    params::{Params, Spec, WorkloadKind},
    variants::{Pools, Variant},
    workloads::{Job, mandelbrot::MandelbrotJob, nbody::NBodyJob, probe::Probe},
};

/// Runs the row's workload with its variant at its unit size.
pub fn execute(params: &Params, variant: Variant, spec: Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
    match spec.workload {
        WorkloadKind::Mandelbrot => run_job(MandelbrotJob::new(params.mandelbrot), variant, params, spec, ctx),
        WorkloadKind::Nbody => run_job(NBodyJob::new(params.nbody), variant, params, spec, ctx),
        WorkloadKind::Both => anyhow::bail!("a row runs one workload, not both"),
    }
}

// ANCHOR: run_job
/// Runs one variant on one job inside the measured region, with the latency probe ticking
/// beside it. Pools and runtimes are built (and warmed) before the clock starts: a real
/// service has them running long before the work arrives.
fn run_job<J: Job>(mut job: J, variant: Variant, params: &Params, spec: Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
    let threads = params.threads;
    // In the async variants this runtime runs the math and the probe; otherwise only the probe.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build()?;
    let rayon = variant.uses_rayon().then(|| rayon::ThreadPoolBuilder::new().num_threads(threads).build());
    let rayon = rayon.transpose()?.map(Arc::new);
    if let Some(pool) = &rayon {
        pool.broadcast(|_| ());
    }
    if variant.uses_blocking_pool() {
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
    let pools = Pools { threads, runtime, rayon };
    let probe = Probe::start(pools.runtime.handle());
    let units = ctx.measure(|| variant.drive(&mut job, &pools, spec.granularity.max(1)))?;
    // Recorded even when empty: its quantiles are then missing, not zero.
    ctx.histogram(PROBE, &probe.finish(pools.runtime.handle())?);
    ctx.figure(UNITS, units as f64);
    ctx.digest(job.digest());
    Ok(())
}
// ANCHOR_END: run_job
