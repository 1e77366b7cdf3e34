//! The case's options, the sizes and caps they resolve to for every run, and what a row
//! runs besides its variant. The caps come from this machine's limits
//! ([`casebook::run::limits`]), read once in the parent before anything is spawned.

use casebook::{
    Model, Needs, Preset, UsageError, VariantSet,
    model::{format::format_count, plan::in_range},
    run::limits::{
        Cap, Limit, Readings, TASK_MEMORY_ESTIMATE, THREAD_MEMORY_ESTIMATE, safe_cap, task_limits, thread_limits,
    },
};
use serde::{Deserialize, Serialize};

use crate::variants::Variant;

/// Default size of the small-stack variant's stacks.
pub const SMALL_STACK_KIB: u64 = 64;
/// Rust's default thread stack when `RUST_MIN_STACK` is not set.
const RUST_DEFAULT_STACK: usize = 2 << 20;
/// Largest sweep size accepted on the command line.
const MAX_SIZE: u64 = 100_000_000;
/// A creation run's warm batches stop once they have taken this long (at least one runs):
/// enough for several batches of tasks at any N and of threads at small N, while a batch of
/// 10,000 threads, which takes most of a second and varies little, runs once.
pub const BATCH_BUDGET_MS: u64 = 250;

/// Options of this case, on top of the harness's own.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Args {
    /// Unit counts N for the creation and residency sweeps (comma-separated)
    /// [default: quick 100,1000; default 1000,10000,100000; full adds 1000000].
    #[arg(long, value_name = "LIST", value_delimiter = ',', help_heading = "Case")]
    pub sizes: Option<Vec<u64>>,
    /// Units in the switching ring [default: quick 100, default 500, full 1000].
    #[arg(long, value_name = "K", help_heading = "Case")]
    pub ring: Option<usize>,
    /// Hand-offs of the token around the ring [default: quick 20000, default 50000, full 500000].
    #[arg(long, value_name = "M", help_heading = "Case")]
    pub handoffs: Option<u64>,
    /// Stack size of the threads-small-stack variant, in KiB [default: 64].
    #[arg(long, value_name = "KIB", help_heading = "Case")]
    pub small_stack_kib: Option<u64>,
    /// Most futures or tasks the capacity table holds at once; never above what free memory
    /// allows [default: quick 10000, default 2000000, full 10000000].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub task_cap: Option<u64>,
    /// Most threads the capacity table holds at once; never above the safe cap computed from
    /// this machine's limits [default: quick 2000, otherwise the safe cap].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub thread_cap: Option<u64>,
}

/// What one row runs besides its variant: the experiment and its size.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(tag = "experiment", rename_all = "lowercase")]
pub enum Spec {
    Creation { units: u64 },
    Residency { units: u64 },
    Ring { units: usize, handoffs: u64 },
    Capacity { target: u64 },
}

/// A cap on the units one run may hold, and whether a limit of this machine set it (rather
/// than the preset or an option asking for fewer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnitCap {
    #[serde(flatten)]
    pub cap: Cap,
    pub machine_limit: bool,
}

impl UnitCap {
    pub fn units(&self) -> u64 {
        self.cap.units
    }

    /// "its safe cap, set by this machine's vm.max_map_count", or "its cap, set by the
    /// default preset, not a machine limit".
    pub fn origin(&self) -> String {
        if self.machine_limit {
            format!("its safe cap, set by this machine's {}", self.cap.set_by)
        } else {
            format!("its cap, set by {}, not a machine limit", self.cap.set_by)
        }
    }
}

/// The resolved sizes and caps every child run receives.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Params {
    pub sizes: Vec<u64>,
    pub ring: usize,
    pub handoffs: u64,
    /// Most warm batches a creation run times, within [`BATCH_BUDGET_MS`].
    pub warm_batches: usize,
    pub batch_budget_ms: u64,
    pub default_stack_bytes: usize,
    pub small_stack_bytes: usize,
    /// Cap for futures and tasks.
    pub task_cap: UnitCap,
    /// Cap for default-stack threads.
    pub thread_cap: UnitCap,
    /// Cap for small-stack threads.
    pub small_thread_cap: UnitCap,
    /// Every thread limit that could be read (for default-stack threads), for the report.
    pub thread_limits: Vec<Limit>,
    pub nofile: Option<u64>,
    /// Runs per row of the residency sweep (its figures barely move between runs).
    pub residency_repeat: Option<usize>,
    /// Runs per row of the creation sweep: enough for the harness to flag a row whose runs
    /// split in two, as the multi-thread runtime's do when its second worker does or does
    /// not join in (a mode that holds for a whole process, so batches cannot average it).
    pub creation_repeat: Option<usize>,
    pub capacity_repeat: usize,
}

impl Params {
    /// The cap `variant` runs to.
    pub fn cap_of(&self, variant: Variant) -> &UnitCap {
        match variant {
            Variant::Threads => &self.thread_cap,
            Variant::ThreadsSmallStack => &self.small_thread_cap,
            _ => &self.task_cap,
        }
    }

