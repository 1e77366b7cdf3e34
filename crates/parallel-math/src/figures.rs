//! What a run of this case records beyond the harness's own figures, declared once.

use casebook::{Figure, Format, Hist};

/// How late each 1 ms tick of the [`crate::probe`] woke, in microseconds, over the measured
/// region. Stored whole per run: the tables show the merged quantiles, the claims compare
/// runs by their own.
pub const PROBE: Hist = Hist::micros("probe");

/// Units of concurrency the run created over all its passes: threads for the thread
/// variants, tasks for the async ones, rayon chunks for rayon.
pub const UNITS: Figure = Figure::new("units", Format::Count);
