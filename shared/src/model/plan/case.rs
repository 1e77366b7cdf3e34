//! A case's description and sizes: its name and claims, the presets, usage errors and what
//! one child run needs of the machine.

use serde::{Deserialize, Serialize};

use crate::model::claims::ClaimId;

/// A case's fixed description.
#[derive(Debug)]
pub struct CaseInfo {
    /// The crate and command name, e.g. `parallel-math`.
    pub name: &'static str,
    /// The one question the case answers.
    pub question: &'static str,
    /// The framework's claims this case tests.
    pub claims: &'static [ClaimId],
}

impl CaseInfo {
    /// Declaration mistakes a case could make: checked when the binary starts, before any run.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (i, c) in self.claims.iter().enumerate() {
            if self.claims[..i].contains(c) {
                problems.push(format!("claim '{c}' is listed twice"));
            }
        }
        problems
    }
}

/// How big a run is. Every case offers all three, so `--preset quick` means the same everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Seconds: what tests and CI use.
    Quick,
    /// About a minute or two on two cores: what the docs quote.
    Default,
    /// As large as the case sensibly goes, for bigger machines.
    Full,
}

impl Preset {
    /// Measured repetitions per row unless `--repeat` or the table says otherwise.
    pub fn default_repeat(self) -> usize {
        match self {
            Preset::Quick => 2,
            Preset::Default => 5,
            Preset::Full => 7,
        }
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Preset::Quick => "quick",
            Preset::Default => "default",
            Preset::Full => "full",
        })
    }
}

/// Bad input from the user: reported as one line, exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl UsageError {
    pub fn new(message: impl Into<String>) -> Self {
        UsageError(message.into())
    }
}

/// `value` when it lies in `low..=high`; otherwise the usage error every case gives for an
/// option out of range: `--{option} must be between {low} and {high}, got {value}`.
pub fn in_range<T: PartialOrd + std::fmt::Display + Copy>(
    option: &str,
    value: T,
    low: T,
    high: T,
) -> Result<T, UsageError> {
    if value >= low && value <= high {
        Ok(value)
    } else {
        Err(UsageError::new(format!("--{option} must be between {low} and {high}, got {value}")))
    }
}

/// What one child run of the case needs at most, checked against the machine before
/// anything runs, so that a size that cannot fit is a clear error and not a machine brought
/// to its knees. Each need says what it is for, which the error message repeats.
#[derive(Clone, Debug, Default)]
pub struct Needs {
    pub memory: Vec<(String, u64)>,
    /// What needs the threads, how many, and the stack each reserves.
    pub threads: Option<(String, u64, u64)>,
    pub fds: Option<(String, u64)>,
}

impl Needs {
    pub fn memory(mut self, what: impl Into<String>, bytes: u64) -> Needs {
        self.memory.push((what.into(), bytes));
        self
    }
    /// Threads with the standard library's default 2 MiB stack.
    pub fn threads(self, what: impl Into<String>, threads: u64) -> Needs {
        self.threads_with_stack(what, threads, DEFAULT_STACK)
    }
    /// Threads with a stack of their own size (which only strict overcommit and `ulimit -v`
    /// charge in full).
    pub fn threads_with_stack(mut self, what: impl Into<String>, threads: u64, stack_bytes: u64) -> Needs {
        self.threads = Some((what.into(), threads, stack_bytes));
        self
    }
    pub fn fds(mut self, what: impl Into<String>, fds: u64) -> Needs {
        self.fds = Some((what.into(), fds));
        self
    }
}

/// The stack `std::thread::spawn` gives a thread unless `RUST_MIN_STACK` says otherwise.
pub const DEFAULT_STACK: u64 = 2 << 20;
