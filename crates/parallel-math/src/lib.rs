//! # parallel-math
//!
//! **Question:** for CPU-bound, embarrassingly parallel work, what do threads, a
//! work-stealing pool and async tasks each give you, and what does running that work on an
//! async runtime cost everything else in the process?
//!
//! Two workloads, both exact so every variant must produce the same digest:
//! - [`mandelbrot`]: rows of wildly different cost, where load balancing matters;
//! - [`nbody`]: a uniform, floating-point heavy all-pairs step, repeated a few times.
//!
//! The variants (all in [`workload`]), and why each exists:
//! - `sequential`: the baseline every speedup is measured against.
//! - `threads-static`: `std::thread::scope`, one equal chunk per core: the simplest parallel
//!   code, and the one that suffers when rows differ in cost.
//! - `threads-shared-counter`: scoped threads, one per core, taking the next row from a
//!   shared atomic counter: dynamic balancing without a pool or stealing, the control for
//!   what rayon's work stealing adds.
//! - `thread-per-item`: a fresh OS thread per row or body block, every pass: what "pool
//!   threads for repeated CPU work" warns against.
//! - `rayon`: `par_chunks_mut` on rayon's work-stealing pool: the default a Rust expert
//!   reaches for.
//! - `tokio-spawn`: one `tokio::spawn` per unit with no yield point: the tempting
//!   anti-pattern when a codebase is already async.
//! - `tokio-spawn-blocking`: the same units through `spawn_blocking`, the framework's advice,
//!   with a semaphore so at most one unit per core is on the blocking pool at a time.
//! - `tokio-spawn-blocking-unbounded`: the advice taken literally, every unit handed to
//!   `spawn_blocking` at once, which grows the blocking pool towards 512 threads.
//! - `tokio-rayon`: async code hands the pass to rayon and awaits a oneshot: the hybrid.
//!
//! Every variant runs beside a [`probe`]: a tokio task ticking every millisecond that
//! records how late it wakes. In the async variants it shares the runtime that runs (or
//! hands off) the math; elsewhere it has its own runtime of the same size. Throughput alone
//! hides what CPU work on async workers costs; the probe's lateness shows it.

pub mod mandelbrot;
pub mod nbody;
pub mod probe;
pub mod workload;

use std::sync::Arc;

use casebook::{
    Case, CaseInfo, ClaimResult, Column, Ctx, Format, Model, Outcome, Point, Preset, Report, Row, Stats, Table,
    UsageError, Variant, at_least_times, report::format_seconds,
};
use serde::{Deserialize, Serialize};

use crate::{
    mandelbrot::Mandelbrot,
    nbody::{NBody, Snapshot},
    probe::Probe,
    workload::{Job, Workload, drive, drive_async},
};

pub struct ParallelMath;

/// Which workload(s) to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadKind {
    Mandelbrot,
    Nbody,
    Both,
}

/// Options of this case, on top of the harness's own.
#[derive(Clone, Debug, clap::Args)]
pub struct Args {
    /// Which workload to run.
    #[arg(long, value_enum, default_value_t = WorkloadKind::Both, help_heading = "Case")]
    pub workload: WorkloadKind,
    /// Threads for every pool and runtime [default: logical cores].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub threads: Option<usize>,
    /// Mandelbrot image width in pixels.
    #[arg(long, value_name = "PX", help_heading = "Case")]
    pub width: Option<usize>,
    /// Mandelbrot image height in pixels (rows are the unit of work).
    #[arg(long, value_name = "PX", help_heading = "Case")]
    pub height: Option<usize>,
    /// Mandelbrot iteration cap.
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub max_iter: Option<u32>,
    /// Number of n-body bodies.
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub bodies: Option<usize>,
    /// Number of n-body steps (each step is one parallel pass).
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub steps: Option<usize>,
    /// Bodies per unit of concurrency in the n-body tables.
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub body_block: Option<usize>,
    /// Rows per unit in the granularity sweep (comma-separated; `0` means one chunk per thread).
    #[arg(long, value_name = "LIST", value_delimiter = ',', help_heading = "Case")]
    pub sweep: Option<Vec<usize>>,
    /// Skip the granularity sweep.
    #[arg(long, help_heading = "Case")]
    pub no_sweep: bool,
    /// Fail the run if rayon's parallel efficiency on Mandelbrot (speedup / cores) is below this.
    #[arg(long, value_name = "FRACTION", help_heading = "Case")]
    pub min_efficiency: Option<f64>,
}

