//! `single-thread-poll`: one thread does everything, as the Rust game-networking crates
//! renet and lightyear have their users do it: at the start of each tick, read the datagrams
//! waiting in a non-blocking socket; run the simulation; send the snapshots; sleep until the
//! next tick. No channels, no locks, no runtime; the schedule runs on Bevy's single-threaded
//! executor with no `par_iter`, so the process uses one core at most.

use std::{
    io::ErrorKind,
    net::{SocketAddr, UdpSocket},
};

use anyhow::Context;

use crate::{
    net::{
        protocol::{Input, RECV_BUFFER},
        sockets::{SERVER_UDP_BUFFER, udp_socket},
    },
    servers::{
        books::{Count, NetBook},
        host::Host,
        spec::{Played, Server, ServerReport, ServerSpec, kernel_drops},
    },
    sim::{clock::run_ticks, simulation::SimConfig},
};

pub fn start(spec: ServerSpec, how: SimConfig) -> anyhow::Result<Server> {
    let socket = udp_socket(SERVER_UDP_BUFFER).context("cannot bind a UDP socket on 127.0.0.1")?;
    socket.set_nonblocking(true)?;
    let addr = socket.local_addr()?;
    let mut host = Host::new(&spec, how);
    Ok(Server::new(addr, move || {
        let book = NetBook::default();
        let mut buf = vec![0u8; RECV_BUFFER];
        // ANCHOR: poll_loop
        let ticks = run_ticks(spec.slots, || {
            read_inputs(&socket, &mut buf, spec.inbox, &book, |input, from| host.input(input, from));
            let tick = host.sim.tick();
            host.tick(|to, bytes| match socket.send_to(&bytes, to) {
                Ok(_) => book.bump(Count::Sent),
                Err(e) if e.kind() == ErrorKind::WouldBlock => book.dropped_at(tick, 1),
                Err(_) => book.bump(Count::SendErrors),
            });
        });
        // ANCHOR_END: poll_loop
        Ok(Played::new(move || {
            // Read while the socket is open: its line goes with it.
            let kernel_drops = kernel_drops(addr);
            drop(socket);
            Ok(ServerReport::new(host, ticks, &book, kernel_drops))
        }))
    }))
}

// ANCHOR: read_inputs
/// Reads at most `cap` datagrams (the spec's inbox, 65,536 as the other variants' inboxes
/// hold), so that a flood faster than one thread reads cannot keep the tick from
/// starting; what stays queued waits for the next tick or is dropped by the kernel (counted),
/// and a tick that leaves some is counted too.
fn read_inputs(
    socket: &UdpSocket,
    buf: &mut [u8],
    cap: usize,
    book: &NetBook,
    mut input: impl FnMut(Input, SocketAddr),
) {
    for _ in 0..cap {
        match socket.recv_from(buf) {
            Ok((len, from)) => {
                if let Some(decoded) = book.read_input(&buf[..len]) {
                    input(decoded, from);
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(_) => return book.bump(Count::RecvErrors),
        }
    }
    if socket.peek_from(&mut [0u8; 1]).is_ok() {
        book.bump(Count::LeftQueued);
    }
}
// ANCHOR_END: read_inputs

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::protocol::encode_input;

    #[test]
    fn a_tick_reads_at_most_its_cap_and_counts_what_it_left_queued() {
        let server = udp_socket(SERVER_UDP_BUFFER).expect("server");
        server.set_nonblocking(true).expect("nonblocking");
        let client = udp_socket(0).expect("client");
        let mut bytes = Vec::new();
        for seq in 1..=20 {
            bytes.clear();
            encode_input(&Input { client: 1, seq, bits: 0 }, &mut bytes);
            client.send_to(&bytes, server.local_addr().expect("addr")).expect("send");
        }
        let (book, mut buf) = (NetBook::default(), vec![0u8; RECV_BUFFER]);
        let mut read = Vec::new();
        for _ in 0..3 {
            read_inputs(&server, &mut buf, 8, &book, |input, _| read.push(input.seq));
        }
        assert_eq!(read, (1..=20).collect::<Vec<_>>());
        let counts = book.counts();
        assert_eq!((counts[Count::Inputs], counts[Count::LeftQueued]), (20, 2), "two reads stopped at the cap");
    }
}
