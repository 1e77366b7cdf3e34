//! Rules over yes-or-no facts rather than figures, and the decision with nothing to decide from.

use super::{basis::Basis, decision::Decision};
use crate::model::{claims::Outcome, format::Format};

/// A yes-or-no fact per run: held if it was true in every run, did not hold if it was true
/// in none, inconclusive when the runs disagree or there was only one.
pub fn every_run(what: &str, facts: &[bool]) -> Decision {
    let yes = facts.iter().filter(|f| **f).count();
    let outcome = match (facts.len(), yes) {
        (n, _) if n < 2 => Outcome::Inconclusive,
        (n, y) if y == n => Outcome::Held,
        (_, 0) => Outcome::DidNotHold,
        _ => Outcome::Inconclusive,
    };
    let share = if facts.is_empty() { 0.0 } else { yes as f64 / facts.len() as f64 };
    let basis = Basis {
        what: what.into(),
        estimate: share,
        low: share,
        high: share,
        runs: facts.len(),
        format: Format::Percent,
    };
    Decision {
        outcome,
        basis: vec![basis],
        threshold: format!("held if {what} in every run; did not hold if in none"),
        evidence: format!("{what}: {yes} of {} runs", facts.len()),
        rows: Vec::new(),
    }
}

/// A fact established over the whole row rather than run by run (every run's digest
/// agreed with the reference's, say): held if it is true.
pub fn fact(what: &str, holds: bool) -> Decision {
    Decision {
        outcome: if holds { Outcome::Held } else { Outcome::DidNotHold },
        basis: Vec::new(),
        threshold: format!("held if {what}"),
        evidence: format!("{what}: {}", if holds { "yes" } else { "no" }),
        rows: Vec::new(),
    }
}

/// Nothing to decide from (a precondition failed, a figure is not meaningful here):
/// inconclusive, with why.
pub fn undecided(why: &str) -> Decision {
    Decision {
        outcome: Outcome::Inconclusive,
        basis: Vec::new(),
        threshold: String::new(),
        evidence: why.into(),
        rows: Vec::new(),
    }
}
