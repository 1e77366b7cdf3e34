//! `hybrid` and `hybrid-st`: the framework's advice for games taken literally. The network
//! is async: one tokio task receives and decodes datagrams, one sends snapshots. The
//! simulation is a plain thread that sleeps until each tick is due, so no task can make it
//! late. Two `flume` channels join them: inputs in, one batch of snapshots per tick out.
//! Both are bounded and only ever `try_send`-ed, so neither side can stall the other.

use std::{net::SocketAddr, sync::Arc};

use tokio::{net::UdpSocket, runtime::Runtime, task::JoinHandle};

use crate::{
    net::{
        protocol::{Input, RECV_BUFFER},
        sockets::server_udp_socket,
    },
    servers::{
        books::{Count, NetBook},
        host::Host,
        spec::{OUTBOX_BATCHES, Played, Server, ServerReport, ServerSpec, kernel_drops, runtime},
    },
    sim::{clock::run_ticks, simulation::SimConfig},
};

/// One tick's snapshots, each with the address it goes to.
pub type Batch = Vec<(SocketAddr, Vec<u8>)>;

pub fn start(spec: ServerSpec, how: SimConfig) -> anyhow::Result<Server> {
    let runtime = runtime("net")?;
    let (addr, socket) = server_udp_socket(&runtime)?;
    let book = Arc::new(NetBook::default());
    let (input_tx, inputs) = flume::bounded(spec.inbox);
    let (snapshots, batches) = flume::bounded::<Batch>(OUTBOX_BATCHES);
    let receiver = runtime.spawn(receive(Arc::clone(&socket), Arc::clone(&book), move |input| {
        // Only a full inbox drops an input; once the ticks are over nothing reads it, and
        // what arrives then is no drop.
        !matches!(input_tx.try_send(input), Err(flume::TrySendError::Full(_)))
    }));
    let sender_book = Arc::clone(&book);
    let sender = runtime.spawn(async move {
        while let Ok(batch) = batches.recv_async().await {
            send(&socket, batch, &sender_book).await;
        }
    });
    let mut host = Host::new(&spec, how);
    Ok(Server::new(addr, move || {
        // ANCHOR: sim_thread
        let ticks = run_ticks(spec.slots, || {
            for (input, from) in inputs.try_iter() {
                host.input(input, from);
            }
            let mut batch = Vec::with_capacity(host.sim.clients());
            host.tick(|to, bytes| batch.push((*to, bytes)));
            let count = batch.len() as u64;
            if snapshots.try_send(batch).is_err() {
                book.dropped_at(host.sim.tick() - 1, count);
            }
        });
        // ANCHOR_END: sim_thread
        Ok(Played::new(move || {
            // The sender flushes the last batches and ends when the channel closes.
            drop(snapshots);
            let kernel_drops = kernel_drops(addr);
            stop(runtime, sender, receiver);
            Ok(ServerReport::new(host, ticks, &book, kernel_drops))
        }))
    }))
}

// ANCHOR: network
/// Receives and decodes datagrams until aborted; only valid inputs reach the simulation,
/// through `offer`, which never waits (false: the queue was full, the input is dropped and
/// counted; an input that arrives after the last tick is neither).
pub async fn receive(socket: Arc<UdpSocket>, book: Arc<NetBook>, offer: impl Fn((Input, SocketAddr)) -> bool) {
    let mut buf = vec![0u8; RECV_BUFFER];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((len, from)) => {
                if let Some(input) = book.read_input(&buf[..len])
                    && !offer((input, from))
                {
                    book.bump(Count::InboxFull);
                }
            }
            Err(_) => book.bump(Count::RecvErrors),
        }
    }
}

/// Sends one tick's batch of snapshots.
pub async fn send(socket: &UdpSocket, batch: Batch, book: &NetBook) {
    for (to, bytes) in batch {
        match socket.send_to(&bytes, to).await {
            Ok(_) => book.bump(Count::Sent),
            Err(_) => book.bump(Count::SendErrors),
        }
    }
}
// ANCHOR_END: network

/// Gives the send task two seconds to flush, then stops the network side.
pub fn stop(runtime: Runtime, sender: JoinHandle<()>, receiver: JoinHandle<()>) {
    runtime.block_on(async {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), sender).await;
    });
    receiver.abort();
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
}
