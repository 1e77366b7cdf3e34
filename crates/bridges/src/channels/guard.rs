//! The memory guard for unbounded channels.
//!
//! An unbounded channel's only limit is memory: a producer faster than its consumer queues
//! without end, and on a shared machine the first process to notice is whichever one the
//! OOM killer picks. So every unbounded queue gets a budget computed before anything runs:
//! what the harness allows one run (half of what the machine, `MemAvailable`, or this
//! process's cgroup has left, whichever is less; in a container `MemAvailable` describes
//! the host). The producer watches the queue's depth and stops at the budget; the row then
//! reports that it hit the guard, which is the finding, not a crash.

use casebook::{model::format::format_bytes, run::limits};
use serde::{Deserialize, Serialize};

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

/// The bytes an unbounded queue may hold, and what set the figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryGuard {
    pub bytes: u64,
    /// In words, for the report.
    pub set_by: String,
}

impl MemoryGuard {
    /// A guard of exactly `bytes`, for an option that overrides the computed one.
    pub fn fixed(bytes: u64, why: &str) -> Self {
        MemoryGuard { bytes, set_by: format!("{} ({why})", format_bytes(bytes as f64)) }
    }

    /// The harness's memory budget for one run, read from the machine and its cgroup.
    pub fn from_readings(readings: &limits::Readings) -> Self {
        match limits::memory_budget(readings) {
            Some(bytes) => MemoryGuard {
                bytes,
                set_by: format!("{} (half of what the machine or its cgroup has left)", format_bytes(bytes as f64)),
            },
            None => MemoryGuard::fixed(FALLBACK_BYTES, "no memory reading: a fixed fallback"),
        }
    }

    /// Queued items of `item_bytes` each that fit under the guard (at least one).
    pub fn max_items(&self, item_bytes: u64) -> u64 {
        (self.bytes / (item_bytes + QUEUE_OVERHEAD_BYTES)).max(1)
    }
}

/// Resident set size of this process now.
pub fn rss_bytes() -> Option<u64> {
    casebook::host::procfs::memory_self().map(|(resident, _)| resident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_is_the_harness_budget_and_counts_each_items_overhead() {
        let mut r = limits::Readings::stock_linux_box();
        r.mem_available = Some(16 << 30);
        r.cgroup_memory = Some((2 << 30, 1 << 30));
        assert_eq!(MemoryGuard::from_readings(&r).bytes, limits::memory_budget(&r).unwrap());
        r.mem_available = None;
        r.cgroup_memory = None;
        assert_eq!(MemoryGuard::from_readings(&r).bytes, FALLBACK_BYTES);
        let guard = MemoryGuard::fixed(64 * 1000, "test");
        assert_eq!(guard.max_items(16), 1000);
        assert_eq!(MemoryGuard::fixed(1, "tiny").max_items(16), 1);
        assert!(rss_bytes().is_some_and(|b| b > 0));
    }
}
