//! A private temp dir per test, also used as TMPDIR so a test sees what the harness leaves.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, Instant},
};

use casebook::Report;

pub const TOY: &str = env!("CARGO_BIN_EXE_casebook-toy");

pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox { dir: tempfile::tempdir().unwrap() }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn json(&self) -> PathBuf {
        self.dir.path().join("out").join("toy.json")
    }
    pub fn tmp(&self) -> PathBuf {
        let tmp = self.dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        tmp
    }
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(TOY);
        command.args(args).arg("--json").arg(self.json()).env("TMPDIR", self.tmp());
        command
    }
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
    pub fn leftovers(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.tmp()).unwrap().map(|e| e.unwrap().path()).collect()
    }
    pub fn report(&self) -> Report {
        Report::from_json(&std::fs::read(self.json()).unwrap()).unwrap()
    }
    /// A file the toy's fixture appends to when it is torn down.
    pub fn teardown_log(&self) -> PathBuf {
        self.dir.path().join("teardown.log")
    }
    pub fn teardowns(&self) -> usize {
        std::fs::read_to_string(self.teardown_log()).map(|s| s.lines().count()).unwrap_or(0)
    }
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Whether `pid` is a live process (not gone, not a zombie awaiting its reaper).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
}

/// Waits (boundedly) for `pid` to be gone: a killed process takes a moment to be reaped.
pub fn gone_soon(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    !alive(pid)
}

/// Kills the harness under test if an assertion fails first, so a failing test leaves no
/// process behind.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
