//! The parent side: sets up the case's fixture, runs every row of every table in child
//! processes, interleaved, and collects their records; tears the fixture down however the
//! run ends.
//!
//! Order matters on a noisy machine. Each row gets one warm-up run (page cache, CPU
//! frequency, lazy statics in the kernel), then the measured runs go round-robin across the
//! table's rows (A B C A B C ...), so a burst of background load hits every variant alike
//! instead of ruining one of them, and run `i` of one row can be paired with run `i` of
//! another.

use std::{
    fs::File,
    io::Write,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, anyhow};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{
    host::procfs,
    model::figure::PEAK_THREADS,
    model::plan::{Plan, Point, Table},
    report::Records,
    report::record::RunRecord,
    run::child::{CHILD_FLAG, ChildSpec},
    run::fixture::Owned,
    run::process::{self, PARENT_PID_VAR, interrupted},
};

/// How often the parent samples the child's thread count. Short-lived threads (a thread per
/// item) can slip between samples, so the figure is a lower bound on the true peak.
const SAMPLE_EVERY: Duration = Duration::from_millis(2);

/// Why a run of the plan stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("interrupted")]
    Interrupted,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Measured runs per row for tables that set no default of their own.
    pub repeat: usize,
    /// `--repeat`, when the user gave it: it wins over every table's own default.
    pub repeat_override: Option<usize>,
    pub timeout: Duration,
    pub progress: bool,
    /// Shuffles the order of the tables and, round by round, of the rows (`--order-seed`).
    pub order_seed: Option<u64>,
    /// `--cores`: the CPUs every child is pinned to, and the list its load generators get.
    pub pin: Option<(Vec<usize>, String)>,
}

impl RunOptions {
    /// The user's `--repeat`, else the table's own default, else the preset's.
    pub fn repeat_for(&self, table: &Table) -> usize {
        self.repeat_override.or(table.repeat).unwrap_or(self.repeat)
    }
}

/// What the set-up produced: the shared facts (as JSON, for the children) and what it owns.
pub(crate) type SetupOutput = (serde_json::Value, Owned);

