//! What the machine allows: threads for `thread-per-file` (the harness's safe cap), inotify
//! limits for the watch errors. Read from the kernel at run time, never assumed.

/// Logical cores this process may use.
pub fn cores() -> usize {
    casebook::machine::logical_cores()
}

/// How many threads `thread-per-file` may run at once: the harness's safe cap for threads
/// with the default stack, from every kernel limit it can read (memory maps, pids, tasks,
/// the cgroup's pids, `RLIMIT_NPROC`), each with headroom for the rest of the machine.
pub fn thread_cap() -> usize {
    let readings = casebook::limits::Readings::without_probe();
    casebook::limits::thread_budget(&readings, casebook::plan::DEFAULT_STACK).units.clamp(1, 1 << 20) as usize
}

/// An inotify limit as it applies to this process: the per-user-namespace value under
/// `/proc/sys/user` (what the kernel checks), else the system-wide `fs.inotify` one.
pub fn inotify_limit(limit: InotifyLimit) -> String {
    let (user, system) = match limit {
        InotifyLimit::Watches => ("max_inotify_watches", "max_user_watches"),
        InotifyLimit::Instances => ("max_inotify_instances", "max_user_instances"),
    };
    casebook::procfs::read_number(format!("/proc/sys/user/{user}"))
        .or_else(|| casebook::procfs::read_number(format!("/proc/sys/fs/inotify/{system}")))
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
        assert!(
            cap >= 1
                && (cap as u64) < casebook::procfs::read_number("/proc/sys/kernel/threads-max").unwrap_or(u64::MAX),
            "{cap}"
        );
        assert_ne!(inotify_limit(InotifyLimit::Watches), "unknown");
    }
}
