//! The parent side: runs every row of every table in child processes, interleaved, and
//! collects their records.
//!
//! Order matters on a noisy machine. Each row gets one warm-up run (page cache, CPU
//! frequency, lazy statics in the kernel), then the measured runs go round-robin across the
//! table's rows (A B C A B C ...), so a burst of background load hits every variant alike
//! instead of ruining one of them.

use std::{
    fs::File,
    io::Write,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, ExitStatus, Stdio},
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use anyhow::{Context, anyhow};
use indicatif::{ProgressBar, ProgressStyle};

use crate::{
    case::{Point, Table},
    child::{CHILD_FLAG, ChildSpec, PARENT_PID_VAR, RunRecord},
    procfs,
};

/// Figure key of the child's peak thread count, sampled by the parent.
pub const PEAK_THREADS: &str = "peak_threads";

/// How often the parent samples the child's thread count. Short-lived threads (a thread per
/// item) can slip between samples, so the figure is a lower bound on the true peak.
const SAMPLE_EVERY: Duration = Duration::from_millis(2);

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Makes Ctrl-C (and SIGTERM) set a flag that every wait loop checks, so the run stops within
/// milliseconds, kills its child and removes its scratch files instead of dying mid-write.
pub fn install_interrupt_handler() {
    // A second handler cannot be installed (tests call this more than once); the first one
    // already does the job.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

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
}

impl RunOptions {
    /// The user's `--repeat`, else the table's own default, else the preset's.
    pub fn repeat_for(&self, table: &Table) -> usize {
        self.repeat_override.or(table.repeat).unwrap_or(self.repeat)
    }
}

/// Every table's rows' measured records: `records[table][row][run]`.
pub type Records = Vec<Vec<Vec<RunRecord>>>;

/// Runs the whole plan. The scratch root lives until this returns, whatever happens, and is
/// removed with everything any child left in it.
pub fn run_plan(
    executable: &Path,
    params: &serde_json::Value,
    tables: &[Table],
    options: &RunOptions,
    setup: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> Result<Records, RunError> {
    let scratch_root =
        tempfile::Builder::new().prefix("casebook-").tempdir().context("cannot create a scratch directory")?;
    let fixture = scratch_root.path().join("fixture");
    std::fs::create_dir(&fixture).context("cannot create the fixture directory")?;
    setup(&fixture).context("the case's set-up failed")?;
    if interrupted() {
        return Err(RunError::Interrupted);
    }
    let total: usize = tables.iter().map(|t| t.rows.len() * (1 + options.repeat_for(t))).sum();
    let progress = if options.progress {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
                .map_err(|e| anyhow!("progress template: {e}"))?
                .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };

    let mut sequence = 0usize;
    let mut records: Records = Vec::with_capacity(tables.len());
    for table in tables {
        let repeat = options.repeat_for(table);
        let mut table_records: Vec<Vec<RunRecord>> = vec![Vec::with_capacity(repeat); table.rows.len()];
        // Round 0 is the warm-up: it must succeed, but its figures and digest are dropped.
        for round in 0..=repeat {
            for (row_index, row) in table.rows.iter().enumerate() {
                let what = if round == 0 { "warm-up".to_string() } else { format!("run {round}/{repeat}") };
                progress.set_message(format!("{}: {} ({what})", table.id, row.label));
                sequence += 1;
                let point = Point {
                    table: table.id.clone(),
                    variant: row.variant.clone(),
                    label: row.label.clone(),
                    point: row.point.clone(),
                };
                let record =
                    run_child(executable, params, point, scratch_root.path(), &fixture, sequence, options.timeout)
                        .map_err(|e| match e {
                            RunError::Failed(e) => {
                                RunError::Failed(e.context(format!("{} / {} ({what})", table.id, row.label)))
                            }
                            other => other,
                        })?;
                if round > 0 {
                    table_records[row_index].push(record);
                }
                progress.inc(1);
            }
        }
        records.push(table_records);
    }
    progress.finish_and_clear();
    Ok(records)
}

/// One run of one row in a fresh child process.
fn run_child(
    executable: &Path,
    params: &serde_json::Value,
    point: Point,
    scratch_root: &Path,
    fixture: &Path,
    sequence: usize,
    timeout: Duration,
) -> Result<RunRecord, RunError> {
    let scratch = scratch_root.join(format!("run-{sequence}"));
    std::fs::create_dir(&scratch).context("cannot create the run's scratch directory")?;
    let result_path = scratch_root.join(format!("run-{sequence}.json"));
    let log_path = scratch_root.join(format!("run-{sequence}.log"));
    let log = File::create(&log_path).context("cannot create the run's log")?;
    let spec = ChildSpec {
        params: params.clone(),
        point,
        scratch: scratch.clone(),
        fixture: fixture.to_path_buf(),
        result_path: result_path.clone(),
    };
    // A file, not a pipe: writing to a child that never reads could block us before the
    // timeout clock even starts.
    let spec_path = scratch_root.join(format!("run-{sequence}.spec.json"));
    std::fs::write(&spec_path, serde_json::to_vec(&spec).context("cannot serialise the run's spec")?)
        .context("cannot write the run's spec")?;

    let mut child = Command::new(executable)
        .arg(CHILD_FLAG)
        .arg(&spec_path)
        .env(PARENT_PID_VAR, std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("log handle")?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", executable.display()))?;
    let pid = child.id();

    let started = Instant::now();
    let mut peak_threads = 0u64;
    let status: ExitStatus = loop {
        if let Some(threads) = procfs::thread_count(pid) {
            peak_threads = peak_threads.max(threads);
        }
        if let Some(status) = child.try_wait().context("waiting for the child")? {
            break status;
        }
        if interrupted() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RunError::Interrupted);
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RunError::Failed(anyhow!(
                "the run did not finish within {} s (--timeout); it was killed",
                timeout.as_secs()
            )));
        }
        std::thread::sleep(SAMPLE_EVERY);
    };
    // Ctrl-C reaches the whole process group, and the child may die of it a moment before
    // our handler sets the flag: give the flag a moment before calling it a failure. A child
    // killed by a signal from anyone else is a failed run, not an interruption.
    if killed_by_interrupt(&status) {
        std::thread::sleep(Duration::from_millis(200));
    }
    if interrupted() {
        return Err(RunError::Interrupted);
    }
    if !status.success() {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let last = log.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output");
        return Err(RunError::Failed(anyhow!("the child run failed ({status}): {last}")));
    }
    let bytes = std::fs::read(&result_path).context("the child wrote no result")?;
    let mut record: RunRecord = serde_json::from_slice(&bytes).context("the child's result is not valid")?;
    record.figures.insert(PEAK_THREADS.into(), peak_threads as f64);
    // Whatever the variant left behind goes now, not at the end: a leaking variant must not
    // fill the disk over many runs.
    let _ = std::fs::remove_dir_all(&scratch);
    let _ = std::fs::remove_file(&result_path);
    let _ = std::fs::remove_file(&log_path);
    let _ = std::fs::remove_file(&spec_path);
    Ok(record)
}

fn killed_by_interrupt(status: &ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    matches!(status.signal(), Some(libc::SIGINT) | Some(libc::SIGTERM))
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
        let mut table = Table::new("t", "t");
        let preset = RunOptions { repeat: 5, repeat_override: None, timeout: Duration::from_secs(1), progress: false };
        assert_eq!(preset.repeat_for(&table), 5);
        table.repeat = Some(2);
        assert_eq!(preset.repeat_for(&table), 2);
        let flagged = RunOptions { repeat_override: Some(9), ..preset };
        assert_eq!(flagged.repeat_for(&table), 9);
    }
}
