//! Which CPUs a run may use. `--cores N` pins a run's measured child (and only it) to N of
//! the machine's CPUs with `sched_setaffinity`, so that pools and runtimes sized from
//! [`usable_cores`] (rayon, tokio and `std::thread::available_parallelism` all read the
//! affinity mask) get N; its load generators are given every CPU back.

use std::sync::OnceLock;

/// `--cores`, as the parent resolved it: what [`usable_cores`] answers in the parent, where
/// the case sizes its parameters before any child is pinned.
static LIMIT: OnceLock<usize> = OnceLock::new();

/// The machine's online CPUs, whatever this process's affinity.
pub fn machine_cores() -> usize {
    // SAFETY: sysconf only reads a system setting.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if online > 0 { online as usize } else { allowed().len().max(1) }
}

/// The cores a run may use: `--cores` when it was given, else what this process's affinity
/// mask allows. Size every pool, runtime and thread count from this.
pub fn usable_cores() -> usize {
    LIMIT.get().copied().unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// Records `--cores` for this process (the parent), once.
pub fn limit(cores: usize) {
    let _ = LIMIT.set(cores);
}

/// The `--cores` this process was given, if any.
pub fn limited() -> Option<usize> {
    LIMIT.get().copied()
}

/// The CPUs this process may run on, in order.
pub fn allowed() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity writes at most its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize).filter(|cpu| libc::CPU_ISSET(*cpu, &set)).collect()
    }
}

/// Pins the calling process to `cpus`. Async-signal-safe: it may run between fork and exec.
pub fn pin(cpus: &[usize]) -> std::io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET stays within it for cpus below
    // CPU_SETSIZE, and sched_setaffinity reads only the set it is given.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus.iter().filter(|c| **c < libc::CPU_SETSIZE as usize) {
            libc::CPU_SET(cpu, &mut set);
        }
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Tells a pinned child which CPUs its load generators get back: the parent's own.
pub const LOAD_CPUS_VAR: &str = "CASEBOOK_LOAD_CPUS";

/// The CPUs a load generator should run on, when its run was pinned: `0,1,2,3`.
pub fn load_cpus() -> Option<Vec<usize>> {
    let list = std::env::var(LOAD_CPUS_VAR).ok()?;
    list.split(',').map(|c| c.parse().ok()).collect()
}

/// The first `n` CPUs this process may use, and all of them as a list for [`LOAD_CPUS_VAR`];
/// an error naming what the machine allows when `n` is more.
pub fn split_for(n: usize) -> Result<(Vec<usize>, String), String> {
    let allowed = allowed();
    if n == 0 || n > allowed.len() {
        return Err(format!(
            "--cores must be between 1 and {}, the CPUs this machine lets the run use, got {n}",
            allowed.len()
        ));
    }
    let all = allowed.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",");
    Ok((allowed[..n].to_vec(), all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_may_use_some_cpus_of_the_machine() {
        let allowed = allowed();
        assert!(!allowed.is_empty());
        assert!(allowed.len() <= machine_cores());
        assert!(usable_cores() >= 1);
    }
}
