//! Table 3a: needless mixing. A cheap sync call made from async code through a bridge it
//! does not need, and an async call made from sync code one `block_on` at a time, each
//! beside its native form.
//!
//! The sync API is a checksum of a small record: microseconds of CPU, no blocking, the kind
//! of call that is safe to make directly on a runtime worker. The async API is the same
//! checksum asked of a service task over a channel, with the answer on a oneshot: the shape
//! of an async client (a database pool, an RPC stub). Every variant makes the same calls in
//! the same order, so all of them must return the same sum.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tokio::{
    runtime::Runtime,
    sync::{mpsc, oneshot},
};

pub use crate::variants::Mixing;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MixSpec {
    pub calls: u32,
    pub record_bytes: usize,
}

/// Distinct records the calls cycle through, so that no call is answered from a register.
const RECORDS: usize = 64;

#[derive(Clone, Debug)]
pub struct MixOutcome {
    pub calls: u32,
    /// The wrapping sum of every call's answer: equal across variants or something is wrong.
    pub sum: u64,
    pub elapsed: Duration,
}

impl MixOutcome {
    pub fn digest(&self) -> String {
        format!("{} calls, sum {:016x}", self.calls, self.sum)
    }
}

/// The sync API: FNV-1a over a record.
pub fn checksum(record: &[u8]) -> u64 {
    record.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

fn records(bytes: usize) -> Arc<Vec<Vec<u8>>> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    };
    Arc::new((0..RECORDS).map(|_| (0..bytes).map(|_| next()).collect()).collect())
}

/// The async API: a client of a service task that owns the records.
#[derive(Clone, Debug)]
pub struct ChecksumClient {
    requests: mpsc::Sender<(usize, oneshot::Sender<u64>)>,
}

impl ChecksumClient {
    /// Starts the service on `runtime`; it ends when the last client is dropped.
    fn serve(runtime: &Runtime, records: Arc<Vec<Vec<u8>>>) -> Self {
        let (requests, mut incoming) = mpsc::channel::<(usize, oneshot::Sender<u64>)>(64);
        runtime.spawn(async move {
            while let Some((index, reply)) = incoming.recv().await {
                let _ = reply.send(checksum(&records[index % records.len()]));
            }
        });
        ChecksumClient { requests }
    }

    pub async fn checksum(&self, index: usize) -> anyhow::Result<u64> {
        let (reply, answer) = oneshot::channel();
        self.requests.send((index, reply)).await.map_err(|_| anyhow::anyhow!("the checksum service is gone"))?;
        answer.await.context("the checksum service dropped a request")
    }
}

/// A row with its runtime and service started.
#[derive(Debug)]
pub struct Prepared {
    kind: Mixing,
    spec: MixSpec,
    records: Arc<Vec<Vec<u8>>>,
    client: ChecksumClient,
    runtime: Option<Runtime>,
}

pub fn prepare(kind: Mixing, spec: &MixSpec) -> anyhow::Result<Prepared> {
    let runtime = tokio::runtime::Builder::new_multi_thread().build().context("cannot start the tokio runtime")?;
    let records = records(spec.record_bytes);
    let client = ChecksumClient::serve(&runtime, Arc::clone(&records));
    Ok(Prepared { kind, spec: *spec, records, client, runtime: Some(runtime) })
}

impl Prepared {
    /// Makes every call: the measured region.
    pub fn execute(&mut self) -> anyhow::Result<MixOutcome> {
        let runtime = self.runtime.as_ref().context("a row executes once")?;
        let calls = self.spec.calls as usize;
        let (records, client) = (Arc::clone(&self.records), self.client.clone());
        let start = Instant::now();
        let sum = match self.kind {
            Mixing::BlockOnPerCall => block_on_per_call(runtime, &client, calls)?,
            kind => runtime.block_on(runtime.spawn(in_async_code(kind, records, client, calls)))??,
        };
        Ok(MixOutcome { calls: self.spec.calls, sum, elapsed: start.elapsed() })
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

// ANCHOR: in_async_code
/// The caller is async code on a runtime worker; how it makes each call is the variant.
async fn in_async_code(
    kind: Mixing,
    records: Arc<Vec<Vec<u8>>>,
    client: ChecksumClient,
    calls: usize,
) -> anyhow::Result<u64> {
    let mut sum = 0u64;
    for i in 0..calls {
        let index = std::hint::black_box(i) % RECORDS;
        let answer = match kind {
            // Native: a cheap sync call needs no bridge.
            Mixing::DirectCall => checksum(&records[index]),
            // Tells the runtime this worker is about to block and hands its other tasks to
            // another thread, on every call.
            Mixing::BlockInPlace => tokio::task::block_in_place(|| checksum(&records[index])),
            // Ships every call to the blocking pool and awaits its answer.
            Mixing::SpawnBlocking => {
                let records = Arc::clone(&records);
                tokio::task::spawn_blocking(move || checksum(&records[index])).await?
            }
            // Native for an async API: await it.
            Mixing::AsyncAwait => client.checksum(index).await?,
            Mixing::BlockOnPerCall => anyhow::bail!("block-on is called from sync code"),
        };
        sum = sum.wrapping_add(answer);
    }
    Ok(sum)
}
// ANCHOR_END: in_async_code

// ANCHOR: block_on_per_call
/// The caller is plain sync code (here the main thread) that wraps each call to the async
/// API in its own `block_on`.
fn block_on_per_call(runtime: &Runtime, client: &ChecksumClient, calls: usize) -> anyhow::Result<u64> {
    let handle = runtime.handle();
    let mut sum = 0u64;
    for i in 0..calls {
        let index = std::hint::black_box(i) % RECORDS;
        sum = sum.wrapping_add(handle.block_on(client.checksum(index))?);
    }
    Ok(sum)
}
// ANCHOR_END: block_on_per_call
