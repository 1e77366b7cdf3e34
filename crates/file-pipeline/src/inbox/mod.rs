//! The inbox and everything around it: the seeded inbox the set-up writes ([`generate`]) and
//! a batch run's view of it ([`listing`]); the manifest every variant writes ([`manifest`]);
//! watch mode's watcher ([`watch`]) and producer ([`producer`]); and the books that check the
//! manifest against the producer's log and the outbox against the inbox ([`books`]).

pub mod books;
pub mod generate;
pub mod listing;
pub mod manifest;
pub mod producer;
pub mod watch;
