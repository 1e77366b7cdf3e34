//! The memory guard for unbounded channels, and the process figures the case reads itself.
//!
//! An unbounded channel's only limit is memory: a producer faster than its consumer queues
//! without end, and on a shared machine the first process to notice is whichever one the
//! OOM killer picks. So every unbounded row gets a budget computed before anything runs, from
//! what the machine (`MemAvailable`) and this process's cgroup (`memory.max`, or v1's
//! `memory.limit_in_bytes`) have left, whichever is less: in a container `MemAvailable`
//! describes the host. The producer watches the queue's depth and stops at the budget; the
//! row then reports that it hit the guard, which is the finding, not a crash.

use std::{path::Path, time::Duration};

use serde::{Deserialize, Serialize};

/// Share of the memory left that one run's queue may take. A quarter, not the half that
/// spawn-costs allows itself: a queue is checked only every [`CHECK_EVERY`] messages, so it
/// can overshoot a little, and the run's consumer and the harness live in the same budget.
pub const MEMORY_SHARE: f64 = 0.25;

/// The budget when neither `/proc/meminfo` nor a cgroup can be read: small enough to be
/// safe on any machine that runs this case at all.
pub const FALLBACK_BYTES: u64 = 256 << 20;

/// A generous estimate of what one queued item costs beyond its own size: the slot in the
/// channel's list or ring (tokio and crossbeam use blocks of about 32 slots, flume and std a
/// growable queue that may double), and allocator rounding.
pub const QUEUE_OVERHEAD_BYTES: u64 = 48;

/// How often (in messages) a producer on an unbounded channel looks at the queue's depth, and
/// the consumer publishes what it has taken. Rarely enough to cost nothing per message.
pub const CHECK_EVERY: u64 = 1024;

/// What this machine says about its memory, read once before the runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryReadings {
    /// `MemAvailable` from `/proc/meminfo`.
    pub mem_available: Option<u64>,
    /// The tightest (by bytes left) `(limit, usage)` of this process's cgroup and its
    /// ancestors; `None` when no cgroup sets one.
    pub cgroup: Option<(u64, u64)>,
}

/// The bytes an unbounded queue may hold, and what set the figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryGuard {
    pub bytes: u64,
    /// In words, for the report: which reading bound it and the arithmetic.
    pub set_by: String,
}

impl MemoryGuard {
    /// Queued items of `item_bytes` each that fit under the guard (at least one).
    pub fn max_items(&self, item_bytes: u64) -> u64 {
        (self.bytes / (item_bytes + QUEUE_OVERHEAD_BYTES)).max(1)
    }

    /// A guard of exactly `bytes`, for an option that overrides the computed one.
    pub fn fixed(bytes: u64, why: &str) -> Self {
        MemoryGuard { bytes, set_by: why.into() }
    }
}

impl MemoryReadings {
    pub fn detect() -> Self {
        MemoryReadings { mem_available: meminfo_field("MemAvailable:"), cgroup: cgroup_memory() }
    }

    /// [`MEMORY_SHARE`] of the smaller of what the machine and the cgroup have left.
    pub fn guard(&self) -> MemoryGuard {
        let share = |bytes: u64| (bytes as f64 * MEMORY_SHARE) as u64;
        let machine = self
            .mem_available
            .map(|available| (share(available), format!("{MEMORY_SHARE} of MemAvailable {} MiB", available >> 20)));
        let cgroup = self.cgroup.map(|(limit, usage)| {
            let left = limit.saturating_sub(usage);
            (share(left), format!("{MEMORY_SHARE} of the {} MiB left of the cgroup's {} MiB", left >> 20, limit >> 20))
        });
        match [machine, cgroup].into_iter().flatten().min_by_key(|(bytes, _)| *bytes) {
            Some((bytes, set_by)) => MemoryGuard { bytes, set_by },
            None => MemoryGuard::fixed(FALLBACK_BYTES, "no memory reading: a fixed 256 MiB"),
        }
    }
}

fn meminfo_field(name: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with(name))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

