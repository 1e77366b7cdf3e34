//! What the units cost in memory: the process's figures before the first spawn and once
//! every unit is parked, and the difference per unit.

use std::{thread, time::Duration};

use casebook::run::limits::kib_field;

/// The process's memory at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Memory {
    /// Pages actually in RAM (RSS), the process's whole.
    pub resident: f64,
    /// Of those, the anonymous ones (`RssAnon`): heap, stacks, thread-local blocks. What a
    /// unit costs is here; file-backed pages are the program's code, which a run may touch
    /// for the first time while its units are parked (64 KiB at a time, the kernel's
    /// fault-around), and which no unit owns.
    pub anonymous: Option<f64>,
    /// Address space reserved (VSZ), touched or not.
    pub virtual_size: f64,
    /// `KernelStack` from `/proc/meminfo`: machine-wide, so other programs add noise.
    pub kernel_stack: Option<f64>,
    /// This process's page tables (`VmPTE`).
    pub page_tables: Option<f64>,
}

impl Memory {
    /// `None` where `/proc/self/statm` cannot be read: a figure that was not read is missing,
    /// never zero (a zero baseline would charge the whole process to the units).
    pub fn now() -> Option<Memory> {
        let (resident, virtual_size) = casebook::host::procfs::memory_self()?;
        Some(Memory {
            resident: resident as f64,
            anonymous: kib_field("/proc/self/status", "RssAnon:").map(|b| b as f64),
            virtual_size: virtual_size as f64,
            kernel_stack: kib_field("/proc/meminfo", "KernelStack:").map(|b| b as f64),
            page_tables: kib_field("/proc/self/status", "VmPTE:").map(|b| b as f64),
        })
    }

    /// Samples until resident memory stops moving: the plateau. Between samples a thread
    /// sleeps; nothing here waits on anything else, so the executor is only a formality.
    pub fn plateau() -> Option<Memory> {
        futures::executor::block_on(Self::plateau_after(|| async { thread::sleep(PLATEAU_EVERY) }))
    }

    /// [`Memory::plateau`] for async code: the wait between samples must not block a worker.
    pub async fn plateau_async() -> Option<Memory> {
        Self::plateau_after(|| tokio::time::sleep(PLATEAU_EVERY)).await
    }

    async fn plateau_after<P: Future<Output = ()>>(mut pause: impl FnMut() -> P) -> Option<Memory> {
        let mut last = Memory::now()?;
        for _ in 0..PLATEAU_SAMPLES {
            pause().await;
            let next = Memory::now()?;
            if settled(&last, &next) {
                return Some(next);
            }
            last = next;
        }
        Some(last)
    }

    /// `(self - baseline) / units`, field by field; `None` for no units, since dividing by
    /// a made-up 1 would report the whole difference as one unit's cost.
    pub fn per_unit(&self, baseline: &Memory, units: u64) -> Option<Memory> {
        if units == 0 {
            return None;
        }
        let n = units as f64;
        let diff = |now: Option<f64>, before: Option<f64>| Some((now? - before?) / n);
        Some(Memory {
            resident: (self.resident - baseline.resident) / n,
            anonymous: diff(self.anonymous, baseline.anonymous),
            virtual_size: (self.virtual_size - baseline.virtual_size) / n,
            kernel_stack: diff(self.kernel_stack, baseline.kernel_stack),
            page_tables: diff(self.page_tables, baseline.page_tables),
        })
    }
}

/// Up to 20 ms of sampling: parked units allocate nothing, so RSS is flat within a sample
/// or two; the loop only waits out pages still being faulted in by the last units to start.
const PLATEAU_SAMPLES: usize = 10;
const PLATEAU_EVERY: Duration = Duration::from_millis(2);

fn settled(last: &Memory, next: &Memory) -> bool {
    (next.resident - last.resident).abs() <= 0.001 * last.resident.max(1.0)
}
