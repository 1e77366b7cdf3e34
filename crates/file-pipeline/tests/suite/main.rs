//! Every integration test of the case in one binary: one link instead of one per file.

mod batch;
mod claims;
mod cli;
mod common;
mod limits;
mod unreadable;
mod watch;
