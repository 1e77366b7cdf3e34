//! The inbox the set-up generates once from a seed.
//!
//! Contents look like service logs (timestamps, levels, words from a small vocabulary, hex
//! ids) so that zstd has real work to do; random bytes would be stored, not compressed, and
//! make compression look free. Sizes follow the mix: small files of 4-64 KiB, large ones of
//! 1-16 MiB, or both with half the bytes in each. File names carry no size information and
//! the sizes are shuffled, so listing order interleaves small and large files.

use std::io::{self, Write};
use std::{fs, ops::RangeInclusive, path::Path};

use anyhow::Context;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
pub const SMALL_SIZES: RangeInclusive<u64> = 4 * KIB..=64 * KIB;
pub const LARGE_SIZES: RangeInclusive<u64> = MIB..=16 * MIB;

/// Which file sizes the inbox holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mix {
    /// Only 4-64 KiB files: per-file overhead dominates.
    Small,
    /// Only 1-16 MiB files: bytes dominate.
    Large,
    /// Half the bytes in small files, half in large ones: many small files, a few large.
    Mixed,
}

impl Mix {
    pub const fn name(self) -> &'static str {
        match self {
            Mix::Small => "small",
            Mix::Large => "large",
            Mix::Mixed => "mixed",
        }
    }
}

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxSpec {
    pub seed: u64,
    pub total_bytes: u64,
    pub mix: Mix,
}

impl InboxSpec {
    /// The size of every file, in name order. Each class fills its share of the total with
    /// sizes drawn from its range; the last file of a class takes what is left if that is
    /// still within the range's lower bound, so the total is met to within one small file.
    pub fn sizes(&self) -> Vec<u64> {
        let mut rng = fastrand::Rng::with_seed(self.seed);
        let large_share = match self.mix {
            Mix::Small => 0,
            Mix::Large => self.total_bytes,
            Mix::Mixed => self.total_bytes / 2,
        };
        let mut sizes = Vec::new();
        fill(&mut rng, &mut sizes, large_share, LARGE_SIZES);
        fill(&mut rng, &mut sizes, self.total_bytes - large_share, SMALL_SIZES);
        rng.shuffle(&mut sizes);
        sizes
    }

    /// The mean file size in KiB, to a tenth, from the seed alone: the mix sweep's axis value.
    pub fn mean_kib(&self) -> f64 {
        let sizes = self.sizes();
        let mean = sizes.iter().sum::<u64>() as f64 / sizes.len().max(1) as f64 / 1024.0;
        (mean * 10.0).round() / 10.0
    }
}

fn fill(rng: &mut fastrand::Rng, sizes: &mut Vec<u64>, mut budget: u64, range: RangeInclusive<u64>) {
    while budget >= *range.start() {
        let size = rng.u64(range.clone()).min(budget);
        sizes.push(size);
        budget -= size;
    }
}

/// The name of the `index`th generated file.
pub fn file_name(index: usize) -> String {
    format!("f{index:06}.log")
}

/// Writes the inbox described by `spec` into `dir` (created if missing). Files are written in
/// parallel; `interrupted` is polled between files so a long set-up can stop early.
pub fn generate(dir: &Path, spec: &InboxSpec, interrupted: &(dyn Fn() -> bool + Sync)) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create the inbox {}", dir.display()))?;
    let sizes = spec.sizes();
    anyhow::ensure!(
        !sizes.is_empty(),
        "an inbox of {} bytes holds no file of the {:?} mix",
        spec.total_bytes,
        spec.mix
    );
    let vocabulary = Vocabulary::new(spec.seed);
    sizes.par_iter().enumerate().try_for_each(|(index, &size)| {
        anyhow::ensure!(!interrupted(), "interrupted while generating the inbox");
        let path = dir.join(file_name(index));
        let mut file = fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        vocabulary
            .write_content(spec.seed, index, size, &mut file)
            .with_context(|| format!("cannot write {}", path.display()))
    })
}

/// Words the log lines are made of, drawn once from the seed.
struct Vocabulary {
    words: Vec<Vec<u8>>,
}

const LEVELS: [&[u8]; 4] = [b"INFO", b"DEBUG", b"WARN", b"ERROR"];

/// Bytes generated before each write.
const CHUNK: usize = 64 * 1024;

