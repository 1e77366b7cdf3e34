//! # spawn-costs
//!
//! **Question:** what does one unit of concurrency cost, to create, to keep alive and to
//! switch between, and how many can this machine hold?
//!
//! The framework's three levels of unit, plus the tuning people reach for when they want
//! many threads. The variants, and why each exists:
//! - `futures-in-task`: many futures polled by one task through `FuturesUnordered` (what
//!   `join_all` does for large sets): no scheduler work per unit at all, the floor.
//! - `tokio-multi`: `tokio::spawn` on the multi-thread runtime, what `#[tokio::main]` gives,
//!   from a task on a worker (as an accept loop spawns).
//! - `tokio-multi-main`: the same runtime, spawning and lapping the ring from `block_on`, as
//!   `#[tokio::main]`'s own body does: every spawn through the shared injection queue.
//! - `tokio-current`: `tokio::spawn` on a current-thread runtime: tasks without any
//!   cross-thread wake-ups.
//! - `threads`: `std::thread::spawn` with the default stack (2 MiB unless
//!   `RUST_MIN_STACK` says otherwise).
//! - `threads-small-stack`: `thread::Builder::stack_size` (64 KiB by default), the usual
//!   advice for "I need many threads".
//!
//! Four experiments, one table each:
//! - **creation**: spawn N units that park until released, then join them; time per unit
//!   to spawn, to be running, and to join.
//! - **residency**: the same N units, parked; resident memory (RSS) and reserved address
//!   space (virtual size) per unit, as the plateau minus the same process's baseline.
//! - **switching**: K units in a ring pass a token M times; time per hand-off. Only the lap
//!   is inside the measured region, so its CPU time and context switches are the hand-offs'.
//! - **capacity**: as many units as the cap allows, all alive at once. For threads the cap
//!   comes from this machine's limits ([`limits`]), computed before anything is spawned, so
//!   the run stops cleanly and names the limit instead of taking the machine down. Tasks
//!   are capped by the preset (2 million by default, since "millions" needs at least two)
//!   or by memory, the machine's or the cgroup's.
//!
//! Claims are decided in [`SpawnCosts::claims`] by rules over the figures (the constants
//! below name each threshold), and never from a single run: one run has no spread.
//!
//! Modules:
//! - [`units`]: the units themselves, the gate each waits on, and the two experiments
//!   (park N units; pass a token around a ring) every table is read from.
//! - [`limits`]: the machine's limits on threads and tasks, and the safe cap.

pub mod limits;
pub mod units;

use casebook::{
    Case, CaseInfo, ClaimResult, Column, Ctx, Format, Model, Outcome, Point, Preset, Report, Row, RowReport, Stats,
    Table, UsageError, Variant, at_least, at_least_times, combine,
    report::{format_bytes, format_count, format_seconds},
};
use serde::{Deserialize, Serialize};

use crate::{
    limits::{Cap, Limit, Readings, safe_cap, task_limits, thread_limits},
    units::{Driver, Kind, Parked},
};

pub struct SpawnCosts;

pub const FUTURES_IN_TASK: &str = "futures-in-task";
pub const TOKIO_MULTI: &str = "tokio-multi";
pub const TOKIO_MULTI_MAIN: &str = "tokio-multi-main";
pub const TOKIO_CURRENT: &str = "tokio-current";
pub const THREADS: &str = "threads";
pub const THREADS_SMALL_STACK: &str = "threads-small-stack";

pub const CREATION: &str = "creation";
pub const RESIDENCY: &str = "residency";
pub const SWITCHING: &str = "switching";
pub const CAPACITY: &str = "capacity";

pub const SPAWN_PER_UNIT: &str = "spawn_per_unit_s";
pub const READY_PER_UNIT: &str = "ready_per_unit_s";
pub const JOIN_PER_UNIT: &str = "join_per_unit_s";
pub const RSS_PER_UNIT: &str = "rss_per_unit_bytes";
pub const VSZ_PER_UNIT: &str = "vsz_per_unit_bytes";
pub const KERNEL_STACK_PER_UNIT: &str = "kernel_stack_per_unit_bytes";
pub const PAGE_TABLES_PER_UNIT: &str = "page_tables_per_unit_bytes";
pub const RSS_PARKED: &str = "rss_parked_bytes";
pub const PER_HANDOFF: &str = "per_handoff_s";
pub const HANDOFFS: &str = "handoffs";
pub const TARGET: &str = "target";
pub const SPAWNED: &str = "spawned";
pub const ALIVE_AT_ONCE: &str = "alive_at_once";
pub const EXITED: &str = "exited";
pub const FILL: &str = "fill_s";
/// 0: the capacity run reached its cap; 1: a spawn failed first (see `spawn_errno`).
pub const STOP_CODE: &str = "stop_code";
pub const SPAWN_ERRNO: &str = "spawn_errno";

/// Default size of the small-stack variant's stacks.
pub const SMALL_STACK_KIB: u64 = 64;
/// Rust's default thread stack when `RUST_MIN_STACK` is not set.
const RUST_DEFAULT_STACK: usize = 2 << 20;

/// Options of this case, on top of the harness's own.
#[derive(Clone, Debug, clap::Args)]
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
    /// Stack size of the threads-small-stack variant, in KiB.
    #[arg(long, value_name = "KIB", default_value_t = SMALL_STACK_KIB, help_heading = "Case")]
    pub small_stack_kib: u64,
    /// Most futures or tasks the capacity table holds at once; never above what free memory
    /// allows [default: quick 10000, default 2000000, full 10000000].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub task_cap: Option<u64>,
    /// Most threads the capacity table holds at once; never above the safe cap computed from
    /// this machine's limits [default: quick 2000, otherwise the safe cap].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub thread_cap: Option<u64>,
}

