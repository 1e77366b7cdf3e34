//! The case's options, the sizes they resolve to for every run, and what the largest run
//! needs of the machine.

use std::collections::BTreeSet;

use casebook::{
    Needs, Preset, UsageError, model::format::thousands, model::plan::in_range, run::limits::TASK_MEMORY_ESTIMATE,
};
use serde::{Deserialize, Serialize};

use crate::{
    variants::Variant,
    workloads::{mandelbrot::Mandelbrot, nbody::NBody},
};

/// Which workload(s) to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadKind {
    Mandelbrot,
    Nbody,
    #[default]
    Both,
}

impl WorkloadKind {
    pub fn runs_mandelbrot(self) -> bool {
        self != WorkloadKind::Nbody
    }
    pub fn runs_nbody(self) -> bool {
        self != WorkloadKind::Mandelbrot
    }
}

/// Options of this case, on top of the harness's own.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Args {
    /// Which workload to run.
    #[arg(long, value_enum, default_value_t = WorkloadKind::Both, help_heading = "Case")]
    pub workload: WorkloadKind,
    /// Threads for every pool and runtime [default: the usable cores].
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
    /// Measured runs per row of the Mandelbrot and n-body tables, which every claim reads.
    pub repeat: usize,
    pub sweep_repeat: usize,
    /// A speed target for benchmark runs, not for tests: see `just bench`.
    pub min_efficiency: Option<f64>,
}

/// What one row runs besides its variant: the workload and how many items each unit of
/// concurrency takes.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Spec {
    pub workload: WorkloadKind,
    pub granularity: usize,
}

/// More threads than this for a pool is a typo, not a machine.
const MAX_THREADS: usize = 1024;

pub fn resolve(args: &Args, preset: Preset) -> Result<Params, UsageError> {
    // The claims' tables take 9 runs at the default: a run lasts a fraction of a second, and
    // 9 is the fewest runs whose interval leaves out the outermost run at each end. With 5,
    // the interval is the whole range, and one n-body run slowed by the host (0.28 s against
    // 0.16 s) moved threads-cpu between held and inconclusive in two default runs in a row.
    let (width, height, max_iter, bodies, steps, sweep, repeat, sweep_repeat) = match preset {
        Preset::Quick => (400, 300, 1000, 1500, 3, vec![1, 16, 0], preset.default_repeat(), 2),
        Preset::Default => (800, 540, 1500, 3500, 6, vec![1, 4, 16, 64, 0], 9, 3),
        Preset::Full => (2000, 1500, 3000, 8000, 8, vec![1, 2, 4, 8, 16, 32, 64, 128, 0], 9, 5),
    };
    let positive = |name: &str, value: usize| {
        if value == 0 { Err(UsageError::new(format!("--{name} must be at least 1"))) } else { Ok(value) }
    };
    let threads = in_range("threads", args.threads.unwrap_or_else(casebook::host::cpus::usable_cores), 1, MAX_THREADS)?;
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
    if args.sweep.as_ref().is_some_and(|s| s.is_empty()) {
        return Err(UsageError::new("--sweep needs at least one value"));
    }
    let sweep = if args.no_sweep { Vec::new() } else { args.sweep.clone().unwrap_or(sweep) };
    // 0 stands for "one chunk per thread", the coarsest useful unit.
    let per_thread = mandelbrot.height.div_ceil(threads);
    let sweep: BTreeSet<usize> =
        sweep.into_iter().map(|g| if g == 0 { per_thread } else { g.min(mandelbrot.height) }).collect();
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
        sweep: sweep.into_iter().collect(),
        repeat,
        sweep_repeat,
        min_efficiency: args.min_efficiency,
    })
}

/// Bytes one n-body body costs a run at most: its position and mass in the shared snapshot
/// (32, twice if a worker still held the snapshot when it was integrated), its velocity (24),
/// and its acceleration in the pass's output and in a unit's own piece before that (2 × 24).
const BYTES_PER_BODY: u64 = 2 * 32 + 24 + 2 * 24;

/// Bytes per Mandelbrot row beyond its pixels: the row's own `Vec` header.
const BYTES_PER_ROW: u64 = 24;

impl Params {
    /// What the largest run holds at once, for each workload this run measures: the data,
    /// tokio-spawn's tasks at one item per unit (every task of a pass is spawned before the
    /// first is awaited), and thread-per-item's threads at one item per unit (a scope starts
    /// every thread of a pass before it joins any), each only if that variant runs. A run
    /// does one workload, so only the larger one's memory counts.
    pub fn needs(&self, variants: &[Variant]) -> Needs {
        let spawns = variants.contains(&Variant::TokioSpawn);
        let (m, bodies) = (&self.mandelbrot, self.nbody.bodies as u64);
        let rows = m.height as u64;
        let image =
            (m.width as u64).saturating_mul(rows).saturating_mul(4).saturating_add(rows.saturating_mul(BYTES_PER_ROW));
        // (units in one pass, the data, its bytes) of each workload this run measures.
        let workloads: Vec<(u64, String, u64)> = [
            (self.workload.runs_mandelbrot())
                .then(|| (rows, format!("the {}x{} Mandelbrot image", m.width, m.height), image)),
            (self.workload.runs_nbody()).then(|| {
                let units = bodies.div_ceil(self.body_block as u64);
                (units, format!("{} n-body bodies", thousands(bodies)), bodies.saturating_mul(BYTES_PER_BODY))
            }),
        ]
        .into_iter()
        .flatten()
        .collect();
        let tasks = |units: u64| if spawns { units.saturating_mul(TASK_MEMORY_ESTIMATE) } else { 0 };
        let Some((units, data, bytes)) =
            workloads.iter().max_by_key(|(units, _, bytes)| bytes.saturating_add(tasks(*units)))
        else {
            return Needs::default();
        };
        let mut needs = Needs::default().memory(data.clone(), *bytes);
        if spawns {
            needs = needs.memory(format!("tokio-spawn's {} tasks", thousands(*units)), tasks(*units));
        }
        if variants.contains(&Variant::ThreadPerItem) {
            // Beside thread-per-item's threads, the runtime the probe ticks on.
            let most_units = workloads.iter().map(|w| w.0).max().unwrap_or(0);
            needs = needs.threads(
                "thread-per-item (a thread per row or body block, all started in one pass)",
                most_units.saturating_add(self.threads as u64),
            );
        }
        needs
    }
}
