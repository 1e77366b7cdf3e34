//! The measured side: what runs inside the child process for one run of one row.
//!
//! The parent re-executes the case binary with [`CHILD_FLAG`] and the path of a spec file;
//! the child runs the row once and writes a [`RunRecord`] to the path in the spec. Keeping
//! each run in its own process is what makes peak RSS and thread counts belong to one
//! variant alone: a thread pool or allocator arena left over by the previous variant
//! cannot inflate (or hide) the next one's figures.

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::{
    host::procfs,
    model::figure::{self, Figure, Hist, Note},
    model::plan::Point,
    report::record::RunRecord,
    run::load::{LoadEnv, LoadGen},
    stats::latency,
};

/// The hidden first argument that puts a case binary in child mode; the second is the path
/// of the spec file.
pub const CHILD_FLAG: &str = "__casebook-child";

/// What the parent sends a child.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChildSpec {
    pub params: serde_json::Value,
    /// What the case's set-up handed every run (`Case::Shared`).
    pub shared: serde_json::Value,
    pub point: Point,
    /// A directory of this run's own, removed by the parent when the run ends, however it ends.
    pub scratch: PathBuf,
    /// The directory the case's set-up owns: read it, never write it.
    pub fixture: PathBuf,
    pub result_path: PathBuf,
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
    /// What a load generator started from this run needs; `None` outside a case binary.
    load: Option<LoadEnv>,
}

impl Ctx {
    /// A context for tests: `scratch` is the run's directory, there is no fixture, and no
    /// load generator can be started.
    pub fn new(scratch: PathBuf) -> Self {
        Ctx::with_fixture(scratch, PathBuf::new())
    }

    pub fn with_fixture(scratch: PathBuf, fixture: PathBuf) -> Self {
        Ctx { scratch, fixture, record: RunRecord::default(), measured: 0, non_finite: Vec::new(), load: None }
    }

    /// Lets tests start load generators: `binary` is the case's own binary
    /// (`env!("CARGO_BIN_EXE_<case>")`), which runs them in its hidden mode.
    pub fn with_load_binary(
        mut self,
        binary: impl Into<PathBuf>,
        params: &impl Serialize,
        shared: &impl Serialize,
    ) -> anyhow::Result<Self> {
        self.load = Some(LoadEnv::new(
            binary.into(),
            serde_json::to_value(params)?,
            serde_json::to_value(shared)?,
            self.scratch.clone(),
        ));
        Ok(self)
    }

    /// The directory `Case::setup` was given: read it, never write it.
    pub fn fixture(&self) -> &Path {
        &self.fixture
    }

    /// A directory that belongs to this run alone; the harness deletes it afterwards, even
    /// when the run fails, times out or is interrupted.
    pub fn scratch(&self) -> &Path {
        &self.scratch
    }

    /// Runs `work` as the measured region: wall time, CPU time (user and system, the whole
    /// process) and context switches are taken around it, and apart from them the CPU time
    /// of child processes the region started and waited for (a peer tool run as a variant).
    /// Call it exactly once per run.
    pub fn measure<T>(&mut self, work: impl FnOnce() -> T) -> T {
        // Read before `before`, so this call's own CPU is not charged to the region.
        let children_before = procfs::children_cpu_s();
        let steal_before = procfs::cpu_steal();
        let before = procfs::rusage_self();
        let start = Instant::now();
        let out = work();
        let wall = start.elapsed().as_secs_f64();
        let after = procfs::rusage_self();
        if let (Some((s0, t0)), Some((s1, t1))) = (steal_before, procfs::cpu_steal())
            && t1 >= t0 + STEAL_MIN_TICKS
        {
            self.figure(figure::STEAL, s1.saturating_sub(s0) as f64 / (t1 - t0) as f64);
        }
        // Only where the region reaped a child that used CPU: elsewhere the figure is absent,
        // not a column of zeros.
        let children = procfs::children_cpu_s() - children_before;
        if children > 0.0 {
            self.figure(figure::CHILD_CPU, children);
        }
        let user = after.user_s - before.user_s;
        let system = after.system_s - before.system_s;
        self.figure(figure::WALL, wall);
        self.figure(figure::USER_CPU, user);
        self.figure(figure::SYSTEM_CPU, system);
        self.figure(figure::CORES_BUSY, if wall > 0.0 { (user + system) / wall } else { 0.0 });
        self.figure(figure::VOLUNTARY_CS, (after.voluntary_cs - before.voluntary_cs) as f64);
        self.figure(figure::INVOLUNTARY_CS, (after.involuntary_cs - before.involuntary_cs) as f64);
        self.measured += 1;
        out
    }