impl Default for Args {
    /// What the command line gives when no case option is passed.
    fn default() -> Self {
        Args {
            sizes: None,
            ring: None,
            handoffs: None,
            small_stack_kib: SMALL_STACK_KIB,
            task_cap: None,
            thread_cap: None,
        }
    }
}

/// The resolved sizes and caps every child run receives.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Params {
    pub sizes: Vec<u64>,
    pub ring: usize,
    pub handoffs: u64,
    pub default_stack_bytes: usize,
    pub small_stack_bytes: usize,
    /// Cap for futures and tasks.
    pub task_cap: Cap,
    /// Cap for default-stack threads.
    pub thread_cap: Cap,
    /// Cap for small-stack threads.
    pub small_thread_cap: Cap,
    /// Every thread limit that could be read (for default-stack threads), for the report.
    pub thread_limits: Vec<Limit>,
    pub nofile: Option<u64>,
    pub sweep_repeat: Option<usize>,
    pub capacity_repeat: usize,
}

impl Params {
    fn cap_of(&self, variant: &str) -> &Cap {
        match variant {
            THREADS => &self.thread_cap,
            THREADS_SMALL_STACK => &self.small_thread_cap,
            _ => &self.task_cap,
        }
    }
}

/// What one row runs.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(tag = "experiment", rename_all = "lowercase")]
enum RowSpec {
    Creation { units: u64 },
    Residency { units: u64 },
    Ring { units: usize, handoffs: u64 },
    Capacity { target: u64 },
}

/// Largest sweep size accepted on the command line.
const MAX_SIZE: u64 = 100_000_000;

fn kind_of(variant: &str, params: &Params) -> anyhow::Result<Kind> {
    Ok(match variant {
        FUTURES_IN_TASK => Kind::FuturesInTask,
        TOKIO_MULTI => Kind::TokioMulti,
        TOKIO_MULTI_MAIN => Kind::TokioMultiMain,
        TOKIO_CURRENT => Kind::TokioCurrent,
        THREADS => Kind::Threads { stack: None },
        THREADS_SMALL_STACK => Kind::Threads { stack: Some(params.small_stack_bytes) },
        other => anyhow::bail!("unknown variant {other}"),
    })
}

fn default_stack_bytes() -> usize {
    std::env::var("RUST_MIN_STACK").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(RUST_DEFAULT_STACK)
}

fn positive(name: &str, value: u64, max: u64) -> Result<u64, UsageError> {
    if value == 0 || value > max {
        Err(UsageError::new(format!("--{name} must be between 1 and {max}, not {value}")))
    } else {
        Ok(value)
    }
}

/// A user's cap may lower the machine's, never raise it.
fn user_cap(option: &str, wanted: Option<u64>, machine: Cap) -> Result<Cap, UsageError> {
    match wanted {
        None => Ok(machine),
        Some(0) => Err(UsageError::new(format!("--{option} must be at least 1"))),
        Some(n) if n > machine.units => Err(UsageError::new(format!(
            "--{option} {n} is above this machine's safe cap of {} ({}: {})",
            machine.units, machine.set_by, machine.detail
        ))),
        Some(n) => Ok(Cap {
            units: n,
            set_by: format!("--{option}"),
            detail: format!(
                "below the machine's safe cap of {}, set by {}",
                format_count(machine.units as f64),
                machine.set_by
            ),
        }),
    }
}

/// Resolves options and preset against limits already read, so that tests can supply the
/// machine.
pub fn resolve(args: &Args, preset: Preset, readings: &Readings) -> Result<Params, UsageError> {
    let (sizes, ring, handoffs, task_wish, thread_wish, sweep_repeat, capacity_repeat) = match preset {
        Preset::Quick => (vec![100, 1_000], 100, 20_000, 10_000, 2_000, None, 1),
        // Two million tasks: "millions" is plural, and a claim needs two runs to decide.
        Preset::Default => (vec![1_000, 10_000, 100_000], 500, 50_000, 2_000_000, u64::MAX, Some(3), 2),
        Preset::Full => (vec![1_000, 10_000, 100_000, 1_000_000], 1_000, 500_000, 10_000_000, u64::MAX, Some(5), 2),
    };
    let preset_name = format!("the {preset} preset");
    let mut sizes = args.sizes.clone().unwrap_or(sizes);
    if sizes.is_empty() {
        return Err(UsageError::new("--sizes needs at least one value"));
    }
    for &n in &sizes {
        positive("sizes", n, MAX_SIZE)?;
    }
    sizes.sort_unstable();
    sizes.dedup();
    let handoffs = positive("handoffs", args.handoffs.unwrap_or(handoffs), 1_000_000_000)?;
    let small_kib = args.small_stack_kib;
    if !(32..=65_536).contains(&small_kib) {
        return Err(UsageError::new(format!("--small-stack-kib must be between 32 and 65536, not {small_kib}")));
    }
    let small_stack_bytes = (small_kib * 1024) as usize;
    let default_stack = default_stack_bytes();

    let thread_wish_by = if thread_wish == u64::MAX { "no preset cap".to_string() } else { preset_name.clone() };
    let default_limits = thread_limits(readings, default_stack as u64);
    let thread_cap = user_cap("thread-cap", args.thread_cap, safe_cap(&default_limits, thread_wish, &thread_wish_by))?;
    let small_cap = safe_cap(&thread_limits(readings, small_stack_bytes as u64), thread_wish, &thread_wish_by);
    let small_thread_cap = match args.thread_cap {
        // The option already passed the default-stack check, and smaller stacks never
        // tighten a limit.
        Some(_) if thread_cap.units <= small_cap.units => thread_cap.clone(),
        _ => small_cap,
    };
    let task_cap = user_cap("task-cap", args.task_cap, safe_cap(&task_limits(readings), task_wish, &preset_name))?;

    let ring = args.ring.unwrap_or(ring);
    let ring_max = thread_cap.units.min(small_thread_cap.units).min(100_000) as usize;
    if ring < 2 || ring > ring_max {
        return Err(UsageError::new(format!(
            "--ring must be between 2 and {ring_max} (the thread cap, set by {}), not {ring}",
            thread_cap.set_by
        )));
    }
    Ok(Params {
        sizes,
        ring,
        handoffs,
        default_stack_bytes: default_stack,
        small_stack_bytes,
        task_cap,
        thread_cap,
        small_thread_cap,
        thread_limits: default_limits,
        nofile: readings.nofile,
        sweep_repeat,
        capacity_repeat,
    })
}

