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

use std::{io, os::unix::fs::OpenOptionsExt, path::Path, sync::Arc};

use anyhow::Context;
use flume::Receiver;
use futures::{StreamExt, TryStreamExt};
use tokio_uring::{buf::BoundedBuf, fs::File, fs::OpenOptions};

use crate::inbox::{listing::Job, manifest::Failure, manifest::Record};
use crate::pipelines::hybrid::start_cpu_side;
use crate::pipelines::{Done, Pipeline, Read};
use crate::work::output::{TempOutput, output_path};

/// Whether this process may use io_uring for every operation the row needs; the reason if
/// not.
pub fn probe() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a probe directory: {e}"))?;
    let runtime =
        tokio_uring::Runtime::new(&tokio_uring::builder()).map_err(|e| format!("io_uring_setup failed: {e}"))?;
    runtime.block_on(async {
        write_output(dir.path(), "probe", b"probe".to_vec()).await.map_err(|e| format!("io_uring write: {e}"))?;
        let back = read_file(&output_path(dir.path(), "probe")).await.map_err(|e| format!("io_uring read: {e}"))?;
        if back == b"probe" { Ok(()) } else { Err("io_uring read back other bytes than it wrote".into()) }
    })
}

// ANCHOR: uring_io
/// Opens (as [`crate::work::open_input`] does: no symlink followed, no FIFO waited on),
/// checks and sizes (statx), reads and closes a file, all through the ring.
async fn read_file(path: &Path) -> io::Result<Vec<u8>> {
    let file = OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path).await?;
    let stat = file.statx().await?;
    if u32::from(stat.stx_mode) & libc::S_IFMT != libc::S_IFREG {
        return Err(Failure::NotRegular.into());
    }
    let mut buf = Vec::with_capacity(stat.stx_size as usize);
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
    tokio_uring::fs::rename(out.temp(), &out.done).await?;
    out.commit();
    Ok(())
}
// ANCHOR_END: uring_io

// ANCHOR: io_uring
/// The hybrid, with tokio-uring in tokio's place: one thread submits every file operation to
/// the ring, reading up to `in_flight` files at once and sending each to the CPU side,
/// waiting when the channel is full (the backpressure); rayon does the CPU work, as in the
/// hybrid; one writer writes and records; flume joins them.
pub fn pipeline(pipeline: &Arc<Pipeline>, source: Receiver<Job>) -> anyhow::Result<()> {
    let runtime = tokio_uring::Runtime::new(&tokio_uring::builder()).context("cannot start an io_uring runtime")?;
    let (to_cpu, cpu_in) = pipeline.settings.capacity.channel::<Read>();
    let (to_writer, writer_in) = pipeline.settings.capacity.channel::<Done>();
    start_cpu_side(pipeline.settings.work, cpu_in, to_writer);
    // It owns the sender to the CPU side, so that the channel closes when the reading ends.
    let read = async move {
        let reads = source.into_stream().map(Ok).try_for_each_concurrent(pipeline.settings.in_flight, |job| {
            let to_cpu = to_cpu.clone();
            async move {
                let bytes = read_file(&pipeline.inbox.join(&job.name)).await;
                to_cpu.send_async((job.name, bytes)).await.context("the pipeline stopped taking files")
            }
        });
        reads.await
    };
    // One writer, as in the hybrid, owning its receiver.
    let write = async move {
        while let Ok((name, done)) = writer_in.recv_async().await {
            let record = match done {
                Ok(processed) => {
                    let record = processed.record();
                    if let Some(compressed) = processed.compressed {
                        write_output(&pipeline.outbox, &name, compressed).await?;
                    }
                    record
                }
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
