//! `all-async`: everything on one tokio runtime. The simulation is a task like the network
//! tasks (the hybrid's own), woken by a tokio timer each tick; while it runs the schedule it
//! holds a worker thread, and while a network task runs it may have to wait for a worker. The
//! channels are tokio's own, bounded and `try_send`-ed as in the hybrid.

use std::{net::SocketAddr, sync::Arc, time::Instant};

use anyhow::Context;
use tokio::sync::mpsc::{self, Receiver, Sender};

use crate::{
    net::{protocol::Input, sockets::server_udp_socket},
    servers::{
        books::NetBook,
        host::Host,
        hybrid::{Batch, receive, send, stop},
        spec::{OUTBOX_BATCHES, Played, Server, ServerReport, ServerSpec, kernel_drops, runtime},
    },
    sim::{
        clock::{TickBook, TickClock},
        simulation::SimConfig,
    },
};

pub fn start(spec: ServerSpec, how: SimConfig) -> anyhow::Result<Server> {
    let runtime = runtime("runtime")?;
    let (addr, socket) = server_udp_socket(&runtime)?;
    let book = Arc::new(NetBook::default());
    let (input_tx, inputs) = mpsc::channel(spec.inbox);
    let (snapshots, mut batches) = mpsc::channel::<Batch>(OUTBOX_BATCHES);
    let receiver = runtime.spawn(receive(Arc::clone(&socket), Arc::clone(&book), move |input| {
        // As in the hybrid: only a full inbox drops an input, not one after the last tick.
        !matches!(input_tx.try_send(input), Err(mpsc::error::TrySendError::Full(_)))
    }));
    let sender_book = Arc::clone(&book);
    let sender = runtime.spawn(async move {
        while let Some(batch) = batches.recv().await {
            send(&socket, batch, &sender_book).await;
        }
    });
    let host = Host::new(&spec, how);
    Ok(Server::new(addr, move || {
        let task = runtime.spawn(simulate(host, spec.slots, inputs, snapshots, Arc::clone(&book)));
        let (host, ticks) = runtime.block_on(task).context("the simulation task panicked")?;
        Ok(Played::new(move || {
            let kernel_drops = kernel_drops(addr);
            stop(runtime, sender, receiver);
            Ok(ServerReport::new(host, ticks, &book, kernel_drops))
        }))
    }))
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
    (host, clock.book)
}
// ANCHOR_END: sim_task
