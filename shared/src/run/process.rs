//! Processes the harness starts, and how it stops them: every measured run is the leader of
//! a process group of its own, so that whatever it starts (a load generator, a server, a
//! `sleep` a careless variant forgot) is stopped with it, and Ctrl-C, which the terminal
//! sends to the harness's group, reaches the harness alone, which then stops each run's
//! group in order and cleans up.

use std::{
    os::unix::process::{CommandExt, ExitStatusExt},
    process::{Child, Command, ExitStatus},
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Tells a child (or a load generator) its parent's pid, so it can tell when it is orphaned.
pub const PARENT_PID_VAR: &str = "CASEBOOK_PARENT_PID";

/// In a process the harness started: asks the kernel to kill it when the parent named by
/// [`PARENT_PID_VAR`] dies, so nothing outlives a harness killed outright.
pub fn die_with_starter() {
    let parent: Option<i32> = std::env::var(PARENT_PID_VAR).ok().and_then(|p| p.parse().ok());
    crate::host::procfs::die_with_parent(parent);
}

/// Makes Ctrl-C (and SIGTERM) set a flag that every wait loop checks, so the run stops within
/// milliseconds, stops its child's group, and removes its files instead of dying mid-write.
pub fn install_interrupt_handler() {
    // A second handler cannot be installed (tests call this more than once); the first one
    // already does the job.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
}

/// Whether Ctrl-C or SIGTERM arrived. Long set-ups poll it and return early.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// How long a stopped group gets between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(2);

/// Starts `command` as the leader of a new process group.
pub fn spawn_group(command: &mut Command) -> std::io::Result<Child> {
    command.process_group(0).spawn()
}

/// Ties a helper process a run starts itself (a peer tool such as `pgbench` or `b3sum`) to
/// the thread that starts it: the kernel kills it if that thread's process dies, however it
/// dies, so a harness killed outright leaves no helper running.
pub fn tie_to_run(command: &mut Command) -> &mut Command {
    // SAFETY: the closure only calls prctl, which is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Sends `signal` to the whole group led by `leader`; a group that is already gone is fine.
fn signal_group(leader: u32, signal: i32) {
    // SAFETY: killpg only sends a signal; a negative result (ESRCH: no such group) is ignored.
    unsafe {
        libc::killpg(leader as libc::pid_t, signal);
    }
}

/// Stops a group: SIGTERM to every member, up to [`GRACE`] for the leader to exit, then
/// SIGKILL to whatever is left, and reaps the leader.
pub fn stop_group(child: &mut Child) -> Option<ExitStatus> {
    let leader = child.id();
    signal_group(leader, libc::SIGTERM);
    let deadline = Instant::now() + GRACE;
    let mut status = None;
    while Instant::now() < deadline {
        if let Ok(Some(s)) = child.try_wait() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    signal_group(leader, libc::SIGKILL);
    status.or_else(|| child.wait().ok())
}

/// After a group's leader has exited, stops anything it left running in its group.
pub fn sweep_group(leader: u32) {
    signal_group(leader, libc::SIGKILL);
}

/// Whether a child died of the interrupt signals (Ctrl-C reaches whole foreground groups).
pub fn killed_by_interrupt(status: &ExitStatus) -> bool {
    matches!(status.signal(), Some(libc::SIGINT) | Some(libc::SIGTERM))
}

/// The line of a child's log that says what went wrong: its last `error:` line (the harness
/// prints panics and errors that way), else its last non-empty line; `None` for an empty log.
pub fn error_line(log: &str) -> Option<String> {
    let lines: Vec<&str> = log.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines
        .iter()
        .rev()
        .find(|l| l.starts_with("error:"))
        .or(lines.last())
        .map(|l| l.trim_start_matches("error: ").to_string())
}

/// [`error_line`], or "no output".
pub fn last_error_line(log: &str) -> String {
    error_line(log).unwrap_or_else(|| "no output".into())
}

/// Prints a panic as one line (`error: internal error at file:line: message`), in the
/// parent and in every child, so the message is what a reader sees, not a backtrace hint.
pub fn one_line_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("error: internal error{place}: {message}");
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_line_wins_over_later_noise() {
        let log = "starting\nerror: internal error at src/x.rs:3: boom\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(last_error_line(log), "internal error at src/x.rs:3: boom");
        assert_eq!(last_error_line("a\nb\n\n"), "b");
        assert_eq!(last_error_line(""), "no output");
    }

    /// Whether `pid` is a live process (not gone, not a zombie awaiting its reaper).
    pub(crate) fn alive(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
    }

    #[test]
    fn stopping_a_group_stops_its_grandchildren() {
        // A shell that starts a grandchild and waits: the grandchild must go with the group.
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("grandchild");
        let script = format!("sleep 600 & echo $! > {}; wait", pid_file.display());
        let mut child = spawn_group(Command::new("sh").args(["-c", &script])).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let grandchild = loop {
            if let Some(pid) = std::fs::read_to_string(&pid_file).ok().and_then(|s| s.trim().parse::<u32>().ok()) {
                break pid;
            }
            assert!(Instant::now() < deadline, "the grandchild never started");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(alive(grandchild));
        stop_group(&mut child);
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(grandchild) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!alive(grandchild), "grandchild {grandchild} outlived its group's stop");
    }
}
