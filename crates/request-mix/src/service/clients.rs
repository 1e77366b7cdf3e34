//! The clients: a load generator that opens one connection per request in flight and keeps
//! each busy (closed loop: a connection sends its next request when its last reply arrives)
//! until a fixed number of requests has been answered. A fixed count, not a fixed time, is
//! what lets every variant answer exactly the same requests, so that the run's digest, a sum
//! over request ids that does not depend on order, must come out the same for all of them.
//!
//! One thread (a current-thread runtime) drives every connection: the cheapest way to keep
//! thousands of them busy, which matters when the clients share two cores with the server.

use std::{
    cell::RefCell,
    net::SocketAddr,
    rc::Rc,
    time::{Duration, Instant},
};

use anyhow::Context;
use casebook::stats::latency;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::service::protocol::{self, REPLY_LEN, Reply, Request, Status};

/// What one run's clients do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientSpec {
    pub server: SocketAddr,
    /// Connections, each with one request in flight at a time.
    pub connections: u32,
    /// Requests to have answered over all connections.
    pub requests: u64,
    /// CPU units and downstream wait every request asks for.
    pub units: u32,
    pub wait_us: u32,
    /// The interval a connection would like between its requests (the request's budget): the
    /// expected interval of the coordinated-omission correction.
    pub budget_us: u64,
    /// Extra connections that send one request and vanish before its reply (a reset).
    #[serde(default)]
    pub vanish: u32,
    /// Extra connections that send half a request and close.
    #[serde(default)]
    pub cut: u32,
}

/// What the clients saw.
#[derive(Debug)]
pub struct ClientReport {
    pub connected: u32,
    pub connect_failures: u32,
    /// Replies with the right id and status ok.
    pub ok: u64,
    /// Replies saying the downstream timed out (504) or failed (502).
    pub timeouts: u64,
    pub errors: u64,
    /// Replies for another request, or with a status no server sends.
    pub bad: u64,
    /// Requests sent whose connection failed before the reply.
    pub lost: u64,
    /// Requests never sent, because every connection had failed.
    pub unsent: u64,
    /// Connections the server closed before answering anything (refused).
    pub closed_early: u32,
    /// Sum over ok replies of [`protocol::digest_share`].
    pub digest: u64,
    /// Send to reply, µs, coordinated omission corrected.
    pub latency: Histogram<u64>,
    /// From the go to the last reply.
    pub elapsed: Duration,
}

#[derive(Default)]
struct Tally {
    next: u64,
    ok: u64,
    timeouts: u64,
    errors: u64,
    bad: u64,
    lost: u64,
    closed_early: u32,
    digest: u64,
    last: Option<Instant>,
}

/// Connected clients, waiting for the go.
pub struct Clients {
    runtime: tokio::runtime::Runtime,
    streams: Vec<TcpStream>,
    extra: Vec<TcpStream>,
    connect_failures: u32,
    spec: ClientSpec,
}

/// Connections opened at once while connecting: deep enough to be quick, shallow enough that
/// the server's accept queue never overflows.
const CONNECT_BATCH: usize = 256;