fn variant_rows(
    params: &Params,
    variants: &[&'static Variant],
    spec: impl Fn(u64) -> RowSpec,
) -> (Vec<Row>, Vec<String>) {
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for variant in variants {
        let cap = params.cap_of(variant.name);
        for &n in &params.sizes {
            if n <= cap.units {
                rows.push(Row::at(variant, n as f64, serde_json::to_value(spec(n)).unwrap_or_default()));
            } else {
                skipped.push(format!("{} @{}", variant.name, format_count(n as f64)));
            }
        }
    }
    (rows, skipped)
}

fn skipped_note(params: &Params, skipped: &[String]) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    format!(
        " Not run, being above the variant's cap: {} (threads: {} set by {}).",
        skipped.join(", "),
        format_count(params.thread_cap.units as f64),
        params.thread_cap.set_by
    )
}

fn count_columns() -> Vec<Column> {
    vec![Column::new("alive at once", ALIVE_AT_ONCE, Format::Count), Column::peak_threads()]
}

fn memory_columns() -> Vec<Column> {
    vec![
        Column::new("resident / unit", RSS_PER_UNIT, Format::Bytes).with_spread(),
        Column::new("virtual / unit", VSZ_PER_UNIT, Format::Bytes),
        Column::new("kernel stack / unit", KERNEL_STACK_PER_UNIT, Format::Bytes),
        Column::new("page tables / unit", PAGE_TABLES_PER_UNIT, Format::Bytes),
    ]
}

impl Case for SpawnCosts {
    type Args = Args;
    type Params = Params;

    const INFO: CaseInfo = CaseInfo {
        name: "spawn-costs",
        question: env!("CARGO_PKG_DESCRIPTION"),
        claims: &["thread-stack", "task-light", "task-millions", "thread-switch", "async-low-memory"],
        variants: &[
            Variant {
                name: FUTURES_IN_TASK,
                model: Model::Async,
                why: "futures polled by one task via FuturesUnordered: no scheduler per unit, the floor",
            },
            Variant {
                name: TOKIO_MULTI,
                model: Model::Async,
                why: "tokio::spawn on the multi-thread runtime: what #[tokio::main] gives you, spawning from a task",
            },
            Variant {
                name: TOKIO_MULTI_MAIN,
                model: Model::Async,
                why: "the same, spawning from #[tokio::main]'s body (block_on, no worker): every spawn via the shared queue",
            },
            Variant {
                name: TOKIO_CURRENT,
                model: Model::Async,
                why: "tokio::spawn on a current-thread runtime: tasks with no cross-thread wake-ups",
            },
            Variant { name: THREADS, model: Model::Threads, why: "std::thread::spawn with the default 2 MiB stack" },
            Variant {
                name: THREADS_SMALL_STACK,
                model: Model::Threads,
                why: "thread::Builder::stack_size(64 KiB): the usual tuning for many threads",
            },
        ],
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        resolve(args, preset, &Readings::detect(None))
    }

