//! A rule's verdict with its basis and its threshold and evidence in words, and how the
//! parts of one claim combine.

use serde::{Deserialize, Serialize};

use super::basis::Basis;
use crate::model::claims::Outcome;

/// A rule's verdict with what it rests on, and the rule and the figures in words, rendered
/// from the rule's own parameters so that the sentence a reader sees cannot drift from the
/// rule that decided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub basis: Vec<Basis>,
    /// When the claim holds and when it does not: `held if ...; did not hold if ...`.
    pub threshold: String,
    /// The figures the rule compared, each with its runs.
    pub evidence: String,
    /// The rows the compared series came from, `(table, row label)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<(String, String)>,
}

impl Decision {
    /// Several rules that must all hold: held if all held, did not hold if any did not,
    /// inconclusive otherwise (and with nothing to combine).
    pub fn all(decisions: impl IntoIterator<Item = Decision>) -> Decision {
        let decisions: Vec<Decision> = decisions.into_iter().collect();
        let outcome = combine(&decisions.iter().map(|d| d.outcome).collect::<Vec<_>>());
        let parts = |part: fn(&Decision) -> &str| -> Vec<&str> {
            decisions.iter().map(part).filter(|t| !t.is_empty()).collect()
        };
        let thresholds = parts(|d| &d.threshold);
        let threshold = match thresholds.len() {
            0 | 1 => thresholds.concat(),
            _ => format!("all of: {}", thresholds.join("; and ")),
        };
        let evidence = parts(|d| &d.evidence).join("; ");
        let mut rows: Vec<(String, String)> = Vec::new();
        for row in decisions.iter().flat_map(|d| d.rows.iter()) {
            if !rows.contains(row) {
                rows.push(row.clone());
            }
        }
        Decision { outcome, basis: decisions.into_iter().flat_map(|d| d.basis).collect(), threshold, evidence, rows }
    }

    /// The same decision with `context` added to its evidence: figures beside the compared
    /// ones that help a reader (a count, a cost per request), never the compared ones again.
    pub fn noting(mut self, context: impl AsRef<str>) -> Decision {
        let context = context.as_ref();
        if !context.is_empty() {
            self.evidence =
                if self.evidence.is_empty() { context.into() } else { format!("{}; {context}", self.evidence) };
        }
        self
    }

    /// The first interval, as `(low, high)`.
    pub fn interval(&self) -> Option<(f64, f64)> {
        self.basis.first().map(|b| (b.low, b.high))
    }

    /// Every basis, one clause each.
    pub fn describe(&self) -> Option<String> {
        (!self.basis.is_empty()).then(|| self.basis.iter().map(Basis::describe).collect::<Vec<_>>().join("; "))
    }

    /// The fewest runs any basis rests on.
    pub fn runs(&self) -> Option<usize> {
        self.basis.iter().map(|b| b.runs).min()
    }
}

/// One outcome from several parts of the same claim: held only if all held, did not hold
/// if any did not, inconclusive otherwise, and inconclusive when there is nothing to combine.
pub fn combine(outcomes: &[Outcome]) -> Outcome {
    if outcomes.is_empty() {
        Outcome::Inconclusive
    } else if outcomes.contains(&Outcome::DidNotHold) {
        Outcome::DidNotHold
    } else if outcomes.iter().all(|o| *o == Outcome::Held) {
        Outcome::Held
    } else {
        Outcome::Inconclusive
    }
}
