//! Every integration test of the case in one binary: one link instead of one per file.

mod accounting;
mod claims;
mod cli;
mod options;
mod units;
