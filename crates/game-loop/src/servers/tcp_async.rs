//! `hybrid-tcp`: thread-per-client's transport and simulation thread, with tokio tasks in
//! place of the connection threads: an accept task, and a reader and a writer task per
//! connection. Set beside `thread-per-client`, it separates what the connection model costs
//! from what TCP costs; set beside `hybrid`, what TCP costs a game.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt, BufReader},
    net::{
        TcpListener, TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
};
use tokio_util::sync::CancellationToken;

use crate::{
    net::{
        protocol::{DecodeError, MAX_MESSAGE, frame},
        sockets::tcp_listener,
    },
    servers::{
        books::{Count, NetBook},
        spec::{INBOX_CAPACITY, Server, ServerReport, ServerSpec, runtime},
        tcp::{Admission, Msg, Route, deliver, simulate, tune},
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
    let (inbox_tx, inbox) = flume::bounded(INBOX_CAPACITY);
    let shared = Arc::new(Shared {
        admission: Admission::new(spec.max_connections),
        book: NetBook::default(),
        inbox: inbox_tx,
        shutdown: CancellationToken::new(),
        spec,
    });
    runtime.spawn(accept(listener, Arc::clone(&shared)));
    Ok(Server::new(addr, move || {
        let (mut host, ticks) = simulate(&spec, how, &inbox, &shared.book);
        shared.shutdown.cancel();
        host.forget_routes();
        drop(inbox);
        runtime.shutdown_timeout(Duration::from_secs(1));
        Ok(ServerReport::new(host, ticks, &shared.book, None))
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
        if !shared.admission.admit() {
            shared.book.bump(Count::Refused);
            continue;
        }
        shared.book.bump(Count::Accepted);
        tune(&stream, &shared.spec);
        serve(stream, &shared);
    }
}

fn serve(stream: TcpStream, shared: &Arc<Shared>) {
    let (reader, writer) = stream.into_split();
    let (route, queue) = flume::bounded(shared.spec.client_queue);
    tokio::spawn(read(reader, route, Arc::clone(shared)));
    tokio::spawn(write(writer, queue, Arc::clone(shared)));
}
// ANCHOR_END: accept

/// Reads framed inputs until the client closes, goes silent past the limit, sends a frame
/// too long to be one of ours, or the server shuts down.
async fn read(reader: OwnedReadHalf, route: Route, shared: Arc<Shared>) {
    let book = &shared.book;
    let mut reader = BufReader::new(reader);
    let mut body = [0u8; MAX_MESSAGE];
    let mut client = None;
    let silence = shared.spec.silence_limit();
    loop {
        let next = tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            next = tokio::time::timeout(silence, read_frame(&mut reader, &mut body)) => next,
        };
        match next {
            Ok(Ok(Some(len))) => client = deliver(&body[..len], &route, &shared.inbox, book).or(client),
            Ok(Ok(None)) => {
                book.malformed(DecodeError::Oversized);
                book.bump(Count::ClosedMalformed);
                break;
            }
            Ok(Err(_)) => break,
            Err(_silent) => {
                book.bump(Count::ClosedSilent);
                break;
            }
        }
    }
    if let Some(client) = client {
        let _ = shared.inbox.try_send(Msg::Leave(client));
    }
    shared.admission.release();
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
