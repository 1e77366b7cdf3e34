//! A case's built binary run end to end by its tests, the way a user runs it: under an empty
//! TMPDIR of its own (the harness makes its scratch root there, so whatever is left there
//! afterwards is what a run leaves behind), its JSON report written beside that folder, and
//! the processes it started looked for once it has ended.

use std::{
    ffi::OsStr,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use crate::report::Report;

/// One case binary, from `env!("CARGO_BIN_EXE_<name>")`.
#[derive(Clone, Debug)]
pub struct CaseBinary {
    path: PathBuf,
}

/// What one end-to-end run gave and left.
#[derive(Debug)]
pub struct BinaryRun {
    pub output: Output,
    /// The JSON report, when the run wrote one.
    pub report: Option<Report>,
    /// Every file and folder left under the run's TMPDIR.
    pub left: Vec<String>,
    /// Processes started by the run (they inherit its TMPDIR) and still alive after it
    /// ended: a child run, a load generator or a peer tool that outlived it.
    pub processes: Vec<String>,
    /// Holds the run's folders until the test is done with them.
    pub work: tempfile::TempDir,
}

impl CaseBinary {
    pub fn new(path: impl Into<PathBuf>) -> CaseBinary {
        CaseBinary { path: path.into() }
    }

    /// A bare command for the binary, for what [`CaseBinary::run`] does not cover.
    pub fn command(&self) -> Command {
        Command::new(&self.path)
    }

    /// Runs the binary with `args`, `--no-progress` and `--json` into a folder of its own.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> BinaryRun {
        self.run_with(args, |_| {})
    }

    /// As [`CaseBinary::run`], with the command adjusted first (an environment variable, say).
    pub fn run_with<S: AsRef<OsStr>>(&self, args: &[S], configure: impl FnOnce(&mut Command)) -> BinaryRun {
        let work = tempfile::tempdir().expect("a temporary folder");
        let scratch = work.path().join("tmp");
        std::fs::create_dir(&scratch).expect("a scratch folder");
        let json = work.path().join("report.json");
        let mut command = self.command();
        command.args(args).arg("--no-progress").arg("--json").arg(&json).env("TMPDIR", &scratch);
        configure(&mut command);
        let output = command.output().expect("the case binary runs");
        let report = std::fs::read(&json).ok().map(|bytes| Report::from_json(&bytes).expect("a readable report"));
        let left = files_under(&scratch);
        let processes = processes_with_tmpdir(&scratch);
        BinaryRun { output, report, left, processes, work }
    }

    /// Runs the binary with `args` alone and checks that it refused them as bad input should:
    /// exit status 2 and one line on standard error. Returns that line.
    pub fn refuses<S: AsRef<OsStr> + std::fmt::Debug>(&self, args: &[S]) -> String {
        let output = self.command().args(args).output().expect("the case binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?} must be refused in one line: {stderr}");
        stderr
    }

    /// `--list-variants`' output, after checking that it names every one of `names`.
    pub fn lists_variants<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> String {
        let output = self.command().arg("--list-variants").output().expect("the case binary runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let listing = String::from_utf8_lossy(&output.stdout).to_string();
        for name in names {
            assert!(listing.contains(name), "{name} is not listed: {listing}");
        }
        listing
    }
}

impl BinaryRun {
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// The report of a run that must have succeeded, cleaned up and stopped everything it
    /// started; panics with the run's standard error otherwise.
    pub fn clean_success(&self) -> &Report {
        assert!(self.output.status.success(), "exit {:?}: {}", self.output.status.code(), self.stderr());
        assert!(self.left.is_empty(), "left behind: {:?}", self.left);
        assert!(self.processes.is_empty(), "still running: {:?}", self.processes);
        self.report.as_ref().expect("a successful run writes its report")
    }
}

/// Every file and folder under `dir`, deepest first within each folder.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        }
        found.push(path.display().to_string());
    }
    found
}

/// Processes whose environment holds `TMPDIR=<scratch>`: with a scratch folder made for one
/// run, the processes that run started, at any depth, and nothing else.
pub fn processes_with_tmpdir(scratch: &Path) -> Vec<String> {
    let tag = format!("TMPDIR={}", scratch.display()).into_bytes();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("Linux /proc").flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        if environ.split(|b| *b == 0).any(|var| var == tag.as_slice()) {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            found.push(format!("{pid}: {}", String::from_utf8_lossy(&cmdline).replace('\0', " ").trim()));
        }
    }
    found
}
