//! The load generator: many clients, each on its own TCP connection, asking the server the
//! workload's questions and checking every answer.
//!
//! Two ways to offer load:
//! - **Closed loop**: N clients, each sending its next request when the last one's reply
//!   arrives, so N requests are always in flight. Latency runs from send to reply. Timing
//!   starts once every client has had a reply (and the warm-up has passed): with thousands
//!   of clients the first round is a queue forming, not the steady state.
//! - **Open loop**: requests are due at a fixed rate whatever the server does, and go out on
//!   whichever connection is free. Latency runs from when a request was *due*, so a server
//!   that falls behind is charged for the queue it causes (coordinated omission corrected).
//!
//! Every reply is checked: a read against the digest the seed says it must have, a write
//! against its own order id. A write that succeeded is remembered for the [`audit`](super::audit).
//! The generator runs on one thread (a current-thread runtime): it shares the machine with the
//! server, and the report counts its CPU apart. Its clients are tasks on that thread, and they
//! keep one tally between them (see [`drive`]).

use std::{
    cell::RefCell,
    collections::BTreeMap,
    net::SocketAddr,
    rc::Rc,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use futures::StreamExt;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::{
    io::{BufReader, BufWriter},
    net::{
        TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    task::LocalSet,
};

use crate::{
    load::audit::AckedWrite,
    server::books::micros,
    workload::{
        MAX_REQUESTS_PER_RUN, Request, Workload,
        dataset::{digest, mix64},
        protocol::{self, ErrorKind, Reply},
    },
};

/// Replies to requests below this id are folded into [`Driven::head_digest`].
pub const HEAD_REQUESTS: u64 = 128;
/// Connections opened at once while connecting; the server's backlog takes the rest in turn.
const CONNECT_AT_ONCE: usize = 128;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum LoadMode {
    Closed,
    /// Requests due at this many per second.
    Open {
        rate: f64,
    },
}

/// How much load, for how long.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadPlan {
    /// Client connections: the requests in flight in a closed loop, the most in flight in an
    /// open one.
    pub connections: usize,
    pub mode: LoadMode,
    /// Open loop: load is offered for this long, warm-up included. Closed loop: the timed
    /// window lasts this long, from when it opens.
    pub duration: Duration,
    /// Replies to requests started (or due) before this are checked but not timed; a closed
    /// loop also waits for every client's first reply.
    pub warmup: Duration,
    /// A reply later than this counts as a timeout, and its connection is given up.
    pub request_timeout: Duration,
}

/// What the load generator saw, every client's replies in one tally.
#[derive(Clone, Debug)]
pub struct Driven {
    /// µs, for requests started (closed) or due (open) after the warm-up.
    pub latency: Histogram<u64>,
    /// Correct replies within the timed window.
    pub ok_timed: u64,
    /// Every reply received, timed or not.
    pub replies: u64,
    pub errors: BTreeMap<ErrorKind, u64>,
    pub acked: Vec<AckedWrite>,
    /// The timed window.
    pub window: Duration,
    /// The first wrong or failed reply, described.
    pub first_problem: Option<String>,
    /// A digest of the correct replies to requests `0..HEAD_REQUESTS`: equal across variants
    /// that answered them all.
    pub head_digest: u64,
    /// How many of requests `0..HEAD_REQUESTS` were answered correctly.
    pub head_correct: u64,
}

impl Default for Driven {
    fn default() -> Driven {
        Driven {
            latency: casebook::stats::latency::histogram(),
            ok_timed: 0,
            replies: 0,
            errors: BTreeMap::new(),
            acked: Vec::new(),
            window: Duration::ZERO,
            first_problem: None,
            head_digest: 0,
            head_correct: 0,
        }
    }
}

impl Driven {
    pub fn requests_per_s(&self) -> f64 {
        self.ok_timed as f64 / self.window.as_secs_f64().max(1e-9)
    }

    /// Whether every one of requests `0..HEAD_REQUESTS` was answered correctly (if not, the
    /// head digest says nothing).
    pub fn head_complete(&self) -> bool {
        self.head_correct == HEAD_REQUESTS
    }

    fn error(&mut self, kind: ErrorKind, what: impl FnOnce() -> String) {
        *self.errors.entry(kind).or_default() += 1;
        if self.first_problem.is_none() {
            self.first_problem = Some(what());
        }
    }

    /// Checks a reply against what the seed says; `timed` with its latency if in the window.
    fn reply(&mut self, workload: &Workload, id: u64, request: &Request, reply: Reply, timed: Option<Duration>) {
        self.replies += 1;
        let digest = match reply.result {
            Ok(digest) => digest,
            Err(kind) => return self.error(kind, || format!("request {id} ({request:?}): the server replied {kind}")),
        };
        let expected = workload.expected(request);
        if digest != expected {
            return self.error(ErrorKind::Mismatch, || {
                format!("request {id} ({request:?}): digest {digest:016x}, the seed says {expected:016x}")
            });
        }
        if let Request::Write { order_id, account, amount, .. } = *request {
            self.acked.push(AckedWrite { order_id, account, amount });
        }
        if id < HEAD_REQUESTS {
            // A write's digest names its order id, which is the run's own: fold in what every
            // run shares instead.
            let shared = if let Request::Write { .. } = request { digest::write(id as i64) } else { digest };
            self.head_digest ^= mix64(id ^ shared.rotate_left(17));
            self.head_correct += 1;
        }
        if let Some(latency) = timed {
            self.ok_timed += 1;
            let _ = self.latency.record(micros(latency));
        }
    }
}

/// The tally the clients on the generator's thread share: they never hold it across an
/// `.await`, so a `RefCell` is all the guarding it needs.
type Tally = Rc<RefCell<Driven>>;

/// One client connection.
struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: BufWriter<OwnedWriteHalf>,
    frame: Vec<u8>,
    out: Vec<u8>,
}

