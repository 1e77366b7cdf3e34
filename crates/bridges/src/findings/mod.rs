//! What the figures say: the books every run must balance, the verdicts and the claims.

pub mod checks;
pub mod claims;
pub mod verdicts;
