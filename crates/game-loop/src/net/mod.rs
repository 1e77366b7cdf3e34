//! What travels between the bots and the servers: the wire format ([`protocol`]) and the
//! loopback sockets both sides open ([`sockets`]).

pub mod protocol;
pub mod sockets;
