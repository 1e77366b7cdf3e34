//! `all-async`: everything on one tokio runtime. The simulation is a task like the network
//! tasks, woken by a tokio timer each tick; while it runs the schedule it holds a worker
//! thread, and while a network task runs it may have to wait for a worker. The channels are
//! tokio's own, bounded and `try_send`-ed as in the hybrid.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::{
    net::UdpSocket,
    runtime::Runtime,
    sync::mpsc::{self, Receiver, Sender},
    task::JoinHandle,
};

use crate::{
    books::NetBook,
    clock::{TickBook, TickClock},
    host::Host,
    net,
    protocol::{Input, RECV_BUFFER},
    sim::{Sim, SimConfig},
    variants::{Finished, INBOX_CAPACITY, OUTBOX_BATCHES, ServerSpec, kernel_drops},
};

type Batch = Vec<(SocketAddr, Vec<u8>)>;

pub struct Started {
    pub addr: SocketAddr,
    spec: ServerSpec,
    how: SimConfig,
    runtime: Runtime,
    inputs: Receiver<(Input, SocketAddr)>,
    snapshots: Sender<Batch>,
    receiver: JoinHandle<()>,
    sender: JoinHandle<()>,
    book: Arc<NetBook>,
}

pub fn start(spec: ServerSpec, how: SimConfig) -> anyhow::Result<Started> {
    let runtime = net::runtime("runtime")?;
    let (addr, socket) = net::server_udp_socket(&runtime)?;
    let book = Arc::new(NetBook::default());
    let (input_tx, inputs) = mpsc::channel(INBOX_CAPACITY);
    let (snapshots, snapshot_rx) = mpsc::channel(OUTBOX_BATCHES);
    let receiver = runtime.spawn(receive(Arc::clone(&socket), input_tx, Arc::clone(&book)));
    let sender = runtime.spawn(send(socket, snapshot_rx, Arc::clone(&book)));
    Ok(Started { addr, spec, how, runtime, inputs, snapshots, receiver, sender, book })
}

async fn receive(socket: Arc<UdpSocket>, inputs: Sender<(Input, SocketAddr)>, book: Arc<NetBook>) {
    let mut buf = vec![0u8; RECV_BUFFER];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((len, from)) => {
                if let Some(input) = book.read_input(&buf[..len])
                    && inputs.try_send((input, from)).is_err()
                {
                    NetBook::bump(&book.inbox_full);
                }
            }
            Err(_) => NetBook::bump(&book.recv_errors),
        }
    }
}

async fn send(socket: Arc<UdpSocket>, mut batches: Receiver<Batch>, book: Arc<NetBook>) {
    while let Some(batch) = batches.recv().await {
        for (to, bytes) in batch {
            match socket.send_to(&bytes, to).await {
                Ok(_) => NetBook::bump(&book.sent),
                Err(_) => NetBook::bump(&book.send_errors),
            }
        }
    }
}

// ANCHOR: sim_task
/// The simulation as a task: sleep on a tokio timer until the tick is due, then run it on
/// whichever worker thread the runtime picked.
async fn simulate(
    mut host: Host<SocketAddr>,
    slots: u64,
    mut inputs: Receiver<(Input, SocketAddr)>,
    snapshots: Sender<Batch>,
    book: Arc<NetBook>,
) -> (Host<SocketAddr>, TickBook) {
    let mut clock = TickClock::new(Instant::now(), slots);
    while let Some(due) = clock.next(Instant::now()) {
        tokio::time::sleep_until(due.into()).await;
        let started = Instant::now();
        clock.begin(due, started);
        while let Ok((input, from)) = inputs.try_recv() {
            host.input(input, from);
        }
        let mut batch = Vec::with_capacity(host.sim.clients());
        host.tick(|to, bytes| batch.push((*to, bytes)));
        let count = batch.len() as u64;
        if snapshots.try_send(batch).is_err() {
            book.dropped_at(host.sim.tick() - 1, count);
        }
        clock.end(started, Instant::now());
    }
    (host, clock.finish())
}
// ANCHOR_END: sim_task

impl Started {
    pub fn run(self) -> anyhow::Result<Finished<SocketAddr>> {
        let Started { addr, spec, how, runtime, inputs, snapshots, receiver, sender, book } = self;
        let host = Host::new(Sim::new(spec.world, how, spec.record_log));
        let task = runtime.spawn(simulate(host, spec.slots, inputs, snapshots, Arc::clone(&book)));
        let (host, ticks) = runtime.block_on(task).context("the simulation task panicked")?;
        let kernel_drops = kernel_drops(addr.port());
        runtime.block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(2), sender).await;
        });
        receiver.abort();
        runtime.shutdown_timeout(Duration::from_secs(1));
        Ok(Finished { host, ticks, book, kernel_drops })
    }
}