    fn plan(params: &Params, variants: &[&'static Variant]) -> Vec<Table> {
        let mut tables = Vec::new();

        let mut creation = Table::new(CREATION, "Creation: spawn N parked units, release, join");
        creation.axis = Some("N".into());
        creation.digests_must_agree = false;
        creation.repeat = params.sweep_repeat;
        creation.columns = vec![
            Column::new("spawn / unit", SPAWN_PER_UNIT, Format::Seconds).with_spread(),
            Column::new("running / unit", READY_PER_UNIT, Format::Seconds).with_spread(),
            Column::new("join / unit", JOIN_PER_UNIT, Format::Seconds).with_spread(),
        ];
        creation.columns.extend(count_columns());
        let (rows, skipped) = variant_rows(params, variants, |units| RowSpec::Creation { units });
        creation.rows = rows;
        creation.note = format!(
            "Each unit counts itself in, waits for one release signal, and ends. spawn: until the spawn calls returned; running: until the last unit had started and parked (includes spawn); join: from the release until every unit was joined. All per unit (total ÷ N).{}",
            skipped_note(params, &skipped)
        );
        tables.push(creation);

        let mut residency = Table::new(RESIDENCY, "Residency: N units alive and parked at once");
        residency.axis = Some("N".into());
        residency.digests_must_agree = false;
        residency.repeat = params.sweep_repeat;
        residency.columns = memory_columns();
        residency.columns.extend(count_columns());
        let (rows, skipped) = variant_rows(params, variants, |units| RowSpec::Residency { units });
        residency.rows = rows;
        residency.note = format!(
            "Per unit = (the process's figure with all N parked, once it stops moving) − (the same process just before the first spawn), ÷ N. resident is RSS: pages actually in RAM. virtual is VSZ: address space reserved, touched or not; for tasks it moves in the allocator's steps (glibc reserves 64 MiB heaps per arena), so it is exact only for threads. kernel stack is /proc/meminfo's machine-wide KernelStack, which RSS does not show (other programs add noise of either sign); page tables is this process's VmPTE. Default thread stack: {}; small: {}.{}",
            format_bytes(params.default_stack_bytes as f64),
            format_bytes(params.small_stack_bytes as f64),
            skipped_note(params, &skipped)
        );
        tables.push(residency);

        let mut switching = Table::new(
            SWITCHING,
            &format!(
                "Switching: a ring of {} units passes a token {} times",
                params.ring,
                format_count(params.handoffs as f64)
            ),
        );
        switching.columns = vec![
            Column::new("time / hand-off", PER_HANDOFF, Format::Seconds).with_spread(),
            Column::new("hand-offs", HANDOFFS, Format::Count),
            Column::voluntary_switches(),
            Column::involuntary_switches(),
            Column::cores_busy(),
        ];
        for variant in variants {
            switching.rows.push(Row::new(
                variant,
                serde_json::to_value(RowSpec::Ring { units: params.ring, handoffs: params.handoffs })
                    .unwrap_or_default(),
            ));
        }
        switching.note = "time / hand-off: from injecting the token until its last hand-off arrived, ÷ the hand-offs. Threads use a std sync_channel(1) per unit, tasks and futures a tokio::sync::mpsc channel(1). The measured region is the lap alone: the ring's units are started before it and joined after it, so vol./invol. cs (the whole process's context switches, as the kernel counts them) and cores busy belong to the hand-offs; about one voluntary switch per hand-off means every hand-off went through the kernel scheduler. Every variant must deliver the same number of hand-offs (the digest).".into();
        tables.push(switching);

        let mut capacity = Table::new(CAPACITY, "Capacity: as many units as the cap allows");
        capacity.digests_must_agree = false;
        capacity.repeat = Some(params.capacity_repeat);
        capacity.columns = vec![
            Column::new("cap", TARGET, Format::Count),
            Column::new("alive at once", ALIVE_AT_ONCE, Format::Count),
            Column::new("time to fill", FILL, Format::Seconds),
            Column::new("resident / unit", RSS_PER_UNIT, Format::Bytes),
            Column::new("virtual / unit", VSZ_PER_UNIT, Format::Bytes),
            Column::new("RSS, all parked", RSS_PARKED, Format::Bytes),
            Column::peak_threads(),
        ];
        for variant in variants {
            capacity.rows.push(Row::new(
                variant,
                serde_json::to_value(RowSpec::Capacity { target: params.cap_of(variant.name).units })
                    .unwrap_or_default(),
            ));
        }
        capacity.note = capacity_note(params);
        tables.push(capacity);
        tables
    }

    fn run(params: &Params, point: &Point, ctx: &mut Ctx) -> anyhow::Result<()> {
        let spec: RowSpec = point.decode()?;
        let driver = Driver::new(kind_of(&point.variant, params)?)?;
        match spec {
            RowSpec::Creation { units } => {
                let parked = ctx.measure(|| driver.park(units, false))?;
                require_all(&parked)?;
                record_counts(ctx, &parked);
                let n = units.max(1) as f64;
                ctx.figure(SPAWN_PER_UNIT, parked.spawn_s / n);
                ctx.figure(READY_PER_UNIT, parked.ready_s / n);
                ctx.figure(JOIN_PER_UNIT, parked.join_s / n);
            }
            RowSpec::Residency { units } => {
                let parked = ctx.measure(|| driver.park(units, true))?;
                require_all(&parked)?;
                record_counts(ctx, &parked);
                record_memory(ctx, &parked);
            }
            RowSpec::Ring { units, handoffs } => {
                // Only the lap is measured: spawning and joining the ring's units would
                // otherwise add their own CPU time and context switches to the hand-offs'.
                let ring = driver.ring(units, handoffs, |lap| ctx.measure(lap))?;
                ctx.figure(HANDOFFS, ring.handoffs as f64);
                ctx.figure(PER_HANDOFF, ring.elapsed_s / ring.handoffs.max(1) as f64);
                ctx.digest(casebook::digest_of(&(ring.units, ring.handoffs)));
            }
            RowSpec::Capacity { target } => {
                let parked = ctx.measure(|| driver.park(target, true))?;
                record_counts(ctx, &parked);
                record_memory(ctx, &parked);
                ctx.figure(FILL, parked.ready_s);
                match &parked.spawn_error {
                    None => ctx.figure(STOP_CODE, 0.0),
                    Some(error) => {
                        ctx.figure(STOP_CODE, 1.0);
                        ctx.figure(SPAWN_ERRNO, error.raw_os_error().map(f64::from).unwrap_or(-1.0));
                    }
                }
            }
        }
        // Dropping the driver shuts its runtime down in the background: nothing parked can
        // outlive the run.
        drop(driver);
        Ok(())
    }

    fn claims(report: &Report) -> Vec<ClaimResult> {
        claims(report)
    }

    fn verdicts(report: &Report) -> Vec<String> {
        let mut verdicts = Vec::new();
        if check(report).is_empty() {
            verdicts.push(format!(
                "accounting: in every creation, residency and capacity run, every unit started was counted alive at once before the release and counted out after it; every ring delivered exactly {} hand-offs.",
                report_param(report, "handoffs").map(format_count).unwrap_or_default()
            ));
        }
        verdicts.extend(creation_verdict(report));
        verdicts.extend(capacity_verdicts(report));
        verdicts
    }

    fn check(report: &Report) -> Vec<String> {
        check(report)
    }
}

fn capacity_note(params: &Params) -> String {
    let describe = |label: &str, cap: &Cap, same_as: Option<&Cap>| {
        let detail = match same_as {
            Some(other) if other.set_by == cap.set_by => String::new(),
            _ => format!(" ({})", cap.detail),
        };
        format!("{label}: {}, set by {}{detail}", format_count(cap.units as f64), cap.set_by)
    };
    let limits: Vec<String> =
        params.thread_limits.iter().map(|l| format!("{} {}", l.name, format_count(l.units as f64))).collect();
    format!(
        "Caps are computed before anything is spawned, from the limits this machine reports, with headroom so that the run never takes the machine (or itself) down. {}. {}. {}. Every thread limit read, as the threads this case may hold under it: {}. These units hold no file descriptors; units that do (sockets, pipes) meet RLIMIT_NOFILE ({}) first. time to fill: from the first spawn until the last unit had parked.",
        describe("Threads", &params.thread_cap, None),
        describe("Small-stack threads", &params.small_thread_cap, Some(&params.thread_cap)),
        describe("Futures and tasks", &params.task_cap, None),
        if limits.is_empty() { "none could be read".to_string() } else { limits.join(", ") },
        params.nofile.map(|n| format_count(n as f64)).unwrap_or_else(|| "unlimited".into())
    )
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

fn record_counts(ctx: &mut Ctx, parked: &Parked) {
    ctx.figure(TARGET, parked.target as f64);
    ctx.figure(SPAWNED, parked.spawned as f64);
    ctx.figure(ALIVE_AT_ONCE, parked.alive_at_once as f64);
    ctx.figure(EXITED, parked.exited as f64);
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
    ctx.figure(RSS_PER_UNIT, per.resident);
    ctx.figure(VSZ_PER_UNIT, per.virtual_size);
    if let Some(kernel) = per.kernel_stack {
        ctx.figure(KERNEL_STACK_PER_UNIT, kernel);
    }
    if let Some(tables) = per.page_tables {
        ctx.figure(PAGE_TABLES_PER_UNIT, tables);
    }
}

fn report_param(report: &Report, key: &str) -> Option<f64> {
    report.params.get(key)?.as_f64()
}

fn figure_of(run: &casebook::child::RunRecord, key: &str) -> Option<f64> {
    run.figures.get(key).copied()
}

/// Accounting, run by run: every unit started was alive at once and ran to its end; every
/// ring made exactly the hand-offs asked for; no capacity run passed its cap.
fn check(report: &Report) -> Vec<String> {
    let mut failures = Vec::new();
    for table in [CREATION, RESIDENCY, CAPACITY] {
        for row in report.rows(table) {
            for (index, run) in row.runs.iter().enumerate() {
                let what = format!("{table} / {} run {}", row.label, index + 1);
                let (Some(target), Some(spawned), Some(alive), Some(exited)) = (
                    figure_of(run, TARGET),
                    figure_of(run, SPAWNED),
                    figure_of(run, ALIVE_AT_ONCE),
                    figure_of(run, EXITED),
                ) else {
                    failures.push(format!("{what}: unit counts missing"));
                    continue;
                };
                if table != CAPACITY && (spawned != target || row.axis_value != Some(target)) {
                    failures.push(format!("{what}: started {spawned} of {target} units"));
                }
                if spawned > target {
                    failures.push(format!("{what}: started {spawned}, above its cap {target}"));
                }
                if table == CAPACITY && figure_of(run, STOP_CODE) == Some(0.0) && spawned != target {
                    failures.push(format!("{what}: reported reaching its cap {target} but started {spawned}"));
                }
                if alive != spawned {
                    failures.push(format!("{what}: {alive} of {spawned} units were alive at once"));
                }
                if exited != spawned {
                    failures.push(format!("{what}: {exited} of {spawned} units ran to their end"));
                }
            }
        }
    }
    let handoffs = report_param(report, "handoffs");
    for row in report.rows(SWITCHING) {
        for (index, run) in row.runs.iter().enumerate() {
            let made = figure_of(run, HANDOFFS);
            if made.is_none() || made != handoffs {
                failures.push(format!(
                    "{SWITCHING} / {} run {}: {} hand-offs, expected {}",
                    row.label,
                    index + 1,
                    made.map(|m| m.to_string()).unwrap_or_else(|| "no".into()),
                    handoffs.map(|m| m.to_string()).unwrap_or_default()
                ));
            }
        }
    }
    failures
}

/// A sweep row's figure: `variant` at N = `n` in `table`. Looked up by axis value rather
/// than by label, so it does not depend on how the harness prints a number.
fn sweep_stats<'a>(report: &'a Report, table: &str, variant: &str, n: f64, figure: &str) -> Option<&'a Stats> {
    report.variants.iter().find(|r| r.table == table && r.name == variant && r.axis_value == Some(n))?.stats(figure)
}

