//! The two ends of a bridge row: what a producer does per message, and what the consumer
//! books per message. Both are written once per side (blocking for a thread, awaiting for a
//! task) and share everything else through [`Control`].

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Instant,
};

use super::{
    AsyncRecv, AsyncSend, SyncRecv, SyncSend,
    books::{Envelope, Msg, OrderBooks, STAMP_EVERY},
    gate::Gate,
    guard::CHECK_EVERY,
};

/// State every party of one row shares.
#[derive(Debug)]
pub(crate) struct Control {
    pub(crate) epoch: Instant,
    pub(crate) gate: Gate,
    pub(crate) discarded: Arc<AtomicU64>,
    /// `Some(limit)` on unbounded rows: producers watch the depth against it.
    pub(crate) queue_limit: Option<u64>,
    pub(crate) sent_published: AtomicU64,
    pub(crate) taken_published: AtomicU64,
    pub(crate) peak_depth: AtomicU64,
    pub(crate) guard_hit: AtomicBool,
    pub(crate) drop_after: Option<u64>,
}

impl Control {
    pub(crate) fn new(queue_limit: Option<u64>, drop_after: Option<u64>) -> Self {
        Control {
            epoch: Instant::now(),
            gate: Gate::default(),
            discarded: Arc::new(AtomicU64::new(0)),
            queue_limit,
            sent_published: AtomicU64::new(0),
            taken_published: AtomicU64::new(0),
            peak_depth: AtomicU64::new(0),
            guard_hit: AtomicBool::new(false),
            drop_after,
        }
    }

    #[inline]
    pub(crate) fn message(&self, producer: u32, seq: u32) -> Msg {
        let sent_ns = if seq.is_multiple_of(STAMP_EVERY) { self.epoch.elapsed().as_nanos() as u64 + 1 } else { 0 };
        Msg { producer, seq, sent_ns }
    }

