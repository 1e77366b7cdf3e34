//! `hybrid` and `hybrid-st`: the framework's advice for games taken literally. The network
//! is async: one tokio task receives and decodes datagrams, one sends snapshots. The
//! simulation is a plain thread that sleeps until each tick is due, so no task can make it
//! late. Two `flume` channels join them: inputs in, one batch of snapshots per tick out.
//! Both are bounded and only ever `try_send`-ed, so neither side can stall the other.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::{net::UdpSocket, runtime::Runtime, task::JoinHandle};

use crate::{
    books::NetBook,
    clock::{TickClock, sleep_until},
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
    inputs: flume::Receiver<(Input, SocketAddr)>,
    snapshots: flume::Sender<Batch>,
    receiver: JoinHandle<()>,
    sender: JoinHandle<()>,
    book: Arc<NetBook>,
}

pub fn start(spec: ServerSpec, how: SimConfig) -> anyhow::Result<Started> {
    let runtime = net::runtime("net")?;
    let (addr, socket) = net::server_udp_socket(&runtime)?;
    let book = Arc::new(NetBook::default());
    let (input_tx, inputs) = flume::bounded(INBOX_CAPACITY);
    let (snapshots, snapshot_rx) = flume::bounded(OUTBOX_BATCHES);
    let receiver = runtime.spawn(receive(Arc::clone(&socket), input_tx, Arc::clone(&book)));
    let sender = runtime.spawn(send(socket, snapshot_rx, Arc::clone(&book)));
    Ok(Started { addr, spec, how, runtime, inputs, snapshots, receiver, sender, book })
}

// ANCHOR: network
/// Receives and decodes datagrams until aborted; only valid inputs reach the simulation.
async fn receive(socket: Arc<UdpSocket>, inputs: flume::Sender<(Input, SocketAddr)>, book: Arc<NetBook>) {
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

/// Sends each tick's batch of snapshots, until the simulation drops its end of the channel.
async fn send(socket: Arc<UdpSocket>, batches: flume::Receiver<Batch>, book: Arc<NetBook>) {
    while let Ok(batch) = batches.recv_async().await {
        for (to, bytes) in batch {
            match socket.send_to(&bytes, to).await {
                Ok(_) => NetBook::bump(&book.sent),
                Err(_) => NetBook::bump(&book.send_errors),
            }
        }
    }
}
// ANCHOR_END: network

impl Started {
    /// The simulation thread's loop, run on the calling thread.
    pub fn run(self) -> anyhow::Result<Finished<SocketAddr>> {
        let Started { addr, spec, how, runtime, inputs, snapshots, receiver, sender, book } = self;
        let mut host = Host::new(Sim::new(spec.world, how, spec.record_log));
        // ANCHOR: sim_thread
        let mut clock = TickClock::new(Instant::now(), spec.slots);
        while let Some(due) = clock.next(Instant::now()) {
            sleep_until(due);
            let started = Instant::now();
            clock.begin(due, started);
            for (input, from) in inputs.try_iter() {
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
        // ANCHOR_END: sim_thread
        // Let the sender flush the last batches, then stop the network side.
        drop(snapshots);
        let kernel_drops = kernel_drops(addr.port());
        runtime.block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(2), sender).await;
        });
        receiver.abort();
        runtime.shutdown_timeout(Duration::from_secs(1));
        Ok(Finished { host, ticks: clock.finish(), book, kernel_drops })
    }
}
