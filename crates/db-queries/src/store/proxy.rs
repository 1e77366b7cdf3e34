//! A delaying TCP proxy: the "database on another host" sweep point.
//!
//! The usual tool, a network namespace with a `netem` delay, needs a kernel with `sch_netem`
//! and the rights to configure it; this machine has neither. So the variants reach Postgres
//! through this proxy on 127.0.0.1, which holds every chunk of bytes for a fixed time in each
//! direction before passing it on: half the round trip each way, order and content untouched.
//! It adds latency, not a bandwidth limit, as a link to a nearby host would.
//!
//! It is written with threads (a reader and a writer per direction per connection, a handful
//! of connections at most), because a precise sub-millisecond hold is what a blocking
//! `sleep` does well and a 1 ms timer wheel does not. It runs in the parent of the measured
//! runs, so its CPU is charged to neither the server nor the load generator.

use std::{
    io::{self, Read, Write},
    net::{Shutdown, SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread::{self, JoinHandle},
    time::{Duration, Instant},
};

const CHUNK: usize = 64 * 1024;
const STACK: usize = 256 * 1024;

/// A running proxy; dropping it closes it and every connection through it.
pub struct DelayProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    /// Both ends of every connection, to shut them down when the proxy closes.
    streams: Arc<Mutex<Vec<TcpStream>>>,
}

impl DelayProxy {
    /// Listens on 127.0.0.1 and forwards to `upstream`, holding bytes `one_way` per direction.
    pub fn start(upstream: SocketAddr, one_way: Duration) -> io::Result<DelayProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let streams = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let (stop, streams) = (Arc::clone(&stop), Arc::clone(&streams));
            thread::Builder::new().name("proxy-accept".into()).spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    let Ok(client) = client else { continue };
                    // A failed upstream connect drops the client: it sees the refusal as a reset.
                    let Ok(server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(5)) else { continue };
                    let _ = connect_pair(client, server, one_way, &streams);
                }
            })?
        };
        Ok(DelayProxy { port, stop, accept: Some(accept), streams })
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the blocked accept with a connection of our own.
        let _ = TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], self.port)), Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        for stream in self.streams.lock().expect("proxy lock").drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn connect_pair(
    client: TcpStream,
    server: TcpStream,
    one_way: Duration,
    streams: &Mutex<Vec<TcpStream>>,
) -> io::Result<()> {
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    {
        let mut streams = streams.lock().expect("proxy lock");
        streams.push(client.try_clone()?);
        streams.push(server.try_clone()?);
    }
    pump(client.try_clone()?, server.try_clone()?, one_way)?;
    pump(server, client, one_way)
}

// ANCHOR: pump
/// Moves bytes from `from` to `to`, each chunk held until `delay` after it was read.
fn pump(mut from: TcpStream, mut to: TcpStream, delay: Duration) -> io::Result<()> {
    let (held, due) = mpsc::channel::<(Instant, Vec<u8>)>();
    thread::Builder::new().name("proxy-write".into()).stack_size(STACK).spawn(move || {
        for (at, bytes) in due {
            if let Some(wait) = at.checked_duration_since(Instant::now()) {
                thread::sleep(wait);
            }
            if to.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    })?;
    thread::Builder::new().name("proxy-read".into()).stack_size(STACK).spawn(move || {
        let mut buf = vec![0u8; CHUNK];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            if held.send((Instant::now() + delay, buf[..n].to_vec())).is_err() {
                break;
            }
        }
    })?;
    Ok(())
}
// ANCHOR_END: pump

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_arrive_intact_and_late_by_the_round_trip() {
        // An echo server stands in for the database.
        let echo = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let upstream = echo.local_addr().unwrap();
        thread::spawn(move || {
            let (mut s, _) = echo.accept().unwrap();
            let mut buf = [0u8; 1024];
            while let Ok(n @ 1..) = s.read(&mut buf) {
                s.write_all(&buf[..n]).unwrap();
            }
        });
        let proxy = DelayProxy::start(upstream, Duration::from_micros(500)).unwrap();
        let mut conn = TcpStream::connect(("127.0.0.1", proxy.port())).unwrap();
        conn.set_nodelay(true).unwrap();
        let mut fastest = Duration::MAX;
        for i in 0..20u8 {
            let sent = Instant::now();
            conn.write_all(&[i; 100]).unwrap();
            let mut back = [0u8; 100];
            conn.read_exact(&mut back).unwrap();
            fastest = fastest.min(sent.elapsed());
            assert_eq!(back, [i; 100]);
        }
        assert!(fastest >= Duration::from_millis(1), "a round trip took {fastest:?}, under the 1 ms added");
        drop(proxy);
        // Closing the proxy closed the connection through it.
        conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut buf = [0u8; 1];
        assert!(matches!(conn.read(&mut buf), Ok(0) | Err(_)));
    }
}
