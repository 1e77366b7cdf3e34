//! `sequential`: the baseline.

use flume::Receiver;

use crate::{inbox::listing::Job, pipelines::Pipeline, pipelines::handle};

// ANCHOR: sequential
/// One thread, one file at a time, start to end.
pub fn pipeline(pipeline: &Pipeline, source: Receiver<Job>) -> anyhow::Result<()> {
    for job in source.iter() {
        handle(pipeline, job.name)?;
    }
    Ok(())
}
// ANCHOR_END: sequential
