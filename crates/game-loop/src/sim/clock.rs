//! The fixed tick: when each tick is due, what to do when the server falls behind, and the
//! figures of how well it kept time.
//!
//! Tick `k` is due at `start + k × 15.625 ms` (64 Hz, Bevy's default fixed timestep). A
//! tick that starts late still runs, back to back with the one before if need be, the way
//! Bevy's fixed-timestep accumulator catches up: such a tick is **merged** when it starts a
//! whole period or more late, since its snapshot reaches clients together with the previous
//! one. Bevy caps the catch-up at 250 ms (`Time<Virtual>`'s default `max_delta`); beyond that
//! the backlog is dropped and the simulation falls behind wall time: those ticks are
//! **missed**. Every variant uses this same clock; only how it waits differs (a thread
//! sleeps, a task awaits a tokio timer).

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

pub const TICK_HZ: u32 = 64;
pub const PERIOD: Duration = Duration::from_micros(15_625);
/// Ticks the clock will run back to back to catch up: 250 ms' worth.
pub const MAX_CATCH_UP: u64 = 16;

/// Durations in µs, as the harness records histograms; empty by default.
#[derive(Clone, Debug)]
pub struct Micros(pub Histogram<u64>);

impl Default for Micros {
    fn default() -> Self {
        Micros(casebook::stats::latency::histogram())
    }
}

impl Micros {
    pub fn record(&mut self, d: Duration) {
        self.0.saturating_record(d.as_micros().min(u128::from(u64::MAX)) as u64);
    }
}

/// How the server kept time.
#[derive(Clone, Debug, Default)]
pub struct TickBook {
    /// From a tick's start to the end of its work (inputs taken, schedule run, snapshots
    /// handed to the network or sent).
    pub duration: Micros,
    /// From when a tick was due to when it started.
    pub lateness: Micros,
    pub ticks: u64,
    pub merged: u64,
    pub missed: u64,
    /// Wall time from the first tick's due time to the end of the last tick.
    pub span: Duration,
}

impl TickBook {
    /// Ticks run per second of the run: 64 when the server kept up.
    pub fn rate_hz(&self) -> f64 {
        if self.span.is_zero() { 0.0 } else { self.ticks as f64 / self.span.as_secs_f64() }
    }
}

pub struct TickClock {
    start: Instant,
    /// The next tick slot to run.
    slot: u64,
    /// Slots in the whole run: it ends when the clock reaches the last.
    slots: u64,
    pub book: TickBook,
}

impl TickClock {
    pub fn new(start: Instant, slots: u64) -> TickClock {
        TickClock { start, slot: 0, slots, book: TickBook::default() }
    }

    fn due(&self, slot: u64) -> Instant {
        self.start + PERIOD * u32::try_from(slot).unwrap_or(u32::MAX)
    }

    // ANCHOR: next
    /// When the next tick is due, or `None` once the run's slots are used up. A backlog of
    /// more than [`MAX_CATCH_UP`] due ticks is dropped first and counted as missed.
    pub fn next(&mut self, now: Instant) -> Option<Instant> {
        if self.slot >= self.slots {
            return None;
        }
        let due = self.due(self.slot);
        if now > due {
            let overdue = (now - due).as_nanos() / PERIOD.as_nanos() + 1;
            let drop = (overdue as u64).saturating_sub(MAX_CATCH_UP).min(self.slots - self.slot);
            self.book.missed += drop;
            self.slot += drop;
            if self.slot >= self.slots {
                return None;
            }
        }
        Some(self.due(self.slot))
    }
    // ANCHOR_END: next

    pub fn begin(&mut self, due: Instant, started: Instant) {
        let late = started.saturating_duration_since(due);
        self.book.lateness.record(late);
        if late >= PERIOD {
            self.book.merged += 1;
        }
        self.book.ticks += 1;
        self.slot += 1;
    }

    pub fn end(&mut self, started: Instant, ended: Instant) {
        self.book.duration.record(ended.saturating_duration_since(started));
        self.book.span = ended.saturating_duration_since(self.start);
    }
}

/// The thread variants' fixed tick: `slots` slots on the calling thread, which sleeps until
/// each tick is due and then runs `tick`.
pub fn run_ticks(slots: u64, mut tick: impl FnMut()) -> TickBook {
    let mut clock = TickClock::new(Instant::now(), slots);
    while let Some(due) = clock.next(Instant::now()) {
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let started = Instant::now();
        clock.begin(due, started);
        tick();
        clock.end(started, Instant::now());
    }
    clock.book
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_on_time_runs_every_slot_once() {
        let start = Instant::now();
        let mut clock = TickClock::new(start, 3);
        for k in 0..3u32 {
            let due = clock.next(start).expect("slot left");
            assert_eq!(due, start + PERIOD * k);
            clock.begin(due, due);
            clock.end(due, due + Duration::from_millis(1));
        }
        assert_eq!(clock.next(start + PERIOD * 3), None);
        let book = clock.book;
        assert_eq!((book.ticks, book.merged, book.missed), (3, 0, 0));
        assert_eq!((book.duration.0.len(), book.duration.0.max()), (3, 1000));
    }

    #[test]
    fn a_late_tick_is_merged_and_a_long_stall_drops_its_backlog() {
        let start = Instant::now();
        let mut clock = TickClock::new(start, 100);
        let due = clock.next(start).expect("slot");
        clock.begin(due, start);
        clock.end(start, start);
        // Slot 1 was due at 1 period; it starts 1.5 periods late: merged, nothing missed.
        let now = start + PERIOD * 5 / 2;
        let due = clock.next(now).expect("slot");
        assert_eq!(due, start + PERIOD);
        clock.begin(due, now);
        assert_eq!((clock.book.merged, clock.book.missed), (1, 0));
        // A stall of 40 periods: slots 2..=41 are overdue, the clock keeps the last 16.
        let now = start + PERIOD * 41 + PERIOD / 2;
        let due = clock.next(now).expect("slot");
        assert_eq!(clock.book.missed, 40 - 16);
        assert_eq!(due, start + PERIOD * (2 + 24));
    }
}
