//! The two tables, IO-like and CPU-like steps, and what each shows.

use casebook::{Column, Row, Table, TableId};

use crate::{
    figures::*,
    params::{Params, Spec, Steps},
    variants::Variant,
    workers::StepKind,
};

/// Workers whose every step waits 1 ms.
pub const IO: TableId = TableId::new("io");
/// Workers whose every step is a few microseconds of arithmetic with no await.
pub const CPU: TableId = TableId::new("cpu");

pub fn tables(params: &Params, variants: &[Variant]) -> Vec<Table> {
    let mut tables = Vec::new();
    let mut table = |id: TableId, title: String, kind: StepKind, note: &str| {
        let mut table = Table::new(id, title);
        table.columns = columns(kind);
        table.digests_must_agree = false;
        table.note = note.into();
        for variant in variants.iter().filter(|v| v.kinds().contains(&kind)) {
            table.rows.push(Row::new(*variant, Spec { steps: kind }));
        }
        if !table.rows.is_empty() {
            tables.push(table);
        }
    };
    if params.steps != Steps::Cpu {
        table(
            IO,
            format!(
                "IO-like steps: {} workers each waiting {} ms per step, stopped after {} ms",
                params.workers, params.io_step_ms, params.warmup_ms
            ),
            StepKind::Io,
            &format!(
                "cancel p50/p99/max: from the stop request to the start of the worker's guard's Drop (its temp file is removed after the stamp), over the workers that stopped within the {} ms deadline. leaked: guards still held at the deadline, running or still queued. still running after shutdown: guards still held after the runtime's shutdown_timeout({} ms), or, for OS threads, after as long a wait; the case removes their temp files itself before the process exits. peak threads: sampled every 2 ms by the parent.",
                params.deadline_ms, params.shutdown_grace_ms
            ),
        );
    }
    if params.steps != Steps::Io {
        table(
            CPU,
            format!(
                "CPU-like steps: {} workers each computing {} iterations per step, a job of {} steps, stopped after {} ms",
                params.workers, params.cpu_iterations, params.cpu_job_steps, params.warmup_ms
            ),
            StepKind::Cpu,
            &format!(
                "whole job after request: workers that stopped only because their whole {}-step job was done. step time: one CPU-like step, timed on the main thread before the workers start. Other columns as above.",
                params.cpu_job_steps
            ),
        );
    }
    tables
}

fn columns(kind: StepKind) -> Vec<Column> {
    let mut columns = vec![
        Column::quantile("cancel p50", CANCEL, 0.50),
        Column::quantile("cancel p99", CANCEL, 0.99),
        Column::quantile("cancel max", CANCEL, 1.0),
        Column::new("steps after request", STEPS_AFTER_REQUEST),
        Column::new("guards dropped", GUARDS_DROPPED),
        Column::new("leaked at deadline", LEAKED),
        Column::new("temp files left", FILES_LEFT),
    ];
    match kind {
        StepKind::Io => columns.push(Column::new("still running after shutdown", LEFT_AFTER_SHUTDOWN)),
        StepKind::Cpu => columns.extend([
            Column::new("whole job after request", WHOLE_JOB_AFTER_REQUEST),
            Column::new("step time", CPU_STEP),
        ]),
    }
    columns.push(Column::peak_threads());
    columns
}
