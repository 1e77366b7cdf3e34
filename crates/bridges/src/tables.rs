//! The tables: the book's example (as printed, and left running), the bridge matrix (one
//! sweep over capacity per direction, and a many-producer table), needless mixing (one
//! table per direction of the call) and fire-and-forget.

use casebook::{Axis, AxisMark, Column, Measure, PlotSpec, Primary, Row, Table, TableId, VariantSet};

use crate::{
    background::JobsSpec,
    book::listings::Pace,
    channels::{Capacity, Direction, books::STAMP_EVERY, guard::CHECK_EVERY, raw::REFERENCE_CAPACITY, unsupported},
    figures::*,
    params::{Params, Spec},
    variants::Variant,
};

pub const BOOK: TableId = TableId::new("book");
pub const DRIFT: TableId = TableId::new("drift");
pub const THREAD_TO_THREAD: TableId = TableId::new("thread-to-thread");
pub const THREAD_TO_TASK: TableId = TableId::new("thread-to-task");
pub const TASK_TO_THREAD: TableId = TableId::new("task-to-thread");
pub const TASK_TO_TASK: TableId = TableId::new("task-to-task");
pub const MANY_PRODUCERS: TableId = TableId::new("many-producers");
pub const SYNC_FROM_ASYNC: TableId = TableId::new("sync-from-async");
pub const ASYNC_FROM_SYNC: TableId = TableId::new("async-from-sync");
pub const FIRE_AND_FORGET: TableId = TableId::new("fire-and-forget");

/// The matrix tables, one per direction, in [`Direction::ALL`]'s order.
pub const MATRIX: [TableId; 4] = [THREAD_TO_THREAD, THREAD_TO_TASK, TASK_TO_THREAD, TASK_TO_TASK];

/// The matrix table of one direction (every direction is one of [`Direction::ALL`]).
pub fn matrix_table(direction: Direction) -> TableId {
    MATRIX[Direction::ALL.iter().position(|d| *d == direction).unwrap_or_default()]
}

/// The channel each direction's rows are compared against: the standard library's between
/// threads, tokio's (the async channel most code already has) wherever a task is involved.
pub fn matrix_baseline(direction: Direction) -> Variant {
    if direction == Direction::THREAD_TO_THREAD { Variant::StdMpsc } else { Variant::TokioMpsc }
}

/// The mixing table a form sits in, beside its native form.
pub fn mixing_table(native: Variant) -> TableId {
    if native == Variant::DirectCall { SYNC_FROM_ASYNC } else { ASYNC_FROM_SYNC }
}

/// The listings the drift table runs: one of each producer form, unbounded and bounded.
/// `thread-senders` is left out: its intervals source is `thread-producer`'s.
pub const DRIFT_LISTINGS: [Variant; 4] =
    [Variant::TaskProducer, Variant::ThreadProducer, Variant::TaskBounded, Variant::ThreadBounded];

pub fn tables(params: &Params, variants: &[Variant]) -> Vec<Table> {
    // In the enum's order, whatever order `--variants` named them in.
    let selected: Vec<Variant> = Variant::ALL.iter().copied().filter(|v| variants.contains(v)).collect();
    let mut tables = vec![book(params, &selected), drift(params, &selected)];
    tables.extend(Direction::ALL.into_iter().map(|d| matrix(params, &selected, d)));
    tables.push(many_producers(params, &selected));
    tables.push(mixing(params, &selected, SYNC_FROM_ASYNC));
    tables.push(mixing(params, &selected, ASYNC_FROM_SYNC));
    tables.push(fire_and_forget(params, &selected));
    tables.retain(|t| !t.rows.is_empty());
    tables
}

fn book(params: &Params, variants: &[Variant]) -> Table {
    let Pace { interval, throttle, take, .. } = params.book;
    let title = format!(
        "The book's example as printed: intervals every {interval:?}, throttled to one per {throttle:?}, take({take})"
    );
    let mut table = Table::new(BOOK, title);
    table.rows = variants.iter().filter(|v| v.listing().is_some()).map(|v| Row::new(*v, Spec::Book)).collect();
    table.baseline_if_present(Variant::TaskProducer);
    // Fewer is better: every interval made beyond those taken was work for nothing.
    table.primary = Primary::lower(INTERVALS_MADE);
    table.columns = vec![
        Column::new("letters seen", LETTERS_SEEN),
        Column::new("intervals seen", INTERVALS_SEEN),
        Column::new("timeouts", TIMEOUTS),
        Column::new("intervals made", INTERVALS_MADE),
        Column::new("left in the queue", LEFT_QUEUED),
        Column::p50(INTERVAL_AGE),
        Column::max(INTERVAL_AGE),
        Column::wall(),
        Column::peak_threads(),
    ];
    table.repeat = Some(params.repeat.book);
    table.note = format!(
        "The digest is each source's items as the consumer saw them: letters a.. and intervals 1.. in order, none skipped, and {take} items in all; which items land in the first {take} depends on the scheduler, so the counts are columns. intervals made: sent into the channel by the producer; left in the queue: made but never taken when take() ended the stream. interval age: from the producer's send to the item leaving the channel."
    );
    table
}

