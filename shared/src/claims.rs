//! The decision framework's claims, by the ids every case, report and doc page shares, and
//! the record of one claim's outcome in one run.
//!
//! This list is the project's reference (`docs/src/framework.md` prints it). An id is a
//! [`ClaimId`] variant, so a case cannot name a claim that does not exist: the compiler
//! checks it before any run starts.

use serde::{Deserialize, Serialize};

use crate::rules::{Decision, Outcome};

macro_rules! claim_ids {
    ($($variant:ident = $id:literal: $text:literal,)*) => {
        /// A claim of the framework, by its stable id.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum ClaimId {
            $(#[serde(rename = $id)] $variant,)*
        }

        impl ClaimId {
            /// Every claim, in the order the framework's table lists them.
            pub const ALL: &'static [ClaimId] = &[$(ClaimId::$variant,)*];

            /// The id as written in reports and docs: `thread-stack`.
            pub fn as_str(self) -> &'static str {
                match self { $(ClaimId::$variant => $id,)* }
            }

            /// The claim in our words.
            pub fn text(self) -> &'static str {
                match self { $(ClaimId::$variant => $text,)* }
            }

            /// The claim with this id, if there is one.
            pub fn parse(id: &str) -> Option<ClaimId> {
                match id { $($id => Some(ClaimId::$variant),)* _ => None }
            }
        }
    };
}

claim_ids! {
    ThreadStack = "thread-stack": "each OS thread costs about 2-8 MB of stack",
    ThreadParallel = "thread-parallel": "threads give true parallelism on several cores",
    ThreadSwitch = "thread-switch": "OS context switches are expensive next to task switches",
    TaskLight = "task-light": "a task costs on the order of a KB",
    TaskCooperative = "task-cooperative": "tasks only yield at await points, so one that never awaits holds its worker",
    TaskMillions = "task-millions": "a runtime can hold millions of tasks at once",
    SameStream = "same-stream": "the same stream results from thread-based and task-based producers",
    ThreadsCpu = "threads-cpu": "threads suit CPU-heavy computation",
    ThreadsBlockingC = "threads-blocking-c": "threads suit blocking C libraries without async bindings",
    ThreadsFireForget = "threads-fire-forget": "threads suit fire-and-forget background work",
    AsyncIo = "async-io": "async suits IO-heavy work: network and file system",
    AsyncManyConns = "async-many-conns": "async suits thousands of concurrent connections",
    AsyncLowMemory = "async-low-memory": "async suits memory-constrained environments",
    HybridCoordination = "hybrid-coordination": "threads for blocking work, async channels for coordination",
    HybridPipeline = "hybrid-pipeline": "data pipelines: async coordinates, threads do the CPU work",
    HybridGame = "hybrid-game": "games: async for the network, threads for the simulation",
    HybridWeb = "hybrid-web": "web apps: async for requests, threads for background jobs",
    WorkStealing = "work-stealing": "work-stealing runtimes balance load by moving tasks between threads",
    RealtimeProgress = "realtime-progress": "work that needs guaranteed progress belongs on threads",
    CancelThreads = "cancel-threads": "threads cannot be cancelled; they need external signalling and manual cleanup",
    CancelAsyncDrop = "cancel-async-drop": "async work is cancelled and cleaned up when its future or task is dropped",
    NoThreadPerRequest = "no-thread-per-request": "a thread per request or per IO operation is an anti-pattern",
    NoCpuAsync = "no-cpu-async": "CPU-bound work on async workers without yield points is an anti-pattern",
    NoNeedlessMixing = "no-needless-mixing": "mixing sync and async code without need costs performance",
    SpawnBlocking = "spawn-blocking": "run sync code from async contexts through `spawn_blocking`",
    PoolThreads = "pool-threads": "pool threads for repeated CPU work",
    BatchAsync = "batch-async": "batching async operations reduces overhead",
    ChannelCapacity = "channel-capacity": "channel buffer sizes matter and must be chosen",
    StructuredConcurrency = "structured-concurrency": "async suits structured concurrency: work scoped to a parent is not lost at shutdown",
}

