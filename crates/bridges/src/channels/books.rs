//! What a bridge moves, and the books that prove every message arrived once and in order.
//!
//! A message names its producer and its place in that producer's sequence, so the consumer
//! can check, message by message, that nothing was lost, doubled or reordered, without
//! trusting the channel or the variant. One message in [`STAMP_EVERY`] also carries its send
//! time, for the latency histogram.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use serde::{Deserialize, Serialize};

/// One message of the matrix: 16 bytes, copied by value, the size of a small event or an id
/// with a timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Msg {
    pub producer: u32,
    pub seq: u32,
    /// Nanoseconds since the run's epoch, plus one, when the message was handed to the
    /// channel; zero for unstamped messages.
    pub sent_ns: u64,
}

/// Every this-many messages of a producer carry a send time. Reading the clock costs about
/// 20 ns on the reference machine (TSC), and stamping every message slowed a bounded(1024)
/// thread-to-thread crossbeam row by 20% and flume's by 55%: the instrument would have been
/// the thing measured. A fixed stride is an unbiased sample of the stream (no message is
/// special by its position) and leaves about one clock read per 32 messages on each side.
pub const STAMP_EVERY: u32 = 64;

/// How a message travels. The plain [`Msg`] is what the measured rows send. [`Tracked`] adds
/// a drop counter, for the rows that drop the consumer mid-stream and must account for the
/// messages the channel discarded with it.
pub trait Envelope: Send + 'static {
    fn wrap(msg: Msg, discarded: &Arc<AtomicU64>) -> Self;
    fn msg(&self) -> Msg;
    /// Marks the message as accounted for (received, or handed back by a failed send), so
    /// that dropping it does not count it as discarded.
    fn settle(self);
}

impl Envelope for Msg {
    #[inline]
    fn wrap(msg: Msg, _: &Arc<AtomicU64>) -> Self {
        msg
    }

    #[inline]
    fn msg(&self) -> Msg {
        *self
    }

    #[inline]
    fn settle(self) {}
}

/// A message that counts itself when it is dropped without being settled: one the channel
/// still held when its receiver went away.
#[derive(Debug)]
pub struct Tracked {
    msg: Msg,
    discarded: Option<Arc<AtomicU64>>,
}

impl Envelope for Tracked {
    fn wrap(msg: Msg, discarded: &Arc<AtomicU64>) -> Self {
        Tracked { msg, discarded: Some(Arc::clone(discarded)) }
    }

    fn msg(&self) -> Msg {
        self.msg
    }

