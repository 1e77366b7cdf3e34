//! Every integration test of the case in one binary: one link instead of one per file.

mod claims;
mod cli;
mod common;
mod determinism;
mod protocol;
mod serve;
