//! The units of concurrency, written the way someone fluent in each model would write them,
//! and the experiments every table is built from: [`park`] (creation, residency and capacity
//! are all this experiment, read differently) and [`ring`] (switching).
//!
//! Every unit counts itself in and out ([`gate`]), the memory figures are in [`memory`], and
//! [`runtime`] says where a tokio variant's own code runs. Which version of an experiment a
//! variant runs, and on which runtime, is [`crate::variants::Driver`]'s to say.

pub mod gate;
pub mod memory;
pub mod park;
pub mod ring;
pub mod runtime;