impl Client {
    fn new(stream: TcpStream) -> Client {
        let (reader, writer) = stream.into_split();
        Client {
            reader: BufReader::with_capacity(protocol::CONNECTION_BUFFER, reader),
            writer: BufWriter::with_capacity(protocol::CONNECTION_BUFFER, writer),
            frame: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Asks request `id` and checks the reply, its latency timed from `timed_from` if it is in
    /// the window. False when the connection's state is unknown: after a transport error or a
    /// timeout.
    async fn exchange(&mut self, shared: &Shared, tally: &Tally, id: u64, timed_from: Option<Instant>) -> bool {
        let (request, timeout) = (shared.workload.request(id), shared.plan.request_timeout);
        self.out.clear();
        protocol::encode_request(id, &request, &mut self.out);
        let exchange = async {
            protocol::write_frame(&mut self.writer, &self.out).await?;
            if !protocol::read_frame(&mut self.reader, &mut self.frame).await? {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the server hung up"));
            }
            protocol::decode_reply(&self.frame)
        };
        let (kind, what) = match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(reply)) if reply.id == id => {
                let timed = timed_from.map(|t| t.elapsed());
                tally.borrow_mut().reply(&shared.workload, id, &request, reply, timed);
                return true;
            }
            Ok(Ok(reply)) => (ErrorKind::Transport, format!("reply for request {} to request {id}", reply.id)),
            Ok(Err(e)) => (ErrorKind::Transport, format!("request {id}: {e}")),
            Err(_) => (ErrorKind::Timeout, format!("request {id}: no reply within {timeout:?}")),
        };
        tally.borrow_mut().error(kind, || what);
        false
    }
}

/// What every client of one run shares.
struct Shared {
    workload: Workload,
    plan: LoadPlan,
    start: Instant,
    next: AtomicU64,
    /// Clients that have had a reply, or given up.
    warm: AtomicUsize,
    /// The timed window, `[opens, closes)`, once it is known.
    window: OnceLock<(Instant, Instant)>,
}

impl Shared {
    fn new(workload: Workload, plan: LoadPlan) -> Shared {
        let (start, window) = (Instant::now(), OnceLock::new());
        if let LoadMode::Open { .. } = plan.mode {
            let _ = window.set((start + plan.warmup, start + plan.duration));
        }
        Shared { workload, plan, start, next: AtomicU64::new(0), warm: AtomicUsize::new(0), window }
    }

    /// The timed window, opening it if every client is warm (or has waited long enough).
    fn window(&self, now: Instant) -> Option<(Instant, Instant)> {
        if let Some(window) = self.window.get() {
            return Some(*window);
        }
        let warmed_up = now >= self.start + self.plan.warmup;
        let all_warm = self.warm.load(Ordering::Acquire) >= self.plan.connections;
        let waited_too_long = now >= self.start + self.plan.warmup + self.plan.request_timeout;
        (warmed_up && (all_warm || waited_too_long))
            .then(|| *self.window.get_or_init(|| (now, now + self.plan.duration)))
    }

