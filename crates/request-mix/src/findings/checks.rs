//! The books every run must balance, or the run fails: every request the clients were
//! given is accounted for (answered, answered with an error, lost with its connection, or
//! never sent), and in a measured run every one was answered ok, by a server that took
//! every connection and wrote every reply the clients read.

use casebook::{Figure, Report, report::record::RunRecord};

use crate::{figures::*, params::Spec};

const REQUIRED: [Figure; 11] =
    [OK, GATEWAY_TIMEOUTS, GATEWAY_ERRORS, BAD_REPLIES, LOST, UNSENT, CONNECTIONS, ACCEPTED, REFUSED, SERVED, CUT_OFF];

pub fn check(report: &Report) -> Vec<String> {
    let mut failures = Vec::new();
    for table in &report.tables {
        for row in report.ran_in(table) {
            let Some(spec) = table
                .rows
                .iter()
                .find(|r| r.label == row.label)
                .and_then(|r| serde_json::from_value::<Spec>(r.point.clone()).ok())
            else {
                failures.push(format!("{} / {}: no spec in the plan", row.table, row.label));
                continue;
            };
            for (index, run) in row.runs.iter().enumerate() {
                let at = format!("{} / {} run {}", row.table, row.label, index + 1);
                failures.extend(books(run, &spec).into_iter().map(|f| format!("{at}: {f}")));
            }
        }
    }
    failures
}

/// One run's books against its spec: what does not balance, one line each.
pub fn books(run: &RunRecord, spec: &Spec) -> Vec<String> {
    let missing: Vec<&str> = REQUIRED.iter().filter(|f| run.figure(**f).is_none()).map(|f| f.key).collect();
    if !missing.is_empty() {
        return vec![format!("missing figures {}", missing.join(", "))];
    }
    let f = |figure: Figure| run.figure(figure).unwrap_or(f64::NAN);
    let requests = spec.requests as f64;
    let mut failures = Vec::new();
    let failed = f(GATEWAY_TIMEOUTS) + f(GATEWAY_ERRORS) + f(BAD_REPLIES) + f(LOST) + f(UNSENT);
    if f(OK) + failed != requests {
        failures.push(format!("{} ok + {failed} failed != {requests} requests", f(OK)));
    }
    if failed > 0.0 {
        failures.push(format!(
            "{failed} of {requests} requests not answered ok: {} gateway timeouts, {} gateway errors, {} bad replies, {} lost, {} never sent",
            f(GATEWAY_TIMEOUTS),
            f(GATEWAY_ERRORS),
            f(BAD_REPLIES),
            f(LOST),
            f(UNSENT)
        ));
    }
    let connections = f64::from(spec.in_flight);
    let misbehaving = f64::from(spec.vanish + spec.cut);
    if f(CONNECTIONS) != connections || f(ACCEPTED) != connections + misbehaving || f(REFUSED) > 0.0 {
        failures.push(format!(
            "{} clients connected and {} accepted ({} refused) of {connections} and {misbehaving} misbehaving",
            f(CONNECTIONS),
            f(ACCEPTED),
            f(REFUSED)
        ));
    }
    if f(SERVED) < f(OK) {
        failures.push(format!("the clients read {} ok replies but the server wrote {}", f(OK), f(SERVED)));
    }
    failures
}
