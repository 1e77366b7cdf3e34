//! One run of one row, in its child process: a batch over a generated inbox, a watch with
//! the producer as load generator, or the b3sum anchor. And the producer's side.

use std::path::{Path, PathBuf};
use std::{sync::Arc, thread, time::Duration};

use casebook::{Ctx, GenCtx, LoadSpec, model::figure};
use serde::{Deserialize, Serialize};

use crate::inbox::manifest::{self, Entry, Manifest, Record};
use crate::inbox::{books, listing::Listing, producer, watch::Watching};
use crate::params::{Mode, Params, Spec};
use crate::pipelines::{Pipeline, Settings, b3sum, uring};
use crate::{figures::*, fixture::Shared, variants::Variant};

/// How long a watch waits with nothing new in the manifest before it counts the rest lost.
const QUIET: Duration = Duration::from_secs(5);
/// After the last expected file, how long the watch goes on so that a late repeat is counted.
const LINGER: Duration = Duration::from_millis(100);

pub fn execute(params: &Params, shared: &Shared, variant: Variant, spec: Spec, ctx: &mut Ctx) -> anyhow::Result<()> {
    let inbox = shared.inbox(spec.inbox)?;
    if variant == Variant::B3sum {
        return anchor(inbox, ctx);
    }
    if variant == Variant::IoUring
        && let Err(reason) = uring::probe()
    {
        ctx.skip(reason);
        return Ok(());
    }
    let settings = Settings { work: spec.work, capacity: spec.capacity, ..params.settings };
    // Rayon's global pool starts on first use; start it before the clock, as a runtime would be.
    rayon::current_num_threads();
    match spec.mode {
        Mode::Batch => batch(variant, inbox, settings, ctx),
        Mode::Watch => watch(params, variant, inbox, settings, ctx),
    }
}

fn batch(variant: Variant, inbox: &Path, settings: Settings, ctx: &mut Ctx) -> anyhow::Result<()> {
    let listing = Listing::scan(inbox)?;
    let pipeline = Arc::new(Pipeline::in_scratch(inbox, ctx.scratch(), settings)?);
    ctx.measure(|| variant.batch(&pipeline, &listing))?;
    record_throughput(ctx, &pipeline.manifest.entries());
    Ok(())
}

/// Throughput over the measured region, the error count and the answer.
fn record_throughput(ctx: &mut Ctx, entries: &[Entry]) {
    let wall = ctx.recorded().figure(figure::WALL).unwrap_or(f64::NAN);
    let bytes: u64 = entries.iter().map(|e| if let Record::Done { size, .. } = e.record { size } else { 0 }).sum();
    ctx.figure(FILES, entries.len() as f64);
    ctx.figure(BYTES, bytes as f64);
    ctx.figure(FILES_PER_S, entries.len() as f64 / wall);
    ctx.figure(BYTES_PER_S, bytes as f64 / wall);
    ctx.figure(ERRORS, entries.iter().filter(|e| e.record.is_failed()).count() as f64);
    ctx.digest(manifest::digest(entries));
}

/// What the producer (the load generator) is told.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProducerSpec {
    /// The generated inbox to copy from.
    pub source: PathBuf,
    /// The watched inbox to write into.
    pub inbox: PathBuf,
    pub files: usize,
    pub rate: f64,
    /// Where it leaves its log of stamps.
    pub log: PathBuf,
}

// ANCHOR: watch_run
fn watch(params: &Params, variant: Variant, source: &Path, settings: Settings, ctx: &mut Ctx) -> anyhow::Result<()> {
    let inbox = ctx.scratch().join("inbox");
    std::fs::create_dir(&inbox)?;
    let pipeline = Arc::new(Pipeline::in_scratch(&inbox, ctx.scratch(), settings)?);
    let log = ctx.scratch().join("producer.jsonl");
    let spec = ProducerSpec {
        source: source.to_path_buf(),
        inbox,
        files: params.watch_files,
        rate: params.watch_rate,
        log: log.clone(),
    };
    let mut producer = ctx.start_load(&spec)?;
    let watching = Watching::start(Arc::clone(&pipeline), move |pipeline, source| variant.drain(pipeline, source))?;
    ctx.measure(|| -> anyhow::Result<()> {
        producer.go()?;
        watching.settle(params.watch_files, QUIET, Duration::ZERO);
        Ok(())
    })?;
    thread::sleep(LINGER);
    producer.finish(ctx)?;
    let rescans = watching.stop()?;
    let entries = pipeline.manifest.entries();
    let books = books::join(&producer::read_log(&log)?, &entries);
    ctx.histogram(LATENCY, &books.latency);
    for (figure, value) in [
        (PRODUCED, books.produced),
        (LOST, books.lost),
        (DOUBLED, books.doubled),
        (UNEXPECTED, books.unexpected),
        (EARLY, books.early),
        (ERRORS, books.errors),
        (RESCANS, rescans),
        (FILES, entries.len() as u64),
    ] {
        ctx.figure(figure, value as f64);
    }
    ctx.digest(manifest::digest(&entries));
    Ok(())
}
// ANCHOR_END: watch_run

// ANCHOR: producer
/// The producer, in the load generator's process: lists its source, says it is ready, and
/// writes on the go.
pub fn load(spec: &LoadSpec, generator: &mut GenCtx) -> anyhow::Result<()> {
    let spec: ProducerSpec = spec.decode()?;
    let names = Listing::scan(&spec.source)?.files.into_iter().take(spec.files).map(|job| job.name).collect();
    let plan = producer::Plan { names, rate: Some(spec.rate), chunk_pause: Duration::ZERO };
    generator.ready()?;
    if !generator.wait_go() {
        return Ok(());
    }
    let log = producer::produce(&spec.source, &spec.inbox, &plan, &|| generator.should_stop())?;
    producer::write_log(&spec.log, &log)?;
    generator.figure(PRODUCED, log.len() as f64);
    Ok(())
}
// ANCHOR_END: producer

/// The anchor: `b3sum` over the listed inbox. The harness records the driving process's
/// CPU, threads and switches as for any row, and `b3sum`'s CPU apart (`child_cpu_s`); its
/// cores and threads are recorded here as figures of their own.
fn anchor(inbox: &Path, ctx: &mut Ctx) -> anyhow::Result<()> {
    let Ok(b3sum) = b3sum::find().map_err(|reason| ctx.skip(reason)) else { return Ok(()) };
    let listing = Listing::scan(inbox)?;
    let manifest = Manifest::create(&ctx.scratch().join("manifest.jsonl"))?;
    let threads = ctx.measure(|| b3sum::run(&b3sum, &listing, &manifest))?;
    let of = |figure| ctx.recorded().figure(figure).unwrap_or(0.0);
    let (cpu, wall) = (of(figure::CHILD_CPU), of(figure::WALL));
    ctx.figure(B3SUM_CORES, if wall > 0.0 { cpu / wall } else { 0.0 });
    ctx.figure(B3SUM_THREADS, threads as f64);
    record_throughput(ctx, &manifest.entries());
    Ok(())
}
