//! The units of concurrency, written the way someone fluent in each model would write them,
//! and the experiments every table is built from:
//!
//! - [`park`]: start N units that each arrive and then wait for one release signal; time the
//!   spawning, the arrival of the last one and the joining, and read the process's memory
//!   before the first spawn and once all N are parked. Creation, residency and capacity are
//!   all this experiment, read differently; creation repeats it in one process
//!   ([`park::Creation`]).
//! - [`ring`]: K units in a ring pass a token M times; time per hand-off.
//!
//! Every unit counts itself in and out ([`gate`]), the memory figures are in [`memory`], and
//! [`runtime`] says where a tokio variant's own code runs. Which version of an experiment a
//! variant runs, and on which runtime, is [`crate::variants::Driver`]'s to say.

pub mod gate;
pub mod memory;
pub mod park;
pub mod ring;
pub mod runtime;
