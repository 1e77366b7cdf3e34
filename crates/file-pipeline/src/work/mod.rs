//! The unit of work, split where the variants split it: read (IO), [`process`] (CPU: BLAKE3
//! and zstd), write (IO: a temp name, then a rename; [`output`]).
//!
//! Every variant calls these same functions, so the rows differ only in where each piece
//! runs. Reads are whole files ([`read_input`], on a thread or through tokio's blocking pool,
//! or io_uring reads into one buffer): the manifest needs whole-file hashes, the files are at most 16 MiB, and a
//! whole file is the item that travels between stages, which is what makes a channel's
//! capacity show up in memory. Nothing is fsynced: the rename makes an output visible
//! whole, not durable; durability would measure the disk, not the models.

pub mod output;

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::inbox::manifest::{Failure, Record};

/// The zstd level the issue fixes.
pub const ZSTD_LEVEL: i32 = 3;

/// What is done to each file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
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

// ANCHOR: open_input
/// Opens an input as it is now, not as the listing or the event saw it: never through a
/// symlink (`O_NOFOLLOW`: one swapped in is refused with ELOOP), never waiting on a FIFO
/// (`O_NONBLOCK`, which changes nothing for a regular file's reads), and only if the opened
/// descriptor is a regular file (fstat). Returns the file and its size.
pub fn open_input(path: &Path) -> io::Result<(File, u64)> {
    let file = OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Failure::NotRegular.into());
    }
    Ok((file, meta.len()))
}
// ANCHOR_END: open_input

/// Reads a whole input, as `std::fs::read` does (one allocation of the file's size), through
/// [`open_input`].
pub fn read_input(path: &Path) -> io::Result<Vec<u8>> {
    let (mut file, size) = open_input(path)?;
    let mut bytes = Vec::with_capacity(size as usize);
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The same through tokio's blocking pool: exactly what `tokio::fs::read` does (one
/// `spawn_blocking` hop around the blocking read), with [`open_input`]'s checks.
pub async fn read_input_async(path: PathBuf) -> io::Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || read_input(&path)).await.map_err(io::Error::other)?
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn each_kind_of_work_does_its_part_only() {
        let bytes = b"hello hello hello hello".repeat(100);
        for &work in Work::value_variants() {
            let p = process(&bytes, work).expect("process");
            assert_eq!(p.blake3, work.hashes().then(|| blake3::hash(&bytes)), "{work:?}");
            let round_trip = p.compressed.map(|c| zstd::bulk::decompress(&c, bytes.len()).expect("zstd frame"));
            assert_eq!(round_trip, work.compresses().then(|| bytes.clone()), "{work:?}");
        }
    }
}
