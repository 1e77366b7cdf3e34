//! Shared by the test binaries: small generated inboxes and runs through the same entry
//! points the case uses.
#![allow(dead_code)]

use std::{
    collections::HashSet,
    ffi::CStr,
    fs::{self, File},
    io::{self, BufRead},
    path::{Path, PathBuf},
    sync::Arc,
};

use casebook::VariantSet;
use file_pipeline::{
    inbox::generate::{InboxSpec, Mix},
    inbox::listing::Listing,
    inbox::manifest::{self, Entry, Record},
    inbox::watch::{WatchError, Watching},
    pipelines::{Pipeline, Settings},
    variants::Variant,
    work::{Work, output::output_path},
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
    file_pipeline::inbox::generate::generate(&path, &spec, &|| false).expect("generate the inbox");
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
    variant.batch(&pipeline, listing).unwrap_or_else(|e| panic!("{variant}: {e:#}"));
    let entries = pipeline.manifest.entries();
    assert_eq!(read(&pipeline.manifest.path).expect("read back"), entries, "{variant}: file and memory agree");
    Ran { scratch, pipeline, entries }
}

/// Starts a watch that runs `variant` on what lands in the pipeline's inbox.
pub fn start_watch(variant: Variant, pipeline: Arc<Pipeline>) -> Result<Watching, WatchError> {
    Watching::start(pipeline, move |pipeline, source| variant.drain(pipeline, source))
}

/// The pipelines this machine can run: every variant but the b3sum anchor, less io-uring
/// where the probe says no (printed).
pub fn runnable() -> Vec<Variant> {
    Variant::ALL
        .iter()
        .copied()
        .filter(|v| v.is_pipeline())
        .filter(|v| match (v, file_pipeline::pipelines::uring::probe()) {
            (Variant::IoUring, Err(reason)) => {
                eprintln!("io-uring skipped: {reason}");
                false
            }
            _ => true,
        })
        .collect()
}

/// Reads a manifest file back.
pub fn read(path: &Path) -> io::Result<Vec<Entry>> {
    io::BufReader::new(File::open(path)?)
        .lines()
        .map(|line| serde_json::from_str(&line?).map_err(io::Error::other))
        .collect()
}

/// Checks an outbox against the inbox and the manifest: every entry with a compressed size has
/// an output of that size that decompresses to the input, whose BLAKE3 is the entry's; the
/// outbox holds nothing else (no temp file, no output without an entry). Returns the number
/// of outputs checked, or what is wrong.
pub fn verify_outbox(inbox: &Path, outbox: &Path, entries: &[Entry]) -> Result<usize, String> {
    let mut expected = HashSet::new();
    for entry in entries {
        let Record::Done { size, blake3, compressed } = &entry.record else { continue };
        let input =
            fs::read(inbox.join(&entry.name)).map_err(|e| format!("{}: cannot read the input: {e}", entry.name))?;
        if input.len() as u64 != *size {
            return Err(format!("{}: manifest size {size}, input {}", entry.name, input.len()));
        }
        if let Some(hash) = blake3
            && *hash != blake3::hash(&input).to_hex().as_str()
        {
            return Err(format!("{}: manifest hash is not the input's", entry.name));
        }
        let Some(compressed) = compressed else { continue };
        let path = output_path(outbox, &entry.name);
        let output = fs::read(&path).map_err(|e| format!("{}: no output ({e})", entry.name))?;
        if output.len() as u64 != *compressed {
            return Err(format!(
                "{}: manifest says {compressed} compressed bytes, output has {}",
                entry.name,
                output.len()
            ));
        }
        let back = zstd::bulk::decompress(&output, input.len()).map_err(|e| format!("{}: {e}", entry.name))?;
        if back != input {
            return Err(format!("{}: the output does not decompress to the input", entry.name));
        }
        expected.insert(path.file_name().expect("a file name").to_os_string());
    }
    let listing = fs::read_dir(outbox).map_err(|e| format!("cannot list the outbox: {e}"))?;
    for found in listing {
        let name = found.map_err(|e| e.to_string())?.file_name();
        if !expected.contains(&name) {
            return Err(format!("the outbox holds {name:?}, which no entry accounts for"));
        }
    }
    Ok(expected.len())
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