/// The resolved sizes every child run receives.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Params {
    pub workload: WorkloadKind,
    pub threads: usize,
    pub mandelbrot: Mandelbrot,
    pub nbody: NBody,
    pub body_block: usize,
    /// Rows per unit for each sweep point (already resolved: no zeros).
    pub sweep: Vec<usize>,
    pub sweep_repeat: usize,
    /// A speed target for benchmark runs, not for tests: see `just bench`.
    pub min_efficiency: Option<f64>,
}

/// What one row runs: the workload and how many items each unit of concurrency takes.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct RowSpec {
    workload: WorkloadKind,
    granularity: usize,
}

const SEQUENTIAL: &str = "sequential";
const THREADS_STATIC: &str = "threads-static";
const THREADS_SHARED_COUNTER: &str = "threads-shared-counter";
const THREAD_PER_ITEM: &str = "thread-per-item";
const RAYON: &str = "rayon";
const TOKIO_SPAWN: &str = "tokio-spawn";
const TOKIO_SPAWN_BLOCKING: &str = "tokio-spawn-blocking";
const TOKIO_SPAWN_BLOCKING_UNBOUNDED: &str = "tokio-spawn-blocking-unbounded";
const TOKIO_RAYON: &str = "tokio-rayon";

const MANDELBROT_TABLE: &str = "mandelbrot";
const NBODY_TABLE: &str = "nbody";
const SWEEP_TABLE: &str = "granularity-sweep";

const PROBE_P50: &str = "probe_p50_us";
const PROBE_P99: &str = "probe_p99_us";
const PROBE_MAX: &str = "probe_max_us";
const UNITS: &str = "units";

/// The variants whose unit size the sweep varies.
const SWEPT: [&str; 6] =
    [THREAD_PER_ITEM, RAYON, TOKIO_SPAWN, TOKIO_SPAWN_BLOCKING, TOKIO_SPAWN_BLOCKING_UNBOUNDED, TOKIO_RAYON];

fn probe_columns() -> Vec<Column> {
    vec![
        Column::new("probe p50", PROBE_P50, Format::Micros),
        Column::new("probe p99", PROBE_P99, Format::Micros),
        Column::new("probe max", PROBE_MAX, Format::Micros),
    ]
}

const PROBE_NOTE: &str = "probe columns: lateness of a 1 ms tokio timer tick during the measured region (tokio's timer wheel has 1 ms resolution, so about 1 ms late is on time). wall, cores busy (CPU time / wall) and context switches cover the measured region of the whole child process; peak RSS is the child's high-water mark; peak threads is sampled every 2 ms by the parent.";

impl Case for ParallelMath {
    type Args = Args;
    type Params = Params;