/// Runs the whole plan. The fixture and the scratch root live until this returns, whatever
/// happens (an error, an interrupt, a panic unwinding through here), and are removed then:
/// first what the set-up owns, then every file any run left.
pub(crate) fn run_plan(
    executable: &Path,
    params: &serde_json::Value,
    plan: &mut Plan,
    options: &RunOptions,
    setup: impl FnOnce(&mut Plan, &Path) -> anyhow::Result<SetupOutput>,
) -> Result<Records, RunError> {
    sweep_stale_roots(&std::env::temp_dir());
    let scratch_root =
        tempfile::Builder::new().prefix(ROOT_PREFIX).tempdir().context("cannot create a scratch directory")?;
    std::fs::write(scratch_root.path().join(OWNER), owner_of(std::process::id()).unwrap_or_default())
        .context("cannot mark the scratch directory as ours")?;
    let fixture = scratch_root.path().join("fixture");
    std::fs::create_dir(&fixture).context("cannot create the fixture directory")?;
    let (shared, owned) = setup(plan, &fixture).context("the case's set-up failed")?;
    if interrupted() {
        return Err(RunError::Interrupted);
    }
    let progress = progress_bar(plan, options)?;
    let context = RunContext {
        executable,
        params,
        shared: &shared,
        scratch_root: scratch_root.path(),
        fixture: &fixture,
        timeout: options.timeout,
        pin: options.pin.as_ref(),
    };
    let mut sequence = 0usize;
    let mut records: Records = vec![Vec::new(); plan.tables.len()];
    for table_index in order(plan.tables.len(), options.order_seed, 0) {
        let table = &mut plan.tables[table_index];
        let repeat = options.repeat_for(table);
        let mut table_records: Vec<Vec<RunRecord>> = vec![Vec::with_capacity(repeat); table.rows.len()];
        // Round 0 is the warm-up: it must succeed, but its figures and digest are dropped.
        for round in 0..=repeat {
            let salt = ((table_index as u64) << 32) | (round as u64 + 1);
            for row_index in order(table.rows.len(), options.order_seed, salt) {
                let row = &mut table.rows[row_index];
                if row.skipped.is_some() || row.failed.is_some() {
                    continue;
                }
                let what = if round == 0 { "warm-up".to_string() } else { format!("run {round}/{repeat}") };
                progress.set_message(format!("{}: {} ({what})", table.id, row.label));
                sequence += 1;
                let point = Point {
                    table: table.id.clone(),
                    variant: row.variant.clone(),
                    label: row.label.clone(),
                    axis_value: row.axis_value,
                    point: row.point.clone(),
                };
                let record = match context.run_child(point, sequence) {
                    Ok(record) => record,
                    Err(RunError::Interrupted) => return Err(RunError::Interrupted),
                    // A failed run fails its row, not the report: every other row still runs,
                    // and the report says what failed and why.
                    Err(RunError::Failed(e)) => {
                        let reason = format!("{what}: {e:#}");
                        progress.suspend(|| eprintln!("{} / {} failed ({reason}); going on", table.id, row.label));
                        row.failed = Some(reason);
                        progress.inc((repeat + 1 - round) as u64);
                        continue;
                    }
                };
                match (round, &record.skipped) {
                    // The warm-up found the row cannot run here: skipped for good, with why.
                    (0, Some(reason)) => {
                        row.skipped = Some(reason.clone());
                        progress.inc(repeat as u64);
                    }
                    (0, None) => {}
                    (_, Some(reason)) => {
                        row.failed = Some(format!("{what}: skipped itself after a warm-up that ran: {reason}"));
                    }
                    (_, None) => table_records[row_index].push(record),
                }
                progress.inc(1);
            }
        }
        records[table_index] = table_records;
    }
    progress.finish_and_clear();
    drop(owned);
    Ok(records)
}

/// What every run's scratch root is called in the temp directory, before its random part.
const ROOT_PREFIX: &str = "casebook-";
/// The file in a scratch root that names the run owning it: `pid start-time`.
const OWNER: &str = "owner";

/// `pid start-time` of a live process, which no other process will ever match.
fn owner_of(pid: u32) -> Option<String> {
    procfs::start_time(pid).map(|start| format!("{pid} {start}"))
}

/// Removes the scratch roots of runs that died without cleaning up (a harness killed with
/// SIGKILL leaves its root, gigabytes of inbox for file-pipeline): a root whose owner file
/// names a process that no longer exists, or another process under the same pid. A root
/// without an owner file may be a run still creating it, and is left alone.
fn sweep_stale_roots(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else { return };
    for entry in entries.flatten() {
        let root = entry.path();
        if !entry.file_name().to_string_lossy().starts_with(ROOT_PREFIX) {
            continue;
        }
        let Ok(owner) = std::fs::read_to_string(root.join(OWNER)) else { continue };
        let pid = owner.split_whitespace().next().and_then(|p| p.parse::<u32>().ok());
        let alive = pid.and_then(owner_of).is_some_and(|now| now == owner.trim());
        if !alive {
            let _ = std::fs::remove_dir_all(&root);
        }
    }
}

/// The order to visit `n` things in: as declared, or shuffled by `seed` (and `salt`, so that
/// every round of every table gets an order of its own).
fn order(n: usize, seed: Option<u64>, salt: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if let Some(seed) = seed {
        fastrand::Rng::with_seed(seed ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15)).shuffle(&mut order);
    }
    order
}

fn progress_bar(plan: &Plan, options: &RunOptions) -> anyhow::Result<ProgressBar> {
    if !options.progress {
        return Ok(ProgressBar::hidden());
    }
    let total: usize = plan.tables.iter().map(|t| t.runnable().count() * (1 + options.repeat_for(t))).sum();
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .map_err(|e| anyhow!("progress template: {e}"))?
            .progress_chars("=> "),
    );
    Ok(bar)
}

