//! Every integration test of the case in one binary: one link instead of one per file.

mod background;
mod book;
mod claims;
mod cli;
mod matrix;
mod mixing;
mod plots;
