//! Reading the machine's limits: `/proc`, `/sys/fs/cgroup`, `getrlimit`, and a probe of
//! the memory maps one thread adds.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Condvar, Mutex, PoisonError},
    thread,
};

use serde::{Deserialize, Serialize};

use crate::host::procfs;
pub use crate::host::procfs::kib_field;

/// What this machine says about its limits, read once in the parent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Readings {
    /// `vm.max_map_count`: memory maps one process may hold.
    pub max_map_count: Option<u64>,
    /// Maps this process holds now.
    pub maps_in_use: Option<u64>,
    /// Maps one more thread adds, measured by spawning a few (see [`maps_per_thread`]).
    pub maps_per_thread: u64,
    /// Whether `maps_per_thread` was measured (false: the usual 4 was assumed).
    pub maps_measured: bool,
    /// `kernel.threads-max`: kernel tasks on the whole machine.
    pub threads_max: Option<u64>,
    /// `kernel.pid_max`: the largest pid, so the most tasks the machine can number.
    pub pid_max: Option<u64>,
    /// Kernel tasks (threads) alive on the machine now, from `/proc/loadavg`.
    pub tasks_in_use: Option<u64>,
    /// `RLIMIT_NPROC` soft limit, when it is finite.
    pub nproc: Option<u64>,
    /// Whether this process runs as root, which the kernel exempts from `RLIMIT_NPROC`.
    pub root: bool,
    /// The tightest `pids.max` of this process's cgroup and its ancestors: (max, current).
    pub cgroup_pids: Option<(u64, u64)>,
    /// `MemAvailable` from `/proc/meminfo`.
    pub mem_available: Option<u64>,
    /// The tightest memory limit of this process's cgroup and its ancestors, by bytes left:
    /// (limit, usage). `None` when no cgroup sets one.
    #[serde(default)]
    pub cgroup_memory: Option<(u64, u64)>,
    /// `CommitLimit - Committed_AS`, only when `vm.overcommit_memory` is 2 (strict).
    pub strict_commit_left: Option<u64>,
    /// `RLIMIT_AS` minus this process's virtual size, when `RLIMIT_AS` is finite.
    pub address_space_left: Option<u64>,
    /// `RLIMIT_NOFILE`: not a limit for these units (they hold no descriptors), but the
    /// first one that units holding a socket or a pipe would meet.
    pub nofile: Option<u64>,
}

impl Readings {
    /// The readings of a stock Linux box (2 cores, 24 GiB, default sysctls), where
    /// max_map_count binds at (65,530 - 40 - 1,024) / 4 = 16,116 threads: a fixed input for
    /// tests and examples of the cap computation.
    pub fn stock_linux_box() -> Readings {
        Readings {
            max_map_count: Some(65_530),
            maps_in_use: Some(40),
            maps_per_thread: 4,
            maps_measured: true,
            threads_max: Some(192_730),
            pid_max: Some(32_768),
            tasks_in_use: Some(300),
            nproc: Some(96_365),
            root: false,
            cgroup_pids: None,
            mem_available: Some(24 << 30),
            cgroup_memory: None,
            strict_commit_left: None,
            address_space_left: None,
            nofile: Some(1024),
        }
    }

    /// Reads every limit this module knows, and measures the maps one thread adds (which
    /// spawns a few dozen threads for a moment).
    pub fn detect(stack: Option<usize>) -> Readings {
        let (maps_per_thread, maps_measured) = match maps_per_thread(stack) {
            Some(per) => (per, true),
            None => (4, false),
        };
        Readings { maps_per_thread, maps_measured, ..Readings::without_probe() }
    }

