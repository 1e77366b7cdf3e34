//! The service's front end, the same for every variant: a TCP listener on 127.0.0.1, one async
//! handler per client connection, and the data layer under test behind them.
//!
//! Shaped like a small production server: the listener owns the shutdown signal and a
//! semaphore that caps open connections (a client over the cap waits in the kernel's backlog
//! rather than costing a file descriptor); each handler reads a request, awaits the data
//! layer, writes the reply, and ends when its client hangs up or shutdown fires between
//! requests. The front end is async in every row, so the rows differ only in the data layer.
//! A client that sends nothing (or half a frame) for the client timeout, or stops reading its
//! replies for as long, is cut off and counted: no client holds a connection slot forever.
//!
//! [`books`]: what the server side counts. [`job`]: the hybrid-web reading's background job,
//! beside the requests in the same process.

pub mod books;
pub mod job;

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{BufReader, BufWriter},
    net::{TcpListener, TcpSocket, TcpStream},
    sync::{Notify, Semaphore},
    task::JoinHandle,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use crate::{
    server::books::ServerBooks,
    store::fault::Fault,
    workload::{
        Request,
        protocol::{self, Reply},
    },
};

/// What the front end needs of a data layer: each layer in [`crate::layers`] implements it.
pub trait Serve: Send + Sync + 'static {
    /// Serves one request: its result's digest, or why it failed.
    fn serve(&self, books: &ServerBooks, request: Request) -> impl Future<Output = Result<u64, Fault>> + Send;

    /// Closes the layer's connections and joins its threads.
    fn close(self) -> impl Future<Output = ()> + Send;
}

/// Connections the front end counts, so the run can tell when its load generator is done.
#[derive(Debug, Default)]
struct Clients {
    opened: AtomicUsize,
    open: AtomicUsize,
    closed: Notify,
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    accept: JoinHandle<()>,
    clients: Arc<Clients>,
    /// Closes the data layer; polled only once every handler is gone.
    close: Pin<Box<dyn Future<Output = ()> + Send>>,
}

/// What the listener and every handler share.
struct Front<L> {
    shutdown: CancellationToken,
    layer: Arc<L>,
    books: Arc<ServerBooks>,
    clients: Arc<Clients>,
    client_timeout: Duration,
}

impl Server {
    /// Binds 127.0.0.1 on a free port and starts accepting, on the current runtime.
    pub async fn start<L: Serve>(
        layer: L,
        books: Arc<ServerBooks>,
        max_connections: usize,
        client_timeout: Duration,
    ) -> io::Result<Server> {
        // A backlog as deep as the clients it expects (the kernel caps it at somaxconn): the
        // default 128 overflows when thousands connect at once, and a dropped SYN costs its
        // client a one-second retransmit.
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let listener = socket.listen(max_connections.clamp(128, 65_535) as u32)?;
        let addr = listener.local_addr()?;
        let (shutdown, tracker, layer) = (CancellationToken::new(), TaskTracker::new(), Arc::new(layer));
        let clients = Arc::new(Clients::default());
        let front = Arc::new(Front {
            shutdown: shutdown.clone(),
            layer: Arc::clone(&layer),
            books,
            clients: Arc::clone(&clients),
            client_timeout,
        });
        let limit = Arc::new(Semaphore::new(max_connections.max(1)));
        let accept = tokio::spawn(accept(listener, limit, tracker.clone(), front));
        let close = Box::pin(async move {
            // Every handler is gone by now, so this is the last reference.
            if let Ok(layer) = Arc::try_unwrap(layer) {
                layer.close().await;
            }
        });
        Ok(Server { addr, shutdown, tracker, accept, clients, close })
    }

    /// Waits until `expected` clients have connected and every one has hung up: the load
    /// generator is done.
    pub async fn drained(&self, expected: usize) {
        loop {
            let notified = self.clients.closed.notified();
            if self.clients.opened.load(Ordering::Acquire) >= expected && self.clients.open.load(Ordering::Acquire) == 0
            {
                return;
            }
            // A notification can be missed between the check and the wait; poll as a backstop.
            let _ = tokio::time::timeout(Duration::from_millis(50), notified).await;
        }
    }

    /// Stops accepting, tells handlers to finish, waits for them, and closes the data layer.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        let _ = self.accept.await;
        self.tracker.close();
        self.tracker.wait().await;
        self.close.await;
    }
}

/// Accepts clients, each holding one of `limit`'s permits (the cap on open connections).
async fn accept<L: Serve>(listener: TcpListener, limit: Arc<Semaphore>, tracker: TaskTracker, front: Arc<Front<L>>) {
    let mut backoff = Duration::from_millis(1);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&limit).acquire_owned() => permit.expect("the semaphore is never closed"),
            _ = front.shutdown.cancelled() => return,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = front.shutdown.cancelled() => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // Out of descriptors or a client that vanished mid-handshake: wait and go on,
            // never take the server down for it.
            Err(_) => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(100));
                continue;
            }
        };
        backoff = Duration::from_millis(1);
        let _ = stream.set_nodelay(true);
        front.clients.opened.fetch_add(1, Ordering::AcqRel);
        front.clients.open.fetch_add(1, Ordering::AcqRel);
        let front = Arc::clone(&front);
        tracker.spawn(async move {
            // A broken client only ends its own connection.
            let _ = front.handle(stream).await;
            front.clients.open.fetch_sub(1, Ordering::AcqRel);
            front.clients.closed.notify_waiters();
            drop(permit);
        });
    }
}

impl<L: Serve> Front<L> {
    // ANCHOR: handler
    async fn handle(&self, stream: TcpStream) -> io::Result<()> {
        let (reader, writer) = stream.into_split();
        let mut reader = BufReader::with_capacity(protocol::CONNECTION_BUFFER, reader);
        let mut writer = BufWriter::with_capacity(protocol::CONNECTION_BUFFER, writer);
        let (mut frame, mut out) = (Vec::with_capacity(protocol::MAX_FRAME), Vec::with_capacity(32));
        loop {
            let more = tokio::select! {
                more = tokio::time::timeout(self.client_timeout, protocol::read_frame(&mut reader, &mut frame)) => more,
                _ = self.shutdown.cancelled() => return Ok(()),
            };
            let Ok(more) = more else {
                self.books.cut();
                return Ok(());
            };
            let more = more?;
            if !more {
                return Ok(());
            }
            let (id, request) = protocol::decode_request(&frame)?;
            let result = self.layer.serve(&self.books, request).await;
            if let Err(fault) = &result {
                self.books.failed(fault);
            }
            out.clear();
            protocol::encode_reply(&Reply { id, result: result.map_err(|f| f.kind) }, &mut out);
            match tokio::time::timeout(self.client_timeout, protocol::write_frame(&mut writer, &out)).await {
                Ok(written) => written?,
                Err(_) => {
                    self.books.cut();
                    return Ok(());
                }
            }
        }
    }
    // ANCHOR_END: handler
}
