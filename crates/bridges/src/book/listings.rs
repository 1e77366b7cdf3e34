//! The Rust book's "interchangeable producers" listings, in our own code, with tokio and
//! tokio-stream where the book uses its `trpl` helpers (which wrap the same two crates).
//!
//! Two producers feed one consumer. The *messages* source sends ten letters, waiting 100 ms
//! and 300 ms in turn before each; the *intervals* source counts up once per millisecond for
//! ever. The consumer merges the two streams, throttles the intervals to one item per 100 ms,
//! puts a timeout on each, and takes 20 items. The book writes the intervals source as a task
//! (its listing 17-40), then as an OS thread (17-41) and says the stream is the same; its
//! next listing (17-42) has a thread send over an async channel to an async consumer.
//!
//! The book also says that, thanks to the throttle, the extra intervals are never produced.
//! That is not so (rust-lang/book issue 4488): the throttle slows how often the *consumer*
//! polls the channel, not the producer, which runs on its own task or thread and keeps
//! sending every millisecond into an unbounded channel. The bounded forms at the end are the
//! fix: a sender that waits for room is paced by its consumer.
//!
//! Our code adds only instrumentation: each interval carries the instant it was made (so the
//! consumer can see how old it is), and the producer counts what it sent into a [`Meter`]
//! (so the run can see the queue) and stops if the queue reaches the memory guard.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_stream::{
    Stream,
    wrappers::{ReceiverStream, UnboundedReceiverStream},
};

/// The letters the messages source sends, in order.
pub const LETTERS: [char; 10] = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];

/// The example's timings. The book's are [`Pace::book`]; `--quick` divides the consumer's
/// and the messages source's timings so a run takes a fifth of the time (the intervals
/// source stays at 1 ms: tokio's timer cannot go finer).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pace {
    /// How often the intervals source counts.
    pub interval: Duration,
    /// The consumer's throttle on the intervals stream.
    pub throttle: Duration,
    /// The messages source waits the first, then the second, then the first... before each letter.
    pub message_gaps: [Duration; 2],
    pub message_timeout: Duration,
    pub interval_timeout: Duration,
    /// Items the consumer takes before it stops (`take(20)` in the book).
    pub take: usize,
    /// Zero-filled bytes each interval carries besides its count: 0 is the book's plain
    /// number; more stands for a real message, to show what the unbounded queue costs in memory.
    pub payload_bytes: usize,
}

impl Pace {
    // ANCHOR: book_pace
    pub fn book() -> Self {
        let ms = Duration::from_millis;
        Pace {
            interval: ms(1),
            throttle: ms(100),
            message_gaps: [ms(100), ms(300)],
            message_timeout: ms(200),
            interval_timeout: Duration::from_secs(10),
            take: 20,
            payload_bytes: 0,
        }
    }
    // ANCHOR_END: book_pace

    /// The book's pace with the consumer and the messages source `divisor` times faster.
    pub fn faster(divisor: u32) -> Self {
        let book = Pace::book();
        Pace {
            throttle: book.throttle / divisor,
            message_gaps: book.message_gaps.map(|g| g / divisor),
            message_timeout: book.message_timeout / divisor,
            ..book
        }
    }

    fn message_gap(&self, index: usize) -> Duration {
        self.message_gaps[index % 2]
    }
}

/// One item of the intervals source.
#[derive(Clone, Debug)]
pub struct Tick {
    pub count: u32,
    /// Instrumentation: when the producer made it.
    pub made: Instant,
    pub payload: Vec<u8>,
}

/// Instrumentation shared by an intervals producer and the run that watches it.
#[derive(Debug, Default)]
pub struct Meter {
    pub sent: AtomicU64,
    pub taken: AtomicU64,
    /// Queue depth (sent minus taken) at which the producer stops: the memory guard.
    pub limit: u64,
    pub guard_hit: AtomicBool,
    pub payload_bytes: usize,
}

impl Meter {
    pub fn new(limit: u64, payload_bytes: usize) -> Arc<Self> {
        Arc::new(Meter { limit: limit.max(1), payload_bytes, ..Meter::default() })
    }

    fn tick(&self, count: u32) -> Tick {
        Tick { count, made: Instant::now(), payload: vec![0; self.payload_bytes] }
    }

