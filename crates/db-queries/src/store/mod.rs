//! The databases and what talks to them besides the variants.
//!
//! - [`sqlite`], [`postgres`]: each engine's schema, settings and queries, per client library.
//! - [`fault`]: how each library's errors map to the counted kinds.
//! - [`fixture`]: the databases a run creates, seeds and always removes, and where a run's
//!   data lives ([`fixture::Target`]).
//! - [`pgbench`]: the anchor, `pgbench` on the same table. [`proxy`]: the delaying TCP proxy
//!   that puts Postgres a round trip away.

pub mod fault;
pub mod fixture;
pub mod pgbench;
pub mod postgres;
pub mod proxy;
pub mod sqlite;
