//! Every integration test of the case in one binary: one link instead of one per file.

mod advise;
mod claims;
mod cli;
mod reliability;
