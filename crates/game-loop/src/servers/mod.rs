//! The six variants' servers, and what they share.
//!
//! - [`spec`]: what a server run is asked to do, the started [`spec::Server`] and its report.
//! - [`host`]: the part every server runs the same way: inbox, simulation, routes to clients.
//! - [`books`]: what the network side counted.
//! - [`hybrid`] (`hybrid`, `hybrid-st`), [`all_async`], [`poll`] (`single-thread-poll`): UDP.
//! - [`tcp_threads`] (`thread-per-client`), [`tcp_async`] (`hybrid-tcp`), and what both
//!   share in [`tcp`]: TCP.
//! - [`caps`]: how many clients a server may take on this machine.

pub mod all_async;
pub mod books;
pub mod caps;
pub mod host;
pub mod hybrid;
pub mod poll;
pub mod spec;
pub mod tcp;
pub mod tcp_async;
pub mod tcp_threads;
