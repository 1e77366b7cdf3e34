//! Each variant at a small size, run through the same `execute` the binary uses, with its
//! figures checked for what they must say: every guard accounted for, and each model's
//! stopping behaviour. Nothing here asserts a latency.

use cancellation::{
    Cancellation,
    figures::*,
    params::{Args, Params},
    run::execute,
    variants::Variant,
    workers::StepKind,
};
use casebook::{Case, Ctx, Figure, Preset, report::record::RunRecord};

/// One run's record, read by figure: `figures[LEAKED]`.
struct Figures(RunRecord);

impl std::ops::Index<Figure> for Figures {
    type Output = f64;
    fn index(&self, figure: Figure) -> &f64 {
        self.0.figures.get(figure.key).unwrap_or_else(|| panic!("no {}", figure.key))
    }
}

const WORKERS: f64 = 24.0;

/// Small sizes. `deadline_ms` is generous for variants that stop, short for those that leak:
/// a leaked worker's own job is ten times the whole run, so it cannot end before the deadline.
fn params(deadline_ms: u64) -> Params {
    let args = Args {
        workers: Some(WORKERS as usize),
        warmup_ms: Some(20),
        deadline_ms: Some(deadline_ms),
        // The CPU job is left to the case, which sizes it from a step timed on this machine to
        // outlast the warm-up: a fixed count would end early on a fast machine.
        ..Args::default()
    };
    Cancellation::params(&args, Preset::Quick).expect("valid test sizes")
}

/// Runs one variant once and returns its figures, after checking the invariants every
/// variant must keep whatever it does.
fn run(variant: Variant, kind: StepKind, deadline_ms: u64) -> Figures {
    let scratch = tempfile::tempdir().expect("temp dir");
    let mut ctx = Ctx::new(scratch.path().to_path_buf());
    execute(&params(deadline_ms), kind, variant, &mut ctx).expect("the variant runs");
    let figures = Figures(ctx.finish().expect("a measured run"));
    let f = |figure: Figure| figures[figure];
    let at = format!("{variant} ({kind:?})");
    assert_eq!(f(WORKERS_FIGURE), WORKERS, "{at}: workers");
    assert_eq!(f(GUARDS_CREATED), WORKERS, "{at}: a guard per worker");
    assert_eq!(f(GUARDS_DROPPED) + f(LEAKED), WORKERS, "{at}: every guard is dropped or held by a leaked worker");
    assert_eq!(f(FILES_LEFT), f(LEAKED), "{at}: a temp file per held guard");
    assert_eq!(
        figures.0.histogram(CANCEL).map(|h| h.len() as f64).unwrap_or(0.0) + f(STOPPED_BEFORE_REQUEST),
        f(GUARDS_DROPPED),
        "{at}: every dropped guard has a stop time"
    );
    assert!(f(LEFT_AFTER_SHUTDOWN) <= f(LEAKED), "{at}: shutdown adds no leaks");
    assert_eq!(
        f(FILES_AFTER_SHUTDOWN),
        f(LEFT_AFTER_SHUTDOWN),
        "{at}: a temp file per guard still held after shutdown"
    );
    assert_eq!(f(FILES_AFTER_CLEANUP), 0.0, "{at}: the case sweeps what leaked");
    assert!(f(LEAKED_STARTED) <= f(LEAKED), "{at}: running leaks are a part of all leaks");
    assert_eq!(
        f(FILES_REMOVED_BY_GUARDS) + f(FILES_REMOVED_BY_CASE),
        WORKERS,
        "{at}: every file removed once, by its guard or by the sweep"
    );
    let guards = scratch.path().join("guards");
    assert_eq!(std::fs::read_dir(&guards).expect("guards dir").count(), 0, "{at}: no temp file outlives the run");
    figures
}

const WORKERS_FIGURE: Figure = cancellation::figures::WORKERS;

/// Variants that must stop every worker, and run no more than the step each was in.
fn assert_stops_everything(variant: Variant, kind: StepKind) -> Figures {
    let figures = run(variant, kind, 10_000);
    let at = format!("{variant} ({kind:?})");
    assert_eq!(figures[LEAKED], 0.0, "{at}: nothing leaked");
    assert_eq!(figures[GUARDS_DROPPED], WORKERS, "{at}: every guard dropped");
    assert_eq!(figures[FILES_REMOVED_BY_GUARDS], WORKERS, "{at}: every file removed by its own guard");
    assert_eq!(figures[FILES_REMOVED_BY_CASE], 0.0, "{at}: nothing left for the case to clean up");
    assert!(
        figures[STEPS_AFTER_REQUEST] <= WORKERS,
        "{at}: at most the step in flight ran after the request, got {}",
        figures[STEPS_AFTER_REQUEST]
    );
    figures
}

