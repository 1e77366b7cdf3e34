//! # cancellation
//!
//! **Question:** when you need to stop concurrent work, what actually stops, how fast, and
//! what gets cleaned up?
//!
//! N workers (1,000 by default) each loop over small steps while holding a guard: a temp
//! file, created before the worker starts, that the guard's `Drop` removes. After a short
//! warm-up the run asks all of them to stop, the way each variant would, and then watches
//! from the outside: when each guard is dropped (the cancel latency), how many steps ran
//! after the request, and, at a deadline, which workers are still running and which temp
//! files are still on disk. Nothing is timed from the variant's own say-so.
//!
//! Two tables, because what stops a worker depends on what it is doing:
//! - **IO-like steps**: each step waits 1 ms (a tokio timer in tasks, a blocking sleep or
//!   wait in threads).
//! - **CPU-like steps**: each step is about 16 µs of arithmetic (reference machine) with no await
//!   inside.
//!
//! The variants (in [`variants`]; the workers' loops are in [`workers`]), and why each exists:
//! - `drop-joinhandle`: drop the tokio `JoinHandle`s, exactly as the framework's example does.
//!   Dropping a handle detaches its task; this variant exists to show that it keeps running.
//! - `abort`: `JoinHandle::abort` on every task. With IO steps it is the standard tool; with
//!   CPU steps and no await in the loop it shows what abort cannot do.
//! - `abort-yield` (CPU only): the same CPU loop with `tokio::task::yield_now()` between
//!   steps, the honest fix.
//! - `joinset-drop`: tasks owned by a `JoinSet`, stopped by dropping the set.
//! - `token`: a `CancellationToken` raced with `select!` in every step (IO), or checked
//!   between steps (CPU), with a `TaskTracker` awaited (up to the deadline) for the shutdown.
//! - `drop-future`: no task per worker; one task drives every worker's future and `select!`
//!   drops them all when a stop signal arrives: a dropped future, not a dropped handle.
//! - `spawn-blocking-abort`: blocking loops on tokio's blocking pool, then `abort`: what
//!   happens to thread-backed work when async code tries to cancel it.
//! - `thread-flag`: one OS thread per worker polling an `AtomicBool` between steps.
//! - `thread-signal` (IO only): one OS thread per worker, each step a `park_timeout`; the stop
//!   sets a flag and unparks every thread, so it wakes a blocked thread instead of waiting for
//!   its step to end.
//!
//! The run keeps its books in [`ledger`], separately from the variants; the claims and the
//! accounting checks are computed from those figures in [`findings`].

pub mod findings;
pub mod ledger;
pub mod variants;
pub mod workers;

use std::time::{Duration, Instant};

use anyhow::Context;
use casebook::{
    Case, CaseInfo, ClaimResult, Column, Ctx, Format, Model, Point, Preset, Report, Row, Table, UsageError, Variant,
};
use serde::{Deserialize, Serialize};

use crate::{
    ledger::{Ledger, StepKind, StepPlan},
    variants::{
        ABORT, ABORT_YIELD, CPU_VARIANTS, DROP_FUTURE, DROP_JOINHANDLE, IO_VARIANTS, JOINSET_DROP,
        SPAWN_BLOCKING_ABORT, THREAD_FLAG, THREAD_SIGNAL, TOKEN,
    },
};

pub struct Cancellation;

/// Which step kinds to measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Steps {
    Io,
    Cpu,
    Both,
}

/// Options of this case, on top of the harness's own.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Args {
    /// Which tables to run: IO-like steps, CPU-like steps, or both [default: both].
    #[arg(long, value_enum, help_heading = "Case")]
    pub steps: Option<Steps>,
    /// Workers to start and then cancel [default: quick 200, default 1000, full 5000].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub workers: Option<usize>,
    /// Length of one IO-like step, in milliseconds [default: 1].
    #[arg(long, value_name = "MS", help_heading = "Case")]
    pub io_step_ms: Option<u64>,
    /// Iterations of arithmetic in one CPU-like step [default: 10000, about 16 µs on the reference machine].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub cpu_iterations: Option<u32>,
    /// Steps in a CPU worker's whole job: what a task without yield points runs to the end
    /// of. Keep it several times the warm-up, so a running job has most of its length left
    /// when the stop comes [default: enough steps for 3x the warm-up, from a step timed on
    /// this machine].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub cpu_job_steps: Option<u32>,
    /// How long the workers run before the stop is requested, in milliseconds [default:
    /// quick 20, default 50, full 100].
    #[arg(long, value_name = "MS", help_heading = "Case")]
    pub warmup_ms: Option<u64>,
    /// How long after the request a worker may take to stop before it counts as leaked, in
    /// milliseconds [default: quick 250, default 500, full 2000].
    #[arg(long, value_name = "MS", help_heading = "Case")]
    pub deadline_ms: Option<u64>,
}

