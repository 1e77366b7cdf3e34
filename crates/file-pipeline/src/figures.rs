//! Every figure, histogram and note a run of this case records, declared once.

use casebook::{Figure, Format, Hist};

/// Input bytes per second of the measured region.
pub const BYTES_PER_S: Figure = Figure::new("bytes_per_s", Format::BytesRate);
pub const FILES_PER_S: Figure = Figure::new("files_per_s", Format::Rate);
/// Files with a manifest entry, and bytes they held.
pub const FILES: Figure = Figure::new("files", Format::Count);
pub const BYTES: Figure = Figure::new("bytes", Format::Bytes);
/// Error entries (the generated inbox has none: a non-zero count fails the check).
pub const ERRORS: Figure = Figure::new("errors", Format::Count);

/// Watch mode: from the producer's close or rename to the file's manifest line.
pub const LATENCY: Hist = Hist::micros("latency");
pub const PRODUCED: Figure = Figure::new("produced", Format::Count);
/// Produced, never in the manifest.
pub const LOST: Figure = Figure::new("lost", Format::Count);
/// Manifest lines beyond the first for a name.
pub const DOUBLED: Figure = Figure::new("doubled", Format::Count);
/// Manifest lines for names the producer never made (a temp name taken for an input).
pub const UNEXPECTED: Figure = Figure::new("unexpected", Format::Count);
/// Manifest lines stamped before the producer's stamp: impossible unless the pipeline
/// took a file before it was whole.
pub const EARLY: Figure = Figure::new("early", Format::Count);
/// inotify queue overflows, each answered by a rescan of the inbox.
pub const RESCANS: Figure = Figure::new("rescans", Format::Count);

/// The `b3sum` anchor's own CPU time (its rusage as a waited-for child) over the wall time.
pub const B3SUM_CORES: Figure = Figure::new("b3sum_cores", Format::Cores);
/// The most threads a `b3sum` process had, sampled from `/proc` every 2 ms while it ran.
pub const B3SUM_THREADS: Figure = Figure::new("b3sum_threads", Format::Count);
