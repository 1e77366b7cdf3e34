//! The flood: malformed datagrams sent at a steady rate from the load generator, one of each
//! kind of damage in turn, so the server's counters can be checked kind by kind.

use std::{
    net::SocketAddr,
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, Instant},
};

use crate::net::{
    protocol::{DecodeError, EntityState, INPUT_LEN, Input, MAX_MESSAGE, SnapshotHead, SnapshotWriter, encode_input},
    sockets::udp_socket,
};

/// Builds one datagram that the server must reject as `kind`.
pub fn malformed(kind: DecodeError, rng: &mut fastrand::Rng, out: &mut Vec<u8>) {
    out.clear();
    let input = Input { client: rng.u32(..1000), seq: rng.u32(1..), bits: rng.u16(..32) };
    match kind {
        DecodeError::Truncated => {
            encode_input(&input, out);
            out.truncate(rng.usize(0..INPUT_LEN));
        }
        DecodeError::Oversized => {
            encode_input(&input, out);
            out.resize(rng.usize(MAX_MESSAGE + 1..=1400), 0);
            rng.fill(&mut out[INPUT_LEN..]);
        }
        DecodeError::BadMagic => {
            out.resize(rng.usize(4..=64), 0);
            rng.fill(out);
            if out[0] == b'G' {
                out[0] = b'X';
            }
        }
        DecodeError::WrongVersion => {
            encode_input(&input, out);
            out[2] = loop {
                let v = rng.u8(..);
                if v != crate::net::protocol::VERSION {
                    break v;
                }
            };
        }
        DecodeError::UnknownKind => {
            encode_input(&input, out);
            out[3] = rng.u8(3..);
        }
        DecodeError::BadLength => {
            encode_input(&input, out);
            let extra = rng.usize(1..=8);
            out.extend((0..extra).map(|_| rng.u8(..)));
        }
        DecodeError::WrongDirection => {
            let mut writer =
                SnapshotWriter::begin(out, SnapshotHead { client: input.client, tick: rng.u32(..), ack: input.seq });
            for id in 0..rng.u32(0..4) {
                writer.push(&EntityState { id, x: rng.u16(..), y: rng.u16(..), vx: 0, vy: 0 });
            }
            writer.finish();
        }
    }
}

/// Datagrams sent, by kind of damage, in [`DecodeError::KINDS`] order.
pub type FloodCounts = [u64; DecodeError::KINDS.len()];

/// Sends `per_second` malformed datagrams to `server`, kinds in turn, until `until` or until
/// `stop` is set.
pub fn flood(
    server: SocketAddr,
    per_second: u32,
    seed: u64,
    until: Instant,
    stop: &AtomicBool,
) -> std::io::Result<FloodCounts> {
    let socket = udp_socket(0)?;
    socket.connect(server)?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut counts = FloodCounts::default();
    let mut datagram = Vec::with_capacity(1500);
    let start = Instant::now();
    let mut sent = 0u64;
    while !stop.load(Ordering::Acquire) && Instant::now() < until {
        let due = (start.elapsed().as_secs_f64() * f64::from(per_second)) as u64;
        while sent < due {
            let kind = DecodeError::KINDS[(sent % DecodeError::KINDS.len() as u64) as usize];
            malformed(kind, &mut rng, &mut datagram);
            // A full socket buffer drops the datagram here instead of at the server: it was
            // never sent, so it is not counted.
            if socket.send(&datagram).is_ok() {
                counts[kind.index()] += 1;
            }
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::protocol::decode_input;

    #[test]
    fn every_generated_datagram_is_rejected_for_its_own_reason() {
        let mut rng = fastrand::Rng::with_seed(5);
        let mut out = Vec::new();
        for _ in 0..500 {
            for kind in DecodeError::KINDS {
                malformed(kind, &mut rng, &mut out);
                let got = decode_input(&out);
                assert_eq!(got, Err(kind), "{out:?}");
            }
        }
    }
}
