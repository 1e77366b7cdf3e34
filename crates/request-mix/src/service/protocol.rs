//! The wire: fixed-size little-endian frames, so that every variant reads and writes the same
//! bytes and no parser is part of what is measured. A client's request says how much CPU the
//! server must spend on it and how long the downstream service must make it wait; the reply
//! carries a digest of both results, which is how a run proves every variant did the work.

use std::net::SocketAddr;

/// Client to server: `id`, CPU units to compute, µs the downstream call must wait.
pub const REQUEST_LEN: usize = 16;
/// Server to client: `id`, status, digest.
pub const REPLY_LEN: usize = 24;
/// Server to downstream: `id`, µs to wait. Downstream to server: `id`, answer.
pub const CALL_LEN: usize = 16;

/// How deep every listener's accept queue is: a burst of thousands of connects must queue,
/// not be dropped (a dropped SYN is retried a whole second later).
pub const BACKLOG: i32 = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    pub id: u64,
    pub units: u32,
    pub wait_us: u32,
}

impl Request {
    pub fn encode(&self) -> [u8; REQUEST_LEN] {
        let mut b = [0; REQUEST_LEN];
        b[..8].copy_from_slice(&self.id.to_le_bytes());
        b[8..12].copy_from_slice(&self.units.to_le_bytes());
        b[12..].copy_from_slice(&self.wait_us.to_le_bytes());
        b
    }

    pub fn decode(b: &[u8; REQUEST_LEN]) -> Request {
        Request { id: u64_at(b, 0), units: u32_at(b, 8), wait_us: u32_at(b, 12) }
    }

    /// The downstream call this request makes.
    pub fn call(&self) -> [u8; CALL_LEN] {
        let mut b = [0; CALL_LEN];
        b[..8].copy_from_slice(&self.id.to_le_bytes());
        b[8..12].copy_from_slice(&self.wait_us.to_le_bytes());
        b
    }
}

/// What became of a request, as the reply tells the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Status {
    Ok = 0,
    /// The downstream service did not answer within the server's timeout (a 504).
    DownstreamTimeout = 1,
    /// The downstream connection failed or answered for another request (a 502).
    DownstreamError = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    pub id: u64,
    pub status: u64,
    pub digest: u64,
}

impl Reply {
    /// The reply to `id`: its CPU result and the downstream's answer folded into one digest.
    pub fn new(id: u64, computed: u64, answer: Result<u64, Status>) -> Reply {
        match answer {
            Ok(answer) => Reply { id, status: Status::Ok as u64, digest: mix(computed ^ mix(answer)) },
            Err(status) => Reply { id, status: status as u64, digest: 0 },
        }
    }

    pub fn encode(&self) -> [u8; REPLY_LEN] {
        let mut b = [0; REPLY_LEN];
        b[..8].copy_from_slice(&self.id.to_le_bytes());
        b[8..16].copy_from_slice(&self.status.to_le_bytes());
        b[16..].copy_from_slice(&self.digest.to_le_bytes());
        b
    }

    pub fn decode(b: &[u8; REPLY_LEN]) -> Reply {
        Reply { id: u64_at(b, 0), status: u64_at(b, 8), digest: u64_at(b, 16) }
    }
}

/// The downstream's side of a call: `(id, wait_us)` in, `(id, answer)` out.
pub fn decode_call(b: &[u8; CALL_LEN]) -> (u64, u32) {
    (u64_at(b, 0), u32_at(b, 8))
}

pub fn encode_answer(id: u64) -> [u8; CALL_LEN] {
    let mut b = [0; CALL_LEN];
    b[..8].copy_from_slice(&id.to_le_bytes());
    b[8..].copy_from_slice(&answer_for(id).to_le_bytes());
    b
}

/// `Ok(answer)` when the downstream answered this request, the status to reply with if not.
pub fn decode_answer(b: &[u8; CALL_LEN], id: u64) -> Result<u64, Status> {
    if u64_at(b, 0) == id { Ok(u64_at(b, 8)) } else { Err(Status::DownstreamError) }
}

/// What the downstream service answers for a request: a pure function of its id.
pub fn answer_for(id: u64) -> u64 {
    mix(id ^ 0xD0_57EA_u64)
}

/// SplitMix64's finaliser: a cheap, well-spread 64-bit mix.
pub fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// One answered request's share of a run's digest. Runs add the shares (wrapping), so the
/// sum is the same whatever order the replies came in.
pub fn digest_share(reply: &Reply) -> u64 {
    mix(reply.id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ reply.digest)
}

/// A TCP listener on `addr` with a deep accept queue, optionally sharing its port with other
/// listeners (`SO_REUSEPORT`: the kernel spreads connections over them).
pub fn listener(addr: SocketAddr, reuse_port: bool) -> std::io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(reuse_port)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let request = Request { id: 7, units: 40, wait_us: 990 };
        assert_eq!(Request::decode(&request.encode()), request);
        let reply = Reply::new(7, 123, Ok(answer_for(7)));
        assert_eq!(Reply::decode(&reply.encode()), reply);
        assert_eq!(decode_call(&request.call()), (7, 990));
        assert_eq!(decode_answer(&encode_answer(7), 7), Ok(answer_for(7)));
        assert_eq!(decode_answer(&encode_answer(8), 7), Err(Status::DownstreamError));
        assert_eq!(Reply::new(7, 1, Err(Status::DownstreamTimeout)).status, 1);
    }
}
