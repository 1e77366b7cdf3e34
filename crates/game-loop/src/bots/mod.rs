//! The load generator's body, in a process of its own: the bots ([`fleet`], each one in
//! [`bot`]) and the flood of malformed datagrams ([`flood`]).

pub mod bot;
pub mod fleet;
pub mod flood;
