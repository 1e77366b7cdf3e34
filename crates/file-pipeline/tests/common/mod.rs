//! Shared by the test binaries: small generated inboxes and runs through the same entry
//! points the case uses.
#![allow(dead_code)]

use std::{
    ffi::CStr,
    io,
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

/// For `pre_exec`: enters a new user namespace mapping root to this (root) user and sets
/// `limit` (a file under /proc/sys/user) to 0 in it: a real kernel limit that touches nothing
/// outside this process tree. The child is single-threaded between fork and exec, which
/// `unshare(CLONE_NEWUSER)` requires; only raw syscalls run here.
pub fn namespace_with_zero(limit: &CStr) -> io::Result<()> {
    // SAFETY: plain syscalls.
    if unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0 {
        return Err(io::Error::last_os_error());
    }
    write_proc(c"/proc/self/setgroups", b"deny")?;
    write_proc(c"/proc/self/gid_map", b"0 0 1")?;
    write_proc(c"/proc/self/uid_map", b"0 0 1")?;
    write_proc(limit, b"0")
}

fn write_proc(path: &CStr, bytes: &[u8]) -> io::Result<()> {
    // SAFETY: a valid C string and buffer; the descriptor is closed on every path.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let written = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        libc::close(fd);
        if written != bytes.len() as isize {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
