//! The game itself, with no network: the world and its schedule, the fixed tick, and replays.
//!
//! - [`world`], [`systems`], [`grid`]: components, the schedule, the spatial grid.
//!   Fixed-point positions and an order-free grid make it deterministic on any executor.
//! - [`simulation`]: the world plus the clients' sessions, the inbox that orders inputs by
//!   client, and the input log a run can be replayed from.
//! - [`clock`]: the fixed tick, and how lateness, merged and missed ticks are counted.
//! - [`replay`]: a log through a fresh world, to check determinism and time the executors.

pub mod clock;
pub mod grid;
pub mod replay;
pub mod simulation;
pub mod systems;
pub mod world;
