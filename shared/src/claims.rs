//! The decision framework's claims, by the ids every case, report and doc page shares, and
//! the record of one claim's outcome in one run.

use serde::{Deserialize, Serialize};

use crate::stats::Stats;

/// Every claim id with the claim in our words (the same table as `CLAIMS.md`).
pub const CLAIMS: &[(&str, &str)] = &[
    ("thread-stack", "each OS thread costs about 2-8 MB of stack"),
    ("thread-parallel", "threads give true parallelism on several cores"),
    ("thread-switch", "OS context switches are expensive next to task switches"),
    ("task-light", "a task costs on the order of a KB"),
    ("task-cooperative", "tasks only yield at await points, so one that never awaits holds its worker"),
    ("task-millions", "a runtime can hold millions of tasks at once"),
    ("same-stream", "the same stream results from thread-based and task-based producers"),
    ("threads-cpu", "threads suit CPU-heavy computation"),
    ("threads-blocking-c", "threads suit blocking C libraries without async bindings"),
    ("threads-fire-forget", "threads suit fire-and-forget background work"),
    ("async-io", "async suits IO-heavy work: network and file system"),
    ("async-many-conns", "async suits thousands of concurrent connections"),
    ("async-low-memory", "async suits memory-constrained environments"),
    ("hybrid-coordination", "threads for blocking work, async channels for coordination"),
    ("hybrid-pipeline", "data pipelines: async coordinates, threads do the CPU work"),
    ("hybrid-game", "games: async for the network, threads for the simulation"),
    ("hybrid-web", "web apps: async for requests, threads for background jobs"),
    ("work-stealing", "work-stealing runtimes balance load by moving tasks between threads"),
    ("realtime-progress", "work that needs guaranteed progress belongs on threads"),
    ("cancel-threads", "threads cannot be cancelled; they need external signalling and manual cleanup"),
    ("cancel-async-drop", "async work is cancelled and cleaned up when its future or task is dropped"),
    ("no-thread-per-request", "a thread per request or per IO operation is an anti-pattern"),
    ("no-cpu-async", "CPU-bound work on async workers without yield points is an anti-pattern"),
    ("no-needless-mixing", "mixing sync and async code without need costs performance"),
    ("spawn-blocking", "run sync code from async contexts through `spawn_blocking`"),
    ("pool-threads", "pool threads for repeated CPU work"),
    ("batch-async", "batching async operations reduces overhead"),
    ("channel-capacity", "channel buffer sizes matter and must be chosen"),
];

/// The claim's text, or `None` for an id that is not in the table.
pub fn claim_text(id: &str) -> Option<&'static str> {
    CLAIMS.iter().find(|(claim_id, _)| *claim_id == id).map(|(_, text)| *text)
}

/// A claim's outcome on this machine, in this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Held,
    DidNotHold,
    /// The spread is too wide to tell, or the figures it needs were not measured.
    Inconclusive,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Held => "held",
            Outcome::DidNotHold => "did not hold",
            Outcome::Inconclusive => "inconclusive",
        })
    }
}

/// One claim, decided from the figures, with the figures and the threshold that decided it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimResult {
    pub id: String,
    pub claim: String,
    /// Which reading of the claim this result decides, when a case tests more than one (a
    /// dropped future versus a dropped task handle, resident versus reserved memory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reading: Option<String>,
    pub outcome: Outcome,
    /// The measured figures the outcome rests on, as a sentence.
    pub evidence: String,
    /// The rule that turned the figures into the outcome.
    pub threshold: String,
}

impl ClaimResult {
    /// # Panics
    /// On an id that is not in [`CLAIMS`]: that is a bug in the case, caught by its tests.
    pub fn new(id: &str, outcome: Outcome, evidence: impl Into<String>, threshold: impl Into<String>) -> Self {
        let claim = claim_text(id).unwrap_or_else(|| panic!("unknown claim id {id:?}"));
        ClaimResult {
            id: id.into(),
            claim: claim.into(),
            reading: None,
            outcome,
            evidence: evidence.into(),
            threshold: threshold.into(),
        }
    }

