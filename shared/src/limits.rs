//! How many threads, tasks, file descriptors and bytes this machine can give a run before
//! something breaks, decided before the first unit is spawned. Cases size their runs from
//! these caps, and the harness checks every case's [`Needs`] against them up front.
//!
//! A thread is a kernel task, so threads run into the kernel's limits long before they run
//! out of memory: the memory-map budget of the process (`vm.max_map_count`), the pid and
//! task tables shared by the whole machine (`kernel.pid_max`, `kernel.threads-max`), the
//! per-user process limit (`RLIMIT_NPROC`), the cgroup's `pids.max`, and, in strict
//! overcommit mode or under `ulimit -v`, the address space the stacks reserve. Futures and
//! tasks are heap objects: only memory bounds them, the machine's (`MemAvailable`) or the
//! cgroup's (`memory.max`, or v1's `memory.limit_in_bytes`), whichever leaves less: in a
//! container, `MemAvailable` describes the host, and running past the cgroup's limit brings
//! the OOM killer to every process in the cgroup, not only to this one.
//!
//! Hitting a limit for real is not safe. When `vm.max_map_count` runs out, `pthread_create`
//! fails cleanly only if it is the call that runs out; if the new thread gets its stack but
//! the standard library then cannot map its signal stack, the process aborts. Shared limits
//! are worse: taking the last pid makes `fork` fail for every program on the machine. So the
//! case computes a *safe cap* from every limit it can read, leaves headroom on each, and
//! stops there, naming the limit that set it. Spawn failures are still caught, in case a
//! limit this module cannot see bites first.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Condvar, Mutex, PoisonError},
    thread,
};

use serde::{Deserialize, Serialize};

use crate::{
    format::{format_bytes, format_count, thousands as count},
    plan::{Needs, UsageError},
    procfs,
};

/// Memory maps kept free for everything else in the process: the runtime, the allocator's
/// arenas, the harness. A process at its map limit cannot even `malloc` a large block.
pub const MAP_RESERVE: u64 = 1024;

/// Share of a machine-wide resource (pids, kernel tasks, the user's processes, the cgroup's
/// pids) this case allows itself: three quarters of what is free, never all of it.
pub const SHARED_NUMERATOR: u64 = 3;
pub const SHARED_DENOMINATOR: u64 = 4;

/// Share of available memory the case allows itself.
pub const MEMORY_SHARE: f64 = 0.5;

/// A deliberately generous estimate of what one parked thread costs in memory (user stack
/// pages, the kernel stack, page tables), used only to keep a memory-bound cap safe.
pub const THREAD_MEMORY_ESTIMATE: u64 = 64 * 1024;

/// The same for one parked task or future (a few hundred bytes are measured; this is 2 KiB).
pub const TASK_MEMORY_ESTIMATE: u64 = 2 * 1024;

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

/// One limit turned into a number of units this case may hold under it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    /// The name a reader would search for, e.g. `vm.max_map_count`.
    pub name: String,
    pub units: u64,
    /// The arithmetic, in words.
    pub detail: String,
}

/// The cap a variant runs to, and what set it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cap {
    pub units: u64,
    /// The limit's name, or the preset or option that asked for less.
    pub set_by: String,
    pub detail: String,
}

fn shared_share(free: u64) -> u64 {
    (u128::from(free) * u128::from(SHARED_NUMERATOR) / u128::from(SHARED_DENOMINATOR)) as u64
}