/// What every child run of this plan shares.
struct RunContext<'a> {
    executable: &'a Path,
    params: &'a serde_json::Value,
    shared: &'a serde_json::Value,
    scratch_root: &'a Path,
    fixture: &'a Path,
    timeout: Duration,
    pin: Option<&'a (Vec<usize>, String)>,
}

impl RunContext<'_> {
    /// One run of one row in a fresh child process, the leader of its own process group.
    fn run_child(&self, point: Point, sequence: usize) -> Result<RunRecord, RunError> {
        let scratch = self.scratch_root.join(format!("run-{sequence}"));
        std::fs::create_dir(&scratch).context("cannot create the run's scratch directory")?;
        let result_path = self.scratch_root.join(format!("run-{sequence}.json"));
        let log_path = self.scratch_root.join(format!("run-{sequence}.log"));
        let log = File::create(&log_path).context("cannot create the run's log")?;
        let spec = ChildSpec {
            params: self.params.clone(),
            shared: self.shared.clone(),
            point,
            scratch: scratch.clone(),
            fixture: self.fixture.to_path_buf(),
            result_path: result_path.clone(),
        };
        // A file, not a pipe: writing to a child that never reads could block us before the
        // timeout clock even starts.
        let spec_path = self.scratch_root.join(format!("run-{sequence}.spec.json"));
        std::fs::write(&spec_path, serde_json::to_vec(&spec).context("cannot serialise the run's spec")?)
            .context("cannot write the run's spec")?;

        let mut command = Command::new(self.executable);
        if let Some((cpus, every)) = self.pin {
            use std::os::unix::process::CommandExt;
            let cpus = cpus.clone();
            command.env(crate::host::cpus::LOAD_CPUS_VAR, every);
            // SAFETY: the closure only calls sched_setaffinity, which is async-signal-safe.
            unsafe {
                command.pre_exec(move || crate::host::cpus::pin(&cpus));
            }
        }
        let mut child = process::spawn_group(
            command
                .arg(CHILD_FLAG)
                .arg(&spec_path)
                .env(PARENT_PID_VAR, std::process::id().to_string())
                .stdin(Stdio::null())
                .stdout(log.try_clone().context("log handle")?)
                .stderr(log),
        )
        .with_context(|| format!("cannot start {}", self.executable.display()))?;
        let pid = child.id();

        let started = Instant::now();
        let mut peak_threads = 0u64;
        let status: ExitStatus = loop {
            if let Some(threads) = procfs::thread_count(pid) {
                peak_threads = peak_threads.max(threads);
            }
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => {
                    process::stop_group(&mut child);
                    return Err(RunError::Failed(anyhow!("cannot wait for the child: {e}")));
                }
            }
            if interrupted() {
                process::stop_group(&mut child);
                return Err(RunError::Interrupted);
            }
            if started.elapsed() > self.timeout {
                // Where it hung, read before the group is stopped: the threads' kernel waits.
                let waits = procfs::group_waits(pid);
                process::stop_group(&mut child);
                let said = process::error_line(&std::fs::read_to_string(&log_path).unwrap_or_default());
                return Err(RunError::Failed(anyhow!(
                    "the run did not finish within {} s (--timeout); it was stopped with everything it started{}{}",
                    self.timeout.as_secs(),
                    if waits.is_empty() { String::new() } else { format!(" (waiting: {})", waits.join("; ")) },
                    said.map(|said| format!(" (its last words: {said})")).unwrap_or_default(),
                )));
            }
            std::thread::sleep(SAMPLE_EVERY);
        };
        // Whatever the run started and left running dies with the run.
        process::sweep_group(pid);
        // A child killed by SIGINT or SIGTERM from someone else (`kill`, a closing terminal
        // sending to every group): give our own handler a moment to set the flag, in case the
        // same signal is on its way to us, before calling it a failure.
        if process::killed_by_interrupt(&status) {
            std::thread::sleep(Duration::from_millis(200));
        }
        if interrupted() {
            return Err(RunError::Interrupted);
        }
        if !status.success() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(RunError::Failed(anyhow!(
                "the child run failed ({status}): {}",
                process::last_error_line(&log)
            )));
        }
        let bytes = std::fs::read(&result_path).context("the child wrote no result")?;
        let mut record: RunRecord = serde_json::from_slice(&bytes).context("the child's result is not valid")?;
        if record.skipped.is_none() {
            record.figures.insert(PEAK_THREADS.key.into(), peak_threads as f64);
        }
        // Whatever the variant left behind goes now, not at the end: a leaking variant must not
        // fill the disk over many runs.
        let _ = std::fs::remove_dir_all(&scratch);
        for path in [&result_path, &log_path, &spec_path] {
            let _ = std::fs::remove_file(path);
        }
        Ok(record)
    }
}