    /// Records a case-defined figure. A NaN or infinity fails the run at the end, naming the
    /// key, rather than travelling on as a `null` nobody can summarise.
    pub fn figure(&mut self, figure: Figure, value: f64) {
        if !value.is_finite() {
            self.non_finite.push(figure.key.to_string());
            return;
        }
        self.record.figures.insert(figure.key.to_string(), value);
    }

    /// Records a distribution whole (the report merges it with the other runs' before taking
    /// any quantile). An empty histogram is recorded too: its quantiles are missing, not zero.
    pub fn histogram(&mut self, hist: Hist, histogram: &hdrhistogram::Histogram<u64>) {
        match latency::encode(histogram) {
            Ok(text) => {
                self.record.histograms.insert(hist.key.to_string(), text);
            }
            Err(_) => self.non_finite.push(hist.key.to_string()),
        }
    }

    /// Records a short string; the report shows each note's distinct values with counts.
    pub fn note(&mut self, note: Note, value: impl Into<String>) {
        self.record.notes.entry(note.key.to_string()).or_default().push(value.into());
    }

    /// Records the run's answer, which must match every other variant's in the same table.
    pub fn digest(&mut self, digest: impl Into<String>) {
        self.record.digest = Some(digest.into());
    }

    /// Says this row cannot run here (a kernel feature refused, a tool missing), with the
    /// reason a reader will see. Called in the warm-up run, it skips the row for good.
    pub fn skip(&mut self, reason: impl Into<String>) {
        self.record.skipped = Some(reason.into());
    }

    /// Starts a load generator: the case binary in its hidden load mode, running
    /// `Case::load` with `spec`. Returns once the generator has called `GenCtx::ready`.
    pub fn start_load(&mut self, spec: &impl Serialize) -> anyhow::Result<LoadGen> {
        let env = self
            .load
            .as_mut()
            .context("load generators can only start from the case binary (a test needs Ctx::with_load_binary)")?;
        LoadGen::start(env, serde_json::to_value(spec).context("cannot serialise the load spec")?)
    }

    /// A child run's context, from its spec: the generators it starts get the same facts.
    pub(crate) fn for_spec(spec: &ChildSpec, executable: PathBuf) -> Self {
        let mut ctx = Ctx::with_fixture(spec.scratch.clone(), spec.fixture.clone());
        ctx.load = Some(LoadEnv::new(executable, spec.params.clone(), spec.shared.clone(), spec.scratch.clone()));
        ctx
    }

    /// The figures recorded so far (load generators add to the same record).
    pub fn recorded(&self) -> &RunRecord {
        &self.record
    }

    /// Finishes the record: a case that never called [`Ctx::measure`] gets no wall time
    /// rather than a made-up one.
    pub fn finish(mut self) -> anyhow::Result<RunRecord> {
        if self.record.skipped.is_some() {
            return Ok(self.record);
        }
        match self.measured {
            0 => anyhow::bail!("the case's run() never called ctx.measure(): nothing was timed"),
            1 => {}
            n => anyhow::bail!("the case's run() called ctx.measure() {n} times; the figures would mix regions"),
        }
        if !self.non_finite.is_empty() {
            anyhow::bail!("the case recorded non-finite figures: {}", self.non_finite.join(", "));
        }
        self.record.figures.insert(figure::PEAK_RSS.key.into(), procfs::peak_rss_self() as f64);
        Ok(self.record)
    }
}

/// The clock ticks (all CPUs together) a measured region must span before its steal is
/// recorded: `/proc/stat` counts in ticks of 10 ms, so a shorter region's share is a count of
/// one or two ticks (a 20 ms region with one stolen tick reads 25%), not a measurement. At 100
/// ticks a tick is 1%: half a second on two cores.
const STEAL_MIN_TICKS: u64 = 100;

impl LoadGen {
    /// Waits for the generator to end, adds its record to the run's (histograms of the same
    /// name merge), and records what it cost apart from the run's own figures.
    pub fn finish(self, ctx: &mut Ctx) -> anyhow::Result<()> {
        let (record, cost) = self.wait()?;
        ctx.record.absorb(record)?;
        // Several generators in one run add up: together they are the load.
        for (figure, value) in [
            (figure::LOADGEN_CPU, cost.cpu_s),
            (figure::LOADGEN_PEAK_RSS, cost.peak_rss_bytes),
            (figure::LOADGEN_PEAK_THREADS, cost.peak_threads),
            (figure::LOADGEN_CORES, cost.cpu_s / cost.wall_s.max(1e-9)),
        ] {
            let before = ctx.record.figure(figure).unwrap_or(0.0);
            ctx.figure(figure, before + value);
        }
        Ok(())
    }
}
