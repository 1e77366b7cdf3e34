//! How many clients a server may take here, decided before any connects.
//!
//! A TCP client holds a descriptor on the server; under `thread-per-client` it also holds two
//! threads, and threads run into the kernel's task and memory-map limits long before memory.
//! Hitting those limits for real is not safe (a failed `fork` elsewhere on the machine, an
//! abort inside `pthread_create`), so the cap stops short of each with headroom and names the
//! limit that set it. UDP clients hold nothing but a route and an avatar: only
//! `max_clients` bounds them.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Descriptors kept free for everything else: the runtime, the listener, `/proc` reads.
pub const FD_RESERVE: u64 = 256;
/// Memory maps kept free for the rest of the process.
pub const MAP_RESERVE: u64 = 1024;
/// Maps one thread adds: its stack, guard page, signal stack and its guard.
pub const MAPS_PER_THREAD: u64 = 4;

/// One limit as a number of clients.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    pub name: String,
    pub clients: u64,
    pub detail: String,
}

/// The cap and what set it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cap {
    pub clients: u64,
    pub set_by: String,
    pub detail: String,
}

/// What the machine says, read once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Readings {
    /// `RLIMIT_NOFILE` soft limit, after raising it to the hard limit.
    pub nofile: Option<u64>,
    pub fds_in_use: Option<u64>,
    pub threads_max: Option<u64>,
    pub pid_max: Option<u64>,
    /// Kernel tasks alive on the machine (`/proc/loadavg`).
    pub tasks_in_use: Option<u64>,
    pub max_map_count: Option<u64>,
    pub maps_in_use: Option<u64>,
}

fn read_number(path: impl AsRef<Path>) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

impl Readings {
    pub fn detect() -> Readings {
        Readings {
            nofile: raise_nofile(),
            fds_in_use: std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count() as u64),
            threads_max: read_number("/proc/sys/kernel/threads-max"),
            pid_max: read_number("/proc/sys/kernel/pid_max"),
            tasks_in_use: std::fs::read_to_string("/proc/loadavg")
                .ok()
                .and_then(|s| s.split_whitespace().nth(3)?.split_once('/')?.1.parse().ok()),
            max_map_count: read_number("/proc/sys/vm/max_map_count"),
            maps_in_use: std::fs::read_to_string("/proc/self/maps").ok().map(|m| m.lines().count() as u64),
        }
    }
}

/// Raises this process's descriptor limit to its hard limit, as servers do at start-up, and
/// returns the limit now in force.
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

/// Every limit on clients that each hold `fds` descriptors and `threads` threads.
pub fn limits(r: &Readings, fds: u64, threads: u64) -> Vec<Limit> {
    let mut limits = Vec::new();
    if let (Some(nofile), true) = (r.nofile, fds > 0) {
        let free = nofile.saturating_sub(r.fds_in_use.unwrap_or(0)).saturating_sub(FD_RESERVE);
        limits.push(Limit {
            name: "RLIMIT_NOFILE".into(),
            clients: free / fds,
            detail: format!("ulimit -n {nofile}, {} open, {FD_RESERVE} kept free", r.fds_in_use.unwrap_or(0)),
        });
    }
    if let Some(threads) = std::num::NonZeroU64::new(threads) {
        let in_use = r.tasks_in_use.unwrap_or(0);
        for (name, max) in [("kernel.threads-max", r.threads_max), ("kernel.pid_max", r.pid_max)] {
            if let Some(max) = max {
                limits.push(Limit {
                    name: name.into(),
                    clients: max.saturating_sub(in_use) * 3 / 4 / threads,
                    detail: format!("{max} machine-wide, {in_use} tasks alive, 3/4 of the rest"),
                });
            }
        }
        if let Some(max) = r.max_map_count {
            let in_use = r.maps_in_use.unwrap_or(0);
            limits.push(Limit {
                name: "vm.max_map_count".into(),
                clients: max.saturating_sub(in_use).saturating_sub(MAP_RESERVE) / MAPS_PER_THREAD / threads,
                detail: format!("{max} maps per process, {in_use} in use, {MAPS_PER_THREAD} per thread"),
            });
        }
    }
    limits
}

/// The smallest limit, or `wanted` when that is smaller.
pub fn cap(limits: &[Limit], wanted: u64) -> Cap {
    match limits.iter().min_by_key(|l| l.clients) {
        Some(l) if l.clients < wanted => Cap { clients: l.clients, set_by: l.name.clone(), detail: l.detail.clone() },
        tightest => Cap {
            clients: wanted,
            set_by: "the run's size".into(),
            detail: tightest
                .map_or("no limit could be read".into(), |l| format!("tightest: {} at {}", l.name, l.clients)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn box_2_cores() -> Readings {
        Readings {
            nofile: Some(1024),
            fds_in_use: Some(24),
            threads_max: Some(192_730),
            pid_max: Some(32_768),
            tasks_in_use: Some(300),
            max_map_count: Some(65_530),
            maps_in_use: Some(200),
        }
    }

    #[test]
    fn descriptors_bind_tasks_and_threads_bind_thread_per_client() {
        let r = box_2_cores();
        // (1024 - 24 - 256) / 1 descriptor per client.
        assert_eq!(
            cap(&limits(&r, 1, 0), 5000),
            Cap {
                clients: 744,
                set_by: "RLIMIT_NOFILE".into(),
                detail: "ulimit -n 1024, 24 open, 256 kept free".into()
            }
        );
        let mut r = box_2_cores();
        r.nofile = Some(1 << 20);
        // Memory maps: (65,530 - 200 - 1,024) / 4 per thread / 2 threads per client = 8,038,
        // below pid_max's (32,768 - 300) × 3/4 / 2 = 12,175.
        let limits = limits(&r, 1, 2);
        let c = cap(&limits, 50_000);
        assert_eq!((c.clients, c.set_by.as_str()), (8_038, "vm.max_map_count"));
        assert_eq!(limits.iter().find(|l| l.name == "kernel.pid_max").map(|l| l.clients), Some(12_175));
        // Asking for fewer than any limit allows keeps the wish.
        assert_eq!(cap(&limits, 100).clients, 100);
        assert_eq!(cap(&[], 7).set_by, "the run's size");
    }

    #[test]
    fn this_machine_can_be_read() {
        let r = Readings::detect();
        assert!(r.nofile.is_some() && r.fds_in_use.is_some());
    }
}
