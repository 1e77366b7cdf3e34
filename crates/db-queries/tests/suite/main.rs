//! Every integration test of the case in one binary: one link instead of one per file.

mod claims;
mod cli;
mod common;
mod end_to_end;
mod reliability;
mod server;
