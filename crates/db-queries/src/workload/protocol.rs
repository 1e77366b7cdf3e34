//! The wire protocol between the load generator and the server: small length-prefixed binary
//! frames over loopback TCP.
//!
//! A request frame is `u16 length | u64 request id | u8 kind | i64 params...` (one, three or
//! four params by kind), a reply `u16 length | u64 request id | u8 status | u64 digest`, all
//! little-endian. Fixed, tiny frames keep the front end's cost small and the same for every
//! variant: what the figures compare is the data layer behind it. A frame that does not parse
//! ends its connection with an error; it never panics the server.

use std::{fmt, io};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::workload::Request;

const POINT: u8 = 1;
const RANGE: u8 = 2;
const WRITE: u8 = 3;

/// The largest frame body either side sends: a write request.
pub const MAX_FRAME: usize = 8 + 1 + 4 * 8;

/// Each side's read and write buffer per connection: a few frames. Sized to the protocol, as a
/// server holding thousands of connections sizes them (the default 8 KiB each would be 64 MiB
/// at 4096 connections, and would hide every other difference in memory).
pub const CONNECTION_BUFFER: usize = 512;
const REPLY_BODY: usize = 8 + 1 + 8;

/// Why a request failed, as the server reports it or the generator sees it. One enum for both
/// sides, so "errors by kind" adds up across the process boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ErrorKind {
    /// No pooled connection came free within the acquire timeout.
    PoolTimeout = 1,
    /// SQLite stayed locked past the busy timeout (`SQLITE_BUSY`).
    Busy = 2,
    /// The database refused a new connection (Postgres' `max_connections`, or nothing listening).
    Refused = 3,
    /// The connection died under a query (a killed backend, a reset socket).
    ConnectionLost = 4,
    /// The OS would not start another thread.
    Spawn = 5,
    /// Any other database error.
    Query = 6,
    /// The generator: the reply's digest is not what the seeded data says.
    Mismatch = 7,
    /// The generator: its connection to the server failed.
    Transport = 8,
    /// The generator: no reply within the request timeout, or the run ended first.
    Timeout = 9,
    /// Postgres cancelled the query at the connection's `statement_timeout`.
    StatementTimeout = 10,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::PoolTimeout,
        ErrorKind::Busy,
        ErrorKind::Refused,
        ErrorKind::ConnectionLost,
        ErrorKind::Spawn,
        ErrorKind::Query,
        ErrorKind::Mismatch,
        ErrorKind::Transport,
        ErrorKind::Timeout,
        ErrorKind::StatementTimeout,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::PoolTimeout => "pool-timeout",
            ErrorKind::Busy => "sqlite-busy",
            ErrorKind::Refused => "refused",
            ErrorKind::ConnectionLost => "connection-lost",
            ErrorKind::Spawn => "thread-spawn",
            ErrorKind::Query => "query",
            ErrorKind::Mismatch => "wrong-result",
            ErrorKind::Transport => "transport",
            ErrorKind::Timeout => "timeout",
            ErrorKind::StatementTimeout => "statement-timeout",
        }
    }

    fn from_status(status: u8) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| *k as u8 == status)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A reply: the request it answers and its result's digest, or why it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    pub id: u64,
    pub result: Result<u64, ErrorKind>,
}