    const INFO: CaseInfo = CaseInfo {
        name: "parallel-math",
        question: env!("CARGO_PKG_DESCRIPTION"),
        claims: &[
            "thread-parallel",
            "threads-cpu",
            "work-stealing",
            "pool-threads",
            "no-cpu-async",
            "spawn-blocking",
            "task-cooperative",
        ],
        variants: &[
            Variant { name: SEQUENTIAL, model: Model::Sequential, why: "the baseline: one thread, a plain loop" },
            Variant {
                name: THREADS_STATIC,
                model: Model::Threads,
                why: "scoped threads, one equal chunk per core: the simplest parallel code",
            },
            Variant {
                name: THREADS_SHARED_COUNTER,
                model: Model::Threads,
                why: "scoped threads taking rows from a shared atomic counter: balancing without stealing",
            },
            Variant {
                name: THREAD_PER_ITEM,
                model: Model::Threads,
                why: "a new OS thread per row or body block, every pass: the unpooled anti-pattern",
            },
            Variant {
                name: RAYON,
                model: Model::Threads,
                why: "rayon's work-stealing pool: the expert default for data parallelism",
            },
            Variant {
                name: TOKIO_SPAWN,
                model: Model::Async,
                why: "tokio::spawn per unit with no yield point: tempting in an async codebase",
            },
            Variant {
                name: TOKIO_SPAWN_BLOCKING,
                model: Model::Async,
                why: "spawn_blocking per unit, at most one per core at a time: the framework's advice, done well",
            },
            Variant {
                name: TOKIO_SPAWN_BLOCKING_UNBOUNDED,
                model: Model::Async,
                why: "spawn_blocking for every unit at once: the advice taken literally",
            },
            Variant {
                name: TOKIO_RAYON,
                model: Model::Hybrid,
                why: "async hands the pass to rayon and awaits a oneshot: the recommended hybrid",
            },
        ],
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        let (width, height, max_iter, bodies, steps, sweep, sweep_repeat) = match preset {
            Preset::Quick => (400, 300, 1000, 1500, 3, vec![1, 16, 0], 2),
            Preset::Default => (800, 540, 1500, 3500, 6, vec![1, 4, 16, 64, 0], 3),
            Preset::Full => (2000, 1500, 3000, 8000, 8, vec![1, 2, 4, 8, 16, 32, 64, 128, 0], 5),
        };
        let threads = args.threads.unwrap_or_else(casebook::machine::logical_cores);
        let positive = |name: &str, value: usize| {
            if value == 0 { Err(UsageError::new(format!("--{name} must be at least 1"))) } else { Ok(value) }
        };
        let threads = positive("threads", threads)?;
        if threads > 1024 {
            return Err(UsageError::new("--threads must be at most 1024"));
        }
        let mandelbrot = Mandelbrot {
            width: positive("width", args.width.unwrap_or(width))?,
            height: positive("height", args.height.unwrap_or(height))?,
            max_iter: positive("max-iter", args.max_iter.unwrap_or(max_iter) as usize)? as u32,
        };
        let nbody = NBody {
            bodies: positive("bodies", args.bodies.unwrap_or(bodies))?,
            steps: positive("steps", args.steps.unwrap_or(steps))?,
        };
        let body_block = positive("body-block", args.body_block.unwrap_or(16))?;
        let sweep = if args.no_sweep { Vec::new() } else { args.sweep.clone().unwrap_or(sweep) };
        if args.sweep.as_ref().is_some_and(|s| s.is_empty()) {
            return Err(UsageError::new("--sweep needs at least one value"));
        }
        // 0 stands for "one chunk per thread", the coarsest useful unit.
        let per_thread = mandelbrot.height.div_ceil(threads);
        let mut sweep: Vec<usize> =
            sweep.into_iter().map(|g| if g == 0 { per_thread } else { g.min(mandelbrot.height) }).collect();
        sweep.sort_unstable();
        sweep.dedup();
        if let Some(e) = args.min_efficiency
            && !(e > 0.0 && e <= 1.0)
        {
            return Err(UsageError::new("--min-efficiency must be a fraction in (0, 1]"));
        }
        Ok(Params {
            workload: args.workload,
            threads,
            mandelbrot,
            nbody,
            body_block,
            sweep,
            sweep_repeat,
            min_efficiency: args.min_efficiency,
        })
    }

