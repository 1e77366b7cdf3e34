//! The scenario's parts that are not the server under test: the wire ([`protocol`]), the CPU
//! part of a request ([`work`]), the downstream service every request calls
//! ([`downstream`]) and the clients ([`clients`]), the last two each run as a load generator
//! in a process of its own.

pub mod clients;
pub mod downstream;
pub mod protocol;
pub mod work;
