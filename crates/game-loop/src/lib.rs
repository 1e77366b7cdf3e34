//! # game-loop
//!
//! **Question:** a game server must simulate at a fixed tick and talk to many clients: where
//! should the simulation and the networking live, and what does each choice do to tick timing
//! and client latency?
//!
//! The server is a small authoritative game: a `bevy_ecs` world of wandering, colliding
//! entities (10,000 by default) stepped at a fixed 64 Hz, one avatar per client steered by the
//! client's latest input, and a snapshot per client per tick of the entities near its avatar.
//! Bots in a separate load-generator process send inputs at 30 Hz over 127.0.0.1 and measure
//! the time from each input to the first snapshot that acknowledges it.
//!
//! The variants (in [`variants`]), and why each exists:
//! - `hybrid` ([`hybrid`]): the framework's advice: the simulation on its own thread, the
//!   network on tokio tasks, flume channels between.
//! - `hybrid-st` ([`hybrid`]): the same with Bevy's single-threaded executor, because on a
//!   small world the multi-threaded executor's hand-off per system can cost more than the
//!   systems.
//! - `all-async` ([`all_async`]): the simulation as a tokio task on the network's runtime.
//! - `single-thread-poll` ([`poll`]): one thread drains a non-blocking socket, ticks and
//!   sends, as the renet and lightyear crates do.
//! - `thread-per-client` ([`tcp_threads`]): TCP, a blocking reader and writer thread per
//!   client, capped by what the machine can hold ([`caps`]).
//! - `hybrid-tcp` ([`tcp_async`]): the same TCP server with tasks in place of threads, so the
//!   connection model can be told apart from the transport.
//!
//! Where the rest lives:
//! - [`world`], [`systems`], [`grid`]: the simulation: components, the schedule, the spatial
//!   grid. Fixed-point positions and an order-free grid make it deterministic on any executor.
//! - [`sim`]: the world plus the clients' sessions, the inbox that orders inputs by client,
//!   and the input log a run can be replayed from.
//! - [`clock`]: the fixed tick, and how lateness, merged and missed ticks are counted.
//! - [`host`]: the part every server shares: inbox, simulation, routes to clients.
//! - [`protocol`]: the wire format; decoding is total.
//! - [`bots`], [`flood`]: the load generator's body: the bots, and malformed datagrams.
//! - [`books`], [`net`]: the counters a server keeps, and loopback sockets.

pub mod all_async;
pub mod books;
pub mod bot;
pub mod bots;
pub mod caps;
pub mod clock;
pub mod flood;
pub mod grid;
pub mod host;
pub mod hybrid;
pub mod net;
pub mod poll;
pub mod protocol;
pub mod replay;
pub mod sim;
pub mod systems;
pub mod tcp;
pub mod tcp_async;
pub mod tcp_threads;
pub mod variants;
pub mod world;
