//! The wire format: small, fixed-layout, little-endian messages, the same bytes over UDP
//! (one message per datagram) and over TCP (each message behind a 2-byte length).
//!
//! Every message opens with a 4-byte header: the magic `b"GL"`, the protocol version and the
//! message kind. An input is 14 bytes; a snapshot is 18 bytes plus 10 per entity, at most
//! [`MAX_SNAPSHOT_ENTITIES`] of them, so the largest message ([`MAX_MESSAGE`]) stays far
//! below a loopback or Ethernet MTU and is never fragmented.
//!
//! Decoding is total: any byte slice gives either a message or a [`DecodeError`] naming what
//! was wrong with it. The servers count each error by kind and drop the datagram; nothing
//! here can panic, which a property test in `tests/protocol.rs` checks on arbitrary bytes.

use serde::{Deserialize, Serialize};

pub const MAGIC: [u8; 2] = *b"GL";
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 4;

const KIND_INPUT: u8 = 1;
const KIND_SNAPSHOT: u8 = 2;

/// An input: header, client id, sequence number, input bits.
pub const INPUT_LEN: usize = HEADER_LEN + 4 + 4 + 2;
/// A snapshot before its entities: header, client id, tick, last input sequence applied,
/// entity count.
pub const SNAPSHOT_HEAD_LEN: usize = HEADER_LEN + 4 + 4 + 4 + 2;
/// One entity in a snapshot: id, quantized x and y, velocity per tick on each axis.
pub const ENTITY_LEN: usize = 4 + 2 + 2 + 1 + 1;
/// The most entities one snapshot carries; the nearest cells fill it first.
pub const MAX_SNAPSHOT_ENTITIES: usize = 64;
/// The largest valid message of any kind: anything longer is oversized.
pub const MAX_MESSAGE: usize = SNAPSHOT_HEAD_LEN + MAX_SNAPSHOT_ENTITIES * ENTITY_LEN;
/// A receive buffer that can tell an oversized datagram from a valid one: the kernel cuts a
/// longer datagram to the buffer's length, which is still longer than [`MAX_MESSAGE`].
pub const RECV_BUFFER: usize = MAX_MESSAGE + 64;
/// The length prefix of a message on a TCP stream.
pub const FRAME_PREFIX: usize = 2;

/// How messages travel between a client and the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transport {
    /// One message per datagram.
    Udp,
    /// A stream per client, each message behind its 2-byte length.
    Tcp,
}

/// Input bits a client holds down during one input.
pub mod bits {
    pub const UP: u16 = 1;
    pub const DOWN: u16 = 1 << 1;
    pub const LEFT: u16 = 1 << 2;
    pub const RIGHT: u16 = 1 << 3;
    pub const SPRINT: u16 = 1 << 4;
}

/// What a client sends, 30 times a second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    pub client: u32,
    /// Increases by one with every input the client sends; a snapshot acknowledges the
    /// highest one the simulation has applied.
    pub seq: u32,
    pub bits: u16,
}

/// One entity as a client sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntityState {
    pub id: u32,
    /// Position quantized to the world's extent: 0 is one edge, 65535 the other.
    pub x: u16,
    pub y: u16,
    /// Velocity in world units per tick, which always fits a byte.
    pub vx: i8,
    pub vy: i8,
}

/// A snapshot's fixed part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotHead {
    pub client: u32,
    pub tick: u32,
    /// The highest input sequence number of this client that the simulation had applied
    /// when it built this snapshot (0 before the first).
    pub ack: u32,
}

/// A decoded snapshot, borrowing the datagram's bytes: its length was checked against its
/// entity count, so reading the entities cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotView<'a> {
    pub head: SnapshotHead,
    entities: &'a [u8],
}

