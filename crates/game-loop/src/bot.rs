//! One bot: its socket, what it sends, and what it makes of each snapshot. The bots'
//! threads (in [`crate::bots`]) drive thousands of these.

use std::{
    collections::VecDeque,
    io::{ErrorKind, Read, Write},
    net::SocketAddr,
    time::{Duration, Instant},
};

use crate::{
    bots::BotReport,
    clock::{PERIOD, record_micros},
    protocol::{Frame, Input, MAX_MESSAGE, decode_snapshot, encode_input, frame, next_frame},
    world::mix,
};

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
        record_micros(&mut report.send_lag, now.saturating_duration_since(due));
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
            Some(Io::Udp(socket)) => loop {
                match socket.recv(buf) {
                    Ok(len) => {
                        let now = Instant::now();
                        track.snapshot(&buf[..len], now, report);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => break,
                }
            },
            Some(Io::Tcp { stream, inbound, .. }) => {
                let mut closed = false;
                loop {
                    match stream.read(buf) {
                        Ok(0) => {
                            closed = true;
                            break;
                        }
                        Ok(len) => inbound.extend_from_slice(&buf[..len]),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(_) => {
                            closed = true;
                            break;
                        }
                    }
                }
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
                if closed {
                    track.silent = true;
                }
            }
            None => {}
        }
    }
}

impl Track {
    // ANCHOR: snapshot
    fn snapshot(&mut self, bytes: &[u8], now: Instant, report: &mut BotReport) {
        let view = match decode_snapshot(bytes) {
            Ok(view) => view,
            Err(_) => {
                report.malformed += 1;
                return;
            }
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
            record_micros(&mut report.jitter, off);
            if now > expected + PERIOD {
                report.late += 1;
            }
        }
        self.last = Some((tick, now));
        while let Some(&(seq, sent)) = self.pending.front() {
            if seq > view.head.ack {
                break;
            }
            record_micros(&mut report.latency, now.saturating_duration_since(sent));
            self.pending.pop_front();
        }
    }
    // ANCHOR_END: snapshot
}

/// The keys a bot holds with its input `seq`: they change every half second or so, the
/// same way in every run.
pub fn held_bits(seed: u64, client: u32, seq: u32) -> u16 {
    (mix(seed ^ (u64::from(client) << 24) ^ u64::from(seq / 15)) & 0x1f) as u16
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
    while !outbound.is_empty() {
        match stream.write(outbound) {
            Ok(0) => break,
            Ok(n) => {
                outbound.drain(..n);
            }
            Err(_) => break,
        }
    }
}
