//! `io-uring`: the hybrid's shape with real asynchronous file IO.
//!
//! tokio's own io_uring support needs `--cfg tokio_unstable` for the whole build, which a
//! workspace should not impose on every crate, so this row uses tokio-uring: its own
//! single-threaded runtime, where opening, reading, writing, closing and renaming a file are
//! io_uring submissions instead of blocking-pool hops. The CPU work stays on rayon, exactly as
//! in the hybrid, so the two rows differ only in how the files are read and written.
//!
//! Kernels, containers and seccomp profiles may forbid io_uring; [`probe`] finds out at run
//! time, by doing each operation the row uses once, and says why not.

use std::{io, path::Path, sync::Arc};

use anyhow::Context;
use flume::Receiver;
use tokio_uring::{buf::BoundedBuf, fs::File};

use crate::inbox::{listing::Job, manifest::Record};
use crate::pipelines::hybrid::{read_stage, start_cpu_side};
use crate::pipelines::{Done, Pipeline, Read};
use crate::work::Processed;
use crate::work::output::{TempOutput, output_path};

/// Whether this process may use io_uring for every operation the row needs; the reason if
/// not.
pub fn probe() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a probe directory: {e}"))?;
    let runtime =
        tokio_uring::Runtime::new(&tokio_uring::builder()).map_err(|e| format!("io_uring_setup failed: {e}"))?;
    runtime.block_on(async {
        write_output(dir.path(), "probe", b"probe".to_vec()).await.map_err(|e| format!("io_uring write: {e}"))?;
        let back =
            read_file(&output_path(dir.path(), "probe"), None).await.map_err(|e| format!("io_uring read: {e}"))?;
        if back == b"probe" { Ok(()) } else { Err("io_uring read back other bytes than it wrote".into()) }
    })
}

// ANCHOR: uring_io
/// Opens, sizes (statx, unless the listing knows), reads and closes a file, all through the
/// ring.
async fn read_file(path: &Path, size: Option<u64>) -> io::Result<Vec<u8>> {
    let file = File::open(path).await?;
    let size = match size {
        Some(size) => size,
        None => file.statx().await?.stx_size,
    };
    let mut buf = Vec::with_capacity(size as usize);
    loop {
        // A file that grew since it was sized is read to its end all the same.
        if buf.len() == buf.capacity() {
            buf.reserve(64 * 1024);
        }
        let at = buf.len();
        let (read, slice) = file.read_at(buf.slice(at..), at as u64).await;
        buf = slice.into_inner();
        if read? == 0 {
            break;
        }
    }
    file.close().await?;
    Ok(buf)
}

/// Writes an output under its temp name and renames it into place, through the ring.
async fn write_output(outbox: &Path, name: &str, bytes: Vec<u8>) -> io::Result<()> {
    let out = TempOutput::new(outbox, name);
    let file = File::create(out.temp()).await?;
    let (written, _) = file.write_all_at(bytes, 0).await;
    written?;
    file.close().await?;
    tokio_uring::fs::rename(out.temp(), out.done()).await?;
    out.commit();
    Ok(())
}
// ANCHOR_END: uring_io

async fn write_out(pipeline: &Pipeline, name: &str, processed: Processed) -> io::Result<Record> {
    let record = processed.record();
    if let Some(compressed) = processed.compressed {
        write_output(&pipeline.outbox, name, compressed).await?;
    }
    Ok(record)
}

// ANCHOR: io_uring
/// The hybrid, with tokio-uring in tokio's place: one thread submits every file operation to
/// the ring, up to `in_flight` files at once (the hybrid's read stage); rayon does the CPU
/// work; flume joins them.
pub fn pipeline(pipeline: &Arc<Pipeline>, source: Receiver<Job>) -> anyhow::Result<()> {
    let runtime = tokio_uring::Runtime::new(&tokio_uring::builder()).context("cannot start an io_uring runtime")?;
    let (to_cpu, cpu_in) = pipeline.settings.capacity.channel::<Read>();
    let (to_writer, writer_in) = pipeline.settings.capacity.channel::<Done>();
    start_cpu_side(pipeline.settings.work, cpu_in, to_writer.clone());
    let read =
        read_stage(pipeline, source, (to_cpu, to_writer), |path, size| async move { read_file(&path, size).await });
    // One writer, as in the hybrid, owning its receiver.
    let write = async move {
        while let Ok((name, done)) = writer_in.recv_async().await {
            let record = match done {
                Ok(processed) => write_out(pipeline, &name, processed).await?,
                Err(e) => Record::read_error(&e),
            };
            pipeline.manifest.record(name, record)?;
        }
        Ok::<_, io::Error>(())
    };
    runtime.block_on(async {
        let (read, write) = futures::join!(read, write);
        write.context("the writer failed")?;
        read
    })
}
// ANCHOR_END: io_uring
