//! The case's options, and the sizes they resolve to for every run.

use std::time::{Duration, Instant};

use casebook::{Preset, UsageError, model::plan::in_range};
use serde::{Deserialize, Serialize};

use crate::workers::{StepKind, StepPlan};

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

/// What a row runs besides its variant: which steps its workers take.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Spec {
    pub steps: StepKind,
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

pub fn resolve(args: &Args, preset: Preset) -> Result<Params, UsageError> {
    let (workers, warmup_ms, deadline_ms, shutdown_grace_ms) = match preset {
        Preset::Quick => (200, 20, 250, 100),
        Preset::Default => (1000, 50, 500, 200),
        Preset::Full => (5000, 100, 2000, 500),
    };
    let workers = in_range("workers", args.workers.unwrap_or(workers) as u64, 1, MAX_WORKERS as u64)? as usize;
    let io_step_ms = in_range("io-step-ms", args.io_step_ms.unwrap_or(1), 1, 1000)?;
    let cpu_iterations =
        in_range("cpu-iterations", u64::from(args.cpu_iterations.unwrap_or(10_000)), 1, 100_000_000)? as u32;
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

/// A few timings of one CPU-like step, fastest first.
pub fn cpu_step_samples(iterations: u32) -> Vec<Duration> {
    let mut samples: Vec<Duration> = (0..21u64)
        .map(|seed| {
            let start = Instant::now();
            crate::workers::crunch(seed, iterations);
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
        assert_eq!(resolve(&args, Preset::Quick).map(|p| p.cpu_job_steps).ok(), Some(1234));
        let args = Args { cpu_job_steps: Some(0), ..Args::default() };
        assert!(resolve(&args, Preset::Quick).is_err());
    }
}