/// The largest N that every one of `variants` was measured at.
fn largest_common(report: &Report, table: &str, variants: &[&str]) -> Option<f64> {
    let mut common: Option<Vec<f64>> = None;
    for variant in variants {
        let sizes: Vec<f64> = report.rows(table).filter(|r| r.name == *variant).filter_map(|r| r.axis_value).collect();
        common = Some(match common {
            None => sizes,
            Some(c) => c.into_iter().filter(|n| sizes.contains(n)).collect(),
        });
    }
    common?.into_iter().reduce(f64::max)
}

/// The first of `preferred` that has rows in `table`.
fn first_present<'a>(report: &Report, table: &str, preferred: &[&'a str]) -> Option<&'a str> {
    preferred.iter().copied().find(|v| report.rows(table).any(|r| r.name == *v))
}

/// Every one of `variants` that has rows in `table`.
fn present<'a>(report: &Report, table: &str, variants: &[&'a str]) -> Vec<&'a str> {
    variants.iter().copied().filter(|v| report.rows(table).any(|r| r.name == *v)).collect()
}

/// "Below `threshold` in every run", the mirror of casebook's `at_least` (which has no
/// `at_most`): held if every run is below it, did not hold if no run is, inconclusive when
/// the runs straddle it or there is only one run, which has no spread to judge by.
pub fn below(stats: &Stats, threshold: f64) -> Outcome {
    if stats.n < 2 {
        Outcome::Inconclusive
    } else if stats.max < threshold {
        Outcome::Held
    } else if stats.min >= threshold {
        Outcome::DidNotHold
    } else {
        Outcome::Inconclusive
    }
}