    /// Counts one sent item; false once the queue has reached the guard.
    fn sent_one(&self) -> bool {
        let sent = self.sent.fetch_add(1, Ordering::Relaxed) + 1;
        if sent.saturating_sub(self.taken.load(Ordering::Relaxed)) >= self.limit {
            self.guard_hit.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    pub fn depth(&self) -> u64 {
        self.sent.load(Ordering::Relaxed).saturating_sub(self.taken.load(Ordering::Relaxed))
    }
}

/// A source as the consumer sees it, and the thread that feeds it if it is one, for the run
/// to join once the consumer is done (a task is left to the runtime's shutdown).
pub struct Source<T> {
    pub stream: std::pin::Pin<Box<dyn Stream<Item = T> + Send>>,
    pub thread: Option<thread::JoinHandle<()>>,
}

impl<T> Source<T> {
    fn new(stream: impl Stream<Item = T> + Send + 'static, thread: Option<thread::JoinHandle<()>>) -> Self {
        Source { stream: Box::pin(stream), thread }
    }
}

// ANCHOR: messages_task
/// The messages source as a task (listing 17-40's `get_messages`).
pub fn messages_task(pace: Pace) -> Source<char> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for (index, letter) in LETTERS.into_iter().enumerate() {
            tokio::time::sleep(pace.message_gap(index)).await;
            if tx.send(letter).is_err() {
                break;
            }
        }
    });
    Source::new(UnboundedReceiverStream::new(rx), None)
}
// ANCHOR_END: messages_task

// ANCHOR: intervals_task
/// The intervals source as a task with tokio's timer (listing 17-40's `get_intervals`).
pub fn intervals_task(pace: Pace, meter: Arc<Meter>) -> Source<Tick> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut count = 0;
        loop {
            tokio::time::sleep(pace.interval).await;
            count += 1;
            if tx.send(meter.tick(count)).is_err() || !meter.sent_one() {
                break;
            }
        }
    });
    Source::new(UnboundedReceiverStream::new(rx), None)
}
// ANCHOR_END: intervals_task

// ANCHOR: intervals_thread
/// The same source as an OS thread with the standard library's sleep (listing 17-41). The
/// channel is still tokio's: its unbounded `send` does not block, so a thread may call it.
pub fn intervals_thread(pace: Pace, meter: Arc<Meter>) -> Source<Tick> {
    let (tx, rx) = mpsc::unbounded_channel();
    let worker = thread::spawn(move || {
        let mut count = 0;
        loop {
            thread::sleep(pace.interval);
            count += 1;
            if tx.send(meter.tick(count)).is_err() || !meter.sent_one() {
                break;
            }
        }
    });
    Source::new(UnboundedReceiverStream::new(rx), Some(worker))
}
// ANCHOR_END: intervals_thread

// ANCHOR: messages_thread
/// The messages source as a thread doing blocking work and sending over an async channel to
/// the async consumer: listing 17-42's shape, "threads for blocking operations, async
/// channels for coordination".
pub fn messages_thread(pace: Pace) -> Source<char> {
    let (tx, rx) = mpsc::unbounded_channel();
    let worker = thread::spawn(move || {
        for (index, letter) in LETTERS.into_iter().enumerate() {
            thread::sleep(pace.message_gap(index));
            if tx.send(letter).is_err() {
                break;
            }
        }
    });
    Source::new(UnboundedReceiverStream::new(rx), Some(worker))
}
// ANCHOR_END: messages_thread

// ANCHOR: intervals_task_bounded
/// The fix, as a task: a bounded channel, and a `send` that waits for room. The consumer's
/// throttle now paces the producer, and the queue never holds more than `capacity`.
pub fn intervals_task_bounded(pace: Pace, meter: Arc<Meter>, capacity: usize) -> Source<Tick> {
    let (tx, rx) = mpsc::channel(capacity);
    tokio::spawn(async move {
        let mut count = 0;
        loop {
            tokio::time::sleep(pace.interval).await;
            count += 1;
            if tx.send(meter.tick(count)).await.is_err() || !meter.sent_one() {
                break;
            }
        }
    });
    Source::new(ReceiverStream::new(rx), None)
}
// ANCHOR_END: intervals_task_bounded

// ANCHOR: intervals_thread_bounded
/// The fix, as a thread: `blocking_send` parks the thread until the consumer makes room.
pub fn intervals_thread_bounded(pace: Pace, meter: Arc<Meter>, capacity: usize) -> Source<Tick> {
    let (tx, rx) = mpsc::channel(capacity);
    let worker = thread::spawn(move || {
        let mut count = 0;
        loop {
            thread::sleep(pace.interval);
            count += 1;
            if tx.blocking_send(meter.tick(count)).is_err() || !meter.sent_one() {
                break;
            }
        }
    });
    Source::new(ReceiverStream::new(rx), Some(worker))
}
// ANCHOR_END: intervals_thread_bounded