impl Vocabulary {
    fn new(seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed ^ 0x0005_eed0_f70c);
        let words = (0..512).map(|_| (0..rng.usize(3..=10)).map(|_| rng.lowercase() as u8).collect()).collect();
        Vocabulary { words }
    }

    /// Writes `size` bytes of log lines for file `index` to `out`, the same for the same seed
    /// on any machine. Written in chunks, so that generating a 16 MiB file holds 64 KiB: the
    /// set-up runs in the harness's parent, whose peak memory its children inherit.
    fn write_content(&self, seed: u64, index: usize, size: u64, out: &mut impl Write) -> io::Result<()> {
        let mut left = size as usize;
        let mut rng = fastrand::Rng::with_seed(seed ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut chunk = Vec::with_capacity(CHUNK + 256);
        let mut clock = rng.u64(1_700_000_000_000..1_800_000_000_000);
        // Requests in flight: each spans several lines, as in a real service's log.
        let requests: Vec<u64> = (0..64).map(|_| rng.u64(..)).collect();
        while left > 0 {
            clock += rng.u64(0..2_000);
            write!(chunk, "{clock} ")?;
            chunk.extend_from_slice(LEVELS[rng.usize(..LEVELS.len())]);
            chunk.extend_from_slice(b" svc-");
            chunk.extend_from_slice(&self.words[rng.usize(..16)]);
            chunk.push(b':');
            for _ in 0..rng.usize(3..12) {
                chunk.push(b' ');
                chunk.extend_from_slice(&self.words[rng.usize(..self.words.len())]);
            }
            writeln!(chunk, " id={:016x} took={}ms", requests[rng.usize(..requests.len())], rng.u64(0..5_000))?;
            if chunk.len() >= CHUNK.min(left) {
                let take = chunk.len().min(left);
                out.write_all(&chunk[..take])?;
                left -= take;
                chunk.clear();
            }
        }
        Ok(())
    }

    #[cfg(test)]
    fn content(&self, seed: u64, index: usize, size: u64) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_content(seed, index, size, &mut out).expect("a Vec takes every write");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn sizes_fill_the_total_within_one_small_file_and_stay_in_range() {
        for &mix in Mix::value_variants() {
            let spec = InboxSpec { seed: 7, total_bytes: 64 * MIB, mix };
            let sizes = spec.sizes();
            let total: u64 = sizes.iter().sum();
            assert!(
                total <= spec.total_bytes && spec.total_bytes - total < 2 * SMALL_SIZES.start(),
                "{mix:?}: {total}"
            );
            let large = sizes.iter().filter(|s| **s >= *LARGE_SIZES.start()).count();
            match mix {
                Mix::Small => assert_eq!(large, 0),
                Mix::Large => assert_eq!(large, sizes.len() - sizes.iter().filter(|s| **s < MIB).count()),
                Mix::Mixed => assert!(large >= 2 && sizes.len() > 10 * large, "{large} of {}", sizes.len()),
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
        let vocabulary = Vocabulary::new(1);
        assert_eq!(vocabulary.content(1, 3, 10_000), Vocabulary::new(1).content(1, 3, 10_000));
        assert_ne!(vocabulary.content(1, 3, 10_000), Vocabulary::new(2).content(2, 3, 10_000));
        assert_ne!(vocabulary.content(1, 3, 10_000), vocabulary.content(1, 4, 10_000));
        for size in [1, 4096, 200_000] {
            let bytes = vocabulary.content(1, 3, size);
            assert_eq!(bytes.len() as u64, size);
            // A longer file starts with the same lines: one stream, cut at the size.
            assert_eq!(bytes[..], vocabulary.content(1, 3, size + 7)[..size as usize]);
        }
        let spec = InboxSpec { seed: 9, total_bytes: 8 * MIB, mix: Mix::Mixed };
        assert_eq!(spec.sizes(), spec.sizes());
        assert_ne!(spec.sizes(), InboxSpec { seed: 10, ..spec }.sizes());
    }

    #[test]
    fn content_compresses_like_text_not_like_noise() {
        let bytes = Vocabulary::new(3).content(3, 0, 1 << 20);
        let compressed = zstd::bulk::compress(&bytes, 3).expect("zstd");
        let ratio = bytes.len() as f64 / compressed.len() as f64;
        assert!((2.5..8.0).contains(&ratio), "compression ratio {ratio:.2}");
    }
}
