//! `thread-per-client`: the thread-per-connection server. An acceptor thread takes each
//! connection and gives it two blocking threads, a reader and a writer (the shape of the
//! early Minecraft server: one thread cannot block on a socket read and on a queue at once).
//! The simulation runs on its own thread, as in the hybrid. Each thread is cheap to write
//! and to reason about; a thousand clients are two thousand threads.

use std::{
    io::{BufReader, Read, Write},
    net::{Shutdown, SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex, MutexGuard, Weak,
        atomic::{AtomicBool, Ordering},
    },
    thread::{self, JoinHandle},
    time::Duration,
};

use anyhow::Context;

use crate::{
    net::{
        protocol::{MAX_MESSAGE, frame},
        sockets::tcp_listener,
    },
    servers::{
        books::{Count, NetBook},
        host::Host,
        spec::{Played, Server, ServerReport, ServerSpec},
        tcp::{Admission, Msg, Reader, Route, Slot, simulate, tune},
    },
    sim::simulation::SimConfig,
};

/// Stack of a connection's threads: they hold a small buffer each, and 64 KiB keeps a
/// thousand of them from reserving gigabytes of address space.
pub const CONNECTION_STACK: usize = 64 * 1024;

/// One connection, held by its reader and its writer: the socket and its place under the cap
/// go back when the second of them ends (or when neither could start).
struct Conn {
    stream: TcpStream,
    _slot: Slot,
}

struct Shared {
    stop: AtomicBool,
    admission: Admission,
    /// Open connections, so shutdown can unblock their threads; weak, so that a closed
    /// connection's descriptor goes as soon as its threads end.
    conns: Mutex<Vec<Weak<Conn>>>,
    /// Connection threads not yet joined: those that ended are joined at the next accept.
    threads: Mutex<Vec<JoinHandle<()>>>,
    book: NetBook,
    /// The stacks the reader and the writer ask for: [`CONNECTION_STACK`] each, except in a
    /// test that asks for more than any machine can map, so that a start fails for real.
    stacks: [usize; 2],
}

impl Shared {
    /// Joins the connection threads that have ended and forgets closed connections: what is
    /// kept stays bounded by the connections open, however many came and went.
    fn reap(&self) {
        let ended: Vec<_> = lock(&self.threads).extract_if(.., |t| t.is_finished()).collect();
        for thread in ended {
            let _ = thread.join();
        }
        lock(&self.conns).retain(|conn| conn.strong_count() > 0);
    }
}

/// The acceptor thread and what it shares with the connections' threads.
struct Acceptor {
    addr: SocketAddr,
    thread: JoinHandle<()>,
    shared: Arc<Shared>,
}

impl Acceptor {
    fn start(spec: ServerSpec, inbox: flume::Sender<Msg>, stacks: [usize; 2]) -> anyhow::Result<Acceptor> {
        let listener = tcp_listener().context("cannot listen on 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            admission: Admission::new(spec.max_connections),
            conns: Mutex::default(),
            threads: Mutex::default(),
            book: NetBook::default(),
            stacks,
        });
        let thread = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("acceptor".into())
                .spawn(move || accept(listener, &shared, &inbox, &spec))
                .context("cannot start the acceptor thread")?
        };
        Ok(Acceptor { addr, thread, shared })
    }

    /// Stops accepting (a connection of our own wakes the blocked accept), shuts every
    /// socket so that blocked readers and writers return, and joins every thread.
    fn stop(self) -> Arc<Shared> {
        let shared = self.shared;
        shared.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(self.addr);
        let _ = self.thread.join();
        for conn in lock(&shared.conns).drain(..).filter_map(|conn| conn.upgrade()) {
            let _ = conn.stream.shutdown(Shutdown::Both);
        }
        for thread in std::mem::take(&mut *lock(&shared.threads)) {
            let _ = thread.join();
        }
        shared
    }
}

pub fn start(spec: ServerSpec, how: SimConfig) -> anyhow::Result<Server> {
    let (inbox_tx, inbox) = flume::bounded(spec.inbox);
    let acceptor = Acceptor::start(spec, inbox_tx, [CONNECTION_STACK; 2])?;
    let host = Host::new(&spec, how);
    Ok(Server::new(acceptor.addr, move || {
        let (mut host, ticks) = simulate(host, spec.slots, &inbox, &acceptor.shared.book);
        Ok(Played::new(move || {
            // Idle writers end when their queue's senders are gone: the routes, and the
            // clones queued inputs hold, which go with the inbox.
            host.forget_routes();
            drop(inbox);
            let shared = acceptor.stop();
            Ok(ServerReport::new(host, ticks, &shared.book, None))
        }))
    }))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

// ANCHOR: accept
fn accept(listener: TcpListener, shared: &Arc<Shared>, inbox: &flume::Sender<Msg>, spec: &ServerSpec) {
    let book = &shared.book;
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::Acquire) {
            break;
        }
        let Ok(stream) = stream else {
            // Out of descriptors or a connection reset before accept: try again shortly.
            thread::sleep(Duration::from_millis(1));
            continue;
        };
        shared.reap();
        let Some(slot) = shared.admission.admit() else {
            book.bump(Count::Refused);
            continue;
        };
        book.bump(Count::Accepted);
        tune(&stream, spec);
        let _ = stream.set_read_timeout(Some(spec.silence_limit()));
        let conn = Arc::new(Conn { stream, _slot: slot });
        let (route, queue) = flume::bounded(spec.client_queue);
        let spawn = |name: &str, stack: usize, body: Box<dyn FnOnce() + Send>| {
            thread::Builder::new().name(name.into()).stack_size(stack).spawn(body)
        };
        let reader = {
            let (conn, inbox, shared) = (Arc::clone(&conn), inbox.clone(), Arc::clone(shared));
            spawn("reader", shared.stacks[0], Box::new(move || read(&conn, route, &inbox, &shared.book)))
        };
        let writer = {
            let (conn, shared) = (Arc::clone(&conn), Arc::clone(shared));
            spawn("writer", shared.stacks[1], Box::new(move || write(&conn.stream, &queue, &shared.book)))
        };
        let started = reader.is_ok() && writer.is_ok();
        lock(&shared.threads).extend(reader.into_iter().chain(writer));
        if started {
            lock(&shared.conns).push(Arc::downgrade(&conn));
        } else {
            // The machine would not give us the threads: close the connection, count it. Its
            // slot goes back once, with the last holder of `conn`.
            let _ = conn.stream.shutdown(Shutdown::Both);
            book.bump(Count::Refused);
        }
    }
}
// ANCHOR_END: accept