impl<'a> SnapshotView<'a> {
    pub fn len(&self) -> usize {
        self.entities.len() / ENTITY_LEN
    }

    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    pub fn entities(&self) -> impl Iterator<Item = EntityState> + 'a {
        self.entities.chunks_exact(ENTITY_LEN).map(|e| EntityState {
            id: u32_at(e, 0),
            x: u16_at(e, 4),
            y: u16_at(e, 6),
            vx: e[8] as i8,
            vy: e[9] as i8,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    Input(Input),
    Snapshot(SnapshotView<'a>),
}

/// Declares [`DecodeError`], its [`DecodeError::KINDS`] and each kind's short name at once.
macro_rules! decode_errors {
    ($($kind:ident = $name:literal: $why:literal,)*) => {
        /// Why a datagram or frame was dropped. Each kind is counted apart, in
        /// [`DecodeError::KINDS`] order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
        pub enum DecodeError {
            $(#[error($why)] $kind,)*
        }

        impl DecodeError {
            pub const KINDS: [DecodeError; [$($name),*].len()] = [$(DecodeError::$kind),*];

            pub fn index(self) -> usize {
                self as usize
            }

            pub fn name(self) -> &'static str {
                match self {
                    $(DecodeError::$kind => $name,)*
                }
            }
        }
    };
}

decode_errors! {
    Truncated = "truncated": "shorter than its header or its kind's fixed part",
    Oversized = "oversized": "longer than the largest valid message",
    BadMagic = "bad magic": "does not start with the magic bytes",
    WrongVersion = "wrong version": "another protocol version",
    UnknownKind = "unknown kind": "an unknown message kind",
    BadLength = "bad length": "length does not match the message's kind or entity count",
    WrongDirection = "wrong direction": "a message of the other direction (a snapshot sent to the server, an input to a client)",
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

// ANCHOR: decode
/// Decodes one message. Lengths are checked before any field is read, which is what makes
/// the indexing in the field readers safe.
pub fn decode(bytes: &[u8]) -> Result<Message<'_>, DecodeError> {
    if bytes.len() > MAX_MESSAGE {
        return Err(DecodeError::Oversized);
    }
    if bytes.len() < HEADER_LEN {
        return Err(DecodeError::Truncated);
    }
    if bytes[..2] != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    if bytes[2] != VERSION {
        return Err(DecodeError::WrongVersion);
    }
    match bytes[3] {
        KIND_INPUT => match bytes.len() {
            INPUT_LEN => {
                Ok(Message::Input(Input { client: u32_at(bytes, 4), seq: u32_at(bytes, 8), bits: u16_at(bytes, 12) }))
            }
            n if n < INPUT_LEN => Err(DecodeError::Truncated),
            _ => Err(DecodeError::BadLength),
        },
        KIND_SNAPSHOT => {
            if bytes.len() < SNAPSHOT_HEAD_LEN {
                return Err(DecodeError::Truncated);
            }
            let count = usize::from(u16_at(bytes, 16));
            if count > MAX_SNAPSHOT_ENTITIES || bytes.len() != SNAPSHOT_HEAD_LEN + count * ENTITY_LEN {
                return Err(DecodeError::BadLength);
            }
            Ok(Message::Snapshot(SnapshotView {
                head: SnapshotHead { client: u32_at(bytes, 4), tick: u32_at(bytes, 8), ack: u32_at(bytes, 12) },
                entities: &bytes[SNAPSHOT_HEAD_LEN..],
            }))
        }
        _ => Err(DecodeError::UnknownKind),
    }
}
// ANCHOR_END: decode

/// What the server accepts: an input and nothing else.
pub fn decode_input(bytes: &[u8]) -> Result<Input, DecodeError> {
    match decode(bytes)? {
        Message::Input(input) => Ok(input),
        Message::Snapshot(_) => Err(DecodeError::WrongDirection),
    }
}

/// What a client accepts: a snapshot and nothing else.
pub fn decode_snapshot(bytes: &[u8]) -> Result<SnapshotView<'_>, DecodeError> {
    match decode(bytes)? {
        Message::Snapshot(view) => Ok(view),
        Message::Input(_) => Err(DecodeError::WrongDirection),
    }
}

fn header(out: &mut Vec<u8>, kind: u8) {
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(kind);
}

pub fn encode_input(input: &Input, out: &mut Vec<u8>) {
    header(out, KIND_INPUT);
    out.extend_from_slice(&input.client.to_le_bytes());
    out.extend_from_slice(&input.seq.to_le_bytes());
    out.extend_from_slice(&input.bits.to_le_bytes());
}

/// Builds one snapshot in place: the head first, then entities one by one, up to the
/// limit. Used by the simulation's snapshot system, which never holds the entities twice.
pub struct SnapshotWriter<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
    count: u16,
}

impl<'a> SnapshotWriter<'a> {
    pub fn begin(out: &'a mut Vec<u8>, head: SnapshotHead) -> Self {
        let start = out.len();
        header(out, KIND_SNAPSHOT);
        out.extend_from_slice(&head.client.to_le_bytes());
        out.extend_from_slice(&head.tick.to_le_bytes());
        out.extend_from_slice(&head.ack.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        SnapshotWriter { out, start, count: 0 }
    }

    /// Adds an entity; false once the snapshot is full (the entity is not added).
    pub fn push(&mut self, e: &EntityState) -> bool {
        if usize::from(self.count) == MAX_SNAPSHOT_ENTITIES {
            return false;
        }
        self.out.extend_from_slice(&e.id.to_le_bytes());
        self.out.extend_from_slice(&e.x.to_le_bytes());
        self.out.extend_from_slice(&e.y.to_le_bytes());
        self.out.push(e.vx as u8);
        self.out.push(e.vy as u8);
        self.count += 1;
        true
    }

    /// Writes the entity count into the head.
    pub fn finish(self) {
        let at = self.start + SNAPSHOT_HEAD_LEN - 2;
        self.out[at..at + 2].copy_from_slice(&self.count.to_le_bytes());
    }
}

/// Appends `message` to `out` behind its 2-byte length, for a TCP stream.
pub fn frame(message: &[u8], out: &mut Vec<u8>) {
    // Every message we build is at most MAX_MESSAGE bytes, far below u16::MAX.
    out.extend_from_slice(&(message.len().min(usize::from(u16::MAX)) as u16).to_le_bytes());
    out.extend_from_slice(message);
}

/// What the front of a TCP receive buffer holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// Not a whole frame yet: read more.
    Partial,
    /// A whole frame: the message's bytes are `buf[FRAME_PREFIX..consumed]`.
    Whole { consumed: usize },
    /// The prefix announces more than any valid message: the stream cannot be trusted to
    /// stay in step, so the connection is closed.
    Oversized,
}

/// Looks at the front of a TCP receive buffer.
pub fn next_frame(buf: &[u8]) -> Frame {
    if buf.len() < FRAME_PREFIX {
        return Frame::Partial;
    }
    let len = usize::from(u16_at(buf, 0));
    if len > MAX_MESSAGE {
        return Frame::Oversized;
    }
    if buf.len() < FRAME_PREFIX + len { Frame::Partial } else { Frame::Whole { consumed: FRAME_PREFIX + len } }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = SnapshotWriter::begin(&mut out, SnapshotHead { client: 7, tick: 9, ack: 3 });
        for i in 0..n {
            w.push(&EntityState { id: i as u32, x: 1, y: 2, vx: -3, vy: 4 });
        }
        w.finish();
        out
    }

