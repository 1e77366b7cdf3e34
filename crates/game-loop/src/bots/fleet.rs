//! The bots: the load generator's body. Each bot is a client with its own socket that sends
//! an input 30 times a second and reads every snapshot, measuring what a player would feel:
//! the time from sending input `s` to the first snapshot acknowledging `s`, how evenly
//! snapshots arrive, and which ticks never arrived.
//!
//! Thousands of bots must cost the machine as little as possible, since on 2 cores they
//! compete with the server they measure. So no thread or task per bot: a few threads each
//! drive a group of bots with one `epoll` set (mio), sending on a precomputed schedule that
//! spreads every bot's inputs evenly over the 33 ms period, and reading only sockets the
//! kernel says are readable. Their CPU time is measured per thread and reported apart.

use std::{
    collections::{HashSet, VecDeque},
    io::ErrorKind,
    net::SocketAddr,
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use anyhow::Context;
use mio::{Events, Interest, Poll, Token};
use serde::{Deserialize, Serialize};

use crate::{
    bots::{
        bot::{Bot, BotReport, Io, Role, Track, connect},
        flood::flood,
    },
    net::{
        protocol::Transport,
        sockets::{udp_drops, udp_socket},
    },
};

/// The longest bots keep reading after the stop, for snapshots still in flight.
pub const DRAIN: Duration = Duration::from_millis(100);
/// The drain ends sooner, once a bot thread's sockets have been quiet this long: the stop
/// comes after the server has finished and flushed, so what is left is already queued at the
/// bots' sockets, and each live run would otherwise idle the whole [`DRAIN`].
pub const DRAIN_QUIET: Duration = Duration::from_millis(10);
/// The longest a bot thread sleeps in `epoll_wait` before looking at the stop flag again.
const MAX_WAIT: Duration = Duration::from_millis(5);

/// What the load generator is asked to do.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BotSpec {
    pub server: SocketAddr,
    pub transport: Transport,
    pub clients: u32,
    pub input_hz: u32,
    /// Threads driving the bots.
    pub threads: usize,
    /// Bots that go silent, without a goodbye, `vanish_after` into the run: the last ids.
    pub vanish: u32,
    pub vanish_after: Duration,
    /// TCP bots that never read their socket (the ids just below the vanishing ones).
    pub slow: u32,
    /// Malformed datagrams per second from a flood thread (UDP servers only); 0 for none.
    pub flood_per_s: u32,
    /// How long the flood lasts from the start: shorter than the server's run, so that every
    /// malformed datagram reaches a server that is still reading.
    pub flood_for: Duration,
    pub seed: u64,
}

/// Bots connected and ready to go.
pub struct Bots {
    spec: BotSpec,
    groups: Vec<Group>,
}

struct Group {
    index: usize,
    poll: Poll,
    bots: Vec<Bot>,
    connect_failures: u32,
}

/// Opens every bot's socket (and, for TCP, connects it), spread over `spec.threads` groups.
/// Nothing is sent until [`Bots::run`].
pub fn prepare(spec: &BotSpec) -> anyhow::Result<Bots> {
    anyhow::ensure!(spec.server.ip().is_loopback(), "bots only talk to 127.0.0.1, not {}", spec.server);
    let threads = spec.threads.clamp(1, spec.clients.max(1) as usize);
    let mut groups = Vec::with_capacity(threads);
    for index in 0..threads {
        groups.push(Group {
            index,
            poll: Poll::new().context("cannot create an epoll set")?,
            bots: Vec::new(),
            connect_failures: 0,
        });
    }
    let steady_end = spec.clients.saturating_sub(spec.vanish);
    let slow_start = steady_end.saturating_sub(if spec.transport == Transport::Tcp { spec.slow } else { 0 });
    for id in 0..spec.clients {
        let role = if id >= steady_end {
            Role::Vanishing
        } else if id >= slow_start {
            Role::Slow
        } else {
            Role::Steady
        };
        let group = &mut groups[id as usize % threads];
        let mut io = match spec.transport {
            Transport::Udp => {
                let socket = udp_socket(0).context("cannot open a bot's UDP socket")?;
                socket.connect(spec.server)?;
                socket.set_nonblocking(true)?;
                Io::Udp(mio::net::UdpSocket::from_std(socket))
            }
            Transport::Tcp => match connect(spec.server, role == Role::Slow) {
                Ok(stream) => {
                    stream.set_nodelay(true)?;
                    stream.set_nonblocking(true)?;
                    Io::Tcp { stream: mio::net::TcpStream::from_std(stream), inbound: Vec::new(), outbound: Vec::new() }
                }
                Err(_) => {
                    group.connect_failures += 1;
                    continue;
                }
            },
        };
        if role != Role::Slow {
            group.poll.registry().register(io.source(), Token(group.bots.len()), Interest::READABLE)?;
        }
        let track = Track { id, role, silent: false, seq: 0, pending: VecDeque::new(), last: None };
        group.bots.push(Bot { io: Some(io), track });
    }
    Ok(Bots { spec: spec.clone(), groups })
}