/// "At least `low` and below `high` in every run".
pub fn within(stats: &Stats, low: f64, high: f64) -> Outcome {
    combine(&[at_least(stats, low), below(stats, high)])
}

fn bytes(stats: &Stats) -> String {
    format_bytes(stats.median)
}

/// A deciding figure with its spread: "9.6 KiB (3 runs, 9.6 KiB to 9.7 KiB)".
fn spread(stats: &Stats, format: fn(f64) -> String) -> String {
    if stats.n < 2 {
        return format!("{} (1 run)", format(stats.median));
    }
    format!("{} ({} runs, {} to {})", format(stats.median), stats.n, format(stats.min), format(stats.max))
}

fn count_of(value: f64) -> String {
    format_count(value)
}

/// The params key of the cap a capacity row ran to.
fn cap_key(variant: &str) -> &'static str {
    match variant {
        THREADS => "thread_cap",
        THREADS_SMALL_STACK => "small_thread_cap",
        _ => "task_cap",
    }
}

/// What set a capacity row's cap, and whether that is a limit of this machine or only the
/// preset or an option asking for fewer units.
fn cap_origin(report: &Report, variant: &str) -> String {
    let set_by = report.params.pointer(&format!("/{}/set_by", cap_key(variant))).and_then(|v| v.as_str());
    match set_by {
        None => "an unrecorded cap".into(),
        Some(by) if by.starts_with("the ") || by.starts_with("--") => {
            format!("its cap, set by {by}, not a machine limit")
        }
        Some(by) => format!("its safe cap, set by this machine's {by}"),
    }
}

/// How a capacity row ended, from its figures: at its cap, or at a failed spawn.
fn capacity_stop(report: &Report, row: &RowReport) -> String {
    let failed: Vec<i32> = row
        .runs
        .iter()
        .filter(|r| figure_of(r, STOP_CODE) == Some(1.0))
        .map(|r| figure_of(r, SPAWN_ERRNO).unwrap_or(-1.0) as i32)
        .collect();
    match failed.first() {
        None => format!("stopped at {}", cap_origin(report, &row.name)),
        Some(&errno) => format!(
            "a spawn failed before the cap ({}) in {} of {} runs: a limit this case cannot read bit first",
            if errno > 0 { std::io::Error::from_raw_os_error(errno).to_string() } else { "unknown error".into() },
            failed.len(),
            row.runs.len()
        ),
    }
}

const TASK_PREFERENCE: [&str; 3] = [TOKIO_MULTI, TOKIO_CURRENT, FUTURES_IN_TASK];
const TOKIO_TASKS: [&str; 3] = [TOKIO_MULTI, TOKIO_MULTI_MAIN, TOKIO_CURRENT];
const THREAD_PREFERENCE: [&str; 2] = [THREADS, THREADS_SMALL_STACK];

/// One megabyte, as the claim says "MB".
const MB: f64 = 1e6;
/// The top of "2-8 MB": glibc's default stack is 8 MiB, and a thread's reservation adds a
/// guard page and the signal stack beside it, so 9 MiB leaves room for those and no more.
const STACK_HIGH: f64 = 9.0 * 1024.0 * 1024.0;
/// "On the order of a KB": under ten of them.
const TASK_LIGHT_MAX: f64 = 10.0 * 1024.0;
/// "Millions" is plural: at least two.
const MILLIONS: f64 = 2e6;
/// How many times more resident memory a thread must take than a task for "async suits
/// memory-constrained environments" to hold: enough that the choice of model, not noise,
/// decides what fits.
const LOW_MEMORY_FACTOR: f64 = 4.0;
/// How many times longer a thread hand-off must take than a task hand-off for "expensive".
const SWITCH_FACTOR: f64 = 2.0;

fn claims(report: &Report) -> Vec<ClaimResult> {
    let mut claims = thread_stack_claims(report);
    claims.extend([
        task_light_claim(report),
        task_millions_claim(report),
        thread_switch_claim(report),
        async_low_memory_claim(report),
    ]);
    claims
}

