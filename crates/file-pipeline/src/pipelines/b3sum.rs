//! The anchor, `b3sum`, over the same files, the bar for hash-only throughput.
//!
//! `b3sum` (the BLAKE3 team's own tool) memory-maps each file and, for files big enough,
//! hashes it with every core; files are taken one after the other. It is given the listed
//! names in batches small enough for any command line, in the inbox as its working
//! directory. Its hashes go into a manifest like any variant's, so the anchor also checks
//! the variants' hashes: its digest must be theirs.

use std::path::{Path, PathBuf};
use std::{collections::HashMap, process::Command};

use anyhow::Context;

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

/// Hashes every listed file with `b3sum` and records the results in `manifest`. A file
/// `b3sum` could not read gets an error entry, as in the variants.
pub fn run(b3sum: &Path, listing: &Listing, manifest: &Manifest) -> anyhow::Result<()> {
    for (name, failure) in &listing.refused {
        manifest.record(name.clone(), Record::failed(*failure, failure.describe()))?;
    }
    for batch in listing.files.chunks(BATCH) {
        let out = Command::new(b3sum)
            .current_dir(&listing.inbox)
            .arg("--")
            .args(batch.iter().map(|job| &job.name))
            .output()
            .with_context(|| format!("cannot run {}", b3sum.display()))?;
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
                    let failure = if detail.contains("No such file") {
                        Failure::NotFound
                    } else if detail.contains("Permission denied") {
                        Failure::PermissionDenied
                    } else {
                        Failure::Io
                    };
                    Record::failed(failure, detail)
                }
            };
            manifest.record(job.name.clone(), record)?;
        }
    }
    Ok(())
}
