//! The latency probe: a tokio task that asks to wake every millisecond and records how late
//! each wake-up was. It stands in for the requests a real service keeps answering while the
//! math runs. On a runtime whose workers are all busy with CPU work that never yields, no
//! worker polls the timer or the probe until a math task ends, and the lateness shows it.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use hdrhistogram::Histogram;
use tokio::{runtime::Handle, task::JoinHandle, time::Instant};

const TICK: Duration = Duration::from_millis(1);

pub struct Probe {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Histogram<u64>>,
}

impl Probe {
    /// Starts ticking on `runtime` (the case's own runtime, or a separate one).
    pub fn start(runtime: &Handle) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let task = runtime.spawn(tick(Arc::clone(&stop)));
        Probe { stop, task }
    }

    /// Stops the probe and returns lateness in microseconds, one value per tick.
    pub fn finish(self, runtime: &Handle) -> anyhow::Result<Histogram<u64>> {
        self.stop.store(true, Ordering::Relaxed);
        Ok(runtime.block_on(self.task)?)
    }
}

// ANCHOR: tick
async fn tick(stop: Arc<AtomicBool>) -> Histogram<u64> {
    let mut lateness = casebook::stats::latency::histogram();
    while !stop.load(Ordering::Relaxed) {
        let deadline = Instant::now() + TICK;
        tokio::time::sleep_until(deadline).await;
        let late = Instant::now().saturating_duration_since(deadline);
        lateness.saturating_record(late.as_micros().max(1) as u64);
    }
    lateness
}
// ANCHOR_END: tick