    fn plan(params: &Params, variants: &[&'static Variant]) -> Vec<Table> {
        let mut tables = Vec::new();
        let mut throughput_table = |id: &str, title: &str, workload: WorkloadKind, granularity: usize| {
            let mut table = Table::new(id, title);
            table.columns.extend(probe_columns());
            table.note = PROBE_NOTE.into();
            table.baseline = variants.iter().any(|v| v.name == SEQUENTIAL).then(|| SEQUENTIAL.to_string());
            for variant in variants {
                let spec = RowSpec { workload, granularity };
                table.rows.push(Row::new(variant, serde_json::to_value(spec).unwrap_or_default()));
            }
            tables.push(table);
        };
        if params.workload != WorkloadKind::Nbody {
            let m = &params.mandelbrot;
            throughput_table(
                MANDELBROT_TABLE,
                &format!("Mandelbrot {}x{}, max {} iterations, one row per unit", m.width, m.height, m.max_iter),
                WorkloadKind::Mandelbrot,
                1,
            );
        }
        if params.workload != WorkloadKind::Mandelbrot {
            let n = &params.nbody;
            throughput_table(
                NBODY_TABLE,
                &format!("n-body, {} bodies, {} steps, {} bodies per unit", n.bodies, n.steps, params.body_block),
                WorkloadKind::Nbody,
                params.body_block,
            );
        }
        let swept: Vec<&&Variant> = variants.iter().filter(|v| SWEPT.contains(&v.name)).collect();
        if params.workload != WorkloadKind::Nbody && !params.sweep.is_empty() && !swept.is_empty() {
            let mut table = Table::new(SWEEP_TABLE, "Granularity sweep: Mandelbrot rows per unit of concurrency");
            table.axis = Some("rows/unit".into());
            table.columns = vec![
                Column::wall(),
                Column::speedup(),
                Column::peak_threads(),
                Column::new("probe p99", PROBE_P99, Format::Micros),
            ];
            table.repeat = Some(params.sweep_repeat);
            table.note = "Each swept variant at each unit size; sequential is the baseline. The largest value is one chunk per thread.".into();
            if let Some(sequential) = variants.iter().find(|v| v.name == SEQUENTIAL) {
                let spec = RowSpec { workload: WorkloadKind::Mandelbrot, granularity: 1 };
                table.rows.push(Row::new(sequential, serde_json::to_value(spec).unwrap_or_default()));
                table.baseline = Some(SEQUENTIAL.into());
            }
            for variant in swept {
                for &granularity in &params.sweep {
                    let spec = RowSpec { workload: WorkloadKind::Mandelbrot, granularity };
                    table.rows.push(Row::at(
                        variant,
                        granularity as f64,
                        serde_json::to_value(spec).unwrap_or_default(),
                    ));
                }
            }
            tables.push(table);
        }
        tables
    }

    fn run(params: &Params, point: &Point, ctx: &mut Ctx) -> anyhow::Result<()> {
        let spec: RowSpec = point.decode()?;
        match spec.workload {
            WorkloadKind::Mandelbrot => {
                run_job(MandelbrotJob::new(params.mandelbrot), &point.variant, params.threads, spec.granularity, ctx)
            }
            WorkloadKind::Nbody => {
                run_job(NBodyJob::new(params.nbody), &point.variant, params.threads, spec.granularity, ctx)
            }
            WorkloadKind::Both => anyhow::bail!("a row runs one workload, not both"),
        }
    }

    fn claims(report: &Report) -> Vec<ClaimResult> {
        claims(report)
    }

    /// The optional speed target: only when asked for, since timing is not correctness.
    fn check(report: &Report) -> Vec<String> {
        let Some(target) = report.params.get("min_efficiency").and_then(|e| e.as_f64()) else { return Vec::new() };
        match report.stats(MANDELBROT_TABLE, RAYON, "speedup") {
            Some(s) if s.median / usable_cores(report) as f64 >= target => Vec::new(),
            Some(s) => vec![format!(
                "rayon's efficiency on Mandelbrot was {:.2}, below --min-efficiency {target}",
                s.median / usable_cores(report) as f64
            )],
            None => vec!["--min-efficiency needs the sequential and rayon rows on Mandelbrot".into()],
        }
    }

    fn verdicts(report: &Report) -> Vec<String> {
        let mut verdicts = efficiency_verdicts(report);
        verdicts.extend(sweep_verdicts(report));
        verdicts
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
    let lateness = probe.finish(runtime.handle())?;
    ctx.latency_us("probe", &lateness);
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

/// Cores the parallel variants can actually use in this run.
fn usable_cores(report: &Report) -> usize {
    let threads = report.params.get("threads").and_then(|t| t.as_u64()).unwrap_or(1) as usize;
    threads.min(report.env.logical_cores).max(1)
}

fn ms(us: f64) -> String {
    format_seconds(us / 1e6)
}

/// The share of the cores a parallel variant must turn into speedup for the parallelism
/// claims to hold: well above "some", leaving room for the probe and the OS.
const PARALLEL_SHARE: f64 = 0.75;

/// The performance target the project holds rayon to (speedup per core on Mandelbrot): a
/// goal for our implementation, stricter than the claims' threshold and reported, not tested.
const EFFICIENCY_TARGET: f64 = 0.85;

/// A run whose probe never ticked has no lateness to compare (its percentiles are missing,
/// not zero). Few ticks are still evidence: a starved probe ticks rarely *because* it is
/// starved, so demanding many would hide exactly the effect being measured.
const MIN_PROBE_TICKS: f64 = 1.0;

/// A probe figure, only where every run of the row had enough ticks to trust it.
fn probe<'a>(report: &'a Report, table: &str, variant: &str, figure: &str) -> Option<&'a Stats> {
    let ticks = report.stats(table, variant, "probe_count")?;
    (ticks.min >= MIN_PROBE_TICKS).then_some(())?;
    report.stats(table, variant, figure)
}

/// Speedup over sequential decided on wall times, run against run: "held" needs every
/// sequential run to take at least `factor` times every run of the variant.
fn speedup_claim(report: &Report, table: &str, variant: &str, factor: f64) -> Option<(Outcome, f64)> {
    let sequential = report.stats(table, SEQUENTIAL, "wall_s")?;
    let parallel = report.stats(table, variant, "wall_s")?;
    Some((at_least_times(sequential, parallel, factor), sequential.median / parallel.median))
}

fn claims(report: &Report) -> Vec<ClaimResult> {
    let cores = usable_cores(report);
    let target = PARALLEL_SHARE * cores as f64;
    let mut claims = Vec::new();

    // thread-parallel: plain scoped threads on the uniform workload.
    let threshold = format!(
        "sequential's wall time on n-body ≥ {target:.2} ({PARALLEL_SHARE} × {cores} cores) × threads-static's, run against run"
    );
    claims.push(match speedup_claim(report, NBODY_TABLE, THREADS_STATIC, target) {
        _ if cores < 2 => ClaimResult::new(
            "thread-parallel",
            Outcome::Inconclusive,
            "only one usable core: nothing to run in parallel",
            threshold,
        ),
        Some((outcome, speedup)) => ClaimResult::new(
            "thread-parallel",
            outcome,
            format!("threads-static ran n-body {speedup:.2}x faster than sequential on {cores} cores"),
            threshold,
        ),
        None => ClaimResult::not_measured("thread-parallel", "sequential and threads-static on n-body", threshold),
    });

    // threads-cpu: the best thread-based tool on both workloads, with async beside it.
    let threshold = format!(
        "sequential's wall time ≥ {target:.2} ({PARALLEL_SHARE} × {cores} cores) × rayon's, run against run, on both workloads"
    );
    let rayon: Vec<(&str, Outcome, f64)> = [MANDELBROT_TABLE, NBODY_TABLE]
        .into_iter()
        .filter_map(|t| speedup_claim(report, t, RAYON, target).map(|(o, s)| (t, o, s)))
        .collect();
    claims.push(if cores < 2 {
        ClaimResult::new("threads-cpu", Outcome::Inconclusive, "only one usable core", threshold)
    } else if rayon.is_empty() {
        ClaimResult::not_measured("threads-cpu", "sequential and rayon", threshold)
    } else {
        let outcomes: Vec<Outcome> = rayon.iter().map(|(_, o, _)| *o).collect();
        let mut evidence: Vec<String> = rayon.iter().map(|(t, _, s)| format!("rayon {t} {s:.2}x")).collect();
        for t in [MANDELBROT_TABLE, NBODY_TABLE] {
            if let (Some(a), Some(r)) = (report.stats(t, TOKIO_SPAWN, "wall_s"), report.stats(t, RAYON, "wall_s")) {
                evidence.push(format!("tokio-spawn on {t} took {:.2}x rayon's wall time", a.median / r.median));
            }
        }
        ClaimResult::new("threads-cpu", casebook::combine(&outcomes), evidence.join("; "), threshold)
    });

    // work-stealing: uneven rows are where stealing should beat static chunks.
    let threshold =
        "threads-static's wall time on Mandelbrot ≥ 1.05 × rayon's, run against run (the shared counter and uniform n-body shown for contrast)"
            .to_string();
    claims.push(
        match (
            report.stats(MANDELBROT_TABLE, RAYON, "wall_s"),
            report.stats(MANDELBROT_TABLE, THREADS_STATIC, "wall_s"),
        ) {
            (Some(rayon), Some(fixed)) => {
                let mut evidence = format!(
                    "on uneven Mandelbrot rows threads-static took {} vs rayon {} ({:.2}x)",
                    format_seconds(fixed.median),
                    format_seconds(rayon.median),
                    fixed.median / rayon.median
                );
                if let Some(counter) = report.stats(MANDELBROT_TABLE, THREADS_SHARED_COUNTER, "wall_s") {
                    evidence += &format!(
                        "; threads taking rows from a shared counter, with no stealing, took {} ({:.2}x rayon's)",
                        format_seconds(counter.median),
                        counter.median / rayon.median
                    );
                }
                if let (Some(r), Some(f)) =
                    (report.stats(NBODY_TABLE, RAYON, "wall_s"), report.stats(NBODY_TABLE, THREADS_STATIC, "wall_s"))
                {
                    evidence +=
                        &format!("; on uniform n-body static chunks took {:.2}x rayon's time", f.median / r.median);
                }
                ClaimResult::new("work-stealing", at_least_times(fixed, rayon, 1.05), evidence, threshold)
            }
            _ => ClaimResult::not_measured("work-stealing", "rayon and threads-static on Mandelbrot", threshold),
        },
    );

    // pool-threads: repeated passes (n-body steps) with and without a pool.
    let threshold = "thread-per-item's wall time on n-body ≥ 1.05 × rayon's, run against run".to_string();
    claims.push(
        match (report.stats(NBODY_TABLE, THREAD_PER_ITEM, "wall_s"), report.stats(NBODY_TABLE, RAYON, "wall_s")) {
            (Some(unpooled), Some(pooled)) => {
                let created = report.stats(NBODY_TABLE, THREAD_PER_ITEM, UNITS).map(|u| u.median).unwrap_or(0.0);
                let mut evidence = format!(
                    "creating {created:.0} threads over the steps took {} vs rayon's pool {} ({:.2}x)",
                    format_seconds(unpooled.median),
                    format_seconds(pooled.median),
                    unpooled.median / pooled.median
                );
                if let (Some(fixed), Some(per_step)) =
                    (report.stats(NBODY_TABLE, THREADS_STATIC, "wall_s"), report.stats(NBODY_TABLE, THREADS_STATIC, UNITS))
                {
                    evidence += &format!(
                        "; threads-static, which also starts fresh threads every step but only {:.0} in all, took {:.2}x rayon's",
                        per_step.median,
                        fixed.median / pooled.median
                    );
                }
                ClaimResult::new("pool-threads", at_least_times(unpooled, pooled, 1.05), evidence, threshold)
            }
            _ => ClaimResult::not_measured("pool-threads", "thread-per-item and rayon on n-body", threshold),
        },
    );

    // no-cpu-async: what CPU work on the async workers does to a neighbour's latency.
    let threshold =
        "tokio-spawn's probe p99 lateness on Mandelbrot ≥ 5 × rayon's, run against run (every run with a probe tick)"
            .to_string();
    claims.push(
        match (
            probe(report, MANDELBROT_TABLE, TOKIO_SPAWN, PROBE_P99),
            probe(report, MANDELBROT_TABLE, RAYON, PROBE_P99),
        ) {
            (Some(async_p99), Some(pool_p99)) => {
                let speed = match (
                    report.stats(MANDELBROT_TABLE, TOKIO_SPAWN, "wall_s"),
                    report.stats(MANDELBROT_TABLE, RAYON, "wall_s"),
                ) {
                    (Some(a), Some(r)) => format!(", while its wall time was {:.2}x rayon's", a.median / r.median),
                    _ => String::new(),
                };
                ClaimResult::new(
                    "no-cpu-async",
                    at_least_times(async_p99, pool_p99, 5.0),
                    format!(
                        "probe p99 {} with the math on the async workers vs {} beside rayon{speed}",
                        ms(async_p99.median),
                        ms(pool_p99.median)
                    ),
                    threshold,
                )
            }
            _ => ClaimResult::not_measured(
                "no-cpu-async",
                "tokio-spawn and rayon on Mandelbrot, with probe ticks in every run",
                threshold,
            ),
        },
    );

    // spawn-blocking: does moving the same units to the blocking pool keep the runtime responsive?
    let threshold = "tokio-spawn's probe p99 on Mandelbrot ≥ 5 × tokio-spawn-blocking's, run against run (every run with a probe tick)".to_string();
    claims.push(
        match (
            probe(report, MANDELBROT_TABLE, TOKIO_SPAWN, PROBE_P99),
            probe(report, MANDELBROT_TABLE, TOKIO_SPAWN_BLOCKING, PROBE_P99),
        ) {
            (Some(async_p99), Some(blocking_p99)) => {
                let mut evidence = format!(
                    "probe p99 {} with spawn_blocking (one unit per core at a time) vs {} with tokio::spawn",
                    ms(blocking_p99.median),
                    ms(async_p99.median)
                );
                if let (Some(p99), Some(threads)) = (
                    probe(report, MANDELBROT_TABLE, TOKIO_SPAWN_BLOCKING_UNBOUNDED, PROBE_P99),
                    report.stats(MANDELBROT_TABLE, TOKIO_SPAWN_BLOCKING_UNBOUNDED, casebook::runner::PEAK_THREADS),
                ) {
                    evidence += &format!(
                        "; unbounded, spawn_blocking grew the process to {:.0} threads and p99 {}",
                        threads.median,
                        ms(p99.median)
                    );
                }
                if let Some(hybrid) = probe(report, MANDELBROT_TABLE, TOKIO_RAYON, PROBE_P99) {
                    evidence += &format!("; handing the pass to rayon kept p99 at {}", ms(hybrid.median));
                }
                ClaimResult::new("spawn-blocking", at_least_times(async_p99, blocking_p99, 5.0), evidence, threshold)
            }
            _ => ClaimResult::not_measured(
                "spawn-blocking",
                "tokio-spawn and tokio-spawn-blocking on Mandelbrot, with probe ticks in every run",
                threshold,
            ),
        },
    );

    // task-cooperative: a task that never awaits holds its worker for the whole unit. The
    // control is the same probe beside rayon, which carries the timer's own 1 ms step: only
    // lateness beyond the control's counts as a held worker.
    let threshold = "tokio-spawn's worst probe lateness on Mandelbrot exceeds rayon's by at least the mean time of one row, run against run (every run with a probe tick)".to_string();
    claims.push(
        match (
            probe(report, MANDELBROT_TABLE, TOKIO_SPAWN, PROBE_MAX),
            probe(report, MANDELBROT_TABLE, RAYON, PROBE_MAX),
            report.stats(MANDELBROT_TABLE, SEQUENTIAL, "wall_s"),
        ) {
            (Some(held), Some(control), Some(sequential)) => {
                let rows = report.params.pointer("/mandelbrot/height").and_then(|h| h.as_f64()).unwrap_or(1.0);
                let row_us = sequential.median / rows * 1e6;
                // Every run's excess against every control run: min..max of the difference.
                let (lowest, highest) = (held.min - control.max, held.max - control.min);
                let outcome = if held.n < 2 || control.n < 2 {
                    Outcome::Inconclusive
                } else if lowest >= row_us {
                    Outcome::Held
                } else if highest < row_us {
                    Outcome::DidNotHold
                } else {
                    Outcome::Inconclusive
                };
                ClaimResult::new(
                    "task-cooperative",
                    outcome,
                    format!(
                        "the probe waited up to {} beside tokio-spawn vs {} beside rayon, while one row takes {} on average",
                        ms(held.median),
                        ms(control.median),
                        ms(row_us)
                    ),
                    threshold,
                )
            }
            _ => ClaimResult::not_measured(
                "task-cooperative",
                "sequential, rayon and tokio-spawn on Mandelbrot, with probe ticks in every run",
                threshold,
            ),
        },
    );
    claims
}

/// Rayon's speedup per usable core: how close the expert default gets to the hardware's limit.
fn efficiency_verdicts(report: &Report) -> Vec<String> {
    let cores = usable_cores(report);
    [MANDELBROT_TABLE, NBODY_TABLE]
        .into_iter()
        .filter_map(|t| {
            let s = report.stats(t, RAYON, "speedup")?;
            Some(format!(
                "{t}: rayon's parallel efficiency is {:.2} ({:.2}x on {cores} cores; target ≥ {EFFICIENCY_TARGET}).",
                s.median / cores as f64,
                s.median
            ))
        })
        .collect()
}

/// For each swept variant: its best unit size, and the smallest unit within 10% of that best,
/// i.e. where per-unit overhead stops dominating.
fn sweep_verdicts(report: &Report) -> Vec<String> {
    let mut verdicts = Vec::new();
    for variant in SWEPT {
        let mut points: Vec<(f64, f64)> = report
            .rows(SWEEP_TABLE)
            .filter(|r| r.name == variant)
            .filter_map(|r| Some((r.axis_value?, r.median("wall_s")?)))
            .collect();
        if points.len() < 2 {
            continue;
        }
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (best_g, best_wall) = points.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap_or(points[0]);
        let crossover = points.iter().find(|(_, wall)| *wall <= best_wall * 1.10).map(|p| p.0).unwrap_or(best_g);
        let (finest_g, finest_wall) = points[0];
        verdicts.push(format!(
            "sweep, {variant}: best at {best_g} rows/unit ({}); within 10% of that from {crossover} rows/unit; at {finest_g} rows/unit it took {:.2}x its best.",
            format_seconds(best_wall),
            finest_wall / best_wall
        ));
    }
    verdicts
}

#[cfg(test)]
mod tests {
    use super::*;

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
            sweep: Some(vec![1, 5, 0]),
            no_sweep: false,
            min_efficiency: None,
        };
        ParallelMath::params(&args, Preset::Quick).unwrap()
    }

    fn digest(params: &Params, workload: WorkloadKind, variant: &str, granularity: usize) -> String {
        let point = Point {
            table: "test".into(),
            variant: variant.into(),
            label: variant.into(),
            point: serde_json::to_value(RowSpec { workload, granularity }).unwrap(),
        };
        let mut ctx = Ctx::new(std::env::temp_dir());
        ParallelMath::run(params, &point, &mut ctx).unwrap();
        let record = ctx.finish().unwrap();
        assert!(record.figures.contains_key("probe_count"), "{variant} recorded no probe figures");
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

    #[test]
    fn the_plan_has_every_selected_variant_and_a_sweep() {
        let params = tiny();
        let all: Vec<&'static Variant> = ParallelMath::INFO.variants.iter().collect();
        let tables = ParallelMath::plan(&params, &all);
        let ids: Vec<&str> = tables.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, [MANDELBROT_TABLE, NBODY_TABLE, SWEEP_TABLE]);
        assert_eq!(tables[0].rows.len(), ParallelMath::INFO.variants.len());
        // 0 in --sweep means one chunk per thread: 36 rows / 2 threads.
        assert_eq!(params.sweep, vec![1, 5, 18]);
        assert_eq!(tables[2].rows.len(), 1 + SWEPT.len() * 3);

        let only_rayon: Vec<&'static Variant> = all.iter().copied().filter(|v| v.name == RAYON).collect();
        let tables = ParallelMath::plan(&params, &only_rayon);
        assert!(tables.iter().all(|t| t.baseline.is_none()));
    }

    #[test]
    fn out_of_range_options_are_usage_errors() {
        let mut args = Args {
            workload: WorkloadKind::Both,
            threads: Some(0),
            width: None,
            height: None,
            max_iter: None,
            bodies: None,
            steps: None,
            body_block: None,
            sweep: None,
            no_sweep: false,
            min_efficiency: None,
        };
        let err = ParallelMath::params(&args, Preset::Quick).unwrap_err();
        assert!(err.to_string().contains("--threads"), "{err}");
        args.threads = Some(2);
        args.height = Some(0);
        assert!(ParallelMath::params(&args, Preset::Quick).unwrap_err().to_string().contains("--height"));
        args.height = None;
        args.sweep = Some(vec![]);
        assert!(ParallelMath::params(&args, Preset::Quick).unwrap_err().to_string().contains("--sweep"));
    }

    #[test]
    fn claim_ids_are_the_frameworks() {
        for id in ParallelMath::INFO.claims {
            assert!(casebook::claims::claim_text(id).is_some(), "{id}");
        }
    }
}