// ANCHOR: thread_stack_claim
/// The claim under both of its readings: what a thread keeps in RAM, and what address space
/// it reserves. Each is decided by the same range test on its own figure.
fn thread_stack_claims(report: &Report) -> Vec<ClaimResult> {
    let range = format!(
        "≥ 2 MB and < {} (the claim's 2-8 MB, with room for the guard page and signal stack beside an 8 MiB stack)",
        format_bytes(STACK_HIGH)
    );
    let readings = [
        ("resident memory", RSS_PER_UNIT, "resident bytes (RSS)", "held {} resident"),
        ("reserved address space", VSZ_PER_UNIT, "reserved address space (VSZ)", "reserved {} of address space"),
    ];
    let n = largest_common(report, RESIDENCY, &[THREADS]);
    let kernel = n
        .and_then(|n| sweep_stats(report, RESIDENCY, THREADS, n, KERNEL_STACK_PER_UNIT))
        .map(|k| format!("; RSS leaves out the {} of kernel stack each thread also took", bytes(k)))
        .unwrap_or_default();
    readings
        .iter()
        .map(|&(reading, figure, what, verb)| {
            let threshold =
                format!("{what} per parked default-stack thread {range}, in every run, at the largest N measured");
            let stats = n.and_then(|n| Some((n, sweep_stats(report, RESIDENCY, THREADS, n, figure)?)));
            let result = match stats {
                None => ClaimResult::not_measured("thread-stack", "the residency table with threads", threshold),
                Some((n, s)) => ClaimResult::new(
                    "thread-stack",
                    within(s, 2.0 * MB, STACK_HIGH),
                    format!(
                        "with {} default-stack threads parked, each {}{}",
                        count_of(n),
                        verb.replace("{}", &spread(s, format_bytes)),
                        if figure == RSS_PER_UNIT { kernel.as_str() } else { "" }
                    ),
                    threshold,
                ),
            };
            result.with_reading(reading)
        })
        .collect()
}
// ANCHOR_END: thread_stack_claim

fn task_light_claim(report: &Report) -> ClaimResult {
    let threshold = format!(
        "resident bytes per parked tokio task < {} (\"on the order of a KB\": under ten of them), in every run, for each tokio variant measured, at the largest N it ran",
        format_bytes(TASK_LIGHT_MAX)
    );
    let mut outcomes = Vec::new();
    let mut parts = Vec::new();
    for task in present(report, RESIDENCY, &TOKIO_TASKS) {
        let Some(n) = largest_common(report, RESIDENCY, &[task]) else { continue };
        let Some(s) = sweep_stats(report, RESIDENCY, task, n, RSS_PER_UNIT) else { continue };
        outcomes.push(below(s, TASK_LIGHT_MAX));
        parts.push(format!("{task} {} at N = {}", spread(s, format_bytes), count_of(n)));
    }
    if parts.is_empty() {
        return ClaimResult::not_measured("task-light", "resident memory of tokio tasks (residency table)", threshold);
    }
    let future = largest_common(report, RESIDENCY, &[FUTURES_IN_TASK])
        .and_then(|n| sweep_stats(report, RESIDENCY, FUTURES_IN_TASK, n, RSS_PER_UNIT))
        .map(|s| format!("; not a task, but for scale: a future in one task's set, {}", bytes(s)))
        .unwrap_or_default();
    ClaimResult::new(
        "task-light",
        combine(&outcomes),
        format!("resident per parked task: {}{future}", parts.join("; ")),
        threshold,
    )
}

fn task_millions_claim(report: &Report) -> ClaimResult {
    let threshold = format!(
        "a tokio runtime holds ≥ {} tasks alive at once (\"millions\": at least two) in every capacity run, for each tokio variant measured; a cap below that cannot decide",
        count_of(MILLIONS)
    );
    let mut outcomes = Vec::new();
    let mut parts = Vec::new();
    for task in present(report, CAPACITY, &TOKIO_TASKS) {
        let Some(row) = report.row(CAPACITY, task) else { continue };
        let (Some(alive), Some(cap)) = (row.stats(ALIVE_AT_ONCE), row.stats(TARGET)) else { continue };
        let memory = match (row.stats(RSS_PARKED), row.stats(RSS_PER_UNIT), row.stats(FILL)) {
            (Some(total), Some(per), Some(fill)) => format!(
                ", in {} of RSS ({} per task), filled in {}",
                bytes(total),
                bytes(per),
                format_seconds(fill.median)
            ),
            _ => String::new(),
        };
        if cap.max < MILLIONS {
            outcomes.push(Outcome::Inconclusive);
            parts.push(format!(
                "{task} held {} at once, but its cap was {} ({}), below {}, so this run cannot show millions",
                count_of(alive.min),
                count_of(cap.max),
                cap_origin(report, task),
                count_of(MILLIONS)
            ));
        } else {
            outcomes.push(at_least(alive, MILLIONS));
            parts.push(format!(
                "{task} held {} tasks alive at once, the fewest of {} runs{memory}",
                count_of(alive.min),
                alive.n
            ));
        }
    }
    if parts.is_empty() {
        return ClaimResult::not_measured("task-millions", "the capacity table with a tokio variant", threshold);
    }
    ClaimResult::new("task-millions", combine(&outcomes), parts.join("; "), threshold)
}

fn thread_switch_claim(report: &Report) -> ClaimResult {
    let threshold = format!(
        "every run's time per hand-off between threads ≥ {SWITCH_FACTOR}x every run's between tokio tasks (default-stack threads and tokio-multi where measured)"
    );
    let thread = first_present(report, SWITCHING, &THREAD_PREFERENCE);
    let task = first_present(report, SWITCHING, &TOKIO_TASKS);
    let (Some(thread), Some(task)) = (thread, task) else {
        return ClaimResult::not_measured(
            "thread-switch",
            "the switching table with a thread and a tokio variant",
            threshold,
        );
    };
    let stats = |v: &str| report.stats(SWITCHING, v, PER_HANDOFF);
    let (Some(thread_time), Some(task_time)) = (stats(thread), stats(task)) else {
        return ClaimResult::not_measured("thread-switch", "hand-off times", threshold);
    };
    // The measured region is the lap alone, so these are the hand-offs' own switches.
    let switches = |v: &str| {
        let cs = report.stats(SWITCHING, v, casebook::child::VOLUNTARY_CS)?;
        let handoffs = report.stats(SWITCHING, v, HANDOFFS)?;
        (handoffs.median > 0.0)
            .then(|| format!(", {:.2} voluntary context switches per hand-off", cs.median / handoffs.median))
    };
    let others: Vec<String> = [THREADS_SMALL_STACK, TOKIO_MULTI_MAIN, TOKIO_CURRENT, FUTURES_IN_TASK]
        .iter()
        .filter(|v| **v != task && **v != thread)
        .filter_map(|v| Some(format!("{v} {}", format_seconds(stats(v)?.median))))
        .collect();
    ClaimResult::new(
        "thread-switch",
        at_least_times(thread_time, task_time, SWITCH_FACTOR),
        format!(
            "a hand-off took {} between {thread}{} and {} between {task} tasks{}: {:.1}x at the medians{}",
            spread(thread_time, format_seconds),
            switches(thread).unwrap_or_default(),
            spread(task_time, format_seconds),
            switches(task).unwrap_or_default(),
            thread_time.median / task_time.median,
            if others.is_empty() { String::new() } else { format!("; {}", others.join(", ")) }
        ),
        threshold,
    )
}