/// The directory of this process's cgroup for the memory controller: v1 names it
/// (`N:memory:/path`), v2 has one hierarchy (`0::/path`).
pub fn cgroup_dir(proc_cgroup: &str) -> Option<std::path::PathBuf> {
    let mut unified = None;
    for line in proc_cgroup.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let path = path.trim_start_matches('/');
        if controllers.split(',').any(|c| c == "memory") {
            return Some(Path::new("/sys/fs/cgroup/memory").join(path));
        }
        if controllers.is_empty() {
            unified = Some(Path::new("/sys/fs/cgroup").join(path));
        }
    }
    unified
}

/// A cgroup limit: a number, or `max` (v2) or a value near `i64::MAX` (v1), meaning none.
pub fn parse_cgroup_limit(text: &str) -> Option<u64> {
    text.trim().parse().ok().filter(|&n: &u64| n < 1 << 60)
}

/// The tightest memory limit of this process's cgroup and every ancestor: a parent's limit
/// binds its children.
fn cgroup_memory() -> Option<(u64, u64)> {
    let dir = cgroup_dir(&std::fs::read_to_string("/proc/self/cgroup").ok()?)?;
    let mut tightest: Option<(u64, u64)> = None;
    for ancestor in dir.ancestors().take_while(|a| a.starts_with("/sys/fs/cgroup")) {
        for (limit_file, usage_file) in
            [("memory.max", "memory.current"), ("memory.limit_in_bytes", "memory.usage_in_bytes")]
        {
            let Some(limit) =
                std::fs::read_to_string(ancestor.join(limit_file)).ok().and_then(|s| parse_cgroup_limit(&s))
            else {
                continue;
            };
            let usage = std::fs::read_to_string(ancestor.join(usage_file))
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or(0);
            if tightest.is_none_or(|(l, u)| limit.saturating_sub(usage) < l.saturating_sub(u)) {
                tightest = Some((limit, usage));
            }
        }
    }
    tightest
}

/// Resident set size of this process now, from `/proc/self/statm`.
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * if page > 0 { page as u64 } else { 4096 })
}

/// User plus system CPU time of the whole process (every thread) so far.
pub fn process_cpu() -> Duration {
    // SAFETY: getrusage only writes into the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tighter_of_machine_and_cgroup_sets_the_guard() {
        let r = MemoryReadings { mem_available: Some(16 << 30), cgroup: Some((2 << 30, 1 << 30)) };
        let guard = r.guard();
        assert_eq!(guard.bytes, 256 << 20);
        assert!(guard.set_by.contains("cgroup"), "{}", guard.set_by);
        let r = MemoryReadings { mem_available: Some(1 << 30), cgroup: None };
        assert_eq!(r.guard().bytes, 256 << 20);
        assert!(r.guard().set_by.contains("MemAvailable"));
        assert_eq!(MemoryReadings::default().guard().bytes, FALLBACK_BYTES);
    }

    #[test]
    fn items_under_the_guard_count_their_overhead() {
        let guard = MemoryGuard::fixed(64 * 1000, "test");
        assert_eq!(guard.max_items(16), 1000);
        assert_eq!(MemoryGuard::fixed(1, "tiny").max_items(16), 1);
    }

    #[test]
    fn proc_and_cgroup_formats_parse() {
        assert_eq!(parse_cgroup_limit("max\n"), None);
        assert_eq!(parse_cgroup_limit("9223372036854771712\n"), None);
        assert_eq!(parse_cgroup_limit("1073741824\n"), Some(1 << 30));
        let v1 = "9:name=systemd:/\n4:memory:/api/abc\n0::/\n";
        assert_eq!(cgroup_dir(v1), Some("/sys/fs/cgroup/memory/api/abc".into()));
        assert_eq!(cgroup_dir("0::/system.slice/x.service\n"), Some("/sys/fs/cgroup/system.slice/x.service".into()));
        assert!(rss_bytes().is_some_and(|b| b > 0));
        assert!(MemoryReadings::detect().mem_available.is_some());
    }
}
