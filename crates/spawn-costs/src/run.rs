//! One run of one row, in its own process: build the variant's driver, run the row's
//! experiment inside the measured region, and record what it saw.

use std::{io, time::Duration};

use casebook::{Ctx, Figure, stats::median};

use crate::{
    figures::*,
    params::{Params, Spec},
    units::park::{Creation, Parked},
    variants::{Driver, Variant},
};

/// Runs the row's experiment once with `variant`'s units, and records what it saw.
pub fn execute(params: &Params, variant: Variant, spec: Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
    let driver = Driver::new(variant, params.small_stack_bytes)?;
    match spec {
        Spec::Creation { units } => {
            let budget = Duration::from_millis(params.batch_budget_ms);
            let creation = ctx.measure(|| driver.create(units, params.warm_batches, budget))?;
            record_creation(ctx, units, &creation)?;
        }
        Spec::Residency { units } => {
            let parked = ctx.measure(|| driver.park(units, true))?;
            require_all(&parked)?;
            record_counts(ctx, std::iter::once(&parked));
            record_memory(ctx, &parked);
        }
        Spec::Ring { units, handoffs } => {
            // Only the lap is measured: spawning and joining the ring's units would
            // otherwise add their own CPU time and context switches to the hand-offs'.
            let ring = driver.ring(units, handoffs, |lap| ctx.measure(lap))?;
            ctx.figure(HANDOFFS, ring.handoffs as f64);
            ctx.figure(PER_HANDOFF, ring.elapsed_s / ring.handoffs.max(1) as f64);
            ctx.digest(casebook::digest_of(&(units, ring.handoffs)));
        }
        Spec::Capacity { target } => {
            let parked = ctx.measure(|| driver.park(target, true))?;
            record_counts(ctx, std::iter::once(&parked));
            record_memory(ctx, &parked);
            ctx.figure(FILL, parked.ready_s);
            let stopped_by = parked.spawn_error.as_ref().map(describe_spawn_error).unwrap_or_else(|| AT_CAP.into());
            ctx.note(STOPPED_BY, stopped_by);
        }
    }
    // Dropping the driver shuts its runtime down in the background: nothing parked can
    // outlive the run.
    drop(driver);
    Ok(())
}

/// The per-unit figures are the median over the warm batches.
fn record_creation(ctx: &mut Ctx, units: u64, creation: &Creation) -> anyhow::Result<()> {
    for batch in creation.batches() {
        require_all(batch)?;
    }
    let n = units.max(1) as f64;
    let warm = |seconds: fn(&Parked) -> f64| median(&creation.warm.iter().map(|b| seconds(b) / n).collect::<Vec<_>>());
    let medians = [
        (SPAWN_PER_UNIT, warm(|b| b.spawn_s)),
        (READY_PER_UNIT, warm(|b| b.ready_s)),
        (JOIN_PER_UNIT, warm(|b| b.join_s)),
    ];
    record_some(ctx, medians);
    ctx.figure(COLD_SPAWN_PER_UNIT, creation.cold.spawn_s / n);
    ctx.figure(BATCHES, creation.warm.len() as f64);
    record_counts(ctx, creation.batches());
    Ok(())
}

/// Creation and residency need every unit: a short run is an error, not a smaller N.
fn require_all(parked: &Parked) -> anyhow::Result<()> {
    if let Some(error) = &parked.spawn_error {
        anyhow::bail!(
            "could start only {} of {} units ({error}); lower --sizes, or see the capacity table for this machine's limit",
            parked.spawned,
            parked.target
        );
    }
    Ok(())
}

/// The counts, each the fewest over `batches` (one, unless this is creation), so that one
/// batch that lost a unit shows in the accounting.
fn record_counts<'a>(ctx: &mut Ctx, batches: impl Iterator<Item = &'a Parked> + Clone) {
    let fewest = |count: fn(&Parked) -> u64| batches.clone().map(count).min().unwrap_or(0) as f64;
    ctx.figure(TARGET, fewest(|b| b.target));
    ctx.figure(SPAWNED, fewest(|b| b.spawned));
    ctx.figure(ALIVE_AT_ONCE, fewest(|b| b.alive_at_once));
    ctx.figure(EXITED, fewest(|b| b.exited));
}

fn record_memory(ctx: &mut Ctx, parked: &Parked) {
    let (Some(plateau), Some(baseline)) = (parked.plateau, parked.baseline) else {
        return;
    };
    ctx.figure(RSS_PARKED, plateau.resident);
    // Divided by the units really alive at the plateau, not by the target: a capacity run
    // stopped short by a failed spawn still gets an honest per-unit figure, and none at all
    // when nothing started.
    let Some(per) = plateau.per_unit(&baseline, parked.alive_at_once) else {
        return;
    };
    let figures = [
        (RSS_PER_UNIT, per.anonymous),
        (VSZ_PER_UNIT, Some(per.virtual_size)),
        (KERNEL_STACK_PER_UNIT, per.kernel_stack),
        (PAGE_TABLES_PER_UNIT, per.page_tables),
    ];
    record_some(ctx, figures);
}

/// Records the figures that have a value; a missing one stays missing, never zero.
fn record_some(ctx: &mut Ctx, figures: impl IntoIterator<Item = (Figure, Option<f64>)>) {
    for (figure, value) in figures {
        if let Some(value) = value {
            ctx.figure(figure, value);
        }
    }
}

/// A failed spawn as a reader would search for it: `EAGAIN: Resource temporarily
/// unavailable`, for the errors `pthread_create` documents.
pub fn describe_spawn_error(error: &io::Error) -> String {
    let name = match error.raw_os_error() {
        Some(libc::EAGAIN) => "EAGAIN",
        Some(libc::EINVAL) => "EINVAL",
        Some(libc::EPERM) => "EPERM",
        Some(libc::ENOMEM) => "ENOMEM",
        _ => return error.to_string(),
    };
    let text = error.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    format!("{name}: {text}")
}
