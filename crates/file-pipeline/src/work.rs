//! The unit of work, split where the variants split it: read (IO), [`process`] (CPU: BLAKE3
//! and zstd), write (IO: a temp name, then a rename).
//!
//! Every variant calls these same functions, so the rows differ only in where each piece
//! runs. Reads are whole files (`std::fs::read`, `tokio::fs::read`, or io_uring reads into
//! one buffer): the manifest needs whole-file hashes, the files are at most 16 MiB, and a
//! whole file is the item that travels between stages, which is what makes a channel's
//! capacity show up in memory. Nothing is fsynced: the rename makes an output visible
//! whole, not durable; durability would measure the disk, not the models.

use std::{
    cell::RefCell,
    fs, io,
    path::{Path, PathBuf},
    str::FromStr,
};

use serde::{Deserialize, Serialize};

use crate::manifest::Record;

/// The zstd level the issue fixes.
pub const ZSTD_LEVEL: i32 = 3;

/// What is done to each file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Work {
    /// BLAKE3 only; nothing is written to the outbox. The `b3sum` comparison.
    Hash,
    /// zstd only; the manifest has no hash.
    Compress,
    /// Both, the default.
    Both,
}

impl Work {
    pub const ALL: [Work; 3] = [Work::Hash, Work::Compress, Work::Both];

    pub const fn name(self) -> &'static str {
        match self {
            Work::Hash => "hash",
            Work::Compress => "compress",
            Work::Both => "both",
        }
    }

    pub const fn hashes(self) -> bool {
        matches!(self, Work::Hash | Work::Both)
    }

    pub const fn compresses(self) -> bool {
        matches!(self, Work::Compress | Work::Both)
    }
}

impl FromStr for Work {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Work::ALL
            .into_iter()
            .find(|w| w.name() == s)
            .ok_or_else(|| format!("work is hash, compress or both (got `{s}`)"))
    }
}

/// The CPU stage's result for one file.
#[derive(Debug)]
pub struct Processed {
    pub size: u64,
    pub blake3: Option<blake3::Hash>,
    pub compressed: Option<Vec<u8>>,
}

impl Processed {
    /// The manifest record, once the output (if any) is in place.
    pub fn record(&self) -> Record {
        Record::Done {
            size: self.size,
            blake3: self.blake3.map(|h| h.to_hex().to_string()),
            compressed: self.compressed.as_ref().map(|c| c.len() as u64),
        }
    }
}

thread_local! {
    /// One zstd context per thread, reused file after file, as a zstd user would: creating a
    /// context costs more than compressing a 4 KiB file. Every model's threads (rayon's,
    /// tokio's workers and blocking pool, plain threads) get their own.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
}

// ANCHOR: process
/// The CPU work: BLAKE3 and/or zstd over one whole file.
pub fn process(bytes: &[u8], work: Work) -> io::Result<Processed> {
    let blake3 = work.hashes().then(|| blake3::hash(bytes));
    let compressed = if work.compresses() {
        Some(COMPRESSOR.with(|cell| {
            let mut slot = cell.borrow_mut();
            let compressor = match slot.as_mut() {
                Some(compressor) => compressor,
                None => slot.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL)?),
            };
            compressor.compress(bytes)
        })?)
    } else {
        None
    };
    Ok(Processed { size: bytes.len() as u64, blake3, compressed })
}
// ANCHOR_END: process

/// Where a file's output goes.
pub fn output_path(outbox: &Path, name: &str) -> PathBuf {
    outbox.join(format!("{name}.zst"))
}

/// The temporary name an output is written under. The leading dot marks it as not an output.
pub fn temp_path(outbox: &Path, name: &str) -> PathBuf {
    outbox.join(format!(".{name}.zst.tmp"))
}

/// An output being written under its temporary name. Dropped before [`TempOutput::commit`]
/// (an error, a panic, a dropped future) it removes the temp file, so no half-written output
/// is ever left behind under either name.
#[derive(Debug)]
pub struct TempOutput {
    temp: Option<PathBuf>,
    done: PathBuf,
}

impl TempOutput {
    pub fn new(outbox: &Path, name: &str) -> TempOutput {
        TempOutput { temp: Some(temp_path(outbox, name)), done: output_path(outbox, name) }
    }

    pub fn temp(&self) -> &Path {
        self.temp.as_deref().expect("not committed yet")
    }

    pub fn done(&self) -> &Path {
        &self.done
    }

    /// The rename happened: nothing to remove any more.
    pub fn commit(mut self) {
        self.temp = None;
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if let Some(temp) = self.temp.take() {
            let _ = fs::remove_file(temp);
        }
    }
}

// ANCHOR: write_output
/// Writes `bytes` as `name`'s output with blocking calls.
pub fn write_output(outbox: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let out = TempOutput::new(outbox, name);
    fs::write(out.temp(), bytes)?;
    fs::rename(out.temp(), out.done())?;
    out.commit();
    Ok(())
}
// ANCHOR_END: write_output

/// The same with `tokio::fs`: two `spawn_blocking` hops.
pub async fn write_output_async(outbox: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let out = TempOutput::new(outbox, name);
    tokio::fs::write(out.temp(), bytes).await?;
    tokio::fs::rename(out.temp(), out.done()).await?;
    out.commit();
    Ok(())
}

/// A whole unit of work with blocking calls, for the variants that run one file start to end
/// on one thread. A read error becomes the file's error entry; a write or manifest error is
/// the pipeline's own and ends the run.
pub fn handle(pipeline: &crate::Pipeline, name: String) -> io::Result<()> {
    let record = match fs::read(pipeline.inbox.join(&name)) {
        Err(e) => Record::read_error(&e),
        Ok(bytes) => finish(pipeline, &name, process(&bytes, pipeline.work)?)?,
    };
    pipeline.manifest.record(name, record)
}

/// Writes a processed file's output, if the work has one, and returns its record.
pub fn finish(pipeline: &crate::Pipeline, name: &str, processed: Processed) -> io::Result<Record> {
    if let Some(compressed) = &processed.compressed {
        write_output(&pipeline.outbox, name, compressed)?;
    }
    Ok(processed.record())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_work_does_its_part_only() {
        let bytes = b"hello hello hello hello".repeat(100);
        for work in Work::ALL {
            let p = process(&bytes, work).expect("process");
            assert_eq!(p.blake3, work.hashes().then(|| blake3::hash(&bytes)), "{work:?}");
            let round_trip = p.compressed.map(|c| zstd::bulk::decompress(&c, bytes.len()).expect("zstd frame"));
            assert_eq!(round_trip, work.compresses().then(|| bytes.clone()), "{work:?}");
        }
    }

    #[test]
    fn an_uncommitted_output_leaves_no_temp_file_and_a_committed_one_no_temp_either() {
        let dir = tempfile::tempdir().expect("temp dir");
        {
            let out = TempOutput::new(dir.path(), "a");
            fs::write(out.temp(), b"half").expect("write");
        }
        assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 0);
        write_output(dir.path(), "b", b"whole").expect("write");
        let names: Vec<_> = fs::read_dir(dir.path()).expect("list").map(|e| e.expect("entry").file_name()).collect();
        assert_eq!(names, ["b.zst"]);
    }
}
