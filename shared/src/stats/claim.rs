//! Deciding one framework claim: a rule's [`Decision`] becomes a [`ClaimResult`] with the
//! rule's own words for its threshold and evidence, or "not measured" with what was missing.

use crate::{
    model::claims::{ClaimId, ClaimResult, Missing, Outcome},
    stats::rules::Decision,
};

/// A claim being decided: its id and, when a case tests more than one, the reading.
///
/// ```
/// use casebook::{Claim, ClaimId, Format, Outcome, stats::rules::{self, Series}};
/// let fast = Series::of("rayon wall", Format::Seconds, &[0.25, 0.24, 0.26]);
/// let slow = Series::of("sequential wall", Format::Seconds, &[0.48, 0.47, 0.49]);
/// let result = Claim::new(ClaimId::ThreadsCpu).decide(|| Ok(rules::ratio_at_least(&slow, &fast, 1.5)));
/// assert_eq!(result.outcome, Outcome::Held);
/// assert!(result.threshold.starts_with("held if sequential wall / rayon wall"));
/// ```
#[derive(Clone, Debug)]
pub struct Claim {
    id: ClaimId,
    reading: Option<String>,
}

impl Claim {
    pub fn new(id: ClaimId) -> Claim {
        Claim { id, reading: None }
    }

    /// Names the reading of the claim this result decides.
    pub fn reading(mut self, reading: impl Into<String>) -> Claim {
        self.reading = Some(reading.into());
        self
    }

    /// Decides the claim from the rule `decide` returns, or marks it "not measured" with
    /// what was missing.
    pub fn decide(self, decide: impl FnOnce() -> Result<Decision, Missing>) -> ClaimResult {
        match decide() {
            Ok(decision) => {
                let (interval, runs) = (decision.describe(), decision.runs());
                let mut result = self.result(decision.outcome, decision.evidence, decision.threshold, interval);
                result.runs = runs;
                result.rows = decision.rows;
                result
            }
            Err(missing) => self.not_measured(&missing.0),
        }
    }

    /// The claim could not be decided: the rows or figures it needs were not in this run.
    pub fn not_measured(self, needs: &str) -> ClaimResult {
        self.result(Outcome::Inconclusive, format!("not measured in this run: {needs}"), String::new(), None)
    }

    fn result(self, outcome: Outcome, evidence: String, threshold: String, interval: Option<String>) -> ClaimResult {
        ClaimResult {
            id: self.id,
            claim: self.id.text().into(),
            reading: self.reading,
            outcome,
            evidence,
            threshold,
            interval,
            runs: None,
            rows: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{model::format::Format, stats::rules};

    #[test]
    fn a_missing_figure_is_not_measured() {
        let result = Claim::new(ClaimId::AsyncIo).decide(|| Err(Missing("needs hybrid / files_per_s".into())));
        assert_eq!(result.outcome, Outcome::Inconclusive);
        assert_eq!(result.evidence, "not measured in this run: needs hybrid / files_per_s");
        assert!(result.interval.is_none());
    }

    #[test]
    fn few_runs_make_an_outcome_indicative() {
        let a = rules::Series::of("a", Format::Count, &[10.0, 11.0, 12.0]);
        let result = Claim::new(ClaimId::AsyncIo).decide(|| Ok(rules::at_least(&a, 5.0)));
        assert_eq!(result.outcome, Outcome::Held);
        assert_eq!(result.runs, Some(3));
        assert_eq!(result.standing(), "indicative: held");
    }

    #[test]
    fn a_claim_names_the_rows_it_rests_on() {
        let a = rules::Series::of("a", Format::Count, &[10.0, 11.0]).from_row("t", "x @1");
        let b = rules::Series::of("b", Format::Count, &[1.0, 1.0]).from_row("t", "y");
        let result = Claim::new(ClaimId::AsyncIo)
            .decide(|| Ok(rules::Decision::all([rules::ratio_at_least(&a, &b, 2.0), rules::at_least(&a, 1.0)])));
        assert_eq!(result.rows, vec![("t".to_string(), "x @1".to_string()), ("t".to_string(), "y".to_string())]);
    }
}
