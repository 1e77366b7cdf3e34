//! One bot: its socket, what it sends, what it makes of each snapshot, and the tallies every
//! bot thread keeps. The bots' threads (in [`crate::bots::fleet`]) drive thousands of these.

use std::{
    collections::VecDeque,
    io::{ErrorKind, Read, Write},
    net::SocketAddr,
    time::{Duration, Instant},
};

use crate::{
    bots::flood::FloodCounts,
    net::protocol::{Frame, Input, MAX_MESSAGE, decode_snapshot, encode_input, frame, next_frame},
    sim::{
        clock::{Micros, PERIOD},
        replay::held_bits,
    },
};

/// What the bots measured. Only bots that stayed to the end and kept reading are in the
/// latency, jitter, loss and lateness figures.
#[derive(Clone, Debug, Default)]
pub struct BotReport {
    pub connected: u32,
    pub connect_failures: u32,
    pub inputs_sent: u64,
    pub send_failures: u64,
    pub snapshots: u64,
    /// Ticks whose snapshot never arrived, from the gaps in each bot's tick sequence.
    pub lost: u64,
    /// Snapshots that arrived more than a tick period after they were due (one period after
    /// the previous one per tick between them), or after a newer one.
    pub late: u64,
    pub out_of_order: u64,
    /// The newest tick any steady bot saw a snapshot of.
    pub newest_tick: Option<u32>,
    pub malformed: u64,
    pub wrong_client: u64,
    /// Inputs never acknowledged before the bot forgot them.
    pub unacked: u64,
    /// Send of input `s` to the first snapshot with ack ≥ `s`.
    pub latency: Micros,
    /// |actual - expected| arrival of each snapshot, expected one period per tick after the
    /// previous one.
    pub jitter: Micros,
    /// How late the bots sent inputs against their own schedule: large values mean the load
    /// generator itself could not keep up.
    pub send_lag: Micros,
    pub vanished: u32,
    pub slow: u32,
    pub flood: FloodCounts,
    /// CPU time of every bot thread and the flood thread.
    pub cpu: Duration,
    /// Datagrams the kernel dropped at the bots' own sockets (UDP only).
    pub kernel_drops: Option<u64>,
}

impl BotReport {
    /// The bot threads' reports as one; the kernel's drops only if every thread read them.
    pub fn sum(parts: &[BotReport]) -> BotReport {
        let mut total = BotReport { kernel_drops: parts.iter().map(|p| p.kernel_drops).sum(), ..Default::default() };
        for p in parts {
            macro_rules! add {
                ($($field:ident),*) => { $(total.$field += p.$field;)* };
            }
            add!(connected, connect_failures, inputs_sent, send_failures, snapshots, lost, late, out_of_order);
            add!(malformed, wrong_client, unacked, vanished, slow, cpu);
            total.newest_tick = total.newest_tick.max(p.newest_tick);
            for (sum, part) in
                [(&mut total.latency, &p.latency), (&mut total.jitter, &p.jitter), (&mut total.send_lag, &p.send_lag)]
            {
                let _ = sum.0.add(&part.0);
            }
        }
        total
    }
}

/// Inputs a bot remembers while waiting for their acknowledgement: four seconds' worth.
const MAX_PENDING: usize = 128;
/// A slow TCP bot's receive buffer.
const SLOW_RECEIVE_WINDOW: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Steady,
    Vanishing,
    Slow,
}

pub(crate) enum Io {
    Udp(mio::net::UdpSocket),
    Tcp { stream: mio::net::TcpStream, inbound: Vec<u8>, outbound: Vec<u8> },
}

impl Io {
    /// The socket, for an epoll set.
    pub(crate) fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Io::Udp(socket) => socket,
            Io::Tcp { stream, .. } => stream,
        }
    }
}

pub(crate) struct Bot {
    /// `None` once a UDP bot vanished and closed its socket.
    pub(crate) io: Option<Io>,
    pub(crate) track: Track,
}

/// What a bot remembers between datagrams.
pub(crate) struct Track {
    pub(crate) id: u32,
    pub(crate) role: Role,
    pub(crate) silent: bool,
    pub(crate) seq: u32,
    pub(crate) pending: VecDeque<(u32, Instant)>,
    /// The last snapshot's tick and arrival.
    pub(crate) last: Option<(u32, Instant)>,
}

