//! `rayon`: the work-stealing pool, each file start to end on a pool thread.

use std::{io, sync::Mutex};

use flume::Receiver;
use rayon::prelude::*;

use crate::{inbox::listing::Job, pipelines::Pipeline, pipelines::handle};

// ANCHOR: rayon
/// Batch: a parallel iterator over the listing, each file start to end on a pool thread.
pub fn batch(pipeline: &Pipeline, files: &[Job]) -> anyhow::Result<()> {
    files.par_iter().try_for_each(|job| handle(pipeline, job.name.clone()))?;
    Ok(())
}

/// Watch: the watcher's jobs are spawned into the pool as they come. `in_place_scope` keeps
/// the loop that waits for jobs on this thread, so it never takes a pool thread from the CPU
/// work, and waits for every spawned job before returning.
pub fn fed(pipeline: &Pipeline, source: Receiver<Job>) -> anyhow::Result<()> {
    let failed: Mutex<Option<io::Error>> = Mutex::new(None);
    rayon::in_place_scope(|scope| {
        for job in source.iter() {
            if failed.lock().expect("not poisoned").is_some() {
                break;
            }
            let failed = &failed;
            scope.spawn(move |_| {
                if let Err(e) = handle(pipeline, job.name) {
                    failed.lock().expect("not poisoned").get_or_insert(e);
                }
            });
        }
    });
    failed.into_inner().expect("not poisoned").map_or(Ok(()), |e| Err(e.into()))
}
// ANCHOR_END: rayon
