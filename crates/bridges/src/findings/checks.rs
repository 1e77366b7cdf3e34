//! The books every run must balance, checked on the report: a failure here is a wrong
//! answer, not a slow one, and fails the run.
//!
//! - Matrix rows: every message sent was received once and in order (no missing, surplus,
//!   late or early message), and the row moved every message it was asked to, unless the
//!   memory guard stopped its producers, which is reported as a finding instead.
//! - Fire-and-forget rows: every job handed off is counted exactly once, as completed, cut
//!   short or never started, and the program got as far as returning from `main`.

use casebook::{Figure, Report, report::record::RunRecord};

use crate::{
    figures::*,
    tables::{FIRE_AND_FORGET, MANY_PRODUCERS, MATRIX},
};

const MATRIX_FIGURES: [Figure; 8] = [EXPECTED, SENT, RECEIVED, MISSING, SURPLUS, LATE, EARLY, GUARD_HIT];

const JOB_FIGURES: [Figure; 6] = [JOBS, SUBMITTED, COMPLETED, CUT_SHORT, NEVER_STARTED, MAIN_RETURNED];

/// The figures a table's runs must record, and the books they must balance.
type Books = (&'static [Figure], fn(&RunRecord) -> Vec<String>);

fn f(run: &RunRecord, figure: Figure) -> f64 {
    run.figure(figure).unwrap_or(f64::NAN)
}

pub fn check(report: &Report) -> Vec<String> {
    let mut failures = Vec::new();
    for row in report.rows.iter().filter(|r| r.skipped.is_none()) {
        let (required, balance): Books = if MATRIX.iter().chain([&MANY_PRODUCERS]).any(|t| row.table == *t) {
            (&MATRIX_FIGURES, matrix_books)
        } else if row.table == FIRE_AND_FORGET {
            (&JOB_FIGURES, job_books)
        } else {
            continue;
        };
        for (index, run) in row.runs.iter().enumerate() {
            let at = format!("{} / {} run {}", row.table, row.label, index + 1);
            let missing: Vec<&str> = required.iter().filter(|k| run.figure(**k).is_none()).map(|k| k.key).collect();
            let problems =
                if missing.is_empty() { balance(run) } else { vec![format!("missing figures {}", missing.join(", "))] };
            failures.extend(problems.into_iter().map(|problem| format!("{at}: {problem}")));
        }
    }
    failures
}

fn matrix_books(run: &RunRecord) -> Vec<String> {
    let [sent, received, expected, guard_hit] = [SENT, RECEIVED, EXPECTED, GUARD_HIT].map(|k| f(run, k));
    let counts = [
        (MISSING, "sent but never received"),
        (SURPLUS, "received more often than sent"),
        (LATE, "arrived after a later one of the same producer, or twice"),
        (EARLY, "arrived after a gap in their producer's sequence"),
    ];
    let counts = counts.map(|(figure, what)| (f(run, figure) != 0.0, format!("{} messages {what}", f(run, figure))));
    let totals = [
        (received != sent, format!("{received} received of {sent} sent")),
        (
            guard_hit == 0.0 && sent != expected,
            format!("{sent} sent of {expected} asked for, and the memory guard did not stop it"),
        ),
    ];
    failed(counts.into_iter().chain(totals))
}

fn job_books(run: &RunRecord) -> Vec<String> {
    let [jobs, submitted, completed, cut_short, never_started, main_returned] = JOB_FIGURES.map(|k| f(run, k));
    failed([
        (
            completed + cut_short + never_started != jobs,
            format!("{completed} completed + {cut_short} cut short + {never_started} never started != {jobs} jobs"),
        ),
        (submitted != jobs, format!("{submitted} of {jobs} jobs handed off")),
        (main_returned != 1.0, "the program never reached the end of main".into()),
    ])
}

/// The problems whose check failed.
fn failed(checks: impl IntoIterator<Item = (bool, String)>) -> Vec<String> {
    checks.into_iter().filter_map(|(failed, problem)| failed.then_some(problem)).collect()
}