fn bad(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

pub fn encode_request(id: u64, request: &Request, out: &mut Vec<u8>) {
    let (kind, params): (u8, &[i64]) = match request {
        Request::Point { account } => (POINT, &[*account]),
        Request::Range { account, from, to } => (RANGE, &[*account, *from, *to]),
        Request::Write { order_id, account, amount, placed_at } => (WRITE, &[*order_id, *account, *amount, *placed_at]),
    };
    out.extend_from_slice(&((9 + 8 * params.len()) as u16).to_le_bytes());
    out.extend_from_slice(&id.to_le_bytes());
    out.push(kind);
    for p in params {
        out.extend_from_slice(&p.to_le_bytes());
    }
}

pub fn decode_request(body: &[u8]) -> io::Result<(u64, Request)> {
    let word = |i: usize| -> io::Result<[u8; 8]> {
        body.get(9 + 8 * i..17 + 8 * i).and_then(|b| b.try_into().ok()).ok_or_else(|| bad("request frame too short"))
    };
    let param = |i| word(i).map(i64::from_le_bytes);
    let id = u64::from_le_bytes(body.get(..8).and_then(|b| b.try_into().ok()).ok_or_else(|| bad("empty frame"))?);
    let (request, params) = match body.get(8) {
        Some(&POINT) => (Request::Point { account: param(0)? }, 1),
        Some(&RANGE) => (Request::Range { account: param(0)?, from: param(1)?, to: param(2)? }, 3),
        Some(&WRITE) => {
            (Request::Write { order_id: param(0)?, account: param(1)?, amount: param(2)?, placed_at: param(3)? }, 4)
        }
        Some(other) => return Err(bad(format!("unknown request kind {other}"))),
        None => return Err(bad("request frame has no kind")),
    };
    if body.len() != 9 + 8 * params {
        return Err(bad(format!("request frame of {} bytes for a kind with {params} params", body.len())));
    }
    Ok((id, request))
}

pub fn encode_reply(reply: &Reply, out: &mut Vec<u8>) {
    out.extend_from_slice(&(REPLY_BODY as u16).to_le_bytes());
    out.extend_from_slice(&reply.id.to_le_bytes());
    let (status, digest) = match reply.result {
        Ok(digest) => (0, digest),
        Err(kind) => (kind as u8, 0),
    };
    out.push(status);
    out.extend_from_slice(&digest.to_le_bytes());
}

pub fn decode_reply(body: &[u8]) -> io::Result<Reply> {
    if body.len() != REPLY_BODY {
        return Err(bad(format!("reply frame of {} bytes, expected {REPLY_BODY}", body.len())));
    }
    let id = u64::from_le_bytes(body[..8].try_into().expect("8 bytes"));
    let digest = u64::from_le_bytes(body[9..17].try_into().expect("8 bytes"));
    let result = match body[8] {
        0 => Ok(digest),
        status => Err(ErrorKind::from_status(status).ok_or_else(|| bad(format!("unknown status {status}")))?),
    };
    Ok(Reply { id, result })
}

/// Reads one frame body into `buf`; `Ok(false)` on a clean end of stream between frames.
pub async fn read_frame<R: AsyncReadExt + Unpin>(reader: &mut R, buf: &mut Vec<u8>) -> io::Result<bool> {
    let len = match reader.read_u16_le().await {
        Ok(len) => usize::from(len),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(e) => return Err(e),
    };
    if len > MAX_FRAME {
        return Err(bad(format!("frame of {len} bytes, the largest is {MAX_FRAME}")));
    }
    buf.resize(len, 0);
    reader.read_exact(buf).await?;
    Ok(true)
}

/// Writes `bytes` and flushes: one request or reply is sent as soon as it is ready.
pub async fn write_frame<W: AsyncWriteExt + Unpin>(writer: &mut W, bytes: &[u8]) -> io::Result<()> {
    writer.write_all(bytes).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_kind_round_trips() {
        let requests = [
            Request::Point { account: 42 },
            Request::Range { account: -1, from: 5, to: i64::MAX },
            Request::Write { order_id: 1 << 40, account: 16, amount: 7, placed_at: 99 },
        ];
        for (id, request) in requests.iter().enumerate() {
            let mut out = Vec::new();
            encode_request(id as u64, request, &mut out);
            assert_eq!(usize::from(u16::from_le_bytes([out[0], out[1]])), out.len() - 2);
            assert_eq!(decode_request(&out[2..]).unwrap(), (id as u64, *request));
        }
    }

    #[test]
    fn replies_round_trip_with_every_status() {
        let mut replies = vec![Reply { id: 9, result: Ok(0xDEAD_BEEF) }];
        replies.extend(ErrorKind::ALL.iter().map(|&k| Reply { id: 3, result: Err(k) }));
        for reply in replies {
            let mut out = Vec::new();
            encode_reply(&reply, &mut out);
            assert_eq!(decode_reply(&out[2..]).unwrap(), reply);
        }
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        assert!(decode_request(&[]).is_err());
        assert!(decode_request(&[0; 9]).is_err(), "kind 0");
        let mut out = Vec::new();
        encode_request(1, &Request::Range { account: 1, from: 2, to: 3 }, &mut out);
        assert!(decode_request(&out[2..out.len() - 1]).is_err(), "truncated");
        let mut long = out[2..].to_vec();
        long.extend_from_slice(&[0; 8]);
        assert!(decode_request(&long).is_err(), "trailing params");
        assert!(decode_reply(&[0; 16]).is_err());
        let mut reply = [0u8; REPLY_BODY];
        reply[8] = 200;
        assert!(decode_reply(&reply).is_err(), "unknown status");
    }
}
