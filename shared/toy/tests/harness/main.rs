//! End-to-end tests of the harness through `casebook-toy`, a case that can be told to give
//! a wrong answer, fail, hang, litter, leave a grandchild running, skip rows, start a load
//! generator or panic: each must be caught, reported and cleaned up.

mod sandbox;

mod book;
mod cli;
mod failures;
mod fixtures;
mod load;
mod processes;
mod profile;
mod reports;
