//! Each run is a process group of its own: on a timeout and on Ctrl-C the harness stops the
//! whole group, so nothing a run started outlives it. Proven with a real grandchild.

use std::{
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use crate::sandbox::{KillOnDrop, Sandbox, alive, gone_soon, stderr};

/// The pids of the `sleep` grandchildren the toy's runs started, from the files it wrote.
fn grandchildren(dir: &Path) -> Vec<u32> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.strip_prefix("grandchild-")?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The measured child of harness `parent`: matched by its command line, not by being the
/// first child (the machine line's `git` is a child of the harness for a moment too).
fn measured_child(parent: u32) -> Option<u32> {
    let mut children = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{parent}/task")).ok()?.flatten() {
        if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
            children.extend(list.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
        }
    }
    children.into_iter().find(|pid| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains("__casebook-child"))
    })
}

/// Waits until the harness `parent` runs a measured child that has started its grandchild
/// (recorded in `pids`); returns the child's pid.
fn child_with_grandchild(parent: u32, pids: &Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(child) = measured_child(parent)
            && !grandchildren(pids).is_empty()
        {
            return child;
        }
        assert!(Instant::now() < deadline, "no measured child appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_timeout_stops_the_run_and_everything_it_started() {
    let sandbox = Sandbox::new();
    let pids = sandbox.path().join("pids");
    std::fs::create_dir(&pids).unwrap();
    let output =
        sandbox.run(&["--quick", "--sleep-ms", "30000", "--timeout", "1", "--grandchild", pids.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let started = grandchildren(&pids);
    assert!(!started.is_empty(), "the run never started its grandchild");
    for pid in started {
        assert!(gone_soon(pid), "grandchild {pid} outlived the timed-out run");
    }
}

#[test]
fn a_good_run_leaves_nothing_it_started_behind() {
    let sandbox = Sandbox::new();
    let pids = sandbox.path().join("pids");
    std::fs::create_dir(&pids).unwrap();
    let output = sandbox.run(&["--quick", "--grandchild", pids.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let started = grandchildren(&pids);
    assert_eq!(started.len(), 6, "2 rows x (1 warm-up + 2 runs)");
    for pid in started {
        assert!(gone_soon(pid), "grandchild {pid} outlived its run");
    }
}

/// A harness killed outright (SIGKILL: no handler runs) takes its child with it (the child's
/// parent-death signal), the helpers the child tied to itself (a peer tool), and its scratch
/// root goes at the next run's start.
#[test]
fn a_harness_killed_outright_leaves_no_helper_and_its_root_is_swept_next_time() {
    let sandbox = Sandbox::new();
    let pids = sandbox.path().join("pids");
    std::fs::create_dir(&pids).unwrap();
    let mut parent = KillOnDrop(
        sandbox
            .command(&["--sleep-ms", "20000", "--litter", "--tied", "--grandchild", pids.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let parent_pid = parent.0.id();
    let child = child_with_grandchild(parent_pid, &pids);
    parent.0.kill().unwrap();
    parent.0.wait().unwrap();
    assert!(gone_soon(child), "child {child} outlived its harness");
    for pid in grandchildren(&pids) {
        assert!(gone_soon(pid), "tied helper {pid} outlived the harness");
    }
    assert!(!sandbox.leftovers().is_empty(), "a killed harness cannot clean up after itself");
    let output = sandbox.run(&["--quick"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(sandbox.leftovers().is_empty(), "the dead run's root was not swept: {:?}", sandbox.leftovers());
}

#[test]
fn ctrl_c_stops_every_run_cleans_up_and_exits_130() {
    let sandbox = Sandbox::new();
    let pids = sandbox.path().join("pids");
    std::fs::create_dir(&pids).unwrap();
    let log = sandbox.teardown_log();
    let mut parent = KillOnDrop(
        sandbox
            .command(&[
                "--sleep-ms",
                "20000",
                "--litter",
                "--grandchild",
                pids.to_str().unwrap(),
                "--teardown-log",
                log.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let parent_pid = parent.0.id();
    let child = child_with_grandchild(parent_pid, &pids);
    let sent = Instant::now();
    // SAFETY: kill() on a pid we spawned and have not reaped.
    unsafe { libc::kill(parent_pid as i32, libc::SIGINT) };
    let status = parent.0.wait().unwrap();
    // The child sleeps 20 s: finishing well before that means the harness stopped it rather
    // than waiting for it. (A behaviour bound, not a speed target.)
    assert!(sent.elapsed() < Duration::from_secs(10), "took {:?}", sent.elapsed());
    assert_eq!(status.code(), Some(130));
    assert!(!alive(child), "child {child} still running");
    for pid in grandchildren(&pids) {
        assert!(gone_soon(pid), "grandchild {pid} outlived Ctrl-C");
    }
    assert!(!sandbox.json().exists(), "no partial report after Ctrl-C");
    assert!(sandbox.leftovers().is_empty(), "scratch left behind: {:?}", sandbox.leftovers());
    assert_eq!(sandbox.teardowns(), 1, "the fixture was not torn down after Ctrl-C");
}
