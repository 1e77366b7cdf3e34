//! Every figure and note a run of this case records, declared once.

use casebook::{Figure, Format, Note};

/// Creation, per unit (a batch's total ÷ N), the median of the run's warm batches: until the
/// spawn calls returned ...
pub const SPAWN_PER_UNIT: Figure = Figure::new("spawn_per_unit_s", Format::Seconds);
/// ... until the last unit had started and parked (spawning included) ...
pub const READY_PER_UNIT: Figure = Figure::new("ready_per_unit_s", Format::Seconds);
/// ... and from the release until every unit was joined.
pub const JOIN_PER_UNIT: Figure = Figure::new("join_per_unit_s", Format::Seconds);
/// [`SPAWN_PER_UNIT`] of the run's first batch alone, in a process that had spawned none yet.
pub const COLD_SPAWN_PER_UNIT: Figure = Figure::new("cold_spawn_per_unit_s", Format::Seconds);
/// Warm batches the run timed.
pub const BATCHES: Figure = Figure::new("batches", Format::Count);

/// Residency and capacity: (the process with every unit parked − just before the first
/// spawn) ÷ the units alive. Resident is the anonymous part of RSS (`RssAnon`), which leaves
/// out code pages first touched during the run.
pub const RSS_PER_UNIT: Figure = Figure::new("rss_per_unit_bytes", Format::Bytes);
pub const VSZ_PER_UNIT: Figure = Figure::new("vsz_per_unit_bytes", Format::Bytes);
/// Machine-wide `KernelStack`, so other programs add noise of either sign.
pub const KERNEL_STACK_PER_UNIT: Figure = Figure::new("kernel_stack_per_unit_bytes", Format::Bytes);
pub const PAGE_TABLES_PER_UNIT: Figure = Figure::new("page_tables_per_unit_bytes", Format::Bytes);
/// The whole process's RSS with every unit parked.
pub const RSS_PARKED: Figure = Figure::new("rss_parked_bytes", Format::Bytes);

/// Switching: from injecting the token until its last hand-off arrived, ÷ the hand-offs.
pub const PER_HANDOFF: Figure = Figure::new("per_handoff_s", Format::Seconds);
pub const HANDOFFS: Figure = Figure::new("handoffs", Format::Count);

/// The counts every park run records, for the accounting check (in creation, the fewest
/// over the run's batches).
pub const TARGET: Figure = Figure::new("target", Format::Count);
pub const SPAWNED: Figure = Figure::new("spawned", Format::Count);
pub const ALIVE_AT_ONCE: Figure = Figure::new("alive_at_once", Format::Count);
pub const EXITED: Figure = Figure::new("exited", Format::Count);
/// Capacity: from the first spawn until the last unit had parked.
pub const FILL: Figure = Figure::new("fill_s", Format::Seconds);

/// Capacity: what stopped the spawning: [`AT_CAP`], or the failed spawn's error.
pub const STOPPED_BY: Note = Note::new("stopped_by");
pub const AT_CAP: &str = "cap";