    /// Names the reading of the claim this result decides.
    pub fn with_reading(mut self, reading: impl Into<String>) -> Self {
        self.reading = Some(reading.into());
        self
    }

    /// The claim could not be decided because the rows it needs were not in this run.
    pub fn not_measured(id: &str, needs: &str, threshold: impl Into<String>) -> Self {
        ClaimResult::new(id, Outcome::Inconclusive, format!("not measured in this run: needs {needs}"), threshold)
    }
}

/// Decides "`a` is at least `factor` times `b`" from two summaries, spread-aware: it held
/// if every run of `a` beat `factor` times every run of `b`, did not hold if every run fell
/// short, and is inconclusive when the ranges straddle the line or either side has a single
/// run.
pub fn at_least_times(a: &Stats, b: &Stats, factor: f64) -> Outcome {
    if a.n < 2 || b.n < 2 {
        // One run has no spread: it cannot tell a real difference from a lucky one.
        Outcome::Inconclusive
    } else if a.min >= factor * b.max {
        Outcome::Held
    } else if a.max < factor * b.min {
        Outcome::DidNotHold
    } else {
        Outcome::Inconclusive
    }
}

/// Decides "`a` is at least `threshold`": held if every run reached it, did not hold if no
/// run did, inconclusive otherwise (and with a single run).
pub fn at_least(a: &Stats, threshold: f64) -> Outcome {
    if a.n < 2 {
        Outcome::Inconclusive
    } else if a.min >= threshold {
        Outcome::Held
    } else if a.max < threshold {
        Outcome::DidNotHold
    } else {
        Outcome::Inconclusive
    }
}

/// One outcome from several sub-results of the same claim: held only if all held, did not
/// hold if any did not, inconclusive otherwise, and inconclusive when there is nothing to
/// combine.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_known() {
        let mut ids: Vec<_> = CLAIMS.iter().map(|(id, _)| *id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), CLAIMS.len());
        assert_eq!(claim_text("thread-stack"), Some("each OS thread costs about 2-8 MB of stack"));
        assert_eq!(claim_text("no-such-claim"), None);
    }

    fn stats(values: &[f64]) -> Stats {
        Stats::of(values).unwrap()
    }

    #[test]
    fn ratio_rule_needs_every_run_on_one_side() {
        assert_eq!(at_least_times(&stats(&[10.0, 11.0]), &stats(&[1.0, 2.0]), 5.0), Outcome::Held);
        assert_eq!(at_least_times(&stats(&[3.0, 4.0]), &stats(&[1.0, 2.0]), 5.0), Outcome::DidNotHold);
        assert_eq!(at_least_times(&stats(&[6.0, 11.0]), &stats(&[1.0, 2.0]), 5.0), Outcome::Inconclusive);
        assert_eq!(at_least(&stats(&[1.7, 1.8]), 1.7), Outcome::Held);
        assert_eq!(at_least(&stats(&[1.2, 1.6]), 1.7), Outcome::DidNotHold);
        assert_eq!(at_least(&stats(&[1.6, 1.8]), 1.7), Outcome::Inconclusive);
        // A single run decides nothing, however far from the line it lands.
        assert_eq!(at_least(&stats(&[9.0]), 1.7), Outcome::Inconclusive);
        assert_eq!(at_least_times(&stats(&[100.0]), &stats(&[1.0, 1.1]), 5.0), Outcome::Inconclusive);
    }

    #[test]
    fn combining_outcomes() {
        use Outcome::*;
        assert_eq!(combine(&[]), Inconclusive);
        assert_eq!(combine(&[Held, Held]), Held);
        assert_eq!(combine(&[Held, Inconclusive]), Inconclusive);
        assert_eq!(combine(&[Held, DidNotHold, Inconclusive]), DidNotHold);
    }

    #[test]
    fn outcome_serializes_in_kebab_case() {
        assert_eq!(serde_json::to_string(&Outcome::DidNotHold).unwrap(), "\"did-not-hold\"");
    }
}
