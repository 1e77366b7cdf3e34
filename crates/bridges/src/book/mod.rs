//! Table 1: runs the book's example with each producer form, and watches what the consumer
//! cannot see: how far the intervals producer runs ahead of it.
//!
//! Two modes. [`Mode::Book`] is the example as printed: `take(20)` and done, about two
//! seconds at the book's pace; its digest is what the `same-stream` claim compares. In
//! [`Mode::Drift`] the consumer keeps going for a set time, as a long-running program's
//! would, and the run reads how deep the queue and how large the process's RSS have grown.

pub mod listings;

use std::{
    pin::pin,
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use anyhow::Context;
use hdrhistogram::Histogram;
use tokio_stream::{Stream, StreamExt};

use crate::channels::guard::rss_bytes;
use listings::{LETTERS, Meter, Pace, Source, Tick};

pub use crate::variants::Listing;

impl Listing {
    pub const fn bounded(self) -> bool {
        matches!(self, Listing::TaskBounded | Listing::ThreadBounded)
    }

    fn sources(self, pace: Pace, meter: Arc<Meter>, capacity: usize) -> (Source<char>, Source<Tick>) {
        use listings::*;
        match self {
            Listing::TaskProducer => (messages_task(pace), intervals_task(pace, meter)),
            Listing::ThreadProducer => (messages_task(pace), intervals_thread(pace, meter)),
            Listing::ThreadSenders => (messages_thread(pace), intervals_thread(pace, meter)),
            Listing::TaskBounded => (messages_task(pace), intervals_task_bounded(pace, meter, capacity)),
            Listing::ThreadBounded => (messages_task(pace), intervals_thread_bounded(pace, meter, capacity)),
        }
    }
}

/// How long the consumer runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// `take(pace.take)`, as printed.
    Book,
    /// No `take`: the consumer runs for this long.
    Drift { run_for: Duration },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamSpec {
    pub listing: Listing,
    pub pace: Pace,
    pub mode: Mode,
    /// The bounded forms' channel capacity.
    pub capacity: usize,
    /// Queue depth at which an unbounded producer stops: the memory guard, in items.
    pub queue_limit: u64,
}

/// One item as the consumer saw it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Seen {
    Message(char),
    Interval { count: u32, age: Duration },
    Timeout,
}

/// What the consumer saw, kept per source.
#[derive(Clone, Debug)]
pub struct StreamBooks {
    pub letters: Vec<char>,
    pub counts: Vec<u32>,
    pub timeouts: u32,
    pub age_us: Histogram<u64>,
}

impl StreamBooks {
    /// Items the consumer saw, of either source or a timeout.
    pub fn items(&self) -> usize {
        self.letters.len() + self.counts.len() + self.timeouts as usize
    }

    fn record(&mut self, seen: Seen) {
        match seen {
            Seen::Message(letter) => self.letters.push(letter),
            Seen::Interval { count, age } => {
                self.counts.push(count);
                self.age_us.saturating_record(age.as_micros() as u64);
            }
            Seen::Timeout => self.timeouts += 1,
        }
    }

    /// The letters are the start of `a..j` in order, with none skipped or repeated.
    pub fn letters_in_order(&self) -> bool {
        self.letters.len() <= LETTERS.len() && self.letters.iter().zip(LETTERS).all(|(seen, sent)| *seen == sent)
    }

    /// The intervals count 1, 2, 3... with none skipped or repeated.
    pub fn counts_in_order(&self) -> bool {
        self.first_bad_count().is_none()
    }

    fn first_bad_count(&self) -> Option<usize> {
        self.counts.iter().zip(1..).position(|(seen, expected)| *seen != expected)
    }

