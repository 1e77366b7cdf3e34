//! `hybrid-tcp`: thread-per-client's transport and simulation thread, with tokio tasks in
//! place of the connection threads: an accept task, and a reader and a writer task per
//! connection. Set beside `thread-per-client`, it separates what the connection model costs
//! from what TCP costs; set beside `hybrid`, what TCP costs a game.

use std::{io::ErrorKind, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt, BufReader},
    net::{
        TcpListener,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
};
use tokio_util::sync::CancellationToken;

use crate::{
    net::{
        protocol::{MAX_MESSAGE, frame},
        sockets::tcp_listener,
    },
    servers::{
        books::{Count, NetBook},
        host::Host,
        spec::{Played, Server, ServerReport, ServerSpec, runtime},
        tcp::{Admission, Msg, Reader, Route, Slot, simulate, tune},
    },
    sim::simulation::SimConfig,
};

struct Shared {
    admission: Admission,
    book: NetBook,
    inbox: flume::Sender<Msg>,
    shutdown: CancellationToken,
    spec: ServerSpec,
}

pub fn start(spec: ServerSpec, how: SimConfig) -> anyhow::Result<Server> {
    let listener = tcp_listener().context("cannot listen on 127.0.0.1")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = runtime("net")?;
    let listener = {
        let _entered = runtime.enter();
        TcpListener::from_std(listener)?
    };
    let (inbox_tx, inbox) = flume::bounded(spec.inbox);
    let shared = Arc::new(Shared {
        admission: Admission::new(spec.max_connections),
        book: NetBook::default(),
        inbox: inbox_tx,
        shutdown: CancellationToken::new(),
        spec,
    });
    runtime.spawn(accept(listener, Arc::clone(&shared)));
    let host = Host::new(&spec, how);
    Ok(Server::new(addr, move || {
        let (mut host, ticks) = simulate(host, spec.slots, &inbox, &shared.book);
        Ok(Played::new(move || {
            shared.shutdown.cancel();
            host.forget_routes();
            drop(inbox);
            runtime.shutdown_timeout(Duration::from_secs(1));
            Ok(ServerReport::new(host, ticks, &shared.book, None))
        }))
    }))
}

// ANCHOR: accept
async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let stream = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                }
            },
        };
        let Some(slot) = shared.admission.admit() else {
            shared.book.bump(Count::Refused);
            continue;
        };
        shared.book.bump(Count::Accepted);
        tune(&stream, &shared.spec);
        let (reader, writer) = stream.into_split();
        let (route, queue) = flume::bounded(shared.spec.client_queue);
        tokio::spawn(read(reader, route, slot, Arc::clone(&shared)));
        tokio::spawn(write(writer, queue, Arc::clone(&shared)));
    }
}
// ANCHOR_END: accept

/// Reads framed inputs until the connection is done or the server shuts down; the
/// connection's slot goes back when this task ends.
async fn read(stream: OwnedReadHalf, route: Route, _slot: Slot, shared: Arc<Shared>) {
    let mut stream = BufReader::new(stream);
    let mut reader = Reader::new(route, &shared.inbox, &shared.book);
    let silence = shared.spec.silence_limit();
    loop {
        let next = tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            next = tokio::time::timeout(silence, read_frame(&mut stream, &mut reader.body)) => next,
        };
        if !reader.take(next.unwrap_or_else(|_silent| Err(ErrorKind::TimedOut.into()))) {
            break;
        }
    }
    reader.finish();
}

/// One frame's length, or `None` if its prefix announces more than any valid message.
async fn read_frame(
    reader: &mut BufReader<OwnedReadHalf>,
    body: &mut [u8; MAX_MESSAGE],
) -> std::io::Result<Option<usize>> {
    let len = usize::from(reader.read_u16_le().await?);
    if len > MAX_MESSAGE {
        return Ok(None);
    }
    reader.read_exact(&mut body[..len]).await?;
    Ok(Some(len))
}

/// Writes queued snapshots until the queue's senders are gone, the socket fails or the server
/// shuts down. A write waiting on a slow client holds only this task.
async fn write(mut writer: OwnedWriteHalf, queue: flume::Receiver<Vec<u8>>, shared: Arc<Shared>) {
    let mut framed = Vec::with_capacity(2 + MAX_MESSAGE);
    loop {
        let snapshot = tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            snapshot = queue.recv_async() => match snapshot {
                Ok(snapshot) => snapshot,
                Err(_) => break,
            },
        };
        framed.clear();
        frame(&snapshot, &mut framed);
        let written = tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            written = writer.write_all(&framed) => written,
        };
        if written.is_err() {
            shared.book.bump(Count::SendErrors);
            break;
        }
        shared.book.bump(Count::Sent);
    }
}
