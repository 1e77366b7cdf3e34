//! The anchor, `b3sum`, over the same files, the bar for hash-only throughput.
//!
//! `b3sum` (the BLAKE3 team's own tool) memory-maps each file and, for files big enough,
//! hashes it with every core; files are taken one after the other. It is given the listed
//! names in batches small enough for any command line, in the inbox as its working
//! directory. Its hashes go into a manifest like any variant's, so the anchor also checks
//! the variants' hashes: its digest must be theirs.
//!
//! Its CPU time is its own process's: the harness takes it from the rusage of the children
//! the measured region waited for (`child_cpu_s`), apart from the driving process's. Its
//! threads are its own too, which the harness's sampler (it counts the child run's threads)
//! does not see: [`run`] samples them from `/proc` while each `b3sum` runs.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::{collections::HashMap, io, thread, time::Duration};

use anyhow::Context;
use casebook::run::process::tie_to_run;
use flume::RecvTimeoutError;

use crate::inbox::listing::Listing;
use crate::inbox::manifest::{Failure, Manifest, Record};

/// Names per `b3sum` invocation: far under any `ARG_MAX` for these names.
const BATCH: usize = 1000;

/// Where `b3sum` is, or why the row is skipped.
pub fn find() -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("b3sum"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| "no b3sum on PATH (apt-get install b3sum, or cargo install b3sum)".into())
}

/// How often `b3sum`'s threads are counted while it runs: as often as the harness samples.
const SAMPLE_EVERY: Duration = Duration::from_millis(2);

/// Hashes every listed file with `b3sum` and records the results in `manifest`. A file
/// `b3sum` could not read gets an error entry, as in the variants. Returns the most threads
/// a `b3sum` process was seen with.
pub fn run(b3sum: &Path, listing: &Listing, manifest: &Manifest) -> anyhow::Result<u64> {
    for (name, failure) in &listing.refused {
        manifest.record(name.clone(), Record::refused(*failure))?;
    }
    let mut peak_threads = 0;
    for batch in listing.files.chunks(BATCH) {
        let mut command = Command::new(b3sum);
        command.current_dir(&listing.inbox).arg("--").args(batch.iter().map(|job| &job.name));
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        // Dies with the run, however the run ends.
        let child = tie_to_run(&mut command).spawn().with_context(|| format!("cannot run {}", b3sum.display()))?;
        let (out, threads) = wait_counting_threads(child)?;
        peak_threads = peak_threads.max(threads);
        // Lines are `<hex>  <name>`; names of ours have no characters b3sum would escape.
        let stdout = String::from_utf8(out.stdout).context("b3sum printed something that is not UTF-8")?;
        let hashes: HashMap<&str, &str> =
            stdout.lines().filter_map(|line| line.split_once("  ")).map(|(hash, name)| (name, hash)).collect();
        for job in batch {
            let record = match (hashes.get(job.name.as_str()), job.size) {
                (Some(hash), Some(size)) => Record::Done { size, blake3: Some((*hash).to_owned()), compressed: None },
                _ => {
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    let detail = stderr.lines().find(|line| line.contains(&job.name)).unwrap_or("b3sum gave no hash");
                    let known = [("No such file", Failure::NotFound), ("Permission denied", Failure::PermissionDenied)];
                    let failure = known.into_iter().find(|(words, _)| detail.contains(words));
                    Record::failed(failure.map_or(Failure::Io, |(_, failure)| failure), detail)
                }
            };
            manifest.record(job.name.clone(), record)?;
        }
    }
    Ok(peak_threads)
}

/// Waits for `child`'s output while a thread of ours counts its threads.
fn wait_counting_threads(child: Child) -> io::Result<(Output, u64)> {
    let pid = child.id();
    let (done, finished) = flume::bounded::<()>(0);
    thread::scope(|s| {
        let sampler = s.spawn(move || {
            let mut peak = 0;
            loop {
                peak = peak.max(casebook::host::procfs::thread_count(pid).unwrap_or(0));
                if finished.recv_timeout(SAMPLE_EVERY) != Err(RecvTimeoutError::Timeout) {
                    return peak;
                }
            }
        });
        let out = child.wait_with_output();
        drop(done);
        Ok((out?, sampler.join().expect("the sampler does not panic")))
    })
}