#[test]
fn abort_stops_io_tasks() {
    assert_stops_everything(Variant::Abort, StepKind::Io);
}

#[test]
fn dropping_a_joinset_stops_its_tasks() {
    assert_stops_everything(Variant::JoinsetDrop, StepKind::Io);
}

#[test]
fn token_stops_io_tasks_and_its_tracker_sees_them_end() {
    let figures = assert_stops_everything(Variant::Token, StepKind::Io);
    assert_eq!(figures.0.notes(SHUTDOWN_WAIT), [WAIT_ENDED], "the TaskTracker's wait ended");
}

#[test]
fn token_stops_cpu_tasks_between_steps() {
    let figures = assert_stops_everything(Variant::Token, StepKind::Cpu);
    assert_eq!(figures.0.notes(SHUTDOWN_WAIT), [WAIT_ENDED], "the TaskTracker's wait ended");
}

#[test]
fn dropping_the_future_stops_every_worker() {
    assert_stops_everything(Variant::DropFuture, StepKind::Io);
}

#[test]
fn a_flag_stops_io_threads() {
    assert_stops_everything(Variant::ThreadFlag, StepKind::Io);
}

#[test]
fn a_flag_stops_cpu_threads() {
    assert_stops_everything(Variant::ThreadFlag, StepKind::Cpu);
}

#[test]
fn a_signal_stops_blocked_threads() {
    assert_stops_everything(Variant::ThreadSignal, StepKind::Io);
}

#[test]
fn an_unpark_ends_a_long_blocking_step() {
    // Steps far longer than the deadline: only a wake-up, not the end of a step, can stop
    // these threads in time, and a stopped thread takes no further step.
    let args = Args {
        workers: Some(WORKERS as usize),
        io_step_ms: Some(1000),
        warmup_ms: Some(20),
        deadline_ms: Some(900),
        ..Args::default()
    };
    let params = Cancellation::params(&args, Preset::Quick).expect("valid test sizes");
    let scratch = tempfile::tempdir().expect("temp dir");
    let mut ctx = Ctx::new(scratch.path().to_path_buf());
    // The warm-up waits for a first step: with 1 s steps it lasts one step.
    execute(&params, StepKind::Io, Variant::ThreadSignal, &mut ctx).expect("the variant runs");
    let figures = Figures(ctx.finish().expect("a measured run"));
    assert_eq!(figures[GUARDS_DROPPED], WORKERS, "every parked thread woke and stopped");
    assert_eq!(figures[STEPS_AFTER_REQUEST], 0.0, "no thread finished its step after the stop");
}

#[test]
fn abort_with_yield_points_stops_cpu_tasks_mid_job() {
    assert_stops_everything(Variant::AbortYield, StepKind::Cpu);
    let figures = run(Variant::AbortYield, StepKind::Cpu, 10_000);
    assert!(figures[STARTED_BEFORE_REQUEST] >= 1.0);
    assert!(figures[CUT_SHORT] >= 1.0, "a task that yields is dropped at its next yield, before its job ends");
}

#[test]
fn dropping_a_joinhandle_leaves_the_task_running() {
    let figures = run(Variant::DropJoinhandle, StepKind::Io, 300);
    assert_eq!(figures[LEAKED], WORKERS, "no task stopped");
    assert_eq!(figures[GUARDS_DROPPED], 0.0, "no guard dropped");
    assert!(figures[STEPS_AFTER_REQUEST] > 0.0, "the detached tasks kept stepping after their handles were dropped");
}

#[test]
fn abort_cannot_stop_a_started_spawn_blocking_closure() {
    let figures = run(Variant::SpawnBlockingAbort, StepKind::Io, 300);
    assert!(figures[STARTED_BEFORE_REQUEST] >= 1.0);
    assert!(figures[LEAKED_STARTED] >= 1.0, "started closures keep running");
    assert!(figures[FILES_REMOVED_BY_CASE] >= 1.0, "the case's sweep removed the running closures' files");
    assert!(figures[LEFT_AFTER_SHUTDOWN] >= 1.0, "not even the runtime's shutdown stops a running closure");
    assert!(figures[STEPS_AFTER_REQUEST] > 0.0);
}

#[test]
fn abort_does_not_stop_a_cpu_loop_without_yield_points() {
    let figures = run(Variant::Abort, StepKind::Cpu, 10_000);
    assert!(figures[STARTED_BEFORE_REQUEST] >= 1.0);
    assert_eq!(figures[CUT_SHORT], 0.0, "no task that had started was stopped before its whole job was done");
    assert!(figures[WHOLE_JOB_AFTER_REQUEST] >= 1.0, "a running task finished its whole job after the abort");
    assert!(figures[STEPS_AFTER_REQUEST] > 0.0);
    // Every task does end: the ones that never started are dropped once a worker is free.
    assert_eq!(figures[LEAKED], 0.0);
}
