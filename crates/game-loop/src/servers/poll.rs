//! `single-thread-poll`: one thread does everything, as the Rust game-networking crates
//! renet and lightyear have their users do it: at the start of each tick, read every datagram
//! waiting in a non-blocking socket; run the simulation; send the snapshots; sleep until the
//! next tick. No channels, no locks, no runtime; the schedule runs on Bevy's single-threaded
//! executor with no `par_iter`, so the process uses one core at most.

use std::{io::ErrorKind, time::Instant};

use anyhow::Context;

use crate::{
    net::{
        protocol::RECV_BUFFER,
        sockets::{SERVER_UDP_BUFFER, udp_socket},
    },
    servers::{
        books::{Count, NetBook},
        host::Host,
        spec::{Server, ServerReport, ServerSpec, kernel_drops},
    },
    sim::{
        clock::{TickClock, sleep_until},
        simulation::SimConfig,
    },
};

pub fn start(spec: ServerSpec, how: SimConfig) -> anyhow::Result<Server> {
    let socket = udp_socket(SERVER_UDP_BUFFER).context("cannot bind a UDP socket on 127.0.0.1")?;
    socket.set_nonblocking(true)?;
    let addr = socket.local_addr()?;
    Ok(Server::new(addr, move || {
        let book = NetBook::default();
        let mut host = Host::new(&spec, how);
        let mut buf = vec![0u8; RECV_BUFFER];
        // ANCHOR: poll_loop
        let mut clock = TickClock::new(Instant::now(), spec.slots);
        while let Some(due) = clock.next(Instant::now()) {
            sleep_until(due);
            let started = Instant::now();
            clock.begin(due, started);
            loop {
                match socket.recv_from(&mut buf) {
                    Ok((len, from)) => {
                        if let Some(input) = book.read_input(&buf[..len]) {
                            host.input(input, from);
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => {
                        book.bump(Count::RecvErrors);
                        break;
                    }
                }
            }
            let tick = host.sim.tick();
            host.tick(|to, bytes| match socket.send_to(&bytes, to) {
                Ok(_) => book.bump(Count::Sent),
                Err(e) if e.kind() == ErrorKind::WouldBlock => book.dropped_at(tick, 1),
                Err(_) => book.bump(Count::SendErrors),
            });
            clock.end(started, Instant::now());
        }
        // ANCHOR_END: poll_loop
        let kernel_drops = kernel_drops(addr);
        Ok(ServerReport::new(host, clock.finish(), &book, kernel_drops))
    }))
}
