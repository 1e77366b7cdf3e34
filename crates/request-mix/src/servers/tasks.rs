//! The async variants: a task per connection on tokio, reading, calling the downstream
//! service and replying with `.await`, and three places for the CPU part: inline in the task
//! (`tokio-inline`), on tokio's blocking pool (`tokio-spawn-blocking`), or on a rayon pool
//! with the result sent back on a oneshot (`tokio-rayon`, the hybrid the framework
//! recommends); and `thread-per-core`: one current-thread runtime per core, each with its
//! own listener on the same port (`SO_REUSEPORT`), the CPU inline, nothing shared.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::{oneshot, watch},
};

use crate::{
    servers::{Admitted, Books, Server, ServerSpec, blocking::Frame, listen},
    service::{
        protocol::{self, CALL_LEN, REQUEST_LEN, Reply, Request, Status},
        work,
    },
};

/// Where a task's CPU part runs.
#[derive(Clone)]
pub enum Cpu {
    Inline,
    SpawnBlocking,
    Rayon(Arc<rayon::ThreadPool>),
}

impl Cpu {
    // ANCHOR: cpu
    async fn crunch(&self, id: u64, units: u32) -> u64 {
        match self {
            Cpu::Inline => work::crunch(id, units),
            Cpu::SpawnBlocking => {
                tokio::task::spawn_blocking(move || work::crunch(id, units)).await.expect("the CPU part never panics")
            }
            Cpu::Rayon(pool) => {
                let (done, result) = oneshot::channel();
                pool.spawn(move || {
                    let _ = done.send(work::crunch(id, units));
                });
                result.await.expect("the rayon pool outlives every task")
            }
        }
    }
    // ANCHOR_END: cpu
}

/// `tokio-inline`, `tokio-spawn-blocking` or `tokio-rayon`: one multi-thread runtime with a
/// worker per core, the accept loop in `block_on` as `#[tokio::main]` would run it.
pub fn tokio_server(spec: &ServerSpec, cpu: Cpu) -> anyhow::Result<Server> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(spec.cores).enable_all().build()?;
    let listener = listen()?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let books = Arc::new(Books::default());
    let (stop, stopped) = watch::channel(false);
    let main = {
        let (books, spec) = (Arc::clone(&books), Arc::new(spec.clone()));
        std::thread::Builder::new().name("main".into()).spawn(move || {
            runtime.block_on(accept_loop(listener, stopped, spec, books, cpu));
            runtime.shutdown_timeout(Duration::from_secs(1));
        })?
    };
    Ok(Server::new(
        addr,
        books,
        move || {
            let _ = stop.send(true);
        },
        vec![main],
    ))
}

/// `thread-per-core`: a current-thread runtime on each of `cores` threads, each accepting on
/// its own `SO_REUSEPORT` listener, so that a connection lives and dies on one thread.
pub fn thread_per_core(spec: &ServerSpec) -> anyhow::Result<Server> {
    let first = protocol::listener(([127, 0, 0, 1], 0).into(), true)?;
    let addr: SocketAddr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..spec.cores {
        listeners.push(protocol::listener(addr, true)?);
    }
    let books = Arc::new(Books::default());
    let (stop, stopped) = watch::channel(false);
    let spec = Arc::new(spec.clone());
    let mut threads = Vec::new();
    for listener in listeners {
        listener.set_nonblocking(true)?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (stopped, books, spec) = (stopped.clone(), Arc::clone(&books), Arc::clone(&spec));
        threads.push(std::thread::Builder::new().name("core".into()).spawn(move || {
            runtime.block_on(accept_loop(listener, stopped, spec, books, Cpu::Inline));
        })?);
    }
    Ok(Server::new(
        addr,
        books,
        move || {
            let _ = stop.send(true);
        },
        threads,
    ))
}

async fn accept_loop(
    listener: std::net::TcpListener,
    mut stopped: watch::Receiver<bool>,
    spec: Arc<ServerSpec>,
    books: Arc<Books>,
    cpu: Cpu,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let Some(admitted) = books.admit(spec.max_connections) else { continue };
                    tokio::spawn(serve(stream, Arc::clone(&spec), Arc::clone(&books), cpu.clone(), admitted));
                }
                // Out of descriptors: the connection waits in the backlog; try again shortly.
                Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        }
    }
}

// ANCHOR: serve
/// One connection's task: its own downstream connection, then request after request.
async fn serve(mut client: TcpStream, spec: Arc<ServerSpec>, books: Arc<Books>, cpu: Cpu, _admitted: Admitted) {
    let _ = client.set_nodelay(true);
    let mut downstream = AsyncDownstream { addr: spec.downstream, timeout: spec.downstream_timeout, stream: None };
    let _ = downstream.connect().await;
    books.ready();
    let mut frame = [0u8; REQUEST_LEN];
    loop {
        match read_frame(&mut client, &mut frame).await {
            Frame::Whole => {}
            Frame::End => return,
            Frame::Cut => return books.cut_off(),
        }
        let request = Request::decode(&frame);
        let computed = cpu.crunch(request.id, request.units).await;
        let answer = downstream.call(&request, &books).await;
        if client.write_all(&Reply::new(request.id, computed, answer).encode()).await.is_err() {
            return books.cut_off();
        }
        books.served();
    }
}
// ANCHOR_END: serve

async fn read_frame(stream: &mut TcpStream, buf: &mut [u8]) -> Frame {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]).await {
            Ok(0) if filled == 0 => return Frame::End,
            Ok(0) | Err(_) => return Frame::Cut,
            Ok(n) => filled += n,
        }
    }
    Frame::Whole
}

/// A task's connection to the downstream service: the async twin of
/// [`crate::servers::blocking::BlockingDownstream`].
struct AsyncDownstream {
    addr: SocketAddr,
    timeout: Duration,
    stream: Option<TcpStream>,
}

impl AsyncDownstream {
    async fn connect(&mut self) -> std::io::Result<()> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(self.addr).await?;
            stream.set_nodelay(true)?;
            self.stream = Some(stream);
        }
        Ok(())
    }

    // ANCHOR: async_call
    async fn call(&mut self, request: &Request, books: &Books) -> Result<u64, Status> {
        if self.connect().await.is_err() {
            books.downstream_error();
            return Err(Status::DownstreamError);
        }
        let stream = self.stream.as_mut().expect("connected above");
        let mut answer = [0u8; CALL_LEN];
        let exchange = async {
            stream.write_all(&request.call()).await?;
            stream.read_exact(&mut answer).await
        };
        let outcome = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok(_)) => protocol::decode_answer(&answer, request.id),
            Ok(Err(_)) => Err(Status::DownstreamError),
            Err(_) => Err(Status::DownstreamTimeout),
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
    // ANCHOR_END: async_call
}
