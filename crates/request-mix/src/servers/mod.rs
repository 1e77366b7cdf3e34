//! The server under test, in every model: what each variant is handed, the books every
//! variant keeps the same way (connections, replies, clients that left mid-request,
//! downstream calls that timed out), and the handle the run drives it by.
//!
//! Every variant does the same thing per request: read it, compute its CPU part, call the
//! downstream service (with a timeout), reply. What differs is where each part runs: the
//! variants are in [`threads`] (a thread per connection, a fixed pool) and [`tasks`] (tokio
//! with the CPU inline, in `spawn_blocking`, on rayon; a runtime per core).

pub mod blocking;
pub mod pool;
pub mod tasks;
pub mod threads;

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

/// What every variant is handed.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    pub downstream: SocketAddr,
    /// The cores the variant sizes itself to: runtime workers, rayon threads, runtimes per core.
    pub cores: usize,
    /// The fixed pool's threads (`thread-pool` only).
    pub pool_threads: usize,
    /// How long a downstream call may take before the request is answered with a 504.
    pub downstream_timeout: Duration,
    /// Connections held at once; any beyond are closed at once and counted as refused.
    pub max_connections: u64,
}

/// The counters every variant keeps.
#[derive(Debug, Default)]
pub struct Books {
    accepted: AtomicU64,
    refused: AtomicU64,
    open: AtomicU64,
    /// Connections ready to serve: accepted, and (where the model has one per connection)
    /// with their downstream connection open.
    ready: AtomicU64,
    served: AtomicU64,
    cut_off: AtomicU64,
    downstream_timeouts: AtomicU64,
    downstream_errors: AtomicU64,
}

/// The books at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub accepted: u64,
    pub refused: u64,
    /// Replies written.
    pub served: u64,
    /// Connections that ended with a request half read, or whose reply could not be written.
    pub cut_off: u64,
    pub downstream_timeouts: u64,
    pub downstream_errors: u64,
}

impl Books {
    /// Takes a new connection in, or refuses it (counted) when `max` are already open. The
    /// connection stays open, in the books, until the returned guard is dropped.
    pub fn admit(self: &Arc<Self>, max: u64) -> Option<Admitted> {
        if self.open.fetch_add(1, Relaxed) >= max {
            self.open.fetch_sub(1, Relaxed);
            self.refused.fetch_add(1, Relaxed);
            return None;
        }
        self.accepted.fetch_add(1, Relaxed);
        Some(Admitted(Arc::clone(self)))
    }

    /// A connection admitted but then not served after all (no thread for it): moved from
    /// accepted to refused.
    pub fn refuse_admitted(&self) {
        self.accepted.fetch_sub(1, Relaxed);
        self.refused.fetch_add(1, Relaxed);
    }

    pub fn ready(&self) {
        self.ready.fetch_add(1, Relaxed);
    }
    pub fn served(&self) {
        self.served.fetch_add(1, Relaxed);
    }
    pub fn cut_off(&self) {
        self.cut_off.fetch_add(1, Relaxed);
    }
    pub fn downstream_timeout(&self) {
        self.downstream_timeouts.fetch_add(1, Relaxed);
    }
    pub fn downstream_error(&self) {
        self.downstream_errors.fetch_add(1, Relaxed);
    }

    pub fn tally(&self) -> Tally {
        Tally {
            accepted: self.accepted.load(Relaxed),
            refused: self.refused.load(Relaxed),
            served: self.served.load(Relaxed),
            cut_off: self.cut_off.load(Relaxed),
            downstream_timeouts: self.downstream_timeouts.load(Relaxed),
            downstream_errors: self.downstream_errors.load(Relaxed),
        }
    }
}

/// An open connection, in the books until dropped.
#[derive(Debug)]
pub struct Admitted(Arc<Books>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Relaxed);
    }
}

/// A started server, whatever its model.
pub struct Server {
    addr: SocketAddr,
    books: Arc<Books>,
    stop: Option<Box<dyn FnOnce() + Send>>,
    threads: Vec<JoinHandle<()>>,
}

impl Server {
    /// `stop` asks the variant's accept loops to end; `threads` are joined after it.
    pub fn new(
        addr: SocketAddr,
        books: Arc<Books>,
        stop: impl FnOnce() + Send + 'static,
        threads: Vec<JoinHandle<()>>,
    ) -> Server {
        Server { addr, books, stop: Some(Box::new(stop)), threads }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn tally(&self) -> Tally {
        self.books.tally()
    }

    /// Waits until `connections` have been accepted and made ready, or refused; false if
    /// that took longer than `within`.
    pub fn wait_ready(&self, connections: u64, within: Duration) -> bool {
        let until = Instant::now() + within;
        let b = &self.books;
        while b.ready.load(Relaxed) + b.refused.load(Relaxed) < connections {
            if Instant::now() > until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        true
    }

    /// Waits until `connections` have come (accepted or refused) and every one has closed:
    /// the clients are done.
    pub fn wait_idle(&self, connections: u64) {
        let b = &self.books;
        while b.accepted.load(Relaxed) + b.refused.load(Relaxed) < connections || b.open.load(Relaxed) > 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Stops the variant and returns its books.
    pub fn shutdown(mut self) -> Tally {
        self.halt();
        self.books.tally()
    }

    fn halt(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop();
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.halt();
    }
}

/// A listener on a free loopback port, for the variants with one accept loop.
pub fn listen() -> std::io::Result<std::net::TcpListener> {
    crate::service::protocol::listener(([127, 0, 0, 1], 0).into(), false)
}