/// Every limit that bounds threads with a stack of `stack_bytes`, as units this case may
/// hold. Limits that could not be read are left out, not guessed.
pub fn thread_limits(r: &Readings, stack_bytes: u64) -> Vec<Limit> {
    let mut limits = Vec::new();
    if let Some(max) = r.max_map_count {
        let in_use = r.maps_in_use.unwrap_or(0);
        let per = r.maps_per_thread.max(1);
        let free = max.saturating_sub(in_use).saturating_sub(MAP_RESERVE);
        limits.push(Limit {
            name: "vm.max_map_count".into(),
            units: free / per,
            detail: format!(
                "{} maps per process, {} in use, {} kept in reserve, {per} per thread ({})",
                count(max),
                count(in_use),
                count(MAP_RESERVE),
                if r.maps_measured { "measured" } else { "assumed" }
            ),
        });
    }
    let in_use = r.tasks_in_use.unwrap_or(0);
    for (name, value) in [("kernel.threads-max", r.threads_max), ("kernel.pid_max", r.pid_max)] {
        if let Some(max) = value {
            limits.push(Limit {
                name: name.into(),
                units: shared_share(max.saturating_sub(in_use)),
                detail: format!(
                    "{} machine-wide, {} tasks alive, {SHARED_NUMERATOR}/{SHARED_DENOMINATOR} of the rest",
                    count(max),
                    count(in_use)
                ),
            });
        }
    }
    if let Some(nproc) = r.nproc.filter(|_| !r.root) {
        limits.push(Limit {
            name: "RLIMIT_NPROC".into(),
            units: shared_share(nproc.saturating_sub(in_use)),
            detail: format!(
                "ulimit -u {}, at most {} of this user's tasks alive, {SHARED_NUMERATOR}/{SHARED_DENOMINATOR} of the rest",
                count(nproc),
                count(in_use)
            ),
        });
    }
    if let Some((max, current)) = r.cgroup_pids {
        limits.push(Limit {
            name: "cgroup pids.max".into(),
            units: shared_share(max.saturating_sub(current)),
            detail: format!(
                "{} pids in this cgroup, {} in use, {SHARED_NUMERATOR}/{SHARED_DENOMINATOR} of the rest",
                count(max),
                count(current)
            ),
        });
    }
    limits.extend(memory_limits(r, THREAD_MEMORY_ESTIMATE, "thread"));
    // Only strict overcommit and `ulimit -v` charge a thread for the stack it reserves.
    let reserved = stack_bytes.max(1) + 64 * 1024;
    if let Some(left) = r.strict_commit_left {
        limits.push(Limit {
            name: "vm.overcommit_memory=2 (CommitLimit)".into(),
            units: left / 2 / reserved,
            detail: format!("half of {} MiB of commit left, {} KiB reserved per thread", left >> 20, reserved >> 10),
        });
    }
    if let Some(left) = r.address_space_left {
        limits.push(Limit {
            name: "RLIMIT_AS".into(),
            units: left / 2 / reserved,
            detail: format!(
                "half of {} MiB of address space left, {} KiB reserved per thread",
                left >> 20,
                reserved >> 10
            ),
        });
    }
    limits
}

/// Memory as a number of units at `per_unit` bytes each: half of what the machine, and
/// half of what the cgroup, has left.
pub fn memory_limits(r: &Readings, per_unit: u64, unit: &str) -> Vec<Limit> {
    let mut limits = Vec::new();
    let units = |bytes: u64| (bytes as f64 * MEMORY_SHARE) as u64 / per_unit.max(1);
    if let Some(available) = r.mem_available {
        limits.push(Limit {
            name: "MemAvailable".into(),
            units: units(available),
            detail: format!(
                "half of {} MiB available, at a generous {} KiB per parked {unit}",
                available >> 20,
                per_unit >> 10
            ),
        });
    }
    if let Some((limit, usage)) = r.cgroup_memory {
        let left = limit.saturating_sub(usage);
        limits.push(Limit {
            name: "cgroup memory limit".into(),
            units: units(left),
            detail: format!(
                "half of the {} MiB left of this cgroup's {} MiB, at a generous {} KiB per parked {unit}",
                left >> 20,
                limit >> 20,
                per_unit >> 10
            ),
        });
    }
    limits
}

/// The limits that bound futures and tasks: only memory.
pub fn task_limits(r: &Readings) -> Vec<Limit> {
    let mut limits = memory_limits(r, TASK_MEMORY_ESTIMATE, "task");
    if let Some(left) = r.address_space_left {
        limits.push(Limit {
            name: "RLIMIT_AS".into(),
            units: left / 2 / TASK_MEMORY_ESTIMATE,
            detail: format!("half of {} MiB of address space left", left >> 20),
        });
    }
    limits
}

// ANCHOR: safe_cap
/// The safe cap: the smallest of the machine's limits, or `wanted` when that is smaller
/// (a preset or an option asked for fewer units than the machine allows).
pub fn safe_cap(limits: &[Limit], wanted: u64, wanted_by: &str) -> Cap {
    let tightest = limits.iter().min_by_key(|l| l.units);
    match tightest {
        Some(limit) if limit.units < wanted => {
            Cap { units: limit.units, set_by: limit.name.clone(), detail: limit.detail.clone() }
        }
        _ => Cap {
            units: wanted,
            set_by: wanted_by.into(),
            detail: match tightest {
                Some(l) => format!("below every machine limit; the tightest is {} at {}", l.name, count(l.units)),
                None => "no machine limit could be read".into(),
            },
        },
    }
}
// ANCHOR_END: safe_cap

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

