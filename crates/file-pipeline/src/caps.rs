//! What the machine allows: threads for `thread-per-file`, inotify limits for the watch
//! errors. Read from the kernel at run time, never assumed.

use std::{fs, path::Path};

/// Logical cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn read_number(path: impl AsRef<Path>) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// How many threads `thread-per-file` may run at once: the smallest of the kernel's limits on
/// threads, on process ids, on the cgroup's tasks, on the process's tasks (`RLIMIT_NPROC`)
/// and on memory maps (each thread's stack and guard page are two maps), less the threads
/// already running on the machine, halved. The half is headroom for everything else on the
/// machine: the anti-pattern is shown at scale, not allowed to take every process id from
/// the other users of a shared machine. At least 1.
pub fn thread_cap() -> usize {
    let mut limits = vec![
        read_number("/proc/sys/kernel/threads-max"),
        read_number("/proc/sys/kernel/pid_max"),
        read_number("/sys/fs/cgroup/pids.max"),
        read_number("/proc/sys/vm/max_map_count").map(|maps| maps / 2),
    ];
    let mut nproc = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `nproc` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NPROC, &mut nproc) } == 0 && nproc.rlim_cur != libc::RLIM_INFINITY {
        limits.push(Some(nproc.rlim_cur));
    }
    let limit = limits.into_iter().flatten().min().unwrap_or(1024);
    (limit.saturating_sub(threads_running()) / 2).clamp(1, usize::MAX as u64) as usize
}

/// Threads alive on the whole machine, from the fourth field of `/proc/loadavg`
/// (`running/total`).
fn threads_running() -> u64 {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().nth(3)?.split('/').nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// An inotify limit as it applies to this process: the per-user-namespace value under
/// `/proc/sys/user` (what the kernel checks), else the system-wide `fs.inotify` one.
pub fn inotify_limit(limit: InotifyLimit) -> String {
    let (user, system) = match limit {
        InotifyLimit::Watches => ("max_inotify_watches", "max_user_watches"),
        InotifyLimit::Instances => ("max_inotify_instances", "max_user_instances"),
    };
    read_number(format!("/proc/sys/user/{user}"))
        .or_else(|| read_number(format!("/proc/sys/fs/inotify/{system}")))
        .map_or_else(|| "unknown".into(), |n| n.to_string())
}

#[derive(Clone, Copy, Debug)]
pub enum InotifyLimit {
    Watches,
    Instances,
}

/// This process's open-file limit.
pub fn open_files_limit() -> String {
    let mut files = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `files` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut files) } == 0 {
        files.rlim_cur.to_string()
    } else {
        "unknown".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caps_are_read_from_this_machine() {
        assert!(cores() >= 1);
        let cap = thread_cap();
        assert!(cap >= 1 && (cap as u64) < read_number("/proc/sys/kernel/threads-max").unwrap_or(u64::MAX), "{cap}");
        assert!(threads_running() >= 1, "this test runs on a thread");
        assert_ne!(inotify_limit(InotifyLimit::Watches), "unknown");
    }
}