// ANCHOR: reader
/// Reads framed inputs until the connection is done; a blocking read returns when the client
/// sends, closes or stays silent past the read timeout.
fn read(conn: &Conn, route: Route, inbox: &flume::Sender<Msg>, book: &NetBook) {
    let mut stream = BufReader::new(&conn.stream);
    let mut reader = Reader::new(route, inbox, book);
    loop {
        let read = read_frame(&mut stream, &mut reader.body);
        if !reader.take(read) {
            break reader.finish();
        }
    }
    let _ = conn.stream.shutdown(Shutdown::Both);
}

/// One frame's length, or `None` if its prefix announces more than any valid message.
fn read_frame(stream: &mut impl Read, body: &mut [u8; MAX_MESSAGE]) -> std::io::Result<Option<usize>> {
    let mut prefix = [0u8; 2];
    stream.read_exact(&mut prefix)?;
    let len = usize::from(u16::from_le_bytes(prefix));
    if len > MAX_MESSAGE {
        return Ok(None);
    }
    stream.read_exact(&mut body[..len]).map(|()| Some(len))
}
// ANCHOR_END: reader

/// Writes queued snapshots until every sender of the queue is gone or the socket fails.
/// A blocked write holds only this thread; the simulation never waits for it.
fn write(mut stream: &TcpStream, queue: &flume::Receiver<Vec<u8>>, book: &NetBook) {
    let mut framed = Vec::with_capacity(2 + MAX_MESSAGE);
    while let Ok(snapshot) = queue.recv() {
        framed.clear();
        frame(&snapshot, &mut framed);
        if stream.write_all(&framed).is_err() {
            book.bump(Count::SendErrors);
            break;
        }
        book.bump(Count::Sent);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::servers::spec::INBOX_CAPACITY;

    fn acceptor(cap: usize, stacks: [usize; 2]) -> (Acceptor, flume::Receiver<Msg>) {
        let world =
            crate::sim::world::WorldConfig { entities: 0, seed: 1, sim_cost: 0, max_clients: 8, timeout_ticks: 64 };
        let (inbox_tx, inbox) = flume::bounded(INBOX_CAPACITY);
        (Acceptor::start(ServerSpec::new(world, 1, false, cap), inbox_tx, stacks).expect("acceptor starts"), inbox)
    }

    fn wait_until(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_writer_that_cannot_start_gives_its_slot_back_once() {
        // A writer stack of 1 PiB is more than the address space: the kernel refuses the
        // writer for real, after its reader started.
        let (acceptor, _inbox) = acceptor(1, [CONNECTION_STACK, 1 << 50]);
        let shared = Arc::clone(&acceptor.shared);
        for _ in 0..3 {
            let mut client = TcpStream::connect(acceptor.addr).expect("connect");
            client.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
            assert!(matches!(client.read(&mut [0u8; 8]), Ok(0) | Err(_)), "the server closed it");
            wait_until("the slot is back", || shared.admission.open() == 0);
        }
        let shared = acceptor.stop();
        let counts = shared.book.counts();
        assert_eq!((counts[Count::Accepted], counts[Count::Refused]), (3, 3), "each one admitted, then refused");
        assert_eq!(shared.admission.open(), 0);
    }

    #[test]
    fn connection_churn_keeps_only_the_threads_of_open_connections() {
        let (acceptor, _inbox) = acceptor(1000, [CONNECTION_STACK; 2]);
        let shared = Arc::clone(&acceptor.shared);
        for _ in 0..200 {
            drop(TcpStream::connect(acceptor.addr).expect("connect"));
        }
        wait_until("every connection was accepted", || shared.book.counts()[Count::Accepted] == 200);
        wait_until("every connection closed", || shared.admission.open() == 0);
        wait_until("every thread ended", || lock(&shared.threads).iter().all(|t| t.is_finished()));
        // One more connection: the acceptor reaps what ended before it admits it.
        let _last = TcpStream::connect(acceptor.addr).expect("connect");
        wait_until("the last connection was accepted", || shared.book.counts()[Count::Accepted] == 201);
        let (threads, conns) = (lock(&shared.threads).len(), lock(&shared.conns).len());
        assert!(threads <= 2 && conns <= 1, "{threads} threads and {conns} connections kept after 200 closed");
        acceptor.stop();
    }
}
