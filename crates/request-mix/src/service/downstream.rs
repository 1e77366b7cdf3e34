//! The downstream service every request calls: a real loopback server in a process of its
//! own (the run's second load generator), answering each call after the wait the call asks
//! for. It must hold thousands of waits at once and cheaply, and keep them to the
//! microsecond: tokio's timers tick in whole milliseconds, which would turn a 900 µs wait
//! into one of 1 to 2 ms. So sockets are read by a current-thread runtime, and every pending
//! answer goes on one heap, released by a clock thread that sleeps with its timer slack cut
//! to a microsecond. How late each answer left is recorded, so a reader sees how well the
//! waits were kept while the server under test fought for the same cores.

use std::{
    cmp::Reverse,
    collections::BinaryHeap,
    io::Write,
    net::{SocketAddr, TcpStream},
    sync::{
        Arc, Condvar, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use anyhow::Context;
use casebook::stats::latency;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::{io::AsyncReadExt, sync::oneshot};

use crate::service::protocol::{self, CALL_LEN};

/// How the downstream behaves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DownstreamSpec {
    /// Answer only this many calls, then stop answering (and keep reading): a downstream
    /// that hangs, for the server's timeouts to deal with.
    pub answer_first: Option<u64>,
}

/// What the downstream did over its life.
#[derive(Debug)]
pub struct DownstreamReport {
    pub connections: u64,
    pub answered: u64,
    /// Calls read and never answered (`answer_first`), or whose answer could not be written.
    pub unanswered: u64,
    /// How long after its due time each answer was written, in µs.
    pub late: Histogram<u64>,
}

/// One pending answer, ordered by when it is due.
struct Pending {
    due: Instant,
    seq: u64,
    id: u64,
    to: Arc<TcpStream>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

#[derive(Default)]
struct Clock {
    heap: Mutex<BinaryHeap<Reverse<Pending>>>,
    changed: Condvar,
    stop: AtomicBool,
    seq: AtomicU64,
    calls: AtomicU64,
    answered: AtomicU64,
    unanswered: AtomicU64,
    connections: AtomicU64,
}

/// The running service.
pub struct Downstream {
    addr: SocketAddr,
    clock: Arc<Clock>,
    stop_io: Option<oneshot::Sender<()>>,
    io: Option<JoinHandle<()>>,
    timer: Option<JoinHandle<Histogram<u64>>>,
}

impl Downstream {
    /// Listens on a free loopback port and starts answering at once.
    pub fn start(spec: DownstreamSpec) -> anyhow::Result<Downstream> {
        let listener = protocol::listener(([127, 0, 0, 1], 0).into(), false).context("downstream: cannot listen")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let clock = Arc::new(Clock::default());
        let (stop_io, stopped) = oneshot::channel();
        let io = {
            let clock = Arc::clone(&clock);
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            std::thread::Builder::new()
                .name("downstream-io".into())
                .spawn(move || runtime.block_on(serve(listener, clock, spec, stopped)))?
        };
        let timer = {
            let clock = Arc::clone(&clock);
            std::thread::Builder::new().name("downstream-clock".into()).spawn(move || release(&clock))?
        };
        Ok(Downstream { addr, clock, stop_io: Some(stop_io), io: Some(io), timer: Some(timer) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops reading and answering; what it did.
    pub fn stop(mut self) -> DownstreamReport {
        let late = self.halt().unwrap_or_else(latency::histogram);
        let clock = &self.clock;
        let pending = clock.heap.lock().unwrap_or_else(PoisonError::into_inner).len() as u64;
        DownstreamReport {
            connections: clock.connections.load(Ordering::Relaxed),
            answered: clock.answered.load(Ordering::Relaxed),
            unanswered: clock.unanswered.load(Ordering::Relaxed) + pending,
            late,
        }
    }

    fn halt(&mut self) -> Option<Histogram<u64>> {
        if let Some(stop) = self.stop_io.take() {
            let _ = stop.send(());
        }
        if let Some(io) = self.io.take() {
            let _ = io.join();
        }
        self.clock.stop.store(true, Ordering::Release);
        self.clock.changed.notify_all();
        self.timer.take().and_then(|t| t.join().ok())
    }
}

impl Drop for Downstream {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Accepts connections and reads their calls until told to stop.
async fn serve(
    listener: std::net::TcpListener,
    clock: Arc<Clock>,
    spec: DownstreamSpec,
    mut stopped: oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors: let the backlog wait rather than spin.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                };
                clock.connections.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(read_calls(stream, Arc::clone(&clock), spec));
            }
        }
    }
}

// ANCHOR: read_calls
/// Reads one connection's calls and puts each answer on the clock's heap, due after the wait
/// the call asked for (answered here and now when there is none).
async fn read_calls(mut stream: tokio::net::TcpStream, clock: Arc<Clock>, spec: DownstreamSpec) {
    let _ = stream.set_nodelay(true);
    // Answers are written through a second handle on the same socket, from the clock thread.
    let Ok(writer) = socket2::SockRef::from(&stream).try_clone() else { return };
    let writer = Arc::new(TcpStream::from(writer));
    let mut call = [0u8; CALL_LEN];
    while stream.read_exact(&mut call).await.is_ok() {
        let (id, wait_us) = protocol::decode_call(&call);
        let n = clock.calls.fetch_add(1, Ordering::Relaxed);
        if spec.answer_first.is_some_and(|first| n >= first) {
            clock.unanswered.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let due = Instant::now() + Duration::from_micros(u64::from(wait_us));
        if wait_us == 0 {
            clock.answer(&writer, id);
            continue;
        }
        let seq = clock.seq.fetch_add(1, Ordering::Relaxed);
        let mut heap = clock.heap.lock().unwrap_or_else(PoisonError::into_inner);
        heap.push(Reverse(Pending { due, seq, id, to: Arc::clone(&writer) }));
        // The clock sleeps until the earliest answer: wake it only if this one is earlier.
        if heap.peek().is_some_and(|top| top.0.seq == seq) {
            clock.changed.notify_one();
        }
    }
}
// ANCHOR_END: read_calls

/// The clock thread: sleeps until the earliest pending answer is due, writes every answer
/// that is, and records how late each one left.
fn release(clock: &Clock) -> Histogram<u64> {
    // SAFETY: prctl(PR_SET_TIMERSLACK) only changes this thread's timer slack, in ns.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1000 as libc::c_ulong);
    }
    let mut late = latency::histogram();
    let mut due_now = Vec::new();
    let mut heap = clock.heap.lock().unwrap_or_else(PoisonError::into_inner);
    while !clock.stop.load(Ordering::Acquire) {
        let now = Instant::now();
        while heap.peek().is_some_and(|top| top.0.due <= now) {
            due_now.extend(heap.pop().map(|p| p.0));
        }
        if !due_now.is_empty() {
            drop(heap);
            for pending in due_now.drain(..) {
                late.saturating_record(latency::micros_between(pending.due, Instant::now()));
                clock.answer(&pending.to, pending.id);
            }
            heap = clock.heap.lock().unwrap_or_else(PoisonError::into_inner);
            continue;
        }
        heap = match heap.peek().map(|top| top.0.due.saturating_duration_since(now)) {
            Some(wait) => clock.changed.wait_timeout(heap, wait).unwrap_or_else(PoisonError::into_inner).0,
            None => clock.changed.wait(heap).unwrap_or_else(PoisonError::into_inner),
        };
    }
    late
}

impl Clock {
    /// Writes one answer. The socket is non-blocking, but a caller has at most one call
    /// outstanding per connection, so its send buffer always has room for 16 bytes; a write
    /// that fails anyway (the caller has gone) leaves the call unanswered, counted.
    fn answer(&self, to: &TcpStream, id: u64) {
        let mut to = to;
        let written = to.write(&protocol::encode_answer(id));
        let counter = if matches!(written, Ok(CALL_LEN)) { &self.answered } else { &self.unanswered };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