impl Bots {
    /// Runs the bots until `stop` returns true (polled every millisecond on the calling
    /// thread), then lets them read until their sockets go quiet ([`DRAIN_QUIET`], at most
    /// [`DRAIN`] more), and reports.
    pub fn run(self, mut stop: impl FnMut() -> bool) -> anyhow::Result<BotReport> {
        let Bots { spec, groups } = self;
        let halt = AtomicBool::new(false);
        let go = Instant::now();
        let total = groups.len();
        std::thread::scope(|scope| {
            let (halt, spec) = (&halt, &spec);
            let flood = (spec.flood_per_s > 0).then(|| {
                scope.spawn(move || -> anyhow::Result<_> {
                    let until = go + spec.flood_for;
                    Ok((flood(spec.server, spec.flood_per_s, spec.seed ^ 0xf100d, until, halt)?, thread_cpu()))
                })
            });
            let workers: Vec<_> =
                groups.into_iter().map(|group| scope.spawn(move || group.drive(spec, go, total, halt))).collect();
            while !stop() {
                std::thread::sleep(Duration::from_millis(1));
            }
            halt.store(true, Ordering::Release);
            let parts = workers
                .into_iter()
                .map(|worker| worker.join().map_err(|_| anyhow::anyhow!("a bot thread panicked"))?)
                .collect::<anyhow::Result<Vec<_>>>()?;
            let mut report = BotReport::sum(&parts);
            if let Some(flood) = flood {
                let (counts, cpu) = flood.join().map_err(|_| anyhow::anyhow!("the flood thread panicked"))??;
                report.flood = counts;
                report.cpu += cpu;
            }
            if spec.transport == Transport::Tcp {
                report.kernel_drops = None;
            }
            Ok(report)
        })
    }
}

impl Group {
    /// One bot thread: send on schedule, read what is readable, until halted and drained.
    fn drive(mut self, spec: &BotSpec, go: Instant, groups: usize, halt: &AtomicBool) -> anyhow::Result<BotReport> {
        let mut report = BotReport {
            connect_failures: self.connect_failures,
            connected: self.bots.len() as u32,
            slow: self.bots.iter().filter(|b| b.track.role == Role::Slow).count() as u32,
            ..BotReport::default()
        };
        let period_ns = 1_000_000_000 / u64::from(spec.input_hz.max(1));
        let n = self.bots.len() as u64;
        // Bot k of this group sends at phase (k × groups + index) / (n × groups) of the
        // period: every bot of every group evenly apart.
        let index = self.index as u64;
        let due = move |round: u64, k: u64| {
            let phase = (k * groups as u64 + index) * period_ns / (n * groups as u64).max(1);
            go + Duration::from_nanos(round * period_ns + phase)
        };
        let vanish_at = go + spec.vanish_after;
        let (mut round, mut next) = (0u64, 0u64);
        let mut vanished = spec.vanish == 0;
        let mut drain_until: Option<Instant> = None;
        let mut quiet_until = go;
        let mut events = Events::with_capacity(1024);
        let mut scratch = Vec::with_capacity(64);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let now = Instant::now();
            if drain_until.is_none() && halt.load(Ordering::Acquire) {
                drain_until = Some(now + DRAIN);
                quiet_until = now + DRAIN_QUIET;
            }
            if drain_until.is_some_and(|end| now >= end.min(quiet_until)) {
                break;
            }
            if !vanished && now >= vanish_at {
                vanished = true;
                report.vanished += self.vanish();
            }
            if drain_until.is_none() && n > 0 {
                while due(round, next) <= now {
                    let bot = &mut self.bots[next as usize];
                    bot.send(spec.seed, due(round, next), &mut scratch, &mut report);
                    next += 1;
                    if next == n {
                        (round, next) = (round + 1, 0);
                    }
                }
            }
            let wake = drain_until
                .map(|end| end.min(quiet_until))
                .unwrap_or_else(|| if n > 0 { due(round, next) } else { now + MAX_WAIT });
            let wait = wake.saturating_duration_since(Instant::now()).min(MAX_WAIT);
            match self.poll.poll(&mut events, Some(wait)) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).context("epoll_wait failed"),
            }
            for event in events.iter() {
                if let Some(bot) = self.bots.get_mut(event.token().0) {
                    bot.receive(&mut buf, &mut report);
                }
            }
            if drain_until.is_some() && !events.is_empty() {
                quiet_until = Instant::now() + DRAIN_QUIET;
            }
        }
        let ports: HashSet<u16> = self
            .bots
            .iter()
            .filter_map(|b| match &b.io {
                Some(Io::Udp(socket)) => socket.local_addr().ok().map(|a| a.port()),
                _ => None,
            })
            .collect();
        report.kernel_drops = udp_drops(&ports);
        report.cpu = thread_cpu();
        Ok(report)
    }

    /// The vanishing bots stop without a goodbye: a UDP bot closes its socket, a TCP bot
    /// stops sending and reading but leaves its connection open, as a crashed client would.
    fn vanish(&mut self) -> u32 {
        let mut count = 0;
        for bot in self.bots.iter_mut().filter(|b| b.track.role == Role::Vanishing) {
            bot.track.silent = true;
            bot.track.pending.clear();
            if let Some(io) = &mut bot.io {
                let _ = self.poll.registry().deregister(io.source());
            }
            if matches!(bot.io, Some(Io::Udp(_))) {
                bot.io = None;
            }
            count += 1;
        }
        count
    }
}

/// CPU time the calling thread has used.
pub fn thread_cpu() -> Duration {
    // SAFETY: clock_gettime writes only into the timespec we own.
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec.max(0) as u64, ts.tv_nsec.clamp(0, 999_999_999) as u32)
}