/// A `Name:   123 kB` field of a `/proc` file such as `meminfo` or `status`, in bytes.
pub fn kib_field(path: &str, name: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(name))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
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

/// The memory a run may count on: half of what the machine, or the cgroup, has left,
/// whichever is less. `None` when neither can be read.
pub fn memory_budget(r: &Readings) -> Option<u64> {
    let machine = r.mem_available;
    let cgroup = r.cgroup_memory.map(|(limit, usage)| limit.saturating_sub(usage));
    let left = match (machine, cgroup) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    Some((left as f64 * MEMORY_SHARE) as u64)
}

/// Descriptors one process may open (`RLIMIT_NOFILE`'s soft limit), less a reserve for
/// what the runtime, the harness and the standard streams hold.
pub fn fd_budget(r: &Readings) -> Option<u64> {
    r.nofile.map(|n| n.saturating_sub(FD_RESERVE))
}

/// Raises this process's descriptor limit (`RLIMIT_NOFILE`'s soft limit) to its hard limit,
/// as network servers do at start, and returns the limit now in force (`None`: unlimited or
/// unreadable). Processes started afterwards inherit it.
pub fn raise_nofile() -> Option<u64> {
    // SAFETY: getrlimit and setrlimit only read and write the struct we own.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
        (limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
    }
}

/// Descriptors kept free for everything but the case's own sockets and files.
pub const FD_RESERVE: u64 = 64;

/// The safe cap on threads with `stack_bytes` of stack on this machine.
pub fn thread_budget(r: &Readings, stack_bytes: u64) -> Cap {
    safe_cap(&thread_limits(r, stack_bytes), u64::MAX, "no cap")
}

