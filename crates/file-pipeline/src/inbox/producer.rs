//! The producer: the load generator's body in watch mode, run in a process of its own.
//!
//! It copies files from the generated inbox into the watched one, on an open-loop schedule
//! (file `i` starts at `i / rate` seconds whatever happened to file `i - 1`), alternating the
//! two ways real programs write:
//! - **rename**: write `.<name>.part`, close it, rename it to `<name>`;
//! - **in place**: create `<name>` and write it in 64 KiB chunks, then close it.
//!
//! Each file is stamped with `CLOCK_MONOTONIC` immediately before the close or rename that
//! makes it whole, so the pipeline can never legitimately record it before its stamp. The
//! log of stamps is written at the end, to a temp name and renamed, so a reader sees all of
//! it or nothing.

use std::fs::{self, File};
use std::io::{self, Write};
use std::time::{Duration, Instant};
use std::{path::Path, thread};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::inbox::manifest::now_ns;

/// How a file was made whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Way {
    Rename,
    InPlace,
}

/// One file the producer made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Produced {
    pub name: String,
    pub way: Way,
    /// `CLOCK_MONOTONIC` nanoseconds just before the close or rename.
    pub at_ns: u64,
}

/// What to produce.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Files of the source inbox to copy, in order.
    pub names: Vec<String>,
    /// Files per second; `None` writes them back to back (a burst).
    pub rate: Option<f64>,
    /// Pause between in-place chunks, to hold a file half-written for a while. Zero in the
    /// case's runs; the tests use it to prove a half-written file is never taken.
    pub chunk_pause: Duration,
}

/// The size of one in-place write.
pub const CHUNK: usize = 64 * 1024;

/// Copies `plan.names` from `source` into `inbox`. `stop` is polled between files; what was
/// produced until then is returned.
pub fn produce(source: &Path, inbox: &Path, plan: &Plan, stop: &dyn Fn() -> bool) -> anyhow::Result<Vec<Produced>> {
    let start = Instant::now();
    let mut log = Vec::with_capacity(plan.names.len());
    for (i, name) in plan.names.iter().enumerate() {
        if stop() {
            break;
        }
        let bytes = fs::read(source.join(name)).with_context(|| format!("cannot read {name} from the source inbox"))?;
        if let Some(rate) = plan.rate {
            let due = start + Duration::from_secs_f64(i as f64 / rate);
            thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        let way = if i % 2 == 0 { Way::Rename } else { Way::InPlace };
        let at_ns = match way {
            Way::Rename => write_then_rename(inbox, name, &bytes),
            Way::InPlace => write_in_place(inbox, name, &bytes, plan.chunk_pause),
        }
        .with_context(|| format!("cannot write {name} into {}", inbox.display()))?;
        log.push(Produced { name: name.clone(), way, at_ns });
    }
    Ok(log)
}

// ANCHOR: ways
fn write_then_rename(inbox: &Path, name: &str, bytes: &[u8]) -> io::Result<u64> {
    let part = inbox.join(format!(".{name}.part"));
    fs::write(&part, bytes)?;
    let at_ns = now_ns();
    fs::rename(&part, inbox.join(name))?;
    Ok(at_ns)
}

fn write_in_place(inbox: &Path, name: &str, bytes: &[u8], pause: Duration) -> io::Result<u64> {
    let mut file = File::create_new(inbox.join(name))?;
    for chunk in bytes.chunks(CHUNK) {
        file.write_all(chunk)?;
        if !pause.is_zero() {
            thread::sleep(pause);
        }
    }
    let at_ns = now_ns();
    drop(file);
    Ok(at_ns)
}
// ANCHOR_END: ways

/// Writes the log as JSON lines, atomically.
pub fn write_log(path: &Path, log: &[Produced]) -> anyhow::Result<()> {
    let text = log.iter().map(|p| Ok(serde_json::to_string(p)? + "\n")).collect::<serde_json::Result<String>>()?;
    let temp = path.with_extension("tmp");
    fs::write(&temp, text).with_context(|| format!("cannot write {}", temp.display()))?;
    fs::rename(&temp, path).with_context(|| format!("cannot write {}", path.display()))
}

pub fn read_log(path: &Path) -> anyhow::Result<Vec<Produced>> {
    let text = fs::read_to_string(path).with_context(|| format!("the producer left no log at {}", path.display()))?;
    text.lines().map(|line| serde_json::from_str(line).context("a malformed producer log line")).collect()
}
