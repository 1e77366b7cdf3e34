//! What the figures say: [`checks`] (the books every run must balance), [`verdicts`] (the
//! case's own findings beside the harness's) and [`claims`] (one function per claim).

pub mod checks;
pub mod claims;
pub mod verdicts;