/// Writes `bytes` to `path` atomically: a temp file in the same directory, then a rename, so
/// a reader (or an interrupted run) never sees half a report.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir: PathBuf = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut file =
        tempfile::NamedTempFile::new_in(&dir).with_context(|| format!("cannot write in {}", dir.display()))?;
    file.write_all(bytes)?;
    // A report is for reading by anyone, not a secret: the temp file's 0600 would stick.
    file.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
    file.as_file().sync_all()?;
    file.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_flag_beats_table_default_beats_preset() {
        let mut table = Table::new(crate::TableId::new("t"), "t");
        let preset = RunOptions {
            repeat: 5,
            repeat_override: None,
            timeout: Duration::from_secs(1),
            progress: false,
            order_seed: None,
            pin: None,
        };
        assert_eq!(preset.repeat_for(&table), 5);
        table.repeat = Some(2);
        assert_eq!(preset.repeat_for(&table), 2);
        let flagged = RunOptions { repeat_override: Some(9), ..preset };
        assert_eq!(flagged.repeat_for(&table), 9);
    }

    #[test]
    fn stale_roots_of_dead_runs_are_swept_and_live_ones_kept() {
        let temp = tempfile::tempdir().unwrap();
        let make = |name: &str, owner: Option<String>| {
            let root = temp.path().join(name);
            std::fs::create_dir(&root).unwrap();
            std::fs::write(root.join("inbox.bin"), b"gigabytes").unwrap();
            if let Some(owner) = owner {
                std::fs::write(root.join(OWNER), owner).unwrap();
            }
            root
        };
        let mine = make("casebook-live", owner_of(std::process::id()));
        // A pid that is ours but a start time that is not: the pid was reused.
        let reused = make("casebook-reused", Some(format!("{} 1", std::process::id())));
        let dead = make("casebook-dead", Some("4194303 1".into()));
        let unmarked = make("casebook-starting", None);
        let other = make("someone-else", Some("4194303 1".into()));
        sweep_stale_roots(temp.path());
        assert!(mine.exists() && unmarked.exists() && other.exists());
        assert!(!reused.exists() && !dead.exists());
    }

    #[test]
    fn a_seed_shuffles_each_round_its_own_way_and_keeps_every_row() {
        assert_eq!(order(4, None, 1), [0, 1, 2, 3]);
        let rounds: Vec<Vec<usize>> = (1..=6).map(|round| order(8, Some(7), round)).collect();
        for round in &rounds {
            let mut sorted = round.clone();
            sorted.sort();
            assert_eq!(sorted, (0..8).collect::<Vec<_>>());
        }
        assert!(rounds.windows(2).any(|w| w[0] != w[1]), "{rounds:?}");
        assert_eq!(order(8, Some(7), 3), rounds[2], "the same seed gives the same order");
    }
}
