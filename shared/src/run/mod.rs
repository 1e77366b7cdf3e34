//! Running a plan: process groups and Ctrl-C, the fixture a set-up owns, the caps a run is
//! held to, the measured child, load generators, and the parent's loop over the rows.

pub mod child;
pub mod fixture;
pub mod limits;
pub mod load;
pub(crate) mod modes;
pub mod process;
pub mod runner;
