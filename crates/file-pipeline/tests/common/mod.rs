//! Shared by the test binaries: small generated inboxes and runs through the same entry
//! points the case uses.
#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use file_pipeline::{
    InboxSpec, Listing, Mix, Pipeline, Settings, Variant, Work,
    manifest::{self, Entry},
    variants,
};
use tempfile::TempDir;

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * KIB;

/// A generated inbox in a temp dir of its own.
pub struct Inbox {
    pub dir: TempDir,
    pub path: PathBuf,
    pub spec: InboxSpec,
}

pub fn inbox(total_bytes: u64, mix: Mix) -> Inbox {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("inbox");
    let spec = InboxSpec { seed: 42, total_bytes, mix };
    file_pipeline::inbox::generate(&path, &spec, &|| false).expect("generate the inbox");
    Inbox { dir, path, spec }
}

/// One finished run: its scratch dir (outbox and manifest) and its entries.
pub struct Ran {
    pub scratch: TempDir,
    pub pipeline: Arc<Pipeline>,
    pub entries: Vec<Entry>,
}

impl Ran {
    pub fn digest(&self) -> String {
        manifest::digest(&self.entries)
    }

    pub fn outbox(&self) -> &Path {
        &self.pipeline.outbox
    }
}

pub fn pipeline(inbox: &Path, settings: Settings) -> (TempDir, Arc<Pipeline>) {
    let scratch = tempfile::tempdir().expect("scratch dir");
    let pipeline = Pipeline::in_scratch(inbox, scratch.path(), settings).expect("a pipeline");
    (scratch, Arc::new(pipeline))
}

pub fn settings(work: Work) -> Settings {
    Settings { work, ..Settings::default() }
}

/// Lists `inbox` and runs `variant` over it in batch mode.
pub fn batch(variant: Variant, inbox: &Path, settings: Settings) -> Ran {
    let listing = Listing::scan(inbox).expect("list the inbox");
    batch_listed(variant, &listing, settings)
}

pub fn batch_listed(variant: Variant, listing: &Listing, settings: Settings) -> Ran {
    let (scratch, pipeline) = pipeline(&listing.inbox, settings);
    variants::batch(variant, &pipeline, listing).unwrap_or_else(|e| panic!("{variant}: {e:#}"));
    let entries = pipeline.manifest.entries();
    assert_eq!(
        manifest::read(pipeline.manifest.path()).expect("read back"),
        entries,
        "{variant}: file and memory agree"
    );
    Ran { scratch, pipeline, entries }
}

/// The variants this machine can run: all, less io-uring where the probe says no (printed).
pub fn runnable() -> Vec<Variant> {
    Variant::ALL
        .into_iter()
        .filter(|v| match (v, file_pipeline::uring::probe()) {
            (Variant::IoUring, Err(reason)) => {
                eprintln!("io-uring skipped: {reason}");
                false
            }
            _ => true,
        })
        .collect()
}
