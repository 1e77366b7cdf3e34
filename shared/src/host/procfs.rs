//! Readers of the process's own figures: `getrusage` and `/proc`. Linux-first; on other
//! systems the `/proc` readers return `None` and the report says the figure is missing.

use std::path::Path;

/// The fields of `getrusage(RUSAGE_SELF)` the harness uses.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rusage {
    pub user_s: f64,
    pub system_s: f64,
    pub max_rss_bytes: u64,
    pub voluntary_cs: u64,
    pub involuntary_cs: u64,
}

pub fn rusage_self() -> Rusage {
    let usage = rusage(libc::RUSAGE_SELF);
    Rusage {
        user_s: seconds(usage.ru_utime),
        system_s: seconds(usage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        max_rss_bytes: usage.ru_maxrss as u64 * 1024,
        voluntary_cs: usage.ru_nvcsw as u64,
        involuntary_cs: usage.ru_nivcsw as u64,
    }
}

fn rusage(who: libc::c_int) -> libc::rusage {
    // SAFETY: getrusage only writes into the zeroed struct we own.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    }
}

fn seconds(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

/// This process's resident-memory high-water mark since it started its program (`VmHWM`).
///
/// Not `getrusage`'s `ru_maxrss`: on Linux that also carries the high-water mark of the
/// process this one was forked from, so a child could never report less than its parent
/// held when it was started. `ru_maxrss` is the fallback where `/proc` cannot be read.
pub fn peak_rss_self() -> u64 {
    kib_field("/proc/self/status", "VmHWM:").unwrap_or_else(|| rusage_self().max_rss_bytes)
}

/// A `Name:   123 kB` field of a `/proc` file such as `meminfo` or `status`, in bytes.
pub fn kib_field(path: &str, name: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(name))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

/// CPU time (user + system) of this process's children that have been waited for.
pub fn children_cpu_s() -> f64 {
    let usage = rusage(libc::RUSAGE_CHILDREN);
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Resident and virtual size of this process right now, in bytes, from `/proc/self/statm`.
pub fn memory_self() -> Option<(u64, u64)> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let mut fields = statm.split_whitespace().map(|f| f.parse::<u64>().ok());
    let size_pages = fields.next()??;
    let resident_pages = fields.next()??;
    let page = page_size();
    Some((resident_pages * page, size_pages * page))
}

pub fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as u64 } else { 4096 }
}

/// Number of threads of process `pid` (field 20 of `/proc/<pid>/stat`).
pub fn thread_count(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(17)?.parse().ok()
}

/// When process `pid` started, in clock ticks since boot (field 22 of `/proc/<pid>/stat`):
/// with the pid, it names one process even after the pid is reused.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Reads a single integer from a file such as `/proc/sys/kernel/threads-max`.
pub fn read_number(path: impl AsRef<Path>) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The whole machine's CPU time so far, in clock ticks, from `/proc/stat`'s `cpu` line:
/// `(steal, total)`. Steal is time a virtual machine's CPUs were ready to run and the host
/// ran something else; it slows every variant of a run, and no figure of the run shows it.
pub fn cpu_steal() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_cpu_steal(stat.lines().next()?)
}

/// `cpu  user nice system idle iowait irq softirq steal guest guest_nice`: guest time is
/// already counted in user, so the total is the first eight.
fn parse_cpu_steal(line: &str) -> Option<(u64, u64)> {
    let mut fields = line.split_whitespace();
    (fields.next()? == "cpu").then_some(())?;
    let ticks: Vec<u64> = fields.take(8).map(|f| f.parse().ok()).collect::<Option<_>>()?;
    (ticks.len() == 8).then(|| (ticks[7], ticks.iter().sum()))
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
pub fn mem_available() -> Option<u64> {
    kib_field("/proc/meminfo", "MemAvailable:")
}

/// `MemTotal` from `/proc/meminfo`, in bytes.
pub fn mem_total() -> Option<u64> {
    kib_field("/proc/meminfo", "MemTotal:")
}

/// Asks the kernel to kill this (child) process if its parent dies, so that a harness killed
/// outright (SIGKILL, a closed terminal) never leaves a measured run behind.
pub fn die_with_parent(expected_parent: Option<i32>) {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // The parent may have died before the prctl took effect: then we were re-parented,
        // to init or to a subreaper, and our parent is no longer the one that started us.
        if expected_parent.is_some_and(|p| libc::getppid() != p) {
            libc::_exit(1);
        }
    }
}

/// Processors online now (`_SC_NPROCESSORS_ONLN`): what glibc sizes its malloc arenas by.
pub fn online_cpus() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if cpus > 0 { cpus as u64 } else { 1 }
}

/// Where the processes of group `pgid` were waiting, for the message of a run stopped by
/// `--timeout`: each process's name and pid, then the kernel functions its threads were
/// asleep in (`/proc/<pid>/task/<tid>/wchan`), counted. `futex` waits are locks, channels and
/// condition variables in user space; `do_epoll_wait` is an idle event loop; anything else
/// (`do_fsync`, `unix_stream_read`, `pipe_read`) names the system call that did not return.
/// Empty where `/proc` cannot say.
pub fn group_waits(pgid: u32) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let mut found = Vec::new();
    for pid in entries.flatten().filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok()) {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // `pid (comm) state ppid pgrp ...`: comm may hold spaces and parentheses.
        let Some((head, rest)) = stat.rsplit_once(") ") else { continue };
        if rest.split_whitespace().nth(2).and_then(|g| g.parse::<u32>().ok()) != Some(pgid) {
            continue;
        }
        let name = head.split_once(" (").map_or("?", |(_, comm)| comm);
        let mut waits: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for task in tasks.flatten() {
                let wchan = std::fs::read_to_string(task.path().join("wchan")).unwrap_or_default();
                let wchan = match wchan.trim() {
                    "" | "0" => "running".to_string(),
                    w => w.to_string(),
                };
                *waits.entry(wchan).or_default() += 1;
            }
        }
        let waits: Vec<String> = waits.into_iter().map(|(w, n)| format!("{n} in {w}")).collect();
        found.push(format!("{name} {pid}: {}", waits.join(", ")));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steal_is_the_eighth_field_and_the_total_the_first_eight() {
        assert_eq!(parse_cpu_steal("cpu  21814 0 5039 13761 1009 0 75 62 7 0"), Some((62, 41760)));
        assert_eq!(parse_cpu_steal("cpu0 1 2 3 4 5 6 7 8"), None, "a single CPU's line");
        assert_eq!(parse_cpu_steal("cpu  1 2 3"), None, "an old kernel's short line");
        let (steal, total) = cpu_steal().expect("/proc/stat on Linux");
        assert!(steal <= total && total > 0);
    }
}