impl Clients {
    /// Opens every connection, so that the load, when it starts, is all load.
    pub fn connect(spec: &ClientSpec) -> anyhow::Result<Clients> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let total = (spec.connections + spec.vanish + spec.cut) as usize;
        let (mut streams, mut failures) = (Vec::with_capacity(total), 0);
        runtime.block_on(async {
            while streams.len() + failures < total {
                let batch = CONNECT_BATCH.min(total - streams.len() - failures);
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..batch {
                    set.spawn(TcpStream::connect(spec.server));
                }
                while let Some(done) = set.join_next().await {
                    match done.context("a connect task failed")? {
                        Ok(stream) => {
                            stream.set_nodelay(true)?;
                            streams.push(stream);
                        }
                        Err(_) => failures += 1,
                    }
                }
            }
            anyhow::Ok(())
        })?;
        let misbehaving = ((spec.vanish + spec.cut) as usize).min(streams.len());
        let extra = streams.split_off(streams.len() - misbehaving);
        Ok(Clients { runtime, streams, extra, connect_failures: failures as u32, spec: spec.clone() })
    }

    /// Runs every connection until the requests are all answered (or every connection failed).
    pub fn run(self) -> ClientReport {
        let Clients { runtime, streams, extra, connect_failures, spec } = self;
        let connected = streams.len() as u32;
        let tally = Rc::new(RefCell::new(Tally::default()));
        let histogram = Rc::new(RefCell::new(latency::histogram()));
        let started = Instant::now();
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async {
            let mut tasks = Vec::new();
            for (i, stream) in extra.into_iter().enumerate() {
                tasks.push(tokio::task::spawn_local(misbehave(stream, i < spec.vanish as usize)));
            }
            for stream in streams {
                tasks.push(tokio::task::spawn_local(drive(
                    stream,
                    Rc::clone(&tally),
                    Rc::clone(&histogram),
                    spec.clone(),
                )));
            }
            for task in tasks {
                let _ = task.await;
            }
        });
        let t = tally.take();
        ClientReport {
            connected,
            connect_failures,
            ok: t.ok,
            timeouts: t.timeouts,
            errors: t.errors,
            bad: t.bad,
            lost: t.lost,
            unsent: spec.requests.saturating_sub(t.next),
            closed_early: t.closed_early,
            digest: t.digest,
            latency: histogram.borrow().clone(),
            elapsed: t.last.map(|l| l - started).unwrap_or_default(),
        }
    }
}

// ANCHOR: drive
/// One connection's closed loop: take the next request id, send it, wait for its reply,
/// time it, check it, fold it into the digest.
async fn drive(
    mut stream: TcpStream,
    tally: Rc<RefCell<Tally>>,
    histogram: Rc<RefCell<Histogram<u64>>>,
    spec: ClientSpec,
) {
    let mut answered_any = false;
    loop {
        let id = {
            let mut t = tally.borrow_mut();
            if t.next >= spec.requests {
                return;
            }
            t.next += 1;
            t.next - 1
        };
        let request = Request { id, units: spec.units, wait_us: spec.wait_us }.encode();
        let sent = Instant::now();
        let mut reply = [0u8; REPLY_LEN];
        let exchanged = async {
            stream.write_all(&request).await?;
            stream.read_exact(&mut reply).await
        };
        if exchanged.await.is_err() {
            let mut t = tally.borrow_mut();
            t.lost += 1;
            t.closed_early += u32::from(!answered_any);
            return;
        }
        let now = Instant::now();
        answered_any = true;
        latency::record_corrected(&mut histogram.borrow_mut(), latency::micros_between(sent, now), spec.budget_us);
        let reply = Reply::decode(&reply);
        let mut t = tally.borrow_mut();
        t.last = Some(now);
        match reply.status {
            _ if reply.id != id => t.bad += 1,
            s if s == Status::Ok as u64 => {
                t.ok += 1;
                t.digest = t.digest.wrapping_add(protocol::digest_share(&reply));
            }
            s if s == Status::DownstreamTimeout as u64 => t.timeouts += 1,
            s if s == Status::DownstreamError as u64 => t.errors += 1,
            _ => t.bad += 1,
        }
    }
}
// ANCHOR_END: drive

/// How long a vanishing client's request waits downstream: long enough that the client has
/// surely reset its connection before the server can write the reply, so that every variant
/// sees the same thing, a reply it cannot deliver.
const VANISH_WAIT_US: u32 = 20_000;

/// A client that leaves mid-request: a whole request then a reset before the reply
/// (`vanish`), or half a request then a close.
async fn misbehave(mut stream: TcpStream, vanish: bool) {
    let request = Request { id: u64::MAX, units: 0, wait_us: VANISH_WAIT_US }.encode();
    let sent = if vanish { &request[..] } else { &request[..protocol::REQUEST_LEN / 2] };
    if stream.write_all(sent).await.is_ok() && vanish {
        // Linger 0: the close sends a reset at once, the way a crashed client's kernel does.
        let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    }
}
