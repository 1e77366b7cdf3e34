//! Sockets: every one is bound to 127.0.0.1, and made here so that the buffer sizes and the
//! listen backlog are the same for every variant.

use std::{
    collections::HashSet,
    io,
    net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, UdpSocket},
    sync::Arc,
};

use anyhow::Context;
use socket2::{Domain, Protocol, Socket, Type};

/// The only address this case binds or sends to.
pub const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// The server's UDP buffers: 4 MiB asked (the kernel grants up to `net.core.rmem_max`), a
/// few ticks of every client's inputs and snapshots at thousands of clients. A game server
/// raises these as a matter of course; the default (about 200 KiB) drops datagrams in bursts.
pub const SERVER_UDP_BUFFER: usize = 4 << 20;

/// Pending connections the kernel holds before `accept`: thousands of bots connect at once.
pub const LISTEN_BACKLOG: i32 = 4096;

/// A UDP socket on 127.0.0.1, any free port, with both buffers asked at `buffer` bytes, or
/// left at the kernel's default when `buffer` is 0.
pub fn udp_socket(buffer: usize) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    if buffer > 0 {
        socket.set_recv_buffer_size(buffer)?;
        socket.set_send_buffer_size(buffer)?;
    }
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(LOOPBACK, 0)).into())?;
    Ok(socket.into())
}

/// The server's UDP socket ([`udp_socket`], any free port, [`SERVER_UDP_BUFFER`]) handed to
/// `runtime`'s reactor, and the address it is bound to.
pub fn server_udp_socket(
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<(SocketAddr, Arc<tokio::net::UdpSocket>)> {
    let socket = udp_socket(SERVER_UDP_BUFFER).context("cannot bind a UDP socket on 127.0.0.1")?;
    socket.set_nonblocking(true)?;
    let addr = socket.local_addr()?;
    let _entered = runtime.enter();
    Ok((addr, Arc::new(tokio::net::UdpSocket::from_std(socket)?)))
}

/// A TCP listener on 127.0.0.1, any free port, with a deep backlog.
pub fn tcp_listener() -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(LOOPBACK, 0)).into())?;
    socket.listen(LISTEN_BACKLOG)?;
    Ok(socket.into())
}

/// Datagrams the kernel dropped on the 127.0.0.1 UDP sockets bound to `ports` because their
/// receive queues were full: the last column of `/proc/net/udp`. `None` if it cannot be read.
pub fn udp_drops(ports: &HashSet<u16>) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/net/udp").ok()?;
    Some(parse_udp_drops(&table, ports))
}

/// The sum of the `drops` column over the lines whose local address is 127.0.0.1 at one of
/// `ports`.
pub fn parse_udp_drops(table: &str, ports: &HashSet<u16>) -> u64 {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (address, port) = fields.get(1)?.split_once(':')?;
            let port = u16::from_str_radix(port, 16).ok()?;
            // The address is the raw 32-bit value in host order: 127.0.0.1 is 0100007F.
            (address == "0100007F" && ports.contains(&port)).then(|| fields.last()?.parse::<u64>().ok())?
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_bind_loopback_only() {
        let udp = udp_socket(SERVER_UDP_BUFFER).expect("udp");
        assert!(udp.local_addr().expect("addr").ip().is_loopback());
        let tcp = tcp_listener().expect("tcp");
        assert!(tcp.local_addr().expect("addr").ip().is_loopback());
    }

    #[test]
    fn the_drops_column_is_read_for_our_ports_only() {
        let table = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
          105: 0100007F:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 17\n\
          106: 00000000:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 5\n\
          107: 0100007F:1F91 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0000000000000000 3\n";
        assert_eq!(parse_udp_drops(table, &HashSet::from([0x1f90])), 17);
        assert_eq!(parse_udp_drops(table, &HashSet::from([0x1f90, 0x1f91])), 20);
        let live = udp_socket(0).expect("udp");
        let port = live.local_addr().expect("addr").port();
        assert_eq!(udp_drops(&HashSet::from([port])), Some(0));
    }
}
