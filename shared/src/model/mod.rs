//! What a case declares and what a run records, as types: number formats, figure keys, the
//! framework's claims, variants, tables and rows. Data only: no statistics, no processes.

pub mod claims;
pub mod figure;
pub mod format;
pub mod plan;
pub mod variant;
