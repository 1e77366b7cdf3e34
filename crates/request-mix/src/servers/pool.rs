//! `thread-pool`: a fixed pool of threads doing the blocking work, the shape of a classic
//! Java or C service. One thread multiplexes every client connection with epoll (mio) and
//! reads whole requests off them; the pool's threads take requests from a queue, compute,
//! call the downstream service on their own blocking connection and reply. A request waiting
//! downstream holds its pool thread, so the pool's size caps how many requests can be
//! waiting at once: that is this model's trade-off, and why the size is an option.

use std::{
    collections::HashMap,
    io::{ErrorKind, Read, Write},
    os::fd::{AsRawFd, RawFd},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use mio::{Events, Interest, Poll, Token, Waker, net::TcpStream, unix::SourceFd};

use crate::{
    servers::{Admitted, Books, Server, ServerSpec, blocking::BlockingDownstream, listen},
    service::{
        protocol::{REQUEST_LEN, Reply, Request},
        work,
    },
};

const LISTENER: Token = Token(0);
const WAKE: Token = Token(1);

/// A request read off a connection, for a pool thread.
struct Job {
    client: Arc<TcpStream>,
    request: Request,
}

/// A client connection, as the reading thread keeps it.
struct Connection {
    stream: Arc<TcpStream>,
    frame: [u8; REQUEST_LEN],
    filled: usize,
    _admitted: Admitted,
}

pub fn thread_pool(spec: &ServerSpec) -> anyhow::Result<Server> {
    let listener = listen()?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let books = Arc::new(Books::default());
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
    let stopping = Arc::new(AtomicBool::new(false));
    let (jobs, queue) = flume::unbounded::<Job>();
    let mut threads = Vec::new();
    for _ in 0..spec.pool_threads {
        let (queue, books, spec) = (queue.clone(), Arc::clone(&books), spec.clone());
        threads.push(std::thread::Builder::new().name("pool".into()).spawn(move || work_loop(&queue, &spec, &books))?);
    }
    let reader = {
        let (books, stopping, max) = (Arc::clone(&books), Arc::clone(&stopping), spec.max_connections);
        let listener = mio::net::TcpListener::from_std(listener);
        std::thread::Builder::new()
            .name("reader".into())
            .spawn(move || read_loop(poll, listener, &jobs, &books, &stopping, max))?
    };
    // The reader first: once it has gone, the queue's sender is dropped and the pool drains.
    threads.insert(0, reader);
    let stop = move || {
        stopping.store(true, Ordering::Release);
        let _ = waker.wake();
    };
    Ok(Server::new(addr, books, stop, threads))
}

// ANCHOR: work_loop
/// A pool thread: its own downstream connection, then job after job until the queue closes.
fn work_loop(queue: &flume::Receiver<Job>, spec: &ServerSpec, books: &Books) {
    let mut downstream = BlockingDownstream::new(spec.downstream, spec.downstream_timeout);
    let _ = downstream.connect();
    for Job { client, request } in queue.iter() {
        let computed = work::crunch(request.id, request.units);
        let answer = downstream.call(&request, books);
        match write_all(&client, &Reply::new(request.id, computed, answer).encode()) {
            Ok(()) => books.served(),
            Err(_) => books.cut_off(),
        }
    }
}
// ANCHOR_END: work_loop

/// The reading thread: accepts, reads whole requests, queues them for the pool.
fn read_loop(
    mut poll: Poll,
    mut listener: mio::net::TcpListener,
    jobs: &flume::Sender<Job>,
    books: &Arc<Books>,
    stopping: &AtomicBool,
    max: u64,
) {
    if poll.registry().register(&mut listener, LISTENER, Interest::READABLE).is_err() {
        return;
    }
    let mut connections: HashMap<Token, Connection> = HashMap::new();
    let mut events = Events::with_capacity(1024);
    // Tokens are never reused, so an event for a connection closed earlier finds nothing.
    let mut next = 2usize;
    // Set when accept ran out of descriptors: the backlog is retried every millisecond, as
    // no new readiness event will come for connections already queued.
    let mut backlog = false;
    loop {
        // The waker ends the wait at once; the 100 ms bound is a second way out should a
        // wake-up be missed, so a stop never waits on a client that has gone quiet.
        let timeout = Duration::from_millis(if backlog { 1 } else { 100 });
        if poll.poll(&mut events, Some(timeout)).is_err() {
            continue;
        }
        if stopping.load(Ordering::Acquire) {
            return;
        }
        if backlog || events.iter().any(|e| e.token() == LISTENER) {
            backlog = false;
            loop {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let Some(admitted) = books.admit(max) else { continue };
                        let _ = stream.set_nodelay(true);
                        let token = Token(next);
                        next += 1;
                        let fd = stream.as_raw_fd();
                        if poll.registry().register(&mut SourceFd(&fd), token, Interest::READABLE).is_ok() {
                            let stream = Arc::new(stream);
                            connections.insert(
                                token,
                                Connection { stream, frame: [0; REQUEST_LEN], filled: 0, _admitted: admitted },
                            );
                            books.ready();
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => {
                        backlog = true;
                        break;
                    }
                }
            }
        }
        for event in events.iter().filter(|e| e.token() != LISTENER && e.token() != WAKE) {
            let Some(connection) = connections.get_mut(&event.token()) else { continue };
            if let Some(cut) = read_requests(connection, jobs) {
                if cut {
                    books.cut_off();
                }
                let fd = connection.stream.as_raw_fd();
                let _ = poll.registry().deregister(&mut SourceFd(&fd));
                connections.remove(&event.token());
            }
        }
    }
}

/// Reads what a connection has, queueing each whole request; `Some(cut)` once the connection
/// has ended (`cut` when it ended in the middle of a request).
fn read_requests(connection: &mut Connection, jobs: &flume::Sender<Job>) -> Option<bool> {
    loop {
        match (&*connection.stream).read(&mut connection.frame[connection.filled..]) {
            Ok(0) => return Some(connection.filled > 0),
            Ok(n) => {
                connection.filled += n;
                if connection.filled == REQUEST_LEN {
                    connection.filled = 0;
                    let request = Request::decode(&connection.frame);
                    let _ = jobs.send(Job { client: Arc::clone(&connection.stream), request });
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return None,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Some(connection.filled > 0),
        }
    }
}

/// Writes a reply on a non-blocking socket from a pool thread. A client has one request out
/// at a time, so its send buffer has room and the first write takes it all; should it not,
/// the thread waits (up to a second) for room.
fn write_all(client: &TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        match (&*client).write(bytes) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == ErrorKind::WouldBlock => wait_writable(client.as_raw_fd())?,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn wait_writable(fd: RawFd) -> std::io::Result<()> {
    let mut poll_fd = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
    // SAFETY: poll reads and writes only the one pollfd it is given.
    match unsafe { libc::poll(&mut poll_fd, 1, 1000) } {
        1 => Ok(()),
        0 => Err(ErrorKind::TimedOut.into()),
        _ => Err(std::io::Error::last_os_error()),
    }
}
