//! `single-thread-poll`: one thread does everything, as the Rust game-networking crates
//! renet and lightyear have their users do it: at the start of each tick, read every datagram
//! waiting in a non-blocking socket; run the simulation; send the snapshots; sleep until the
//! next tick. No channels, no locks, no runtime; the schedule runs on Bevy's single-threaded
//! executor with no `par_iter`, so the process uses one core at most.

use std::{
    io::ErrorKind,
    net::{SocketAddr, UdpSocket},
    sync::Arc,
    time::Instant,
};

use anyhow::Context;

use crate::{
    books::NetBook,
    clock::{TickClock, sleep_until},
    host::Host,
    net::{SERVER_UDP_BUFFER, udp_socket},
    protocol::RECV_BUFFER,
    sim::{Sim, SimConfig},
    variants::{Finished, ServerSpec, kernel_drops},
};

pub struct Started {
    pub addr: SocketAddr,
    spec: ServerSpec,
    how: SimConfig,
    socket: UdpSocket,
}

pub fn start(spec: ServerSpec, how: SimConfig) -> anyhow::Result<Started> {
    let socket = udp_socket(0, SERVER_UDP_BUFFER).context("cannot bind a UDP socket on 127.0.0.1")?;
    socket.set_nonblocking(true)?;
    Ok(Started { addr: socket.local_addr()?, spec, how, socket })
}

impl Started {
    pub fn run(self) -> anyhow::Result<Finished<SocketAddr>> {
        let Started { addr, spec, how, socket } = self;
        let book = Arc::new(NetBook::default());
        let mut host = Host::new(Sim::new(spec.world, how, spec.record_log));
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
                        NetBook::bump(&book.recv_errors);
                        break;
                    }
                }
            }
            let tick = host.sim.tick();
            host.tick(|to, bytes| match socket.send_to(&bytes, to) {
                Ok(_) => NetBook::bump(&book.sent),
                Err(e) if e.kind() == ErrorKind::WouldBlock => book.dropped_at(tick, 1),
                Err(_) => NetBook::bump(&book.send_errors),
            });
            clock.end(started, Instant::now());
        }
        // ANCHOR_END: poll_loop
        let kernel_drops = kernel_drops(addr.port());
        Ok(Finished { host, ticks: clock.finish(), book, kernel_drops })
    }
}