    fn settle(mut self) {
        self.discarded = None;
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(discarded) = self.discarded.take() {
            discarded.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The consumer's books: for each producer, the sequence number it expects next.
///
/// They are kept inside the measured region, on the consumer's side of every message, so the
/// in-order path is one compare and one store: what a producer's messages received differ
/// from its `next` by moves only off that path (a late message adds one; an early one skips
/// `next` past a gap it did not receive), and the counts are worked out when the books close.
#[derive(Clone, Debug)]
pub struct OrderBooks {
    next: Vec<u32>,
    /// Per producer: messages received, less `next`.
    adjust: Vec<i64>,
    /// A sequence number below the expected one: a duplicate, or a message overtaken.
    late: u64,
    /// A sequence number above the expected one: something before it is missing (so far).
    early: u64,
    /// A producer id no producer has.
    strangers: u64,
}

impl OrderBooks {
    pub fn new(producers: usize) -> Self {
        OrderBooks { next: vec![0; producers], adjust: vec![0; producers], late: 0, early: 0, strangers: 0 }
    }

    #[inline]
    pub fn record(&mut self, msg: Msg) {
        match self.next.get_mut(msg.producer as usize) {
            Some(next) if msg.seq == *next => *next += 1,
            _ => self.out_of_order(msg),
        }
    }

    #[cold]
    fn out_of_order(&mut self, msg: Msg) {
        let p = msg.producer as usize;
        let Some(next) = self.next.get_mut(p) else {
            self.strangers += 1;
            return;
        };
        if msg.seq < *next {
            self.late += 1;
            self.adjust[p] += 1;
        } else {
            self.early += 1;
            self.adjust[p] -= i64::from(msg.seq - *next);
            *next = msg.seq + 1;
        }
    }

    /// Messages received from each producer.
    fn received(&self) -> impl Iterator<Item = u64> + '_ {
        self.next.iter().zip(&self.adjust).map(|(next, adjust)| (i64::from(*next) + adjust) as u64)
    }

    /// Closes the books against what each producer says it sent.
    pub fn close(&self, sent: &[u64]) -> Delivery {
        let pairs = || sent.iter().zip(self.received());
        let missing = pairs().map(|(s, r)| s.saturating_sub(r)).sum();
        let surplus = pairs().map(|(s, r)| r.saturating_sub(*s)).sum::<u64>()
            + self.strangers
            + self.next.len().saturating_sub(sent.len()) as u64;
        let (producers, received, late, early) = (sent.len(), self.received().sum(), self.late, self.early);
        Delivery { producers, sent: sent.iter().sum(), received, missing, surplus, late, early }
    }
}

/// How the digest of an exact delivery begins.
pub const EXACT_DIGEST_PREFIX: &str = "every message sent arrived once, in order per producer";

/// The closed books of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub producers: usize,
    /// Sends that returned `Ok`.
    pub sent: u64,
    pub received: u64,
    /// Sent but never received (on a consumer dropped mid-stream, the channel's leftovers).
    pub missing: u64,
    pub surplus: u64,
    pub late: u64,
    pub early: u64,
}

impl Delivery {
    /// Every sent message received exactly once, in order per producer.
    pub fn exact(&self) -> bool {
        self.missing == 0 && self.surplus == 0 && self.late == 0 && self.early == 0
    }

    /// What the consumer saw, in a form two rows can compare: every message sent arrived once
    /// and in order, or what went wrong. The counts of an exact delivery are left out: a row
    /// whose producers the memory guard stopped early delivered exactly what it sent, and
    /// says so in figures of its own; the accounting check compares the counts.
    pub fn digest(&self) -> String {
        if self.exact() {
            format!("{EXACT_DIGEST_PREFIX}, from {} producer(s)", self.producers)
        } else {
            format!(
                "{} of {} received from {} producer(s); {} missing, {} extra, {} late or doubled, {} after a gap",
                self.received, self.sent, self.producers, self.missing, self.surplus, self.late, self.early
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(producer: u32, seq: u32) -> Msg {
        Msg { producer, seq, sent_ns: 0 }
    }

    /// Books that recorded `msgs`, each a producer and a sequence number, in order.
    fn recorded(producers: usize, msgs: impl IntoIterator<Item = (u32, u32)>) -> OrderBooks {
        let mut books = OrderBooks::new(producers);
        msgs.into_iter().for_each(|(producer, seq)| books.record(msg(producer, seq)));
        books
    }

    #[test]
    fn in_order_delivery_is_exact() {
        let d = recorded(2, (0..3).flat_map(|seq| [(0, seq), (1, seq)])).close(&[3, 3]);
        assert!(d.exact(), "{d:?}");
        assert_eq!(d.digest(), format!("{EXACT_DIGEST_PREFIX}, from 2 producer(s)"));
    }

    #[test]
    fn loss_duplicates_and_reordering_are_each_caught() {
        let d = recorded(1, [0, 2, 1, 1].map(|seq| (0, seq))).close(&[4]);
        assert!(!d.exact());
        assert_eq!((d.received, d.missing, d.early, d.late), (4, 0, 1, 2));
        let d = recorded(1, [(0, 0), (7, 0)]).close(&[2]);
        assert_eq!((d.missing, d.surplus), (1, 1));
        assert_ne!(d.digest(), OrderBooks::new(1).close(&[0]).digest());
    }

    #[test]
    fn a_tracked_message_counts_only_when_dropped_unsettled() {
        let discarded = Arc::new(AtomicU64::new(0));
        Tracked::wrap(msg(0, 0), &discarded).settle();
        drop(Tracked::wrap(msg(0, 1), &discarded));
        assert_eq!(discarded.load(Ordering::Relaxed), 1);
    }
}