/// The resolved sizes every child run receives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub steps: Steps,
    pub workers: usize,
    pub io_step_ms: u64,
    pub cpu_iterations: u32,
    pub cpu_job_steps: u32,
    pub warmup_ms: u64,
    pub deadline_ms: u64,
    /// How long the runtime's shutdown may wait for leftover work after the deadline.
    pub shutdown_grace_ms: u64,
    /// Steps after which an IO worker ends by itself: ten times the whole run, so it never
    /// ends before the deadline and can never run forever when leaked.
    pub io_job_steps: u32,
}

impl Params {
    /// The steps one row's workers take.
    pub fn step_plan(&self, kind: StepKind) -> StepPlan {
        StepPlan {
            kind,
            io_step: Duration::from_millis(self.io_step_ms),
            cpu_iterations: self.cpu_iterations,
            job_steps: match kind {
                StepKind::Io => self.io_job_steps,
                StepKind::Cpu => self.cpu_job_steps,
            },
        }
    }
}

/// What one row runs.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct RowSpec {
    pub steps: StepKind,
}

pub const IO_TABLE: &str = "io";
pub const CPU_TABLE: &str = "cpu";

/// Figure keys each run records.
pub mod figure {
    pub const WORKERS: &str = "workers";
    pub const GUARDS_CREATED: &str = "guards_created";
    /// Prefix for `ctx.latency_us`: `cancel_p50_us`, `cancel_p99_us`, `cancel_max_us`,
    /// `cancel_count`. Absent when no worker stopped after the request.
    pub const CANCEL: &str = "cancel";
    pub const CANCEL_P50_US: &str = "cancel_p50_us";
    pub const CANCEL_P99_US: &str = "cancel_p99_us";
    pub const CANCEL_MAX_US: &str = "cancel_max_us";
    pub const CANCEL_COUNT: &str = "cancel_count";
    /// The same three in seconds, for the tables.
    pub const CANCEL_P50_S: &str = "cancel_p50_s";
    pub const CANCEL_P99_S: &str = "cancel_p99_s";
    pub const CANCEL_MAX_S: &str = "cancel_max_s";
    pub const STEPS_AFTER_REQUEST: &str = "steps_after_request";
    pub const GUARDS_DROPPED: &str = "guards_dropped";
    pub const STOPPED_BEFORE_REQUEST: &str = "stopped_before_request";
    pub const STARTED_BEFORE_REQUEST: &str = "started_before_request";
    pub const LEAKED: &str = "leaked";
    /// Of the leaked, those that had started before the request: still running, not merely
    /// aborted and still queued.
    pub const LEAKED_STARTED: &str = "leaked_started";
    pub const FILES_LEFT: &str = "files_left";
    pub const CUT_SHORT: &str = "cut_short";
    pub const WHOLE_JOB_AFTER_REQUEST: &str = "whole_job_after_request";
    pub const LEFT_AFTER_SHUTDOWN: &str = "left_after_shutdown";
    pub const FILES_AFTER_SHUTDOWN: &str = "files_after_shutdown";
    pub const FILES_REMOVED_BY_CASE: &str = "files_removed_by_case";
    /// Temp files removed by their own guard's `Drop`, counted when the run ends.
    pub const FILES_REMOVED_BY_GUARDS: &str = "files_removed_by_guards";
    /// Whether the variant's own wait for a clean shutdown (`token`'s `TaskTracker`) ended
    /// within the deadline: 1 or 0, recorded only by variants that have one.
    pub const SHUTDOWN_WAITED: &str = "shutdown_waited";
    pub const FILES_AFTER_CLEANUP: &str = "files_after_cleanup";
    pub const CPU_STEP_US: &str = "cpu_step_us";
    pub const CPU_STEP_S: &str = "cpu_step_s";
}

