//! The measured side: what runs inside the child process for one run of one row.
//!
//! The parent re-executes the case binary with [`CHILD_FLAG`] and a spec on standard input;
//! the child runs the row once and writes a [`RunRecord`] to the path in the spec. Keeping
//! each run in its own process is what makes peak RSS and thread counts belong to one
//! variant alone: a thread pool or allocator arena left over by the previous variant
//! cannot inflate (or hide) the next one's figures.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Instant,
};

use serde::{Deserialize, Serialize};

use crate::{
    case::{Case, Point},
    procfs,
};

/// The hidden first argument that puts a case binary in child mode; the second is the path
/// of the spec file.
pub const CHILD_FLAG: &str = "__casebook-child";

/// Tells the child its parent's pid, so it can tell when it has been orphaned.
pub const PARENT_PID_VAR: &str = "CASEBOOK_PARENT_PID";

/// Figure keys the harness itself records for every run.
pub const WALL: &str = "wall_s";
pub const USER_CPU: &str = "user_s";
pub const SYSTEM_CPU: &str = "sys_s";
pub const CORES_BUSY: &str = "cores_busy";
pub const PEAK_RSS: &str = "peak_rss_bytes";
pub const VOLUNTARY_CS: &str = "voluntary_cs";
pub const INVOLUNTARY_CS: &str = "involuntary_cs";

/// What the parent sends a child.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChildSpec {
    pub params: serde_json::Value,
    pub point: Point,
    /// A directory of this run's own, removed by the parent when the run ends, however it ends.
    pub scratch: PathBuf,
    /// The case's shared inputs, built once by `Case::setup`.
    pub fixture: PathBuf,
    pub result_path: PathBuf,
}

/// What a child reports for one run.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub figures: BTreeMap<String, f64>,
    pub digest: Option<String>,
}

/// The measuring context a case's `run` receives.
#[derive(Debug)]
pub struct Ctx {
    scratch: PathBuf,
    fixture: PathBuf,
    record: RunRecord,
    /// How many times `measure` ran: exactly once is the contract.
    measured: usize,
    /// Keys of figures that were not finite numbers: a bug in the case, reported by `finish`.
    non_finite: Vec<String>,
}

impl Ctx {
    pub fn new(scratch: PathBuf) -> Self {
        Ctx::with_fixture(scratch, PathBuf::new())
    }

    pub fn with_fixture(scratch: PathBuf, fixture: PathBuf) -> Self {
        Ctx { scratch, fixture, record: RunRecord::default(), measured: 0, non_finite: Vec::new() }
    }

    /// The inputs `Case::setup` built once for every run: read them, never write them.
    pub fn fixture(&self) -> &Path {
        &self.fixture
    }

    /// A directory that belongs to this run alone; the harness deletes it afterwards, even
    /// when the run fails, times out or is interrupted.
    pub fn scratch(&self) -> &Path {
        &self.scratch
    }

    /// Runs `work` as the measured region: wall time, CPU time (user and system, the whole
    /// process) and context switches are taken around it. Call it exactly once per run.
    pub fn measure<T>(&mut self, work: impl FnOnce() -> T) -> T {
        let before = procfs::rusage_self();
        let start = Instant::now();
        let out = work();
        let wall = start.elapsed().as_secs_f64();
        let after = procfs::rusage_self();
        let user = after.user_s - before.user_s;
        let system = after.system_s - before.system_s;
        self.figure(WALL, wall);
        self.figure(USER_CPU, user);
        self.figure(SYSTEM_CPU, system);
        self.figure(CORES_BUSY, if wall > 0.0 { (user + system) / wall } else { 0.0 });
        self.figure(VOLUNTARY_CS, (after.voluntary_cs - before.voluntary_cs) as f64);
        self.figure(INVOLUNTARY_CS, (after.involuntary_cs - before.involuntary_cs) as f64);
        self.measured += 1;
        out
    }

    /// Records a case-defined figure. A NaN or infinity fails the run at the end, naming the
    /// key, rather than travelling on as a `null` nobody can summarise.
    pub fn figure(&mut self, key: &str, value: f64) {
        if !value.is_finite() {
            self.non_finite.push(key.to_string());
            return;
        }
        self.record.figures.insert(key.to_string(), value);
    }

    /// Records a latency distribution (values in microseconds) as `<key>_p50_us`,
    /// `<key>_p99_us`, `<key>_max_us` and `<key>_count`. An empty histogram records only its
    /// count: percentiles of nothing are not zero, they are missing.
    pub fn latency_us(&mut self, key: &str, histogram: &hdrhistogram::Histogram<u64>) {
        self.figure(&format!("{key}_count"), histogram.len() as f64);
        if histogram.is_empty() {
            return;
        }
        self.figure(&format!("{key}_p50_us"), histogram.value_at_quantile(0.50) as f64);
        self.figure(&format!("{key}_p99_us"), histogram.value_at_quantile(0.99) as f64);
        self.figure(&format!("{key}_max_us"), histogram.max() as f64);
    }

    /// Records the run's answer, which must match every other variant's in the same table.
    pub fn digest(&mut self, digest: impl Into<String>) {
        self.record.digest = Some(digest.into());
    }

    /// Finishes the record: a case that never called [`Ctx::measure`] gets no wall time
    /// rather than a made-up one.
    pub fn finish(mut self) -> anyhow::Result<RunRecord> {
        match self.measured {
            0 => anyhow::bail!("the case's run() never called ctx.measure(): nothing was timed"),
            1 => {}
            n => anyhow::bail!("the case's run() called ctx.measure() {n} times; the figures would mix regions"),
        }
        if !self.non_finite.is_empty() {
            anyhow::bail!("the case recorded non-finite figures: {}", self.non_finite.join(", "));
        }
        self.record.figures.insert(PEAK_RSS.into(), procfs::rusage_self().max_rss_bytes as f64);
        Ok(self.record)
    }
}

/// Child-mode entry point: read the spec, run the row once, write the record.
pub(crate) fn child_main<C: Case>() -> anyhow::Result<()> {
    let parent: Option<i32> = std::env::var(PARENT_PID_VAR).ok().and_then(|p| p.parse().ok());
    procfs::die_with_parent(parent);
    let spec_path = std::env::args_os().nth(2).ok_or_else(|| anyhow::anyhow!("child mode needs a spec path"))?;
    let spec: ChildSpec = serde_json::from_slice(&std::fs::read(&spec_path)?)?;
    let params: C::Params = serde_json::from_value(spec.params.clone())?;
    let mut ctx = Ctx::with_fixture(spec.scratch.clone(), spec.fixture.clone());
    C::run(&params, &spec.point, &mut ctx)?;
    let record = ctx.finish()?;
    std::fs::write(&spec.result_path, serde_json::to_vec(&record)?)?;
    Ok(())
}