    /// Reads every limit without spawning anything; the maps one thread adds are assumed
    /// to be the usual four.
    pub fn without_probe() -> Readings {
        let (maps_per_thread, maps_measured) = (4, false);
        let overcommit = procfs::read_number("/proc/sys/vm/overcommit_memory");
        Readings {
            max_map_count: procfs::read_number("/proc/sys/vm/max_map_count"),
            maps_in_use: maps_in_use(),
            maps_per_thread,
            maps_measured,
            threads_max: procfs::read_number("/proc/sys/kernel/threads-max"),
            pid_max: procfs::read_number("/proc/sys/kernel/pid_max"),
            tasks_in_use: std::fs::read_to_string("/proc/loadavg").ok().and_then(|s| parse_loadavg_tasks(&s)),
            nproc: rlimit(libc::RLIMIT_NPROC),
            // SAFETY: geteuid has no preconditions and cannot fail.
            root: unsafe { libc::geteuid() } == 0,
            cgroup_pids: cgroup_pids(),
            mem_available: procfs::mem_available(),
            cgroup_memory: cgroup_memory(),
            strict_commit_left: (overcommit == Some(2)).then(strict_commit_left).flatten(),
            address_space_left: rlimit(libc::RLIMIT_AS).map(|limit| {
                let vsz = procfs::memory_self().map(|m| m.1).unwrap_or(0);
                limit.saturating_sub(vsz)
            }),
            nofile: rlimit(libc::RLIMIT_NOFILE),
        }
    }
}

/// The fourth field of `/proc/loadavg` is `running/total` kernel scheduling entities.
pub fn parse_loadavg_tasks(loadavg: &str) -> Option<u64> {
    loadavg.split_whitespace().nth(3)?.split_once('/')?.1.parse().ok()
}

/// The directory of this process's cgroup for `controller` (`pids`, `memory`), for cgroup v1
/// (`N:pids:/path`, mounted at `/sys/fs/cgroup/pids`) or v2 (`0::/path`, one hierarchy).
pub fn cgroup_dir(proc_cgroup: &str, controller: &str) -> Option<PathBuf> {
    let mut unified = None;
    for line in proc_cgroup.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let path = path.trim_start_matches('/');
        if controllers.split(',').any(|c| c == controller) {
            return Some(Path::new("/sys/fs/cgroup").join(controller).join(path));
        }
        if controllers.is_empty() {
            unified = Some(Path::new("/sys/fs/cgroup").join(path));
        }
    }
    unified
}

/// A cgroup limit file: a number, or `max` (v2) or a value near `i64::MAX` (v1's way of
/// saying unlimited), both of which mean no limit.
pub fn parse_cgroup_limit(text: &str) -> Option<u64> {
    text.trim().parse().ok().filter(|&n: &u64| n < 1 << 60)
}

/// The tightest (by what is left) `(limit, usage)` of this process's cgroup for `controller`
/// and every ancestor: a parent's limit binds its children. v1 and v2 name the files
/// differently, so both pairs are tried.
fn tightest_cgroup(controller: &str, files: &[(&str, &str)]) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let dir = cgroup_dir(&text, controller)?;
    let mut tightest: Option<(u64, u64)> = None;
    for ancestor in dir.ancestors() {
        if !ancestor.starts_with("/sys/fs/cgroup") {
            break;
        }
        for (limit_file, usage_file) in files {
            let Some(limit) =
                std::fs::read_to_string(ancestor.join(limit_file)).ok().and_then(|s| parse_cgroup_limit(&s))
            else {
                continue;
            };
            let usage = procfs::read_number(ancestor.join(usage_file)).unwrap_or(0);
            if tightest.is_none_or(|(l, u)| limit.saturating_sub(usage) < l.saturating_sub(u)) {
                tightest = Some((limit, usage));
            }
        }
    }
    tightest
}

fn cgroup_pids() -> Option<(u64, u64)> {
    tightest_cgroup("pids", &[("pids.max", "pids.current")])
}

fn cgroup_memory() -> Option<(u64, u64)> {
    tightest_cgroup("memory", &[("memory.max", "memory.current"), ("memory.limit_in_bytes", "memory.usage_in_bytes")])
}

fn rlimit(resource: libc::__rlimit_resource_t) -> Option<u64> {
    // SAFETY: getrlimit only writes into the struct we own.
    let limit = unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(resource, &mut limit) != 0 {
            return None;
        }
        limit
    };
    (limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

fn strict_commit_left() -> Option<u64> {
    let limit = kib_field("/proc/meminfo", "CommitLimit:")?;
    Some(limit.saturating_sub(kib_field("/proc/meminfo", "Committed_AS:")?))
}

/// Memory maps this process holds now: one line of `/proc/self/maps` each.
pub fn maps_in_use() -> Option<u64> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    Some(maps.lines().count() as u64)
}

/// Threads spawned to measure the maps one thread adds.
const PROBE_THREADS: usize = 64;

