//! The outcome rules: the only way a figure becomes "held", "did not hold" or
//! "inconclusive". Every case decides its claims with these, so a rule is written and
//! tested once.
//!
//! A rule looks at a [`Series`] (one value per measured run of a row, in run order) and
//! decides from an interval, not from a single median: a distribution-free 95% interval of
//! the median made of two of the runs (of the values, or of the run-by-run ratios or
//! differences between two rows).
//! Held when the whole interval is on the claim's side of the threshold, did not hold when
//! the whole interval is on the other side, inconclusive when it straddles the line. Runs
//! of a table are interleaved (A B C A B C ...), so run `i` of one row and run `i` of
//! another ran under the same background load: pairing them cancels much of it.
//!
//! One run has no spread: it decides nothing, however far from the line it lands.
//!
//! The parts: [`series`] (a row's figure run by run), [`interval`] (the median's interval),
//! [`basis`] (what an outcome rests on), [`decision`] (the verdict in words, and combining),
//! [`line`] (a median against a line) and [`facts`] (yes-or-no facts).

pub mod basis;
pub mod decision;
pub mod facts;
pub mod interval;
pub mod line;
pub mod series;

pub use basis::Basis;
pub use decision::{Decision, combine};
pub use facts::{every_run, fact, undecided};
pub use interval::{CONFIDENCE, MIN_RUNS, confidence};
pub use line::{at_least, at_most, exceeds_by, ratio_at_least, ratio_at_most, within};
pub use series::Series;

#[cfg(test)]
mod tests;
