//! The books every run must balance, or the run fails: every request the clients were
//! given is accounted for (answered, answered with an error, lost with its connection, or
//! never sent), and in a measured run every one was answered ok, by a server that took
//! every connection, counted every client that left mid-request, and wrote every reply the
//! clients read.

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
    // Every misbehaving client leaves in the middle of a request, and no other client does.
    if f(CUT_OFF) != misbehaving {
        failures.push(format!(
            "the server counted {} connections cut off mid-request, but {misbehaving} clients left mid-request",
            f(CUT_OFF)
        ));
    }
    if f(SERVED) < f(OK) {
        failures.push(format!("the clients read {} ok replies but the server wrote {}", f(OK), f(SERVED)));
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: Spec = Spec { in_flight: 16, cpu_us: 10, requests: 100, vanish: 2, cut: 2 };

    /// A run whose books balance for [`SPEC`], with `changes` applied.
    fn run(changes: &[(Figure, f64)]) -> RunRecord {
        let mut run = RunRecord::default();
        let balanced = [(OK, 100.0), (CONNECTIONS, 16.0), (ACCEPTED, 20.0), (SERVED, 100.0), (CUT_OFF, 4.0)];
        for (figure, value) in REQUIRED.iter().map(|f| (*f, 0.0)).chain(balanced).chain(changes.iter().copied()) {
            run.figures.insert(figure.key.into(), value);
        }
        run
    }

    #[test]
    fn balanced_books_pass_and_each_imbalance_is_named() {
        assert_eq!(books(&run(&[]), &SPEC), Vec::<String>::new());
        let timeouts = books(&run(&[(OK, 90.0), (GATEWAY_TIMEOUTS, 10.0)]), &SPEC);
        assert!(timeouts.len() == 1 && timeouts[0].contains("10 gateway timeouts"), "{timeouts:?}");
        let refused = books(&run(&[(ACCEPTED, 18.0), (REFUSED, 2.0)]), &SPEC);
        assert!(refused.len() == 1 && refused[0].contains("2 refused"), "{refused:?}");
        let missed = books(&run(&[(CUT_OFF, 3.0)]), &SPEC);
        assert!(missed.len() == 1 && missed[0].contains("cut off"), "{missed:?}");
        let unbalanced = books(&run(&[(OK, 99.0)]), &SPEC);
        assert!(unbalanced.iter().any(|f| f.contains("!= 100 requests")), "{unbalanced:?}");
    }
}