fn drift(params: &Params, variants: &[Variant]) -> Table {
    let title = format!(
        "The same consumer left running for {:?}, each interval carrying {} bytes; the bounded forms at capacity {}",
        params.drift_for, params.drift.payload_bytes, params.fix_capacity
    );
    let mut table = Table::new(DRIFT, title);
    table.rows = variants.iter().filter(|v| DRIFT_LISTINGS.contains(v)).map(|v| Row::new(*v, Spec::Drift)).collect();
    table.baseline_if_present(Variant::TaskProducer);
    table.primary = Primary::lower(INTERVALS_MADE);
    table.columns = vec![
        Column::new("intervals made", INTERVALS_MADE),
        Column::new("intervals taken", INTERVALS_TAKEN),
        Column::new("left in the queue", LEFT_QUEUED),
        Column::new("queue growth", QUEUE_GROWTH),
        Column::new("RSS growth", RSS_GROWTH),
        Column::p50(INTERVAL_AGE),
        Column::max(INTERVAL_AGE),
        Column::new("hit the guard", GUARD_HIT),
        Column::peak_rss(),
    ];
    table.repeat = Some(params.repeat.drift);
    table.note = format!(
        "No take(): the consumer runs for {:?}. queue growth: intervals left in the queue per second of the run. RSS growth: resident memory just before the queue was dropped, less at the start. The memory guard stops an unbounded producer at {}.",
        params.drift_for, params.guard.set_by
    );
    table
}

fn matrix_columns(direction: Option<Direction>) -> Vec<Column> {
    let mut columns = vec![
        Column::new("messages/s (median ±MAD)", MESSAGES_PER_S).with_spread(),
        Column::vs_baseline("vs baseline"),
        Column::p50(LATENCY),
        Column::p99(LATENCY),
        Column::new("CPU/message", CPU_PER_MESSAGE),
        // The harness shows a row's variant and axis value, not its label: an unbounded row's
        // capacity cell is empty, and this column, which only unbounded rows have, names it.
        Column::new("unbounded: peak queue", PEAK_DEPTH),
        Column::peak_rss(),
        Column::voluntary_switches(),
        Column::involuntary_switches(),
    ];
    if direction == Some(Direction::THREAD_TO_THREAD) {
        columns.push(Column::new("minimal loop", MINIMAL_LOOP));
        columns.push(Column::new("minimal loop, same run", MINIMAL_LOOP_PAIRED));
    }
    columns
}

fn matrix(params: &Params, variants: &[Variant], direction: Direction) -> Table {
    let title = format!(
        "{direction}: {} messages of 16 bytes, one producer, one consumer, by channel capacity",
        params.messages
    );
    let mut table = Table::new(matrix_table(direction), title);
    for (variant, channel) in variants.iter().filter_map(|v| Some((*v, v.channel()?))) {
        let spec = |capacity| Spec::Bridge { direction, capacity, producers: 1 };
        if direction != Direction::THREAD_TO_THREAD && !channel.bridges_tasks() {
            // One skipped row says it for every capacity.
            let why = unsupported(channel, direction, Capacity::Unbounded).unwrap_or_default();
            table.rows.push(Row::new(variant, spec(Capacity::Unbounded)).skip(why));
            continue;
        }
        for capacity in &params.capacities {
            let row = match capacity {
                Capacity::Bounded(n) => Row::at(variant, *n as f64, spec(*capacity)),
                // Unbounded is no number on the capacity axis: a mark past its end, which a
                // plot draws there and a lookup names by the variant alone.
                Capacity::Unbounded => Row::at_mark(variant, AxisMark::high(capacity.to_string()), spec(*capacity)),
            };
            let why = unsupported(channel, direction, *capacity);
            table.rows.push(if let Some(why) = why { row.skip(why) } else { row });
        }
    }
    table.baseline_if_present(matrix_baseline(direction));
    table.axis = Some(Axis::new("capacity").log());
    table.primary = Primary::higher(MESSAGES_PER_S);
    table.columns = matrix_columns(Some(direction));
    table.plots = vec![PlotSpec::log_y(MESSAGES_PER_S), PlotSpec::quantiles(LATENCY), PlotSpec::log_y(CPU_PER_MESSAGE)];
    table.repeat = Some(params.repeat.matrix);
    table.note = format!(
        "Rows with no capacity are the unbounded channels. The digest: every message sent arrived exactly once, in order per producer. latency: send to receive of one message in {STAMP_EVERY} (stamped by the producer, read by the consumer on one clock). CPU/message: user and system time of the whole process over the measured region. peak queue: unbounded rows, the deepest queue a producer saw (checked every {CHECK_EVERY} messages). Unbounded rows run under a memory guard of {}.{}",
        params.guard.set_by,
        if direction == Direction::THREAD_TO_THREAD {
            " minimal loop: the same channel at bounded(1024) driven by the smallest loop that moves the same messages, timed in the parent before any run (the harness-overhead reference); same run: the same loop timed again in each run's process, right after the measured region (the paired reference)."
        } else {
            ""
        }
    );
    table
}

