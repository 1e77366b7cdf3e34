//! The server side's books, kept by the front end and every data layer alike: the wait for a
//! connection, errors by kind, retries and batches. And the retry itself, the same for all.

use std::{
    sync::{
        Mutex,
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
#[derive(Debug)]
pub struct ServerBooks {
    /// Time from a request's arrival at the data layer to the moment it had a connection (or
    /// a worker, or a batch slot), in µs.
    pool_wait: Mutex<Histogram<u64>>,
    errors: [AtomicU64; ErrorKind::ALL.len()],
    retries: AtomicU64,
    batches: AtomicU64,
    batched: AtomicU64,
    cut: AtomicU64,
    first_error: Mutex<Option<String>>,
}

impl Default for ServerBooks {
    fn default() -> Self {
        ServerBooks {
            pool_wait: Mutex::new(casebook::stats::latency::histogram()),
            errors: Default::default(),
            retries: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            batched: AtomicU64::new(0),
            cut: AtomicU64::new(0),
            first_error: Mutex::new(None),
        }
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
    pub fn waited(&self, d: Duration) {
        let _ = self.pool_wait.lock().expect("books lock").record(micros(d));
    }

    pub fn failed(&self, fault: &Fault) {
        self.errors[ErrorKind::ALL.iter().position(|k| *k == fault.kind).expect("every kind is listed")]
            .fetch_add(1, Ordering::Relaxed);
        self.first_error.lock().expect("books lock").get_or_insert_with(|| fault.to_string());
    }

    pub fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub fn batch(&self, size: usize) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.batched.fetch_add(size as u64, Ordering::Relaxed);
    }

    pub fn cut(&self) {
        self.cut.fetch_add(1, Ordering::Relaxed);
    }

    pub fn tally(&self) -> ServerTally {
        let pool_wait = self.pool_wait.lock().expect("books lock").clone();
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
        match attempt().await {
            Err(fault) if fault.is_retryable() && tries < RETRIES => {
                tries += 1;
                books.retried();
            }
            result => return result,
        }
    }
}