    /// The instant after which no request may still be queued (open loop).
    fn give_up(&self) -> Instant {
        self.start + self.plan.duration + self.plan.request_timeout
    }
}

// ANCHOR: closed_loop
async fn closed_client(mut client: Client, shared: Arc<Shared>, tally: Tally) {
    let mut warm = false;
    loop {
        let started = Instant::now();
        let window = shared.window(started);
        if window.is_some_and(|(_, closes)| started >= closes) {
            break;
        }
        let id = shared.next.fetch_add(1, Ordering::Relaxed);
        if id >= MAX_REQUESTS_PER_RUN {
            break;
        }
        let timed = window.is_some_and(|(opens, _)| started >= opens).then_some(started);
        let open = client.exchange(&shared, &tally, id, timed).await;
        if !warm {
            warm = true;
            shared.warm.fetch_add(1, Ordering::AcqRel);
        }
        if !open {
            break;
        }
    }
}
// ANCHOR_END: closed_loop

// ANCHOR: open_loop
async fn open_client(mut client: Client, shared: Arc<Shared>, tally: Tally, due: flume::Receiver<(u64, Instant)>) {
    let (opens, _) = shared.window(shared.start).expect("an open loop's window is fixed");
    let give_up = shared.give_up();
    while let Ok((id, due_at)) = due.recv_async().await {
        if Instant::now() > give_up {
            tally.borrow_mut().error(ErrorKind::Timeout, || format!("request {id}: still queued when the run ended"));
            continue;
        }
        // Timed from when it was due, not when a connection came free to send it.
        if !client.exchange(&shared, &tally, id, (due_at >= opens).then_some(due_at)).await {
            break;
        }
    }
}

/// Issues request ids at `rate` per second until the run ends, each with the instant it was
/// due, however far behind the clients are.
async fn schedule(shared: Arc<Shared>, rate: f64, due: flume::Sender<(u64, Instant)>) {
    for id in 0..MAX_REQUESTS_PER_RUN {
        let due_at = shared.start + Duration::from_secs_f64(id as f64 / rate);
        if due_at >= shared.start + shared.plan.duration {
            break;
        }
        tokio::time::sleep_until(due_at.into()).await;
        if due.send((id, due_at)).is_err() {
            break;
        }
    }
}
// ANCHOR_END: open_loop

/// Opens `n` client connections to `addr`.
pub async fn connect(addr: SocketAddr, n: usize) -> anyhow::Result<Vec<TcpStream>> {
    futures::stream::iter(0..n)
        .map(|_| async move {
            let stream = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(addr))
                .await
                .context("connecting took over 10 s")??;
            stream.set_nodelay(true)?;
            anyhow::Ok(stream)
        })
        .buffer_unordered(CONNECT_AT_ONCE)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()
        .with_context(|| format!("cannot open {n} connections to the server at {addr}"))
}

/// Offers the load on `streams` and collects what came back.
///
/// The clients are tasks on this one thread, sharing one tally: one latency histogram for the
/// run, not one per client (each is about 184 KiB, so 4,096 clients would hold some 750 MiB
/// of them), and nothing to merge while other clients are still being timed.
pub async fn drive(streams: Vec<TcpStream>, workload: Workload, plan: LoadPlan) -> Driven {
    let shared = Arc::new(Shared::new(workload, plan));
    let tally = Tally::default();
    let clients = LocalSet::new();
    // Open loop: the ids due, which every client takes from; a closed loop leaves it empty.
    let (due, queued) = flume::unbounded();
    let running: Vec<_> = streams
        .into_iter()
        .map(|stream| {
            let (client, shared, tally) = (Client::new(stream), Arc::clone(&shared), Rc::clone(&tally));
            match plan.mode {
                LoadMode::Closed => clients.spawn_local(closed_client(client, shared, tally)),
                LoadMode::Open { .. } => clients.spawn_local(open_client(client, shared, tally, queued.clone())),
            }
        })
        .collect();
    if let LoadMode::Open { rate } = plan.mode {
        tokio::spawn(schedule(Arc::clone(&shared), rate, due));
    }
    clients
        .run_until(async {
            for client in running {
                client.await.expect("a client task panicked");
            }
        })
        .await;
    let mut tally = tally.take();
    // Requests still queued when every client had given up were never sent.
    for (id, _) in queued.drain() {
        tally.error(ErrorKind::Timeout, || format!("request {id}: never sent, no connection left"));
    }
    tally.window =
        shared.window.get().map_or(Duration::ZERO, |(opens, closes)| closes.saturating_duration_since(*opens));
    tally
}
