//! The inbox as a pipeline sees it: a batch run's listing, taken once before the measured
//! region, and what a job is.

use std::path::{Path, PathBuf};
use std::{fs, io};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::inbox::manifest::Failure;

/// One file for a pipeline to process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// A name inside the inbox (the inbox is flat: no directories).
    pub name: String,
    /// Known in batch mode from the listing; a watcher only knows the name.
    pub size: Option<u64>,
}

/// A batch run's view of the inbox, taken before the measured region.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    pub inbox: PathBuf,
    /// Regular files, by name.
    pub files: Vec<Job>,
    /// What is in the inbox but is not a regular file: a symlink is never followed out of the
    /// inbox, a directory or device is not an input. Each becomes an error entry.
    pub refused: Vec<(String, Failure)>,
}

impl Listing {
    /// Lists `inbox`. Names starting with a dot are a producer's temporary files and are not
    /// inputs; names that are not UTF-8 are refused (the manifest is text).
    pub fn scan(inbox: &Path) -> anyhow::Result<Listing> {
        let entries = fs::read_dir(inbox).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => anyhow::anyhow!("the inbox {} does not exist", inbox.display()),
            _ => anyhow::anyhow!("cannot list the inbox {}: {e}", inbox.display()),
        })?;
        let mut listing = Listing { inbox: inbox.to_path_buf(), ..Listing::default() };
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list the inbox {}", inbox.display()))?;
            let name = entry.file_name();
            if name.as_encoded_bytes().starts_with(b".") {
                continue;
            }
            let Some(name) = name.to_str().map(str::to_owned) else {
                listing.refused.push((name.to_string_lossy().into_owned(), Failure::BadName));
                continue;
            };
            // `DirEntry::metadata` does not follow symlinks.
            match entry.metadata() {
                Ok(meta) if meta.is_file() => listing.files.push(Job { name, size: Some(meta.len()) }),
                Ok(meta) if meta.is_symlink() => listing.refused.push((name, Failure::Symlink)),
                Ok(_) => listing.refused.push((name, Failure::NotRegular)),
                // Gone between the listing and the stat: never seen whole, not an input.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("cannot stat {name} in {}", inbox.display())),
            }
        }
        listing.files.sort_by(|a, b| a.name.cmp(&b.name));
        listing.refused.sort();
        Ok(listing)
    }
}
