//! What the figures say: the framework's claims ([`claims`]), the verdict sentences
//! ([`verdicts`]) and the books every live run must balance ([`checks`]).

pub mod checks;
pub mod claims;
pub mod verdicts;
