//! The server side's books, kept by the front end and every data layer alike: the wait for a
//! connection, errors by kind, retries and batches. And the retry itself, the same for all.
//!
//! The wait for a connection is recorded on every request, from every thread that serves
//! one, inside the measured window. One histogram behind one lock would make that bookkeeping
//! a lock the threads under test contend for, so each recording thread keeps a shard of its
//! own (a lock only it takes until the load is over), and the shards are merged once, in
//! [`ServerBooks::tally`], after the window.

use std::{
    cell::RefCell,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use hdrhistogram::Histogram;

use crate::{store::fault::Fault, workload::protocol::ErrorKind};

/// How often a request that lost its connection is tried again, on a fresh one.
pub const RETRIES: u32 = 2;

/// A duration in whole µs, at least 1 (the histogram's floor).
pub fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, 3_600_000_000)
}

/// What the server side counts while it serves.
#[derive(Debug, Default)]
pub struct ServerBooks {
    /// Time from a request's arrival at the data layer to the moment it had a connection (or
    /// a worker, or a batch slot), in µs.
    pool_wait: Shards,
    errors: [AtomicU64; ErrorKind::ALL.len()],
    retries: AtomicU64,
    batches: AtomicU64,
    batched: AtomicU64,
    cut: AtomicU64,
    first_error: Mutex<Option<String>>,
}

type Shard = Arc<Mutex<Histogram<u64>>>;

/// A histogram kept in one shard per recording thread.
#[derive(Debug)]
struct Shards {
    /// Tells these shards from any other books' a thread has recorded into (tests run several
    /// servers in one process); never reused, unlike an address.
    id: u64,
    all: Mutex<Vec<Shard>>,
}

thread_local! {
    /// This thread's shards, each with the id of the books it belongs to: nearly always one.
    static SHARDS: RefCell<Vec<(u64, Shard)>> = const { RefCell::new(Vec::new()) };
}

impl Default for Shards {
    fn default() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Shards { id: NEXT.fetch_add(1, Ordering::Relaxed), all: Mutex::default() }
    }
}

impl Shards {
    fn record(&self, value: u64) {
        SHARDS.with_borrow_mut(|mine| {
            let at = match mine.iter().position(|(id, _)| *id == self.id) {
                Some(at) => at,
                None => {
                    // This thread's first record here: the one time it takes the shared lock.
                    // Shards of books that are gone (only this thread holds them) go.
                    mine.retain(|(_, shard)| Arc::strong_count(shard) > 1);
                    let shard = Arc::new(Mutex::new(casebook::stats::latency::histogram()));
                    self.all.lock().expect("books lock").push(Arc::clone(&shard));
                    mine.push((self.id, shard));
                    mine.len() - 1
                }
            };
            let _ = mine[at].1.lock().expect("shard lock").record(value);
        });
    }

    fn merged(&self) -> Histogram<u64> {
        let mut merged = casebook::stats::latency::histogram();
        for shard in self.all.lock().expect("books lock").iter() {
            let _ = merged.add(&*shard.lock().expect("shard lock"));
        }
        merged
    }
}

/// A summary of the server's books, for the report.
#[derive(Clone, Debug, Default)]
pub struct ServerTally {
    pub pool_wait: Option<Histogram<u64>>,
    pub errors: Vec<(ErrorKind, u64)>,
    pub retries: u64,
    pub batches: u64,
    pub batched: u64,
    /// Clients cut off for sending nothing, or reading nothing, for the client timeout.
    pub cut: u64,
    pub first_error: Option<String>,
}

impl ServerBooks {
    /// Records a wait for a connection, in this thread's shard. Only long-lived threads call
    /// it (the runtime's workers, a thread pool's workers): a thread per request hands its wait
    /// back to the async side, or every request would cost a histogram.
    pub fn waited(&self, d: Duration) {
        self.pool_wait.record(micros(d));
    }

    pub fn failed(&self, fault: &Fault) {
        self.errors[ErrorKind::ALL.iter().position(|k| *k == fault.kind).expect("every kind is listed")]
            .fetch_add(1, Ordering::Relaxed);
        self.first_error.lock().expect("books lock").get_or_insert_with(|| fault.to_string());
    }

    /// Whether a failed attempt goes again: it lost its connection, and has been retried
    /// fewer than [`RETRIES`] times (this retry is counted).
    fn again<T>(&self, tries: &mut u32, result: &Result<T, Fault>) -> bool {
        let again = *tries < RETRIES && result.as_ref().is_err_and(Fault::is_retryable);
        if again {
            *tries += 1;
            self.retries.fetch_add(1, Ordering::Relaxed);
        }
        again
    }

    pub fn batch(&self, size: usize) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.batched.fetch_add(size as u64, Ordering::Relaxed);
    }

    pub fn cut(&self) {
        self.cut.fetch_add(1, Ordering::Relaxed);
    }

    pub fn tally(&self) -> ServerTally {
        let pool_wait = self.pool_wait.merged();
        ServerTally {
            pool_wait: (!pool_wait.is_empty()).then_some(pool_wait),
            errors: ErrorKind::ALL
                .iter()
                .zip(&self.errors)
                .map(|(k, n)| (*k, n.load(Ordering::Relaxed)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            retries: self.retries.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            batched: self.batched.load(Ordering::Relaxed),
            cut: self.cut.load(Ordering::Relaxed),
            first_error: self.first_error.lock().expect("books lock").clone(),
        }
    }
}

/// Runs `attempt` again, up to [`RETRIES`] times, when it lost its connection.
pub async fn with_retry<T, F, Fut>(books: &ServerBooks, mut attempt: F) -> Result<T, Fault>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Fault>>,
{
    let mut tries = 0;
    loop {
        let result = attempt().await;
        if !books.again(&mut tries, &result) {
            return result;
        }
    }
}

/// [`with_retry`] on a thread.
pub fn retry<T>(books: &ServerBooks, mut attempt: impl FnMut() -> Result<T, Fault>) -> Result<T, Fault> {
    let mut tries = 0;
    loop {
        let result = attempt();
        if !books.again(&mut tries, &result) {
            return result;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wait_from_every_thread_is_in_the_merged_histogram() {
        let (books, other) = (ServerBooks::default(), ServerBooks::default());
        std::thread::scope(|s| {
            for t in 0..8u64 {
                let (books, other) = (&books, &other);
                s.spawn(move || {
                    for n in 0..1_000 {
                        books.waited(Duration::from_micros(1 + t * 1_000 + n));
                        // A thread that records into two books keeps them apart.
                        if n % 10 == 0 {
                            other.waited(Duration::from_micros(5));
                        }
                    }
                });
            }
        });
        let waits = books.tally().pool_wait.expect("waits were recorded");
        assert_eq!((waits.len(), waits.min(), waits.max()), (8_000, 1, waits.highest_equivalent(8_000)));
        assert_eq!(other.tally().pool_wait.expect("waits were recorded").len(), 800);
        // One shard per thread, not one per switch between the books.
        assert_eq!(books.pool_wait.all.lock().unwrap().len(), 8);
    }
}