impl Bot {
    pub(crate) fn send(&mut self, seed: u64, due: Instant, scratch: &mut Vec<u8>, report: &mut BotReport) {
        let Bot { io, track } = self;
        if track.silent {
            return;
        }
        let Some(io) = io.as_mut() else { return };
        track.seq += 1;
        let bits = held_bits(seed, track.id, track.seq);
        scratch.clear();
        encode_input(&Input { client: track.id, seq: track.seq, bits }, scratch);
        let now = Instant::now();
        let sent = match io {
            Io::Udp(socket) => socket.send(scratch).is_ok(),
            Io::Tcp { stream, outbound, .. } => {
                // Keep a few inputs' worth queued if the socket is full; beyond that, drop.
                if outbound.len() < 16 * MAX_MESSAGE {
                    frame(scratch, outbound);
                    flush(stream, outbound);
                    true
                } else {
                    false
                }
            }
        };
        report.send_lag.record(now.saturating_duration_since(due));
        if !sent {
            report.send_failures += 1;
            return;
        }
        report.inputs_sent += 1;
        if track.role == Role::Steady {
            track.pending.push_back((track.seq, now));
            if track.pending.len() > MAX_PENDING {
                track.pending.pop_front();
                report.unacked += 1;
            }
        }
    }

    pub(crate) fn receive(&mut self, buf: &mut [u8], report: &mut BotReport) {
        let Bot { io, track } = self;
        match io.as_mut() {
            Some(Io::Udp(socket)) => {
                while let Ok(len) = socket.recv(buf) {
                    track.snapshot(&buf[..len], Instant::now(), report);
                }
            }
            Some(Io::Tcp { stream, inbound, .. }) => {
                let mut closed = loop {
                    match stream.read(buf) {
                        Ok(0) => break true,
                        Ok(len) => inbound.extend_from_slice(&buf[..len]),
                        Err(e) => break e.kind() != ErrorKind::WouldBlock,
                    }
                };
                let now = Instant::now();
                let mut start = 0;
                loop {
                    match next_frame(&inbound[start..]) {
                        Frame::Whole { consumed } => {
                            track.snapshot(&inbound[start + 2..start + consumed], now, report);
                            start += consumed;
                        }
                        Frame::Partial => break,
                        Frame::Oversized => {
                            report.malformed += 1;
                            closed = true;
                            start = inbound.len();
                            break;
                        }
                    }
                }
                inbound.drain(..start);
                track.silent |= closed;
            }
            None => {}
        }
    }
}

impl Track {
    // ANCHOR: snapshot
    fn snapshot(&mut self, bytes: &[u8], now: Instant, report: &mut BotReport) {
        let Ok(view) = decode_snapshot(bytes) else {
            report.malformed += 1;
            return;
        };
        if view.head.client != self.id {
            report.wrong_client += 1;
            return;
        }
        if self.silent || self.role != Role::Steady {
            return;
        }
        report.snapshots += 1;
        let tick = view.head.tick;
        report.newest_tick = report.newest_tick.max(Some(tick));
        if let Some((last_tick, last_at)) = self.last {
            if tick <= last_tick {
                report.out_of_order += 1;
                report.late += 1;
                return;
            }
            let gap = tick - last_tick;
            report.lost += u64::from(gap - 1);
            let expected = last_at + PERIOD * gap;
            let off = if now > expected { now - expected } else { expected - now };
            report.jitter.record(off);
            if now > expected + PERIOD {
                report.late += 1;
            }
        }
        self.last = Some((tick, now));
        while let Some(&(seq, sent)) = self.pending.front() {
            if seq > view.head.ack {
                break;
            }
            report.latency.record(now.saturating_duration_since(sent));
            self.pending.pop_front();
        }
    }
    // ANCHOR_END: snapshot
}

/// A bot's TCP connection. A slow bot asks for a small receive window, as a client on a
/// poor link has, so that it pushes back on the server within a few seconds.
pub(crate) fn connect(server: SocketAddr, slow: bool) -> std::io::Result<std::net::TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
    if slow {
        socket.set_recv_buffer_size(SLOW_RECEIVE_WINDOW)?;
    }
    socket.connect_timeout(&server.into(), Duration::from_secs(5))?;
    Ok(socket.into())
}

/// Writes what it can of `outbound` without blocking.
fn flush(stream: &mut mio::net::TcpStream, outbound: &mut Vec<u8>) {
    while !outbound.is_empty()
        && let Ok(n @ 1..) = stream.write(outbound)
    {
        outbound.drain(..n);
    }
}
