//! The unit of work, split where the variants split it: read (IO), [`process`] (CPU: BLAKE3
//! and zstd), write (IO: a temp name, then a rename; [`output`]).
//!
//! Every variant calls these same functions, so the rows differ only in where each piece
//! runs. Reads are whole files (`std::fs::read`, `tokio::fs::read`, or io_uring reads into
//! one buffer): the manifest needs whole-file hashes, the files are at most 16 MiB, and a
//! whole file is the item that travels between stages, which is what makes a channel's
//! capacity show up in memory. Nothing is fsynced: the rename makes an output visible
//! whole, not durable; durability would measure the disk, not the models.

pub mod output;

use std::{cell::RefCell, io, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::inbox::manifest::Record;

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
}
