//! Watch limits with a real kernel: inotify's watch and instance limits, reached for real in
//! a user namespace of this test's own (whose limits do not touch the rest of the machine),
//! each end a watch with one clear line.
//!
//! The test runs itself again as a child: `pre_exec` (after `fork`, before `exec`, while the
//! child is still single-threaded, which `unshare(CLONE_NEWUSER)` requires) enters a new
//! user namespace and sets the limit there to 0; the child, seeing the environment variable,
//! starts a watch and prints the error.

use std::{ffi::CStr, os::unix::process::CommandExt, process::Command};

use crate::common::*;
use file_pipeline::{inbox::watch::WatchError, variants::Variant, work::Work};

const CHILD: &str = "FILE_PIPELINE_LIMIT_CHILD";
const TEST: &str = "limits::inotify_limits_end_a_watch_with_one_clear_line";
const MARK: &str = "watch error: ";

#[test]
fn inotify_limits_end_a_watch_with_one_clear_line() {
    if let Ok(which) = std::env::var(CHILD) {
        return in_the_namespace(&which);
    }
    let cases: [(&str, &CStr, &str); 2] = [
        ("watches", c"/proc/sys/user/max_inotify_watches", "the inotify watch limit is reached (max_user_watches 0)"),
        (
            "instances",
            c"/proc/sys/user/max_inotify_instances",
            "too many inotify instances or open files (max_user_instances 0",
        ),
    ];
    for (which, limit, expected) in cases {
        let mut child = Command::new(std::env::current_exe().expect("this test binary"));
        child.args(["--exact", TEST, "--nocapture", "--test-threads=1"]).env(CHILD, which);
        // SAFETY: the closure only makes raw syscalls on data prepared before the fork.
        unsafe { child.pre_exec(move || crate::common::namespace_with_zero(limit)) };
        let out = child.output().expect("the child test runs (user namespaces are needed)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{which}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        let line = stdout
            .lines()
            .find_map(|l| l.split_once(MARK).map(|(_, line)| line))
            .unwrap_or_else(|| panic!("{which}: {stdout}"));
        assert!(line.contains(expected), "{which}: {line}");
    }
}

/// In the child: the limit is 0 here, so the watch must fail, with the right error.
fn in_the_namespace(which: &str) {
    let (_scratch, pipeline) = {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("inbox")).expect("inbox");
        let (scratch, pipeline) = pipeline(&dir.path().join("inbox"), settings(Work::Both));
        ((dir, scratch), pipeline)
    };
    let error = start_watch(Variant::Sequential, pipeline).err().expect("the limit stops the watch");
    match (which, &error) {
        ("watches", WatchError::WatchLimit { .. }) | ("instances", WatchError::InstanceLimit { .. }) => {}
        _ => panic!("{which}: {error:?}"),
    }
    let line = error.to_string();
    assert!(!line.contains('\n'), "{line}");
    println!("{MARK}{line}");
}
