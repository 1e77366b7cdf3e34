//! The bottom layer: facts about this machine and this process, read from the kernel.
//! Nothing here knows what a case, a figure or a report is.

pub mod cpus;
pub mod machine;
pub mod procfs;