impl std::fmt::Display for ClaimId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a claim needed and this run did not measure: a row left out by `--variants`, a
/// skipped row, a figure no run recorded. A claim that meets one is "not measured", never
/// decided on a made-up 0 or 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing(pub String);

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Missing {}

/// One claim, decided from the figures, with the figures and the threshold that decided it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClaimResult {
    pub id: ClaimId,
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
    /// The estimate and interval each rule decided from, when figures decided it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
}

/// A claim being decided: its id, its threshold in words, optionally the reading.
///
/// ```
/// use casebook::{Claim, ClaimId, Format, rules::{self, Series}};
/// let fast = Series::of("rayon wall", Format::Seconds, &[0.25, 0.24, 0.26]);
/// let slow = Series::of("sequential wall", Format::Seconds, &[0.48, 0.47, 0.49]);
/// let result = Claim::new(ClaimId::ThreadsCpu, "sequential ≥ 1.5 × rayon, paired runs")
///     .decide(|| Ok((rules::ratio_at_least(&slow, &fast, 1.5), "rayon 1.9x".to_string())));
/// assert_eq!(result.outcome, casebook::Outcome::Held);
/// ```
#[derive(Clone, Debug)]
pub struct Claim {
    id: ClaimId,
    reading: Option<String>,
    threshold: String,
}

impl Claim {
    pub fn new(id: ClaimId, threshold: impl Into<String>) -> Claim {
        Claim { id, reading: None, threshold: threshold.into() }
    }

    /// Names the reading of the claim this result decides.
    pub fn reading(mut self, reading: impl Into<String>) -> Claim {
        self.reading = Some(reading.into());
        self
    }

    /// Decides the claim: `decide` returns the rule's decision and the evidence sentence, or
    /// what was missing, which makes the result "not measured" with that reason.
    pub fn decide(self, decide: impl FnOnce() -> Result<(Decision, String), Missing>) -> ClaimResult {
        match decide() {
            Ok((decision, evidence)) => self.result(decision.outcome, evidence, decision.describe()),
            Err(missing) => self.not_measured(&missing.0),
        }
    }

    /// The claim could not be decided: the rows or figures it needs were not in this run.
    pub fn not_measured(self, needs: &str) -> ClaimResult {
        self.result(Outcome::Inconclusive, format!("not measured in this run: {needs}"), None)
    }

    /// An outcome decided by something other than a figure (one usable core, say).
    pub fn outcome(self, outcome: Outcome, evidence: impl Into<String>) -> ClaimResult {
        self.result(outcome, evidence.into(), None)
    }

    fn result(self, outcome: Outcome, evidence: String, interval: Option<String>) -> ClaimResult {
        ClaimResult {
            id: self.id,
            claim: self.id.text().into(),
            reading: self.reading,
            outcome,
            evidence,
            threshold: self.threshold,
            interval,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_round_trip() {
        let mut ids: Vec<&str> = ClaimId::ALL.iter().map(|c| c.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), ClaimId::ALL.len());
        for id in ClaimId::ALL {
            assert_eq!(ClaimId::parse(id.as_str()), Some(*id));
            assert_eq!(serde_json::to_string(id).unwrap(), format!("\"{id}\""));
        }
        assert_eq!(ClaimId::ThreadStack.text(), "each OS thread costs about 2-8 MB of stack");
        assert_eq!(ClaimId::parse("no-such-claim"), None);
    }

    #[test]
    fn a_missing_figure_is_not_measured() {
        let result = Claim::new(ClaimId::AsyncIo, "t").decide(|| Err(Missing("needs hybrid / files_per_s".into())));
        assert_eq!(result.outcome, Outcome::Inconclusive);
        assert_eq!(result.evidence, "not measured in this run: needs hybrid / files_per_s");
        assert!(result.interval.is_none());
    }
}