const MAX_WORKERS: usize = 20_000;
const MAX_JOB_STEPS: u64 = 10_000_000;

/// A CPU job's length in steps: three warm-ups' worth of steps of the measured length, so that
/// a task running when the stop comes has most of its job left on any machine. A fixed count
/// would not: on a fast enough machine the whole job would end within the warm-up.
pub fn job_steps_for(warmup: Duration, step: Duration) -> u32 {
    let step_ns = step.as_nanos().max(1);
    (3 * warmup.as_nanos()).div_ceil(step_ns).clamp(1, MAX_JOB_STEPS as u128) as u32
}

impl Case for Cancellation {
    type Args = Args;
    type Params = Params;

    const INFO: CaseInfo = CaseInfo {
        name: "cancellation",
        question: env!("CARGO_PKG_DESCRIPTION"),
        claims: &["cancel-async-drop", "cancel-threads", "task-cooperative"],
        variants: &[
            Variant {
                name: DROP_JOINHANDLE,
                model: Model::Async,
                why: "drop the JoinHandle, as the framework's example does: it detaches the task",
            },
            Variant {
                name: ABORT,
                model: Model::Async,
                why: "JoinHandle::abort on every task: the standard way to stop a spawned task",
            },
            Variant {
                name: ABORT_YIELD,
                model: Model::Async,
                why: "CPU steps with yield_now between them, then abort: the fix for CPU loops",
            },
            Variant {
                name: JOINSET_DROP,
                model: Model::Async,
                why: "tasks owned by a JoinSet, stopped by dropping the set",
            },
            Variant {
                name: TOKEN,
                model: Model::Async,
                why: "a CancellationToken watched in every step: cooperative, graceful shutdown",
            },
            Variant {
                name: DROP_FUTURE,
                model: Model::Async,
                why: "unspawned futures dropped by select!: what 'dropping cancels' really means",
            },
            Variant {
                name: SPAWN_BLOCKING_ABORT,
                model: Model::Hybrid,
                why: "blocking loops on spawn_blocking, then abort: async trying to cancel a thread",
            },
            Variant {
                name: THREAD_FLAG,
                model: Model::Threads,
                why: "an OS thread per worker polling an AtomicBool between steps",
            },
            Variant {
                name: THREAD_SIGNAL,
                model: Model::Threads,
                why: "an OS thread per worker parked between steps, woken at once by the stop's unpark",
            },
        ],
    };

    fn params(args: &Args, preset: Preset) -> Result<Params, UsageError> {
        let (workers, warmup_ms, deadline_ms, shutdown_grace_ms) = match preset {
            Preset::Quick => (200, 20, 250, 100),
            Preset::Default => (1000, 50, 500, 200),
            Preset::Full => (5000, 100, 2000, 500),
        };
        let in_range = |name: &str, value: u64, low: u64, high: u64| {
            if (low..=high).contains(&value) {
                Ok(value)
            } else {
                Err(UsageError::new(format!("--{name} must be between {low} and {high}, got {value}")))
            }
        };
        let workers = in_range("workers", args.workers.unwrap_or(workers) as u64, 1, MAX_WORKERS as u64)? as usize;
        let io_step_ms = in_range("io-step-ms", args.io_step_ms.unwrap_or(1), 1, 1000)?;
        let cpu_iterations =
            in_range("cpu-iterations", args.cpu_iterations.unwrap_or(10_000).into(), 1, 100_000_000)? as u32;
        let warmup_ms = in_range("warmup-ms", args.warmup_ms.unwrap_or(warmup_ms), 1, 60_000)?;
        let cpu_job_steps = match args.cpu_job_steps {
            Some(steps) => in_range("cpu-job-steps", steps.into(), 1, MAX_JOB_STEPS)? as u32,
            // The fastest of the timed steps, not the median: a step timed while the machine
            // is busy would shorten the job, and the job must outlast the warm-up when the
            // machine is quiet.
            None => job_steps_for(Duration::from_millis(warmup_ms), cpu_step_samples(cpu_iterations)[0]),
        };
        let deadline_ms = in_range("deadline-ms", args.deadline_ms.unwrap_or(deadline_ms), 10, 60_000)?;
        let whole_run_ms = warmup_ms + deadline_ms + shutdown_grace_ms;
        let io_job_steps = (10 * whole_run_ms).div_ceil(io_step_ms).min(u32::MAX as u64) as u32;
        Ok(Params {
            steps: args.steps.unwrap_or(Steps::Both),
            workers,
            io_step_ms,
            cpu_iterations,
            cpu_job_steps,
            warmup_ms,
            deadline_ms,
            shutdown_grace_ms,
            io_job_steps,
        })
    }

