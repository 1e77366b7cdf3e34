//! `thread-per-client`: the thread-per-connection server. An acceptor thread takes each
//! connection and gives it two blocking threads, a reader and a writer (the shape of the
//! early Minecraft server: one thread cannot block on a socket read and on a queue at once).
//! The simulation runs on its own thread, as in the hybrid. Each thread is cheap to write
//! and to reason about; a thousand clients are two thousand threads.

use std::{
    io::{BufReader, ErrorKind, Read, Write},
    net::{Shutdown, TcpListener, TcpStream},
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicBool, Ordering},
    },
    thread::{self, JoinHandle},
    time::Duration,
};

use anyhow::Context;

use crate::{
    net::{
        protocol::{DecodeError, MAX_MESSAGE, frame},
        sockets::tcp_listener,
    },
    servers::{
        books::{Count, NetBook},
        spec::{INBOX_CAPACITY, Server, ServerReport, ServerSpec},
        tcp::{Admission, Msg, Route, deliver, simulate, tune},
    },
    sim::simulation::SimConfig,
};

/// Stack of a connection's threads: they hold a small buffer each, and 64 KiB keeps a
/// thousand of them from reserving gigabytes of address space.
pub const CONNECTION_STACK: usize = 64 * 1024;

struct Shared {
    stop: AtomicBool,
    admission: Admission,
    /// Every connection, so shutdown can unblock its threads; weak, so that a closed
    /// connection's descriptor is released as soon as its two threads end.
    streams: Mutex<Vec<Weak<TcpStream>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    book: NetBook,
}

pub fn start(spec: ServerSpec, how: SimConfig) -> anyhow::Result<Server> {
    let listener = tcp_listener().context("cannot listen on 127.0.0.1")?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        stop: AtomicBool::new(false),
        admission: Admission::new(spec.max_connections),
        streams: Mutex::new(Vec::new()),
        threads: Mutex::new(Vec::new()),
        book: NetBook::default(),
    });
    let (inbox_tx, inbox) = flume::bounded(INBOX_CAPACITY);
    let acceptor = {
        let shared = Arc::clone(&shared);
        thread::Builder::new()
            .name("acceptor".into())
            .spawn(move || accept(listener, &shared, &inbox_tx, &spec))
            .context("cannot start the acceptor thread")?
    };
    Ok(Server::new(addr, move || {
        let (mut host, ticks) = simulate(&spec, how, &inbox, &shared.book);
        // Stop accepting (a connection of our own wakes the blocked accept), drop the routes
        // so idle writers end, and shut every socket so blocked readers and writers return.
        shared.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(addr);
        let _ = acceptor.join();
        // Queued inputs hold clones of their connection's route: drop them with the inbox.
        host.forget_routes();
        drop(inbox);
        for stream in lock(&shared.streams).drain(..) {
            if let Some(stream) = stream.upgrade() {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
        for thread in std::mem::take(&mut *lock(&shared.threads)) {
            let _ = thread.join();
        }
        Ok(ServerReport::new(host, ticks, &shared.book, None))
    }))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
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
        if !shared.admission.admit() {
            book.bump(Count::Refused);
            continue;
        }
        book.bump(Count::Accepted);
        tune(&stream, spec);
        let _ = stream.set_read_timeout(Some(spec.silence_limit()));
        let stream = Arc::new(stream);
        let (route, queue) = flume::bounded(spec.client_queue);
        let spawn = |name: &str, body: Box<dyn FnOnce() + Send>| {
            thread::Builder::new().name(name.into()).stack_size(CONNECTION_STACK).spawn(body)
        };
        let reader = {
            let (stream, inbox, shared) = (Arc::clone(&stream), inbox.clone(), Arc::clone(shared));
            spawn("reader", Box::new(move || read(&stream, route, &inbox, &shared)))
        };
        let writer = {
            let (stream, shared) = (Arc::clone(&stream), Arc::clone(shared));
            spawn("writer", Box::new(move || write(&stream, &queue, &shared.book)))
        };
        let mut threads = lock(&shared.threads);
        match (reader, writer) {
            (Ok(reader), Ok(writer)) => threads.extend([reader, writer]),
            // The machine would not give us the threads: close the connection, count it.
            (reader, writer) => {
                let _ = stream.shutdown(Shutdown::Both);
                threads.extend(reader.into_iter().chain(writer));
                book.bump(Count::Refused);
                shared.admission.release();
                continue;
            }
        }
        lock(&shared.streams).push(Arc::downgrade(&stream));
    }
}
// ANCHOR_END: accept

// ANCHOR: reader
/// Reads framed inputs until the client closes, goes silent past the limit, or sends a frame
/// too long to be one of ours.
fn read(stream: &TcpStream, route: Route, inbox: &flume::Sender<Msg>, shared: &Shared) {
    let book = &shared.book;
    let mut reader = BufReader::new(stream);
    let mut body = [0u8; MAX_MESSAGE];
    let mut client = None;
    loop {
        let mut prefix = [0u8; 2];
        let read = reader.read_exact(&mut prefix).and_then(|()| {
            let len = usize::from(u16::from_le_bytes(prefix));
            if len > MAX_MESSAGE {
                return Ok(None);
            }
            reader.read_exact(&mut body[..len]).map(|()| Some(len))
        });
        match read {
            Ok(Some(len)) => client = deliver(&body[..len], &route, inbox, book).or(client),
            Ok(None) => {
                book.malformed(DecodeError::Oversized);
                book.bump(Count::ClosedMalformed);
                break;
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                book.bump(Count::ClosedSilent);
                break;
            }
            // The client closed or reset the connection, or the server is shutting down.
            Err(_) => break,
        }
    }
    if let Some(client) = client {
        let _ = inbox.try_send(Msg::Leave(client));
    }
    let _ = stream.shutdown(Shutdown::Both);
    shared.admission.release();
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