    #[test]
    fn an_input_round_trips_at_its_fixed_length_and_a_snapshot_stops_at_its_limit() {
        let input = Input { client: 42, seq: 7, bits: bits::UP | bits::SPRINT };
        let mut out = Vec::new();
        encode_input(&input, &mut out);
        assert_eq!(out.len(), INPUT_LEN);
        assert_eq!(decode_input(&out), Ok(input));
        assert_eq!(decode_snapshot(&out), Err(DecodeError::WrongDirection));
        let bytes = snapshot(MAX_SNAPSHOT_ENTITIES + 5);
        assert_eq!(bytes.len(), MAX_MESSAGE);
        let view = decode_snapshot(&bytes).expect("valid");
        assert_eq!(view.head, SnapshotHead { client: 7, tick: 9, ack: 3 });
        assert_eq!(view.len(), MAX_SNAPSHOT_ENTITIES);
        let last = view.entities().last().expect("entities");
        assert_eq!(last, EntityState { id: 63, x: 1, y: 2, vx: -3, vy: 4 });
        assert_eq!(decode_input(&bytes), Err(DecodeError::WrongDirection));
    }

    #[test]
    fn each_kind_of_damage_is_named() {
        let mut input = Vec::new();
        encode_input(&Input { client: 1, seq: 1, bits: 0 }, &mut input);
        assert_eq!(decode(&input[..3]), Err(DecodeError::Truncated));
        assert_eq!(decode(&input[..10]), Err(DecodeError::Truncated));
        assert_eq!(decode(&[0u8; MAX_MESSAGE + 1]), Err(DecodeError::Oversized));
        let with = |at: usize, byte: u8| {
            let mut bad = input.clone();
            bad[at] = byte;
            decode(&bad).map(drop)
        };
        assert_eq!(with(0, b'X'), Err(DecodeError::BadMagic));
        assert_eq!(with(2, 2), Err(DecodeError::WrongVersion));
        assert_eq!(with(3, 9), Err(DecodeError::UnknownKind));
        assert_eq!(decode(&[&input[..], &[0]].concat()), Err(DecodeError::BadLength));
        let lying = snapshot(3);
        assert_eq!(decode(&lying[..lying.len() - 1]), Err(DecodeError::BadLength));
    }

    #[test]
    fn frames_are_split_at_their_prefix() {
        let mut stream = Vec::new();
        let mut input = Vec::new();
        encode_input(&Input { client: 1, seq: 2, bits: 3 }, &mut input);
        frame(&input, &mut stream);
        assert_eq!(next_frame(&stream[..1]), Frame::Partial);
        assert_eq!(next_frame(&stream[..5]), Frame::Partial);
        assert_eq!(next_frame(&stream), Frame::Whole { consumed: FRAME_PREFIX + INPUT_LEN });
        assert_eq!(next_frame(&[0xff, 0xff, 0]), Frame::Oversized);
    }
}
