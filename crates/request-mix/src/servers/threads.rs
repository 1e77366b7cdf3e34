//! `thread-per-connection`: the classic blocking server. An accept loop hands every
//! connection a thread of its own, which reads a request, computes, calls the downstream
//! service and waits for it, all blocking, and replies. Simple, and each request's CPU runs
//! on its own OS thread, preempted by the kernel rather than holding anyone up; the price is
//! a thread (and its downstream connection) per connection.

use std::{
    io::Write,
    net::{TcpListener, TcpStream},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use crate::{
    servers::{
        Admitted, Books, Server, ServerSpec,
        blocking::{BlockingDownstream, Frame, read_frame},
        listen,
    },
    service::{
        protocol::{REQUEST_LEN, Reply, Request},
        work,
    },
};

/// Stack of each connection's thread: the request path needs a few KiB, and a small stack
/// keeps thousands of threads' reservations modest.
pub const STACK: usize = 256 << 10;

pub fn thread_per_connection(spec: &ServerSpec) -> anyhow::Result<Server> {
    let listener = listen()?;
    let addr = listener.local_addr()?;
    let books = Arc::new(Books::default());
    let stopping = Arc::new(AtomicBool::new(false));
    let acceptor = {
        let (books, stopping, spec) = (Arc::clone(&books), Arc::clone(&stopping), spec.clone());
        std::thread::Builder::new()
            .name("acceptor".into())
            .spawn(move || accept_loop(&listener, &spec, &books, &stopping))?
    };
    let stop = move || {
        stopping.store(true, Ordering::Release);
        // Wakes the accept loop blocked in accept().
        let _ = TcpStream::connect(addr);
    };
    Ok(Server::new(addr, books, stop, vec![acceptor]))
}

// ANCHOR: accept_loop
fn accept_loop(listener: &TcpListener, spec: &ServerSpec, books: &Arc<Books>, stopping: &AtomicBool) {
    for stream in listener.incoming() {
        if stopping.load(Ordering::Acquire) {
            return;
        }
        let Ok(stream) = stream else {
            // Out of descriptors: the connection waits in the backlog; try again shortly.
            std::thread::sleep(std::time::Duration::from_millis(1));
            continue;
        };
        let Some(admitted) = books.admit(spec.max_connections) else { continue };
        let (ours, spec) = (Arc::clone(books), spec.clone());
        let spawned = std::thread::Builder::new()
            .name("connection".into())
            .stack_size(STACK)
            .spawn(move || serve_connection(stream, &spec, &ours, admitted));
        if spawned.is_err() {
            // The closure, and with it the stream and its admission, is dropped: the client
            // sees its connection close. Counted as refused.
            books.refuse_admitted();
        }
    }
}
// ANCHOR_END: accept_loop

// ANCHOR: serve_connection
/// One connection's thread: its own downstream connection, then request after request.
fn serve_connection(mut client: TcpStream, spec: &ServerSpec, books: &Books, _admitted: Admitted) {
    let _ = client.set_nodelay(true);
    let mut downstream = BlockingDownstream::new(spec.downstream, spec.downstream_timeout);
    let _ = downstream.connect();
    books.ready();
    let mut frame = [0u8; REQUEST_LEN];
    loop {
        match read_frame(&mut client, &mut frame) {
            Frame::Whole => {}
            Frame::End => return,
            Frame::Cut => return books.cut_off(),
        }
        let request = Request::decode(&frame);
        let computed = work::crunch(request.id, request.units);
        let answer = downstream.call(&request, books);
        if client.write_all(&Reply::new(request.id, computed, answer).encode()).is_err() {
            return books.cut_off();
        }
        books.served();
    }
}
// ANCHOR_END: serve_connection