/// Checks what one run needs against the machine: a need that does not fit is a usage error
/// that names the need, the figure and the limit, before anything has run.
pub fn check_needs(needs: &Needs, r: &Readings) -> Result<(), UsageError> {
    let memory: u64 = needs.memory.iter().map(|(_, b)| *b).fold(0u64, u64::saturating_add);
    if let Some(budget) = memory_budget(r).filter(|b| memory > *b) {
        let parts: Vec<String> =
            needs.memory.iter().map(|(what, b)| format!("{what} {}", format_bytes(*b as f64))).collect();
        return Err(UsageError::new(format!(
            "this run would need about {} of memory ({}), but only {} is available to it (half of what is free); choose smaller sizes",
            format_bytes(memory as f64),
            parts.join(", "),
            format_bytes(budget as f64)
        )));
    }
    if let Some((what, threads, stack)) = &needs.threads {
        let cap = thread_budget(r, *stack);
        if *threads > cap.units {
            return Err(UsageError::new(format!(
                "{what} would need {} threads, above this machine's safe cap of {} ({}: {})",
                format_count(*threads as f64),
                format_count(cap.units as f64),
                cap.set_by,
                cap.detail
            )));
        }
    }
    if let (Some((what, fds)), Some(budget)) = (&needs.fds, fd_budget(r))
        && *fds > budget
    {
        return Err(UsageError::new(format!(
            "{what} would need {} file descriptors, above this process's limit of {} (RLIMIT_NOFILE {} less {FD_RESERVE} in reserve; raise it with ulimit -n)",
            format_count(*fds as f64),
            format_count(budget as f64),
            r.nofile.map(count).unwrap_or_default()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_limit_sets_the_cap_and_is_named() {
        let limits = thread_limits(&Readings::stock_linux_box(), 2 << 20);
        let cap = safe_cap(&limits, u64::MAX, "the preset");
        // (65,530 - 40 - 1,024) / 4 = 16,116; pid_max gives 3/4 of 32,468 = 24,351.
        assert_eq!(cap.set_by, "vm.max_map_count");
        assert_eq!(cap.units, 16_116);
        let pid = limits.iter().find(|l| l.name == "kernel.pid_max").unwrap();
        assert_eq!(pid.units, 24_351);
    }

    #[test]
    fn a_tighter_cgroup_wins_and_a_smaller_wish_wins_over_all() {
        let mut r = Readings::stock_linux_box();
        r.cgroup_pids = Some((1_000, 200));
        let limits = thread_limits(&r, 2 << 20);
        let cap = safe_cap(&limits, u64::MAX, "the preset");
        assert_eq!(cap.set_by, "cgroup pids.max");
        assert_eq!(cap.units, 600);
        let cap = safe_cap(&limits, 100, "--thread-cap");
        assert_eq!((cap.units, cap.set_by.as_str()), (100, "--thread-cap"));
    }

    #[test]
    fn root_is_exempt_from_nproc_and_strict_overcommit_charges_stacks() {
        let mut r = Readings::stock_linux_box();
        r.nproc = Some(10);
        r.root = true;
        assert!(thread_limits(&r, 2 << 20).iter().all(|l| l.name != "RLIMIT_NPROC"));
        r.root = false;
        assert_eq!(safe_cap(&thread_limits(&r, 2 << 20), u64::MAX, "x").set_by, "RLIMIT_NPROC");
        let mut r = Readings::stock_linux_box();
        r.strict_commit_left = Some(4 << 30);
        let cap = safe_cap(&thread_limits(&r, 8 << 20), u64::MAX, "x");
        assert_eq!(cap.set_by, "vm.overcommit_memory=2 (CommitLimit)");
        // Half of 4 GiB over (8 MiB + 64 KiB) per thread.
        assert_eq!(cap.units, (2u64 << 30) / ((8 << 20) + (64 << 10)));
    }

    #[test]
    fn a_cgroup_memory_limit_binds_tasks_below_the_machines_memory() {
        let mut r = Readings::stock_linux_box();
        // 1 GiB limit, 200 MiB used: half of 824 MiB at 2 KiB a task.
        r.cgroup_memory = Some((1 << 30, 200 << 20));
        let cap = safe_cap(&task_limits(&r), 10_000_000, "the preset");
        assert_eq!(cap.set_by, "cgroup memory limit");
        assert_eq!(cap.units, (412u64 << 20) / 2048);
    }

    #[test]
    fn no_readable_limit_falls_back_to_the_wish() {
        let cap = safe_cap(&[], 5_000, "the preset");
        assert_eq!((cap.units, cap.set_by.as_str()), (5_000, "the preset"));
    }

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
        assert_eq!(count(65_530), "65,530");
        assert_eq!(count(999), "999");
    }

    #[test]
    fn a_thread_adds_a_few_maps() {
        // Stack and its guard page, signal stack and its guard: about four. Measured, so the
        // test only pins a sane range.
        let per = maps_per_thread(Some(64 * 1024)).expect("/proc/self/maps is readable");
        assert!((1..=8).contains(&per), "{per} maps per thread");
    }

    #[test]
    fn needs_that_do_not_fit_name_the_need_and_the_limit() {
        let r = Readings::stock_linux_box();
        assert!(check_needs(&Needs::default(), &r).is_ok());
        let image = Needs::default().memory("the 1000000000x1000000000 image", 4_000_000_000_000_000_000);
        let err = check_needs(&image, &r).unwrap_err().to_string();
        assert!(err.contains("3.5 EiB") && err.contains("image") && err.contains("12.0 GiB"), "{err}");
        let threads = Needs::default().threads("10,000 clients", 100_000);
        let err = check_needs(&threads, &r).unwrap_err().to_string();
        assert!(err.contains("vm.max_map_count") && err.contains("10,000 clients"), "{err}");
        let fds = Needs::default().fds("5,000 sockets", 5_000);
        let err = check_needs(&fds, &r).unwrap_err().to_string();
        assert!(err.contains("RLIMIT_NOFILE") && err.contains("ulimit -n"), "{err}");
        assert!(check_needs(&Needs::default().fds("a few", 10).threads("a few", 10), &r).is_ok());
    }

    #[test]
    fn the_memory_budget_is_half_of_the_tighter_of_machine_and_cgroup() {
        let mut r = Readings::stock_linux_box();
        assert_eq!(memory_budget(&r), Some(12 << 30));
        r.cgroup_memory = Some((4 << 30, 2 << 30));
        assert_eq!(memory_budget(&r), Some(1 << 30));
    }
}