    /// What the busiest run of the selected variants holds at once: the capacity table's
    /// threads at their cap (default-stack threads if selected, else small-stack ones, each
    /// judged with its own stack size), and the memory of its tasks or its threads at theirs
    /// (a run holds one kind), at the generous per-unit estimates the caps were computed with.
    pub fn needs(&self, variants: &[Variant]) -> Needs {
        let mut needs = Needs::default();
        let stacks = [
            (Variant::Threads, "default-stack", self.default_stack_bytes),
            (Variant::ThreadsSmallStack, "small-stack", self.small_stack_bytes),
        ];
        if let Some((variant, stack_kind, stack)) = stacks.into_iter().find(|(v, ..)| variants.contains(v)) {
            let cap = self.cap_of(variant);
            let what = format!("the capacity table's {stack_kind} threads (cap set by {})", cap.cap.set_by);
            needs = needs.threads_with_stack(what, cap.units(), stack as u64);
        }
        let memory = variants
            .iter()
            .map(|v| {
                let (what, each) = match v.model() {
                    Model::Threads => ("threads", THREAD_MEMORY_ESTIMATE),
                    _ => ("tasks", TASK_MEMORY_ESTIMATE),
                };
                let units = self.cap_of(*v).units();
                (what, units, units.saturating_mul(each))
            })
            .max_by_key(|(_, _, bytes)| *bytes);
        match memory {
            Some((what, units, bytes)) => {
                needs.memory(format!("the capacity table's {} {what}", format_count(units as f64)), bytes)
            }
            None => needs,
        }
    }
}

fn default_stack_bytes() -> usize {
    std::env::var("RUST_MIN_STACK").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(RUST_DEFAULT_STACK)
}

/// The machine's cap, or the wish when that is smaller; `wanted_by` names the wish.
fn machine_cap(limits: &[Limit], wanted: u64, wanted_by: &str) -> UnitCap {
    let cap = safe_cap(limits, wanted, wanted_by);
    let machine_limit = cap.set_by != wanted_by;
    UnitCap { cap, machine_limit }
}

/// A user's cap may lower the machine's, never raise it.
fn user_cap(option: &str, wanted: Option<u64>, machine: UnitCap) -> Result<UnitCap, UsageError> {
    match wanted {
        None => Ok(machine),
        Some(0) => Err(UsageError::new(format!("--{option} must be at least 1"))),
        Some(n) if n > machine.units() => Err(UsageError::new(format!(
            "--{option} {n} is above this machine's safe cap of {} ({}: {})",
            machine.units(),
            machine.cap.set_by,
            machine.cap.detail
        ))),
        Some(n) => Ok(UnitCap {
            cap: Cap {
                units: n,
                set_by: format!("--{option}"),
                detail: format!(
                    "below the machine's safe cap of {}, set by {}",
                    format_count(machine.units() as f64),
                    machine.cap.set_by
                ),
            },
            machine_limit: false,
        }),
    }
}

/// Resolves options and preset against limits already read, so that tests can supply the
/// machine.
pub fn resolve(args: &Args, preset: Preset, readings: &Readings) -> Result<Params, UsageError> {
    let (sizes, ring, handoffs, task_wish, thread_wish) = match preset {
        Preset::Quick => (vec![100, 1_000], 100, 20_000, 10_000, 2_000),
        // Two million tasks: "millions" is plural.
        Preset::Default => (vec![1_000, 10_000, 100_000], 500, 50_000, 2_000_000, u64::MAX),
        Preset::Full => (vec![1_000, 10_000, 100_000, 1_000_000], 1_000, 500_000, 10_000_000, u64::MAX),
    };
    // Runs: residency, creation, capacity (a claim needs two runs to decide); warm batches.
    let (residency_repeat, creation_repeat, capacity_repeat, warm_batches) = match preset {
        Preset::Quick => (None, None, 1, 3),
        Preset::Default => (Some(3), Some(5), 2, 5),
        Preset::Full => (Some(5), Some(5), 2, 5),
    };
    let preset_name = format!("the {preset} preset");
    let mut sizes = args.sizes.clone().unwrap_or(sizes);
    if sizes.is_empty() {
        return Err(UsageError::new("--sizes needs at least one value"));
    }
    sizes.iter().try_for_each(|&n| in_range("sizes", n, 1, MAX_SIZE).map(drop))?;
    sizes.sort_unstable();
    sizes.dedup();
    let handoffs = in_range("handoffs", args.handoffs.unwrap_or(handoffs), 1, 1_000_000_000)?;
    let small_kib = in_range("small-stack-kib", args.small_stack_kib.unwrap_or(SMALL_STACK_KIB), 32, 65_536)?;
    let small_stack_bytes = (small_kib * 1024) as usize;
    let default_stack = default_stack_bytes();

    let thread_wish_by = if thread_wish == u64::MAX { "no preset cap".to_string() } else { preset_name.clone() };
    let default_limits = thread_limits(readings, default_stack as u64);
    let thread_cap =
        user_cap("thread-cap", args.thread_cap, machine_cap(&default_limits, thread_wish, &thread_wish_by))?;
    let small_cap = machine_cap(&thread_limits(readings, small_stack_bytes as u64), thread_wish, &thread_wish_by);
    let small_thread_cap = match args.thread_cap {
        // The option already passed the default-stack check, and smaller stacks never
        // tighten a limit.
        Some(_) if thread_cap.units() <= small_cap.units() => thread_cap.clone(),
        _ => small_cap,
    };
    let task_cap = user_cap("task-cap", args.task_cap, machine_cap(&task_limits(readings), task_wish, &preset_name))?;

    let ring = args.ring.unwrap_or(ring);
    let ring_max = thread_cap.units().min(small_thread_cap.units()).min(100_000) as usize;
    if ring < 2 || ring > ring_max {
        return Err(UsageError::new(format!(
            "--ring must be between 2 and {ring_max} (the thread cap, set by {}), not {ring}",
            thread_cap.cap.set_by
        )));
    }
    Ok(Params {
        sizes,
        ring,
        handoffs,
        warm_batches,
        batch_budget_ms: BATCH_BUDGET_MS,
        default_stack_bytes: default_stack,
        small_stack_bytes,
        task_cap,
        thread_cap,
        small_thread_cap,
        thread_limits: default_limits,
        nofile: readings.nofile,
        residency_repeat,
        creation_repeat,
        capacity_repeat,
    })
}