    fn plan(params: &Params, variants: &[&'static Variant]) -> Vec<Table> {
        let mut tables = Vec::new();
        let mut table = |id: &str, title: String, kind: StepKind, names: &[&str], note: &str| {
            let mut table = Table::new(id, &title);
            table.columns = columns(kind);
            table.digests_must_agree = false;
            table.note = note.into();
            let spec = serde_json::to_value(RowSpec { steps: kind }).unwrap_or_default();
            for name in names {
                if let Some(variant) = variants.iter().find(|v| v.name == *name) {
                    table.rows.push(Row::new(variant, spec.clone()));
                }
            }
            if !table.rows.is_empty() {
                tables.push(table);
            }
        };
        if params.steps != Steps::Cpu {
            table(
                IO_TABLE,
                format!(
                    "IO-like steps: {} workers each waiting {} ms per step, stopped after {} ms",
                    params.workers, params.io_step_ms, params.warmup_ms
                ),
                StepKind::Io,
                &IO_VARIANTS,
                &format!(
                    "cancel p50/p99/max: from the stop request to the start of the worker's guard's Drop (its temp file is removed after the stamp), over the workers that stopped within the {} ms deadline. leaked: guards still held at the deadline, running or still queued. still running after shutdown: guards still held after the runtime's shutdown_timeout({} ms), or, for OS threads, after as long a wait; the case removes their temp files itself before the process exits. peak threads: sampled every 2 ms by the parent.",
                    params.deadline_ms, params.shutdown_grace_ms
                ),
            );
        }
        if params.steps != Steps::Io {
            table(
                CPU_TABLE,
                format!(
                    "CPU-like steps: {} workers each computing {} iterations per step, a job of {} steps, stopped after {} ms",
                    params.workers, params.cpu_iterations, params.cpu_job_steps, params.warmup_ms
                ),
                StepKind::Cpu,
                &CPU_VARIANTS,
                &format!(
                    "whole job after request: workers that stopped only because their whole {}-step job was done. step time: one CPU-like step, timed on the main thread before the workers start. Other columns as above.",
                    params.cpu_job_steps
                ),
            );
        }
        tables
    }

    fn run(params: &Params, point: &Point, ctx: &mut Ctx) -> anyhow::Result<()> {
        let spec: RowSpec = point.decode()?;
        execute(params, spec.steps, &point.variant, ctx)
    }

    fn claims(report: &Report) -> Vec<ClaimResult> {
        findings::claims(report)
    }

    fn verdicts(report: &Report) -> Vec<String> {
        findings::verdicts(report)
    }

    fn check(report: &Report) -> Vec<String> {
        findings::check(report)
    }
}

fn columns(kind: StepKind) -> Vec<Column> {
    let mut columns = vec![
        Column::new("cancel p50", figure::CANCEL_P50_S, Format::Seconds),
        Column::new("cancel p99", figure::CANCEL_P99_S, Format::Seconds),
        Column::new("cancel max", figure::CANCEL_MAX_S, Format::Seconds),
        Column::new("steps after request", figure::STEPS_AFTER_REQUEST, Format::Count),
        Column::new("guards dropped", figure::GUARDS_DROPPED, Format::Count),
        Column::new("leaked at deadline", figure::LEAKED, Format::Count),
        Column::new("temp files left", figure::FILES_LEFT, Format::Count),
    ];
    match kind {
        StepKind::Io => {
            columns.push(Column::new("still running after shutdown", figure::LEFT_AFTER_SHUTDOWN, Format::Count))
        }
        StepKind::Cpu => {
            columns.push(Column::new("whole job after request", figure::WHOLE_JOB_AFTER_REQUEST, Format::Count));
            columns.push(Column::new("step time", figure::CPU_STEP_S, Format::Seconds));
        }
    }
    columns.push(Column::peak_threads());
    columns
}

// ANCHOR: execute
/// Runs one variant once: start the workers, let them run, request the stop, and read the
/// ledger at the deadline, after the runtime's shutdown, and after the case's own sweep.
/// Only the request and the wait for the workers to stop are inside the measured region.
pub fn execute(params: &Params, kind: StepKind, variant: &str, ctx: &mut Ctx) -> anyhow::Result<()> {
    let plan = params.step_plan(kind);
    let ledger = Ledger::new(ctx.scratch(), params.workers, plan).context("cannot create the guards' directory")?;
    if kind == StepKind::Cpu {
        let step = time_cpu_step(plan.cpu_iterations);
        ctx.figure(figure::CPU_STEP_US, step.as_secs_f64() * 1e6);
        ctx.figure(figure::CPU_STEP_S, step.as_secs_f64());
    }
    let workers = ledger.hire().context("cannot create the workers' temp files")?;
    let runtime = if variants::needs_runtime(variant) {
        Some(
            tokio::runtime::Builder::new_multi_thread()
                .enable_time()
                .build()
                .context("cannot start the tokio runtime")?,
        )
    } else {
        None
    };
    let started = variants::start(variant, kind, runtime.as_ref().map(|r| r.handle()), workers)?;
    let (cancel, wait, threads) = (started.cancel, started.wait, started.threads);

    ledger.open_gate();
    std::thread::sleep(Duration::from_millis(params.warmup_ms));
    // On a badly overloaded machine the workers may not have begun yet; a request before the
    // first step would measure nothing, so wait (boundedly) for one.
    let patience = Instant::now() + Duration::from_secs(5);
    while ledger.total_steps() == 0 && Instant::now() < patience {
        std::thread::sleep(Duration::from_millis(1));
    }

    let deadline = Duration::from_millis(params.deadline_ms);
    let (requested_ns, steps_at_request, waited) = ctx.measure(|| {
        let requested_ns = ledger.now_ns();
        let give_up_at = Instant::now() + deadline;
        cancel();
        // Count from the moment the request has been fully issued: read before `cancel()`,
        // a preempted main thread would charge the variant with steps that ran before any
        // worker could have seen the request. From here, a worker that honours it finishes
        // at most the step it is in.
        let steps_at_request = ledger.total_steps();
        // The variant's own clean-shutdown wait, as its author would write it; the ledger is
        // still what says whether the workers stopped.
        let waited = wait.map(|wait| wait(give_up_at));
        ledger.wait_all_dropped(give_up_at);
        (requested_ns, steps_at_request, waited)
    });
    let at_deadline = ledger.snapshot(requested_ns)?;
    let started_before = ledger.started_before(requested_ns);

    // A plain runtime drop would wait forever for a leaked blocking closure: bound it. OS
    // threads get the same grace, so that a thread that stops late still cleans up after
    // itself before the case's sweep, and "cleaned up by its own Drop" means the same for both.
    let grace = Duration::from_millis(params.shutdown_grace_ms);
    match runtime {
        Some(runtime) => runtime.shutdown_timeout(grace),
        None => {
            ledger.wait_all_dropped(Instant::now() + grace);
        }
    }
    if ledger.guards_dropped() == ledger.workers() {
        for thread in threads {
            thread.join().map_err(|_| anyhow::anyhow!("a worker thread panicked"))?;
        }
    }
    // Threads still running are left to end with the process; they were counted above.
    let after_shutdown = ledger.snapshot(requested_ns)?;
    let removed = ledger.sweep().context("cannot remove leftover temp files")?;
    let files_after_cleanup = ledger.files_left()?;
    let files_removed_by_guards = ledger.files_removed_by_guards();
    ledger.remove_template()?;

    record(ctx, params, &at_deadline, steps_at_request, started_before);
    ctx.figure(figure::LEFT_AFTER_SHUTDOWN, after_shutdown.still_held as f64);
    ctx.figure(figure::FILES_AFTER_SHUTDOWN, after_shutdown.files_left as f64);
    ctx.figure(figure::FILES_REMOVED_BY_CASE, removed as f64);
    ctx.figure(figure::FILES_AFTER_CLEANUP, files_after_cleanup as f64);
    ctx.figure(figure::FILES_REMOVED_BY_GUARDS, files_removed_by_guards as f64);
    if let Some(waited) = waited {
        ctx.figure(figure::SHUTDOWN_WAITED, if waited { 1.0 } else { 0.0 });
    }
    Ok(())
}
// ANCHOR_END: execute

fn record(
    ctx: &mut Ctx,
    params: &Params,
    at_deadline: &ledger::Snapshot,
    steps_at_request: u64,
    started_before: usize,
) {
    ctx.figure(figure::WORKERS, params.workers as f64);
    ctx.figure(figure::GUARDS_CREATED, at_deadline.guards_created as f64);
    if !at_deadline.latencies_ns.is_empty() {
        // Up to an hour in µs at 3 significant digits; values beyond that saturate.
        if let Ok(mut histogram) = hdrhistogram::Histogram::<u64>::new_with_max(3_600_000_000, 3) {
            for ns in &at_deadline.latencies_ns {
                histogram.saturating_record(ns / 1000);
            }
            ctx.latency_us(figure::CANCEL, &histogram);
            ctx.figure(figure::CANCEL_P50_S, histogram.value_at_quantile(0.50) as f64 / 1e6);
            ctx.figure(figure::CANCEL_P99_S, histogram.value_at_quantile(0.99) as f64 / 1e6);
            ctx.figure(figure::CANCEL_MAX_S, histogram.max() as f64 / 1e6);
        }
    }
    ctx.figure(figure::STEPS_AFTER_REQUEST, at_deadline.total_steps.saturating_sub(steps_at_request) as f64);
    ctx.figure(figure::GUARDS_DROPPED, at_deadline.guards_dropped as f64);
    ctx.figure(figure::STOPPED_BEFORE_REQUEST, at_deadline.stopped_before_request as f64);
    ctx.figure(figure::STARTED_BEFORE_REQUEST, started_before as f64);
    ctx.figure(figure::LEAKED, at_deadline.still_held as f64);
    ctx.figure(figure::LEAKED_STARTED, at_deadline.held_started as f64);
    ctx.figure(figure::FILES_LEFT, at_deadline.files_left as f64);
    ctx.figure(figure::CUT_SHORT, at_deadline.cut_short as f64);
    ctx.figure(figure::WHOLE_JOB_AFTER_REQUEST, at_deadline.whole_job_after_request as f64);
}

/// One CPU-like step's duration: the median of a few, before any worker competes for a core.
fn time_cpu_step(iterations: u32) -> Duration {
    let samples = cpu_step_samples(iterations);
    samples[samples.len() / 2]
}

/// A few timings of one CPU-like step, fastest first.
fn cpu_step_samples(iterations: u32) -> Vec<Duration> {
    let mut samples: Vec<Duration> = (0..21u64)
        .map(|seed| {
            let start = Instant::now();
            ledger::crunch(seed, iterations);
            start.elapsed()
        })
        .collect();
    samples.sort();
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpu_job_lasts_three_warm_ups_of_measured_steps() {
        let ms = Duration::from_millis;
        assert_eq!(job_steps_for(ms(50), Duration::from_micros(16)), 9375);
        // A machine twice as fast gets twice the steps: the job's length in time stays put.
        assert_eq!(job_steps_for(ms(50), Duration::from_micros(8)), 18750);
        // Bounded both ways: a step longer than the whole job, and a step that took no time.
        assert_eq!(job_steps_for(ms(1), Duration::from_secs(1)), 1);
        assert_eq!(job_steps_for(ms(60_000), Duration::ZERO), MAX_JOB_STEPS as u32);
    }

    #[test]
    fn an_explicit_job_length_is_kept() {
        let args = Args { cpu_job_steps: Some(1234), ..Args::default() };
        assert_eq!(Cancellation::params(&args, Preset::Quick).map(|p| p.cpu_job_steps).ok(), Some(1234));
        let args = Args { cpu_job_steps: Some(0), ..Args::default() };
        assert!(Cancellation::params(&args, Preset::Quick).is_err());
    }
}
