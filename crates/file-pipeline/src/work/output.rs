//! Writing an output: under a temporary name, then renamed into place, so that no
//! half-written output is ever seen under its real name. Nothing is fsynced (see [`super`]).

use std::{
    fs, io,
    path::{Path, PathBuf},
};

/// Where a file's output goes.
pub fn output_path(outbox: &Path, name: &str) -> PathBuf {
    outbox.join(format!("{name}.zst"))
}

/// An output being written under its temporary name. Dropped before [`TempOutput::commit`]
/// (an error, a panic, a dropped future) it removes the temp file, so no half-written output
/// is ever left behind under either name.
#[derive(Debug)]
pub struct TempOutput {
    temp: Option<PathBuf>,
    /// The output's real name.
    pub done: PathBuf,
}

impl TempOutput {
    pub fn new(outbox: &Path, name: &str) -> TempOutput {
        // The leading dot marks the temporary name as not an output.
        TempOutput { temp: Some(outbox.join(format!(".{name}.zst.tmp"))), done: output_path(outbox, name) }
    }

    pub fn temp(&self) -> &Path {
        self.temp.as_deref().expect("not committed yet")
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
    fs::rename(out.temp(), &out.done)?;
    out.commit();
    Ok(())
}
// ANCHOR_END: write_output

/// The same with `tokio::fs`: two `spawn_blocking` hops.
pub async fn write_output_async(outbox: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let out = TempOutput::new(outbox, name);
    tokio::fs::write(out.temp(), bytes).await?;
    tokio::fs::rename(out.temp(), &out.done).await?;
    out.commit();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