/// Stack of the probe and warm-up threads: small, so that glibc will not hand their cached
/// stacks to threads a case measures later (it only reuses a cached stack at least as large).
const SMALL_STACK: usize = 32 * 1024;

/// Starts up to `n` threads (with `stack` bytes of stack, or the default) that each run
/// `work` and then wait; calls `while_parked` once every thread that started is waiting,
/// then releases and joins them. Returns how many started and what `while_parked` returned.
fn with_parked_threads<T>(n: usize, stack: Option<usize>, work: fn(), while_parked: impl FnOnce() -> T) -> (usize, T) {
    // (arrived, released), and one condition variable for both directions: a probe of a few
    // dozen threads, where a convoy on the way out costs nothing that is measured.
    let parking = Arc::new((Mutex::new((0usize, false)), Condvar::new()));
    let mut handles = Vec::with_capacity(n);
    for _ in 0..n {
        let parking = Arc::clone(&parking);
        let mut builder = thread::Builder::new();
        if let Some(bytes) = stack {
            builder = builder.stack_size(bytes);
        }
        let spawned = builder.spawn(move || {
            work();
            let (lock, changed) = &*parking;
            let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
            state.0 += 1;
            changed.notify_all();
            while !state.1 {
                state = changed.wait(state).unwrap_or_else(PoisonError::into_inner);
            }
        });
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(_) => break,
        }
    }
    let (lock, changed) = &*parking;
    let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
    while state.0 < handles.len() {
        state = changed.wait(state).unwrap_or_else(PoisonError::into_inner);
    }
    let out = while_parked();
    state.1 = true;
    changed.notify_all();
    drop(state);
    let started = handles.len();
    for handle in handles {
        let _ = handle.join();
    }
    (started, out)
}

/// Makes glibc create its malloc arenas (8 per core on 64-bit) now, before any baseline is
/// taken. Each arena reserves 64 MiB of address space the first time a new thread
/// allocates; left to happen inside a measurement, that would be charged to the first
/// threads measured. Enough threads allocate while alive at once to use them all up.
pub fn warm_allocator_arenas() {
    let cpus = procfs::online_cpus().max(1) as usize;
    with_parked_threads((8 * cpus).min(512), Some(SMALL_STACK), || drop(std::hint::black_box(vec![0u8; 64])), || ());
}

/// Measures how many memory maps one parked thread adds, by spawning a few and counting the
/// lines of `/proc/self/maps`. Allocator arenas are created first, so that their maps are
/// not charged to the probe's threads.
pub fn maps_per_thread(stack: Option<usize>) -> Option<u64> {
    warm_allocator_arenas();
    let before = maps_in_use()?;
    let (spawned, after) = with_parked_threads(PROBE_THREADS, stack, || (), maps_in_use);
    let added = after?.checked_sub(before)?;
    (spawned > 0 && added > 0).then(|| added.div_ceil(spawned as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn proc_formats_parse() {
        assert_eq!(parse_loadavg_tasks("3.97 2.08 0.84 5/125 11591\n"), Some(125));
        assert_eq!(parse_cgroup_limit("max\n"), None);
        assert_eq!(parse_cgroup_limit("10813\n"), Some(10_813));
        assert_eq!(parse_cgroup_limit("9223372036854771712\n"), None, "v1's unlimited");
        let v1 = "9:name=systemd:/\n8:pids:/user.slice\n4:memory:/api/abc\n0::/\n";
        assert_eq!(cgroup_dir(v1, "pids"), Some(PathBuf::from("/sys/fs/cgroup/pids/user.slice")));
        assert_eq!(cgroup_dir(v1, "memory"), Some(PathBuf::from("/sys/fs/cgroup/memory/api/abc")));
        assert_eq!(
            cgroup_dir("0::/system.slice/foo.service\n", "memory"),
            Some(PathBuf::from("/sys/fs/cgroup/system.slice/foo.service"))
        );
    }

    #[test]
    fn a_thread_adds_a_few_maps() {
        // Stack and its guard page, signal stack and its guard: about four. Measured, so the
        // test only pins a sane range.
        let per = maps_per_thread(Some(64 * 1024)).expect("/proc/self/maps is readable");
        assert!((1..=8).contains(&per), "{per} maps per thread");
    }
}