    /// After a producer's `sent`-th send: false when it must stop because the queue reached
    /// the guard (its own or another producer's finding).
    #[inline]
    pub(crate) fn may_continue(&self, sent: u64) -> bool {
        let Some(limit) = self.queue_limit else { return true };
        if !sent.is_multiple_of(CHECK_EVERY) {
            return true;
        }
        let all_sent = self.sent_published.fetch_add(CHECK_EVERY, Ordering::Relaxed) + CHECK_EVERY;
        let depth = all_sent.saturating_sub(self.taken_published.load(Ordering::Relaxed));
        self.peak_depth.fetch_max(depth, Ordering::Relaxed);
        if depth >= limit {
            self.guard_hit.store(true, Ordering::Relaxed);
        }
        !self.guard_hit.load(Ordering::Relaxed)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ProducerReport {
    pub(crate) sent: u64,
    pub(crate) refused: bool,
}

// ANCHOR: produce_blocking
pub(crate) fn produce_blocking<E: Envelope, T: SyncSend<E>>(
    tx: T,
    id: u32,
    count: u32,
    ctl: Arc<Control>,
) -> ProducerReport {
    let (mut report, guarded) = (ProducerReport::default(), ctl.queue_limit.is_some());
    if !ctl.gate.arrive_and_wait() {
        return report;
    }
    for seq in 0..count {
        if let Err(back) = tx.send_blocking(E::wrap(ctl.message(id, seq), &ctl.discarded)) {
            back.settle();
            report.refused = true;
            break;
        }
        report.sent += 1;
        if guarded && !ctl.may_continue(report.sent) {
            break;
        }
    }
    report
}
// ANCHOR_END: produce_blocking

// ANCHOR: produce_async
pub(crate) async fn produce_async<E: Envelope, T: AsyncSend<E>>(
    tx: T,
    id: u32,
    count: u32,
    ctl: Arc<Control>,
) -> ProducerReport {
    let (mut report, guarded) = (ProducerReport::default(), ctl.queue_limit.is_some());
    if !ctl.gate.arrive_and_wait_async().await {
        return report;
    }
    for seq in 0..count {
        if let Err(back) = tx.send_async(E::wrap(ctl.message(id, seq), &ctl.discarded)).await {
            back.settle();
            report.refused = true;
            break;
        }
        report.sent += 1;
        if guarded && !ctl.may_continue(report.sent) {
            break;
        }
    }
    report
}
// ANCHOR_END: produce_async

/// The consumer's side of the books, whichever way it receives. What it checks per message
/// is copied out of [`Control`] up front, so the loop reads nothing shared; the latencies go
/// into room reserved before the run, and into a histogram only after the measured region.
pub(crate) struct Consumer {
    pub(crate) books: OrderBooks,
    pub(crate) latency_ns: Vec<u64>,
    taken: u64,
    epoch: Instant,
    /// Unbounded rows: where the consumer publishes what it has taken, for the guard.
    publish_to: Option<Arc<Control>>,
    drop_after: u64,
    /// For the gate only, before the first message.
    ctl: Arc<Control>,
}

impl Consumer {
    /// `expected`: the messages the row moves, which sets the room for their latencies.
    pub(crate) fn new(producers: u32, expected: u64, ctl: &Arc<Control>) -> Self {
        let stamped = expected / u64::from(STAMP_EVERY) + u64::from(producers);
        Consumer {
            books: OrderBooks::new(producers as usize),
            latency_ns: Vec::with_capacity(stamped as usize),
            taken: 0,
            epoch: ctl.epoch,
            publish_to: ctl.queue_limit.map(|_| Arc::clone(ctl)),
            drop_after: ctl.drop_after.unwrap_or(u64::MAX),
            ctl: Arc::clone(ctl),
        }
    }

    /// From a thread: arrives at the gate and books messages until every sender is gone or
    /// the consumer is to drop its receiver.
    pub(crate) fn consume_blocking<E: Envelope>(mut self, mut rx: impl SyncRecv<E>) -> Self {
        self.ctl.gate.arrive();
        while let Some(envelope) = rx.recv_blocking() {
            if !self.take(envelope) {
                break;
            }
        }
        self
    }

    /// From a task: the same, awaiting each message.
    pub(crate) async fn consume_async<E: Envelope>(mut self, mut rx: impl AsyncRecv<E>) -> Self {
        self.ctl.gate.arrive();
        while let Some(envelope) = rx.recv_async().await {
            if !self.take(envelope) {
                break;
            }
        }
        self
    }

    // ANCHOR: take
    /// Books one message; false once the consumer is to drop its receiver.
    #[inline]
    fn take<E: Envelope>(&mut self, envelope: E) -> bool {
        let msg = envelope.msg();
        envelope.settle();
        self.books.record(msg);
        if msg.sent_ns != 0 {
            let now = self.epoch.elapsed().as_nanos() as u64 + 1;
            self.latency_ns.push(now.saturating_sub(msg.sent_ns));
        }
        self.taken += 1;
        if let Some(ctl) = &self.publish_to
            && self.taken.is_multiple_of(CHECK_EVERY)
        {
            ctl.taken_published.store(self.taken, Ordering::Relaxed);
        }
        self.taken < self.drop_after
    }
    // ANCHOR_END: take
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn producers_stop_once_the_published_depth_reaches_the_limit() {
        let ctl = Control::new(Some(3 * CHECK_EVERY), None);
        // Between checks nothing is read or published.
        assert!(ctl.may_continue(CHECK_EVERY - 1));
        assert_eq!(ctl.sent_published.load(Ordering::Relaxed), 0);
        assert!(ctl.may_continue(CHECK_EVERY));
        assert!(ctl.may_continue(2 * CHECK_EVERY));
        // The consumer has taken nothing: the third check finds 3 x CHECK_EVERY queued.
        assert!(!ctl.may_continue(3 * CHECK_EVERY));
        assert!(ctl.guard_hit.load(Ordering::Relaxed));
        assert_eq!(ctl.peak_depth.load(Ordering::Relaxed), 3 * CHECK_EVERY);
        // Once hit, every producer stops at its next check, whatever the depth then.
        ctl.taken_published.store(4 * CHECK_EVERY, Ordering::Relaxed);
        assert!(!ctl.may_continue(CHECK_EVERY));
    }

    #[test]
    fn a_bounded_row_never_checks_and_stamps_one_message_in_stamp_every() {
        let ctl = Control::new(None, None);
        assert!((0..10 * CHECK_EVERY).all(|sent| ctl.may_continue(sent)));
        assert_eq!(ctl.sent_published.load(Ordering::Relaxed), 0);
        let stamped = (0..10 * STAMP_EVERY).filter(|seq| ctl.message(0, *seq).sent_ns != 0).count();
        assert_eq!(stamped, 10);
    }
}
