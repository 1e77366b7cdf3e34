//! Every figure, histogram and note a run of this case records, declared once.

use casebook::{Figure, Format, Hist, Note};

pub const WORKERS: Figure = Figure::new("workers", Format::Count);
pub const GUARDS_CREATED: Figure = Figure::new("guards_created", Format::Count);
/// From the stop request to the start of each guard's `Drop`, over the workers that stopped
/// after the request and within the deadline.
pub const CANCEL: Hist = Hist::micros("cancel");
pub const STEPS_AFTER_REQUEST: Figure = Figure::new("steps_after_request", Format::Count);
pub const GUARDS_DROPPED: Figure = Figure::new("guards_dropped", Format::Count);
pub const STOPPED_BEFORE_REQUEST: Figure = Figure::new("stopped_before_request", Format::Count);
pub const STARTED_BEFORE_REQUEST: Figure = Figure::new("started_before_request", Format::Count);
pub const LEAKED: Figure = Figure::new("leaked", Format::Count);
/// Of the leaked, those that had started before the request: still running, not merely
/// aborted and still queued.
pub const LEAKED_STARTED: Figure = Figure::new("leaked_started", Format::Count);
pub const FILES_LEFT: Figure = Figure::new("files_left", Format::Count);
pub const CUT_SHORT: Figure = Figure::new("cut_short", Format::Count);
pub const WHOLE_JOB_AFTER_REQUEST: Figure = Figure::new("whole_job_after_request", Format::Count);
pub const LEFT_AFTER_SHUTDOWN: Figure = Figure::new("left_after_shutdown", Format::Count);
pub const FILES_AFTER_SHUTDOWN: Figure = Figure::new("files_after_shutdown", Format::Count);
pub const FILES_REMOVED_BY_CASE: Figure = Figure::new("files_removed_by_case", Format::Count);
/// Temp files removed by their own guard's `Drop`, counted when the run ends.
pub const FILES_REMOVED_BY_GUARDS: Figure = Figure::new("files_removed_by_guards", Format::Count);
pub const FILES_AFTER_CLEANUP: Figure = Figure::new("files_after_cleanup", Format::Count);
pub const CPU_STEP: Figure = Figure::new("cpu_step_s", Format::Seconds);
/// How the variant's own wait for a clean shutdown (`token`'s `TaskTracker`) ended:
/// recorded only by variants that have one.
pub const SHUTDOWN_WAIT: Note = Note::new("shutdown_wait");
pub const WAIT_ENDED: &str = "ended in time";
pub const WAIT_GAVE_UP: &str = "gave up at the deadline";
