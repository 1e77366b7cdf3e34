//! The scenario: workers that each hold a guard (a temp file its `Drop` removes) and loop
//! over small steps, and the ledger that watches them from outside.
//!
//! - [`ledger`]: the books every run keeps, separately from the variants: when each guard
//!   dropped, how many steps ran, which temp files are still on disk.
//! - [`loops`]: the workers' loops, the same job written once per execution model.

pub mod ledger;
pub mod loops;

pub use ledger::{Ledger, Snapshot, StepKind, StepPlan, Worker, crunch};