fn async_low_memory_claim(report: &Report) -> ClaimResult {
    let threshold = format!(
        "every run's resident bytes per parked thread (the leaner stack size) ≥ {LOW_MEMORY_FACTOR}x every run's per parked tokio task, at the largest N both ran, for each tokio variant measured; kernel stack and page tables, which RSS leaves out, are not added to the thread's side"
    );
    let mut outcomes = Vec::new();
    let mut parts = Vec::new();
    for task in present(report, RESIDENCY, &TOKIO_TASKS) {
        // Threads get their best case: whichever stack size was leaner at a common N.
        let mut best: Option<(&str, f64, &Stats)> = None;
        for thread in THREAD_PREFERENCE {
            let Some(n) = largest_common(report, RESIDENCY, &[thread, task]) else { continue };
            let Some(s) = sweep_stats(report, RESIDENCY, thread, n, RSS_PER_UNIT) else { continue };
            if best.is_none_or(|(_, _, b)| s.median < b.median) {
                best = Some((thread, n, s));
            }
        }
        let Some((thread, n, thread_rss)) = best else { continue };
        let Some(task_rss) = sweep_stats(report, RESIDENCY, task, n, RSS_PER_UNIT) else { continue };
        outcomes.push(at_least_times(thread_rss, task_rss, LOW_MEMORY_FACTOR));
        parts.push(format!(
            "at N = {}, {} per thread ({thread}) vs {} per task ({task}), {:.0}x at the medians",
            count_of(n),
            spread(thread_rss, format_bytes),
            spread(task_rss, format_bytes),
            thread_rss.median / task_rss.median.max(1.0)
        ));
    }
    if parts.is_empty() {
        return ClaimResult::not_measured(
            "async-low-memory",
            "residency rows for threads and a tokio variant at a common N",
            threshold,
        );
    }
    let compared: Vec<&str> = THREAD_PREFERENCE.iter().chain(TOKIO_TASKS.iter()).copied().collect();
    let capacity: Vec<String> = report
        .rows(CAPACITY)
        .filter(|row| compared.contains(&row.name.as_str()))
        .filter_map(|row| {
            let alive = row.stats(ALIVE_AT_ONCE)?;
            let rss = row.stats(RSS_PARKED).map(|r| format!(" in {} of RSS", bytes(r))).unwrap_or_default();
            Some(format!("{} {}{rss} ({})", row.name, count_of(alive.min), capacity_stop(report, row)))
        })
        .collect();
    let capacity = if capacity.is_empty() {
        String::new()
    } else {
        format!("; alive at once at capacity: {}", capacity.join(", "))
    };
    ClaimResult::new(
        "async-low-memory",
        combine(&outcomes),
        format!("resident memory per parked unit {}{capacity}", parts.join("; ")),
        threshold,
    )
}

fn creation_verdict(report: &Report) -> Option<String> {
    let thread = first_present(report, CREATION, &THREAD_PREFERENCE)?;
    let task = first_present(report, CREATION, &TASK_PREFERENCE)?;
    let n = largest_common(report, CREATION, &[thread, task])?;
    let figure = |v: &str, f: &str| sweep_stats(report, CREATION, v, n, f).map(|s| s.median);
    let (thread_ready, task_ready) = (figure(thread, READY_PER_UNIT)?, figure(task, READY_PER_UNIT)?);
    Some(format!(
        "creation at N = {}: spawning took {} per thread ({thread}) and {} per task ({task}); until the unit was running, {} vs {}, {:.0}x; joining, {} vs {} per unit.",
        format_count(n),
        format_seconds(figure(thread, SPAWN_PER_UNIT)?),
        format_seconds(figure(task, SPAWN_PER_UNIT)?),
        format_seconds(thread_ready),
        format_seconds(task_ready),
        thread_ready / task_ready.max(1e-12),
        format_seconds(figure(thread, JOIN_PER_UNIT)?),
        format_seconds(figure(task, JOIN_PER_UNIT)?),
    ))
}

fn capacity_verdicts(report: &Report) -> Vec<String> {
    let mut verdicts = Vec::new();
    for row in report.rows(CAPACITY) {
        let (Some(alive), Some(cap)) = (row.stats(ALIVE_AT_ONCE), row.stats(TARGET)) else {
            continue;
        };
        let memory = match (row.stats(RSS_PER_UNIT), row.stats(VSZ_PER_UNIT)) {
            (Some(r), Some(v)) => format!(" ({} resident, {} reserved each)", bytes(r), bytes(v)),
            _ => String::new(),
        };
        verdicts.push(format!(
            "capacity, {}: {} alive at once of a cap of {}{memory}; {}.",
            row.name,
            count_of(alive.min),
            count_of(cap.median),
            capacity_stop(report, row)
        ));
    }
    verdicts
}
