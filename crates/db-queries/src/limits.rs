//! How many requests this machine lets the case keep in flight, decided before anything runs.
//!
//! Every request in flight holds a client socket in the load generator and one in the server:
//! the per-process descriptor limit (`RLIMIT_NOFILE`) caps both. `thread-per-request` also
//! holds a thread per request, which the kernel's task limits cap. Hitting either for real
//! fails in the middle of a run, or makes `fork` fail for the rest of the machine, so the sweep
//! stops at a safe cap computed up front and the report names the limit that set it.

use serde::{Deserialize, Serialize};

/// Descriptors kept free for everything else a process opens: database connections, the
/// SQLite file and its WAL, the runtime, the harness's pipes.
pub const FD_RESERVE: u64 = 256;

/// Share of the machine-wide task limits one run may take.
const SHARED_NUMERATOR: u64 = 3;
const SHARED_DENOMINATOR: u64 = 4;

/// Tasks (threads) a thread-per-request server holds besides one per request.
pub const THREAD_RESERVE: u64 = 64;

/// A cap and what set it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cap {
    pub in_flight: u64,
    pub set_by: String,
}

/// The limits read from this machine (or given, in tests).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Readings {
    /// The soft `RLIMIT_NOFILE`, after raising it to the hard limit.
    pub nofile: Option<u64>,
    /// Kernel tasks the machine or the cgroup still allows (already the tightest of
    /// `threads-max`, `pid_max` and `pids.max`, less what is in use).
    pub tasks_free: Option<u64>,
}

impl Readings {
    pub fn detect() -> Readings {
        Readings { nofile: raise_nofile(), tasks_free: tasks_free() }
    }
}

/// The most requests in flight for a variant: by descriptors always, by tasks when each
/// request holds a thread.
pub fn cap(r: &Readings, wanted: u64, thread_per_request: bool) -> Cap {
    let mut cap = Cap { in_flight: wanted, set_by: "the preset".into() };
    if let Some(nofile) = r.nofile {
        let by_fds = nofile.saturating_sub(FD_RESERVE);
        if by_fds < cap.in_flight {
            cap = Cap { in_flight: by_fds, set_by: format!("RLIMIT_NOFILE {nofile} less {FD_RESERVE} reserved") };
        }
    }
    if thread_per_request && let Some(free) = r.tasks_free {
        let by_tasks = (free * SHARED_NUMERATOR / SHARED_DENOMINATOR).saturating_sub(THREAD_RESERVE);
        if by_tasks < cap.in_flight {
            cap = Cap {
                in_flight: by_tasks,
                set_by: format!("kernel task limits: {free} free, {SHARED_NUMERATOR}/{SHARED_DENOMINATOR} of them"),
            };
        }
    }
    cap
}

/// Raises the soft descriptor limit to the hard one (servers do) and returns it.
fn raise_nofile() -> Option<u64> {
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

fn read_number(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Free kernel tasks: the tightest of the machine's thread and pid tables and this cgroup's
/// `pids.max`, less the tasks in use.
fn tasks_free() -> Option<u64> {
    let in_use: u64 =
        std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().nth(3)?.split_once('/')?.1.parse().ok()?;
    let machine = [read_number("/proc/sys/kernel/threads-max"), read_number("/proc/sys/kernel/pid_max")]
        .into_iter()
        .flatten()
        .min()?
        .saturating_sub(in_use);
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").ok().and_then(|text| {
        let path = text.lines().find_map(|l| l.strip_prefix("0::"))?;
        let dir = format!("/sys/fs/cgroup{path}");
        let max = read_number(&format!("{dir}/pids.max"))?;
        Some(max.saturating_sub(read_number(&format!("{dir}/pids.current")).unwrap_or(0)))
    });
    Some(cgroup.map_or(machine, |c| c.min(machine)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tightest_limit_sets_the_cap_and_is_named() {
        let r = Readings { nofile: Some(1024), tasks_free: Some(2000) };
        assert_eq!(cap(&r, 4096, false), Cap { in_flight: 768, set_by: "RLIMIT_NOFILE 1024 less 256 reserved".into() });
        let r = Readings { nofile: Some(20_000), tasks_free: Some(2000) };
        assert_eq!(cap(&r, 4096, false).in_flight, 4096);
        let threads = cap(&r, 4096, true);
        assert_eq!(threads.in_flight, 1500 - THREAD_RESERVE);
        assert!(threads.set_by.contains("task limits"), "{}", threads.set_by);
        assert_eq!(cap(&Readings::default(), 64, true), Cap { in_flight: 64, set_by: "the preset".into() });
    }

    #[test]
    fn this_machine_has_readable_limits() {
        let r = Readings::detect();
        assert!(r.nofile.is_some_and(|n| n > 0));
        assert!(r.tasks_free.is_some_and(|n| n > 0));
    }
}
