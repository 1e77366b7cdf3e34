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

use serde::{Deserialize, Serialize};

use crate::{
    model::format::{format_bytes, format_count, thousands as count},
    model::plan::{Needs, UsageError},
};

mod readings;

pub use readings::*;

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
/// as network servers do at start. The harness calls it once, before a case reads its
/// parameters; processes started afterwards (runs, load generators) inherit it.
pub fn raise_nofile() {
    // SAFETY: getrlimit and setrlimit only read and write the struct we own.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            libc::setrlimit(libc::RLIMIT_NOFILE, &raised);
        }
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