    /// Each source's sequence as the consumer saw it, in a form every producer form must
    /// match. How many items each source got into the first 20 depends on the scheduler, so
    /// the digest states the properties the book's claim is about: each source's items
    /// arrive in their order, from the first, none skipped or repeated, and `take` ends the
    /// stream at its count.
    pub fn digest(&self, take: Option<usize>) -> String {
        let letters = if self.letters_in_order() {
            "letters a.. in order, none skipped".to_string()
        } else {
            format!("letters out of order: {:?}", self.letters)
        };
        let counts = match self.first_bad_count() {
            None => "intervals 1.. in order, none skipped".to_string(),
            Some(at) => format!("intervals out of order from item {}", at + 1),
        };
        match take {
            Some(n) if self.items() == n => format!("{letters}; {counts}; {n} items"),
            Some(n) => format!("{letters}; {counts}; {} items where take({n}) was asked", self.items()),
            None => format!("{letters}; {counts}"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct StreamOutcome {
    pub spec: StreamSpec,
    pub books: StreamBooks,
    /// Intervals the producer sent, and the consumer took from the channel.
    pub produced: u64,
    pub taken: u64,
    /// Items left in the channel when the consumer stopped.
    pub final_depth: u64,
    pub rss_start: u64,
    /// RSS just before the consumer dropped its streams (and with them the queue).
    pub rss_end: u64,
    pub guard_hit: bool,
    pub elapsed: Duration,
}

impl StreamOutcome {
    pub fn digest(&self) -> String {
        self.books.digest((self.spec.mode == Mode::Book).then_some(self.spec.pace.take))
    }
}

// ANCHOR: consumer
/// The consumer, as the book writes it: merge, throttle the intervals, time out each source,
/// take what is wanted. `meter.taken` counts an interval when it leaves the channel, which
/// the throttle decides.
async fn consume<M, I>(messages: M, intervals: I, pace: Pace, meter: &Meter, take: usize, books: &mut StreamBooks)
where
    M: Stream<Item = char> + Unpin,
    I: Stream<Item = Tick> + Unpin,
{
    let messages = messages.map(Seen::Message).timeout(pace.message_timeout).map(|item| item.unwrap_or(Seen::Timeout));
    let intervals = intervals
        .map(|tick| {
            meter.taken.fetch_add(1, Ordering::Relaxed);
            Seen::Interval { count: tick.count, age: tick.made.elapsed() }
        })
        .throttle(pace.throttle)
        .timeout(pace.interval_timeout)
        .map(|item| item.unwrap_or(Seen::Timeout));
    let mut merged = pin!(messages.merge(intervals).take(take));
    while let Some(seen) = merged.next().await {
        books.record(seen);
    }
}
// ANCHOR_END: consumer

/// A run with its runtime built, not yet started.
pub struct Prepared {
    spec: StreamSpec,
    runtime: Option<tokio::runtime::Runtime>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

pub fn prepare(spec: &StreamSpec) -> anyhow::Result<Prepared> {
    if spec.listing.bounded() && spec.capacity == 0 {
        anyhow::bail!("a bounded tokio channel needs a capacity of at least 1");
    }
    // The book's `trpl::run` is a multi-threaded tokio runtime with timers; so is this.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_time().build().context("cannot start the tokio runtime")?;
    Ok(Prepared { spec: *spec, runtime: Some(runtime), threads: Vec::new() })
}

impl Prepared {
    /// Starts the producers and runs the consumer to its end: the measured region.
    pub fn execute(&mut self) -> anyhow::Result<StreamOutcome> {
        let Prepared { spec, runtime, threads } = self;
        let (spec, runtime) = (*spec, runtime.as_ref().context("a run executes once")?);
        let meter = Meter::new(spec.queue_limit, spec.pace.payload_bytes);
        let age_us = casebook::stats::latency::histogram();
        let mut books = StreamBooks { letters: Vec::new(), counts: Vec::new(), timeouts: 0, age_us };
        let rss_start = rss_bytes().unwrap_or(0);
        let start = Instant::now();
        let (rss_end, final_depth) = runtime.block_on(async {
            let (messages, intervals) = spec.listing.sources(spec.pace, Arc::clone(&meter), spec.capacity);
            // Tasks are left to the runtime's shutdown, as in the book; threads are joined.
            threads.extend(messages.thread.into_iter().chain(intervals.thread));
            let (mut messages, mut intervals) = (messages.stream, intervals.stream);
            let take = if spec.mode == Mode::Book { spec.pace.take } else { usize::MAX };
            let consumer = consume(&mut messages, &mut intervals, spec.pace, &meter, take, &mut books);
            match spec.mode {
                Mode::Book => consumer.await,
                Mode::Drift { run_for } => drop(tokio::time::timeout(run_for, consumer).await),
            }
            // Read while the sources, and the queue in them, are still alive.
            (rss_bytes().unwrap_or(0), meter.depth())
        });
        let elapsed = start.elapsed();
        Ok(StreamOutcome {
            spec,
            books,
            produced: meter.sent.load(Ordering::Relaxed),
            taken: meter.taken.load(Ordering::Relaxed),
            final_depth,
            rss_start,
            rss_end,
            guard_hit: meter.guard_hit.load(Ordering::Relaxed),
            elapsed,
        })
    }
}

impl Drop for Prepared {
    /// The book's program ends by leaving `trpl::run`, which drops the runtime: the producer
    /// tasks are dropped at their next await. Its producer threads would die with the
    /// process; ours are joined instead (each ends at its next send, which fails now that
    /// the consumer's streams are gone), so no thread outlives the run.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
