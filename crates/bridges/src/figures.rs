//! Every figure, histogram and note a run of this case records, declared once.

use casebook::{Figure, Format, Hist, Note};

// Table 1: the book's example.
pub const LETTERS_SEEN: Figure = Figure::new("letters_seen", Format::Count);
pub const INTERVALS_SEEN: Figure = Figure::new("intervals_seen", Format::Count);
/// Timeouts either source's stream yielded.
pub const TIMEOUTS: Figure = Figure::new("timeouts", Format::Count);
/// Intervals the producer sent into the channel.
pub const INTERVALS_MADE: Figure = Figure::new("intervals_made", Format::Count);
/// Intervals the consumer took out of the channel (the throttle decides when).
pub const INTERVALS_TAKEN: Figure = Figure::new("intervals_taken", Format::Count);
/// Intervals still in the channel when the consumer stopped: made for nothing.
pub const LEFT_QUEUED: Figure = Figure::new("left_queued", Format::Count);
/// How fast the queue grew over the run.
pub const QUEUE_GROWTH: Figure = Figure::new("queue_growth_per_s", Format::Rate);
/// RSS just before the queue was dropped, less RSS when the run began.
pub const RSS_GROWTH: Figure = Figure::new("rss_growth", Format::Bytes);
/// How old an interval was when it left the channel.
pub const INTERVAL_AGE: Hist = Hist::micros("interval_age");

// Table 2: the bridge matrix.
/// Messages received per second, from the gate opening to the last producer joined.
pub const MESSAGES_PER_S: Figure = Figure::new("messages_per_s", Format::Rate);
/// Send to receive, over the stamped messages (one in `books::STAMP_EVERY`).
pub const LATENCY: Hist = Hist::nanos("latency");
/// CPU time of the whole process over the measured region, per message received.
pub const CPU_PER_MESSAGE: Figure = Figure::new("cpu_per_message", Format::Nanos);
pub const EXPECTED: Figure = Figure::new("expected", Format::Count);
pub const SENT: Figure = Figure::new("sent", Format::Count);
pub const RECEIVED: Figure = Figure::new("received", Format::Count);
/// Sent but never received.
pub const MISSING: Figure = Figure::new("missing", Format::Count);
/// Received more often than sent, or from no producer.
pub const SURPLUS: Figure = Figure::new("surplus", Format::Count);
/// Out of order: a sequence number below, or above, the one expected next.
pub const LATE: Figure = Figure::new("late", Format::Count);
pub const EARLY: Figure = Figure::new("early", Format::Count);
/// Unbounded rows: the deepest queue a producer saw.
pub const PEAK_DEPTH: Figure = Figure::new("peak_depth", Format::Count);
/// 1 when an unbounded queue reached the memory guard and its producers stopped early.
pub const GUARD_HIT: Figure = Figure::new("guard_hit", Format::Count);
/// The same channel at bounded(1024), thread to thread, driven by a minimal loop in the
/// parent before any run: recorded by that row, for the harness-overhead ratio.
pub const MINIMAL_LOOP: Figure = Figure::new("minimal_loop_messages_per_s", Format::Rate);
/// The same minimal loop timed again in each run of that row, in the same child process right
/// after the measured region and its teardown: a reference paired with the run, so the ratio
/// is read run against run, on whatever state the machine was in at that moment.
pub const MINIMAL_LOOP_PAIRED: Figure = Figure::new("minimal_loop_same_run_messages_per_s", Format::Rate);

// Table 3a: needless mixing.
/// Wall time of the measured region per call.
pub const PER_CALL: Figure = Figure::new("per_call", Format::Nanos);
pub const CPU_PER_CALL: Figure = Figure::new("cpu_per_call", Format::Nanos);

// Table 3b: fire-and-forget.
pub const JOBS: Figure = Figure::new("jobs", Format::Count);
pub const SUBMITTED: Figure = Figure::new("submitted", Format::Count);
pub const COMPLETED: Figure = Figure::new("completed", Format::Count);
pub const CUT_SHORT: Figure = Figure::new("cut_short", Format::Count);
pub const NEVER_STARTED: Figure = Figure::new("never_started", Format::Count);
/// Jobs handed off that did not finish: never started or cut short.
pub const LOST: Figure = Figure::new("lost", Format::Count);
/// 1 when the program wrote that `main` was returning.
pub const MAIN_RETURNED: Figure = Figure::new("main_returned", Format::Count);
/// How long each hand-off (the spawn call) took.
pub const HAND_OFF: Hist = Hist::nanos("hand_off");
/// From the last hand-off until `main` returned: what shutting down waited for.
pub const SHUTDOWN_WAIT: Figure = Figure::new("shutdown_wait", Format::Seconds);
/// The program's CPU time up to `main`'s return, per job handed off.
pub const CPU_PER_JOB: Figure = Figure::new("cpu_per_job", Format::Nanos);

/// The many-producer table's direction, as a column (rows there are a channel and a direction).
pub const DIRECTION: Note = Note::new("direction");

/// Why a run's producers stopped early, when they did.
pub const STOPPED_BY: Note = Note::new("stopped_by");
pub const STOPPED_BY_GUARD: &str = "the memory guard";
