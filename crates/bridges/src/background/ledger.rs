//! The job ledger: a file that outlives the program, so that what each background job got
//! done can be counted after the process is gone.

use std::{fs::File, os::unix::fs::FileExt, path::Path};

use anyhow::Context;

const MAGIC: u32 = 0x6a6f_6273; // "jobs"
const HEADER: u64 = 16;
const SLOT: u64 = 8;

/// The job ledger file: `[magic, jobs, submitted, main_returned]`, then per job
/// `[started, steps done]`, all little-endian `u32`.
#[derive(Debug)]
pub struct Ledger {
    file: File,
}

impl Ledger {
    /// Creates a zeroed ledger for `jobs` jobs at `path`.
    pub fn create(path: &Path, jobs: u32) -> anyhow::Result<()> {
        let file = File::create(path).with_context(|| format!("cannot create the job ledger {}", path.display()))?;
        file.set_len(HEADER + SLOT * u64::from(jobs))?;
        file.write_all_at(&[MAGIC.to_le_bytes(), jobs.to_le_bytes()].concat(), 0)?;
        Ok(())
    }

    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::OpenOptions::new().write(true).open(path);
        Ok(Ledger { file: file.with_context(|| format!("cannot open the job ledger {}", path.display()))? })
    }

    fn put(&self, offset: u64, value: u32) -> std::io::Result<()> {
        self.file.write_all_at(&value.to_le_bytes(), offset)
    }

    pub(super) fn started(&self, job: u32) -> std::io::Result<()> {
        self.put(HEADER + SLOT * u64::from(job), 1)
    }

    pub(super) fn step_done(&self, job: u32, steps: u32) -> std::io::Result<()> {
        self.put(HEADER + SLOT * u64::from(job) + 4, steps)
    }

    pub(super) fn main_returns(&self, submitted: u32) -> std::io::Result<()> {
        self.put(8, submitted)?;
        self.put(12, 1)
    }
}

/// Whether the program has written that its `main` is returning.
pub fn main_has_returned(path: &Path) -> anyhow::Result<bool> {
    let mut flag = [0u8; 4];
    File::open(path)
        .and_then(|file| file.read_exact_at(&mut flag, 12))
        .with_context(|| format!("cannot read the job ledger {}", path.display()))?;
    Ok(u32::from_le_bytes(flag) == 1)
}

/// What the ledger says once the program is gone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobTally {
    pub jobs: u32,
    pub submitted: u32,
    pub main_returned: bool,
    pub never_started: u32,
    /// Started, but stopped before their last step.
    pub cut_short: u32,
    pub completed: u32,
}

impl JobTally {
    pub fn read(path: &Path, steps: u32) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read the job ledger {}", path.display()))?;
        let word = |offset: usize| bytes.get(offset..offset + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        anyhow::ensure!(word(0) == Some(MAGIC), "{} is not a job ledger", path.display());
        let (jobs, submitted, main_returned) = (word(4).unwrap_or(0), word(8).unwrap_or(0), word(12) == Some(1));
        let mut tally = JobTally { jobs, submitted, main_returned, ..JobTally::default() };
        for slot in (0..jobs as usize).map(|job| HEADER as usize + job * SLOT as usize) {
            match (word(slot), word(slot + 4)) {
                (Some(0), Some(_)) => tally.never_started += 1,
                (Some(_), Some(done)) if done >= steps => tally.completed += 1,
                (Some(_), Some(_)) => tally.cut_short += 1,
                _ => anyhow::bail!("a short ledger"),
            }
        }
        Ok(tally)
    }

    pub fn lost(&self) -> u32 {
        self.submitted.saturating_sub(self.completed)
    }
}