fn many_producers(params: &Params, variants: &[Variant]) -> Table {
    let title = format!(
        "{} producers, one consumer: {} messages in all, capacity {REFERENCE_CAPACITY}",
        params.producers, params.messages
    );
    let mut table = Table::new(MANY_PRODUCERS, title);
    let capacity = Capacity::Bounded(REFERENCE_CAPACITY);
    for (variant, channel) in variants.iter().filter_map(|v| Some((*v, v.channel()?))) {
        for direction in Direction::ALL.into_iter().filter(|d| unsupported(channel, *d, capacity).is_none()) {
            let spec = Spec::Bridge { direction, capacity, producers: params.producers };
            table.rows.push(Row { label: format!("{variant} {direction}"), ..Row::new(variant, spec) });
        }
    }
    table.primary = Primary::higher(MESSAGES_PER_S);
    // The direction is a note because the harness shows a row's variant, not its label.
    table.columns = vec![Column::note("direction", DIRECTION)];
    let single_producer_only = |c: &Column| matches!(c.measure, Measure::VsBaseline) || c.measure == PEAK_DEPTH.into();
    table.columns.extend(matrix_columns(None).into_iter().filter(|c| !single_producer_only(c)));
    table.repeat = Some(params.repeat.matrix);
    table.note = "Rows are a channel and a direction; std-mpsc and crossbeam have thread-to-thread rows only. Columns as in the single-producer tables.".into();
    table
}

fn mixing(params: &Params, variants: &[Variant], id: TableId) -> Table {
    let (calls, bytes) = (params.mix.calls, params.mix.record_bytes);
    let title = if id == SYNC_FROM_ASYNC {
        format!("A sync call from async code: a checksum of {bytes} bytes, {calls} calls")
    } else {
        format!("An async call from sync code: the same checksum asked of a service task, {calls} calls")
    };
    let mut table = Table::new(id, title);
    let here = |v: &&Variant| v.native().is_some_and(|native| mixing_table(native) == id);
    table.rows = variants.iter().filter(here).map(|v| Row::new(*v, Spec::Plain)).collect();
    table.baseline_if_present(if id == SYNC_FROM_ASYNC { Variant::DirectCall } else { Variant::AsyncAwait });
    table.primary = Primary::lower(PER_CALL);
    table.columns = vec![
        Column::new("per call (median ±MAD)", PER_CALL).with_spread(),
        Column::vs_baseline("vs native"),
        Column::new("CPU per call", CPU_PER_CALL),
        Column::cores_busy(),
        Column::peak_threads(),
        Column::voluntary_switches(),
    ];
    table.repeat = Some(params.repeat.mixing);
    table.note = "The digest is the sum of every call's answer. per call: wall time of the measured region over the calls; CPU per call: user and system time of the whole process (the blocking pool's threads included) over the calls.".into();
    table
}

fn fire_and_forget(params: &Params, variants: &[Variant]) -> Table {
    let JobsSpec { jobs, steps, step, submit_every } = params.jobs;
    let title = format!(
        "Fire-and-forget: {jobs} jobs of {steps} steps of {step:?}, one handed off every {submit_every:?}, then main returns"
    );
    let mut table = Table::new(FIRE_AND_FORGET, title);
    table.rows = variants.iter().filter(|v| v.background().is_some()).map(|v| Row::new(*v, Spec::Plain)).collect();
    table.digests_must_agree = false;
    table.primary = Primary::higher(COMPLETED);
    table.columns = vec![
        Column::new("completed", COMPLETED),
        Column::new("cut short", CUT_SHORT),
        Column::new("never started", NEVER_STARTED),
        Column::new("lost", LOST),
        Column::p50(HAND_OFF),
        Column::new("shutdown wait", SHUTDOWN_WAIT),
        Column::new("CPU per job", CPU_PER_JOB),
        Column::new("program's peak threads", casebook::model::figure::LOADGEN_PEAK_THREADS),
    ];
    table.repeat = Some(params.repeat.background);
    table.note = "The program runs in a process of its own (the case's load generator) and writes a ledger file that outlives it: each job records its start and every step with pwrite. Counted after the process exited: completed (every step written), cut short (started, not finished), never started. hand off: the spawn call. shutdown wait: from the last hand-off until main returned. CPU per job: the program's CPU time from its start to its exit, over the jobs.".into();
    table
}
