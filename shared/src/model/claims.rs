//! The decision framework's claims, by the ids every case, report and doc page shares, and
//! the record of one claim's outcome in one run.
//!
//! This list is the project's reference (`docs/src/framework.md` prints it). An id is a
//! [`ClaimId`] variant, so a case cannot name a claim that does not exist: the compiler
//! checks it before any run starts.

use serde::{Deserialize, Serialize};

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
    StartAsync = "start-async": "start with async, then move the CPU-heavy parts to threads (the framework's summary)",
}

/// A claim's outcome on this machine, in this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Held,
    DidNotHold,
    /// The interval straddles the threshold, or the figures it needs were not measured.
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
    /// The fewest measured runs any part of the outcome rests on, when figures decided it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs: Option<usize>,
    /// The table rows the outcome rests on, `(table, row label)`: where a reader checks it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<(String, String)>,
}

/// Runs an outcome must rest on to be more than indicative: with fewer, an interval is
/// little more than the range of the runs.
pub const MIN_RUNS: usize = 5;

impl ClaimResult {
    /// Whether the outcome rests on too few runs to be more than a hint: held or did not
    /// hold over fewer than [`MIN_RUNS`] runs.
    pub fn indicative(&self) -> bool {
        self.outcome != Outcome::Inconclusive && self.runs.is_some_and(|n| n < MIN_RUNS)
    }

    /// The outcome as a reader should take it: `held`, or `indicative: held` when it rests
    /// on fewer than [`MIN_RUNS`] runs.
    pub fn standing(&self) -> String {
        if self.indicative() { format!("indicative: {}", self.outcome) } else { self.outcome.to_string() }
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
}
