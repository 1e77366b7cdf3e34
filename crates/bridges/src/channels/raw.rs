//! The reference for the harness-overhead bar: each channel at bounded(1024), thread to
//! thread, driven by the smallest loop that moves the same messages. No gate beyond one
//! barrier, no books, no send stamps, no child process: if the matrix's row for the same
//! channel is within 1.1x of this, neither the harness nor the case's own instruments are
//! what the matrix measures.

use std::{
    sync::{Arc, Barrier},
    thread,
    time::Instant,
};

use anyhow::Context;

use super::{Channel, SyncRecv, SyncSend, books::Msg};

/// The capacity the bar is defined at, and the many-producer table's.
pub const REFERENCE_CAPACITY: usize = 1024;

/// Moves `messages` messages through `channel` (bounded [`REFERENCE_CAPACITY`], one thread
/// sending, the calling thread receiving), and returns messages per second from the moment
/// both were ready.
pub fn minimal_loop(channel: Channel, messages: u32) -> anyhow::Result<f64> {
    match channel {
        Channel::Flume => drive(flume::bounded(REFERENCE_CAPACITY), messages),
        Channel::TokioMpsc => drive(tokio::sync::mpsc::channel(REFERENCE_CAPACITY), messages),
        Channel::StdMpsc => drive(std::sync::mpsc::sync_channel(REFERENCE_CAPACITY), messages),
        Channel::Crossbeam => drive(crossbeam_channel::bounded(REFERENCE_CAPACITY), messages),
    }
}

fn drive(channel: (impl SyncSend<Msg>, impl SyncRecv<Msg>), messages: u32) -> anyhow::Result<f64> {
    let (tx, mut rx) = channel;
    let ready = Arc::new(Barrier::new(2));
    let go = Arc::clone(&ready);
    let producer = thread::Builder::new().name("raw-producer".into()).spawn(move || {
        go.wait();
        for seq in 0..messages {
            if tx.send_blocking(Msg { producer: 0, seq, sent_ns: 0 }).is_err() {
                break;
            }
        }
    });
    let producer = producer.context("cannot start the producer thread")?;
    ready.wait();
    let start = Instant::now();
    let mut received = 0u32;
    while let Some(msg) = rx.recv_blocking() {
        std::hint::black_box(msg);
        received += 1;
    }
    let rate = f64::from(messages) / start.elapsed().as_secs_f64().max(1e-9);
    producer.join().map_err(|_| anyhow::anyhow!("the producer thread panicked"))?;
    anyhow::ensure!(received == messages, "the minimal loop received {received} of {messages}");
    Ok(rate)
}
