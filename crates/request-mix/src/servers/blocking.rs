//! What the thread variants share: reading a frame from a blocking socket, and the blocking
//! downstream client (one connection, a read timeout, reconnected after any failure).

use std::{
    io::{ErrorKind, Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use crate::{
    servers::Books,
    service::protocol::{self, CALL_LEN, Request, Status},
};

/// How a frame read ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Whole,
    /// The peer closed between frames.
    End,
    /// The peer closed, or the connection failed, in the middle of a frame.
    Cut,
}

/// Reads exactly one frame, telling a clean end between frames from a cut in the middle.
pub fn read_frame(stream: &mut impl Read, buf: &mut [u8]) -> Frame {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]) {
            Ok(0) if filled == 0 => return Frame::End,
            Ok(0) => return Frame::Cut,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Frame::Cut,
        }
    }
    Frame::Whole
}

/// A blocking connection to the downstream service, as a thread keeps one.
pub struct BlockingDownstream {
    addr: SocketAddr,
    timeout: Duration,
    stream: Option<TcpStream>,
}

impl BlockingDownstream {
    pub fn new(addr: SocketAddr, timeout: Duration) -> BlockingDownstream {
        BlockingDownstream { addr, timeout, stream: None }
    }

    /// Opens the connection now rather than on the first call.
    pub fn connect(&mut self) -> std::io::Result<()> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr)?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(self.timeout))?;
            self.stream = Some(stream);
        }
        Ok(())
    }

    // ANCHOR: blocking_call
    /// One call: the answer, or the status to reply with. After a timeout or any failure the
    /// connection is dropped (a late answer would be read as the next call's) and reopened
    /// by the next call.
    pub fn call(&mut self, request: &Request, books: &Books) -> Result<u64, Status> {
        if self.connect().is_err() {
            books.downstream_error();
            return Err(Status::DownstreamError);
        }
        let stream = self.stream.as_mut().expect("connected above");
        let mut answer = [0u8; CALL_LEN];
        let result = stream.write_all(&request.call()).and_then(|()| stream.read_exact(&mut answer));
        let outcome = match result {
            Ok(()) => protocol::decode_answer(&answer, request.id),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Err(Status::DownstreamTimeout),
            Err(_) => Err(Status::DownstreamError),
        };
        match outcome {
            Ok(_) => {}
            Err(Status::DownstreamTimeout) => books.downstream_timeout(),
            Err(_) => books.downstream_error(),
        }
        if outcome.is_err() {
            self.stream = None;
        }
        outcome
    }
    // ANCHOR_END: blocking_call
}
