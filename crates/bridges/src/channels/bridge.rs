//! One row of the bridge matrix: producers on one side, a consumer on the other, one channel
//! between them, and the books that say what arrived.
//!
//! [`prepare`] builds everything (the runtime if a task is involved, the threads or tasks,
//! all waiting at a gate); [`Prepared::execute`] opens the gate and waits for the last
//! message: only that is the measured region. Dropping the [`Prepared`] joins whatever is
//! left, so no thread outlives a row, even one abandoned before it ran.

use std::{
    mem,
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;

use super::{
    AsyncRecv, AsyncSend, Capacity, Channel, Direction, Side, SyncRecv, SyncSend,
    books::{Delivery, Envelope, Msg, Tracked},
    ends::{Consumer, Control, ProducerReport, produce_async, produce_blocking},
    unsupported,
};

/// What one row moves, through what, in which direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BridgeSpec {
    pub channel: Channel,
    pub direction: Direction,
    pub capacity: Capacity,
    pub producers: u32,
    pub per_producer: u32,
    /// The consumer drops its receiver after taking this many messages (the reliability
    /// rows); `None` takes everything.
    pub drop_after: Option<u64>,
    /// Unbounded rows only: the queue depth, in messages, at which producers stop (the
    /// memory guard, turned into messages by the caller).
    pub queue_limit: u64,
}

impl BridgeSpec {
    pub fn total(&self) -> u64 {
        u64::from(self.producers) * u64::from(self.per_producer)
    }
}

/// What one row did.
#[derive(Clone, Debug)]
pub struct BridgeOutcome {
    pub spec: BridgeSpec,
    pub delivery: Delivery,
    /// Send-to-receive time of each stamped message, in nanoseconds, in the order received.
    pub latency_ns: Vec<u64>,
    /// From the gate opening to the last producer joined.
    pub elapsed: Duration,
    /// Sends that failed because the receiver was gone; each producer stops at its first.
    pub refused: u64,
    /// Messages the channel still held when its receiver was dropped, and dropped with it.
    pub discarded: u64,
    /// Unbounded rows: the deepest queue a producer saw, to within [`CHECK_EVERY`](super::guard::CHECK_EVERY) messages.
    pub peak_depth: Option<u64>,
    pub guard_hit: bool,
}

impl BridgeOutcome {
    /// The latencies as a histogram: built here, after the measured region, not in it.
    pub fn latency_histogram(&self) -> Histogram<u64> {
        let mut histogram = casebook::stats::latency::histogram_ns();
        self.latency_ns.iter().for_each(|ns| histogram.saturating_record(*ns));
        histogram
    }

    pub fn messages_per_s(&self) -> f64 {
        self.delivery.received as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Every message is accounted for: received once and in order, or (consumer dropped)
    /// discarded by the channel with its receiver; and a full run moved everything it was
    /// asked to unless the guard stopped it.
    pub fn accounted(&self) -> bool {
        let d = &self.delivery;
        let orderly = d.surplus == 0 && d.late == 0 && d.early == 0;
        match self.spec.drop_after {
            None => orderly && d.missing == 0 && (self.guard_hit || d.sent == self.spec.total()),
            Some(_) => orderly && d.missing == self.discarded && self.refused <= u64::from(self.spec.producers),
        }
    }
}

/// A thread or a task, joined the same way.
enum Joinable<T> {
    Thread(std::thread::JoinHandle<T>),
    Task(tokio::task::JoinHandle<T>),
}

impl<T> Joinable<T> {
    fn join(self, runtime: Option<&tokio::runtime::Runtime>) -> anyhow::Result<T> {
        match self {
            Joinable::Thread(handle) => handle.join().map_err(|_| anyhow::anyhow!("a bridge thread panicked")),
            Joinable::Task(handle) => {
                runtime.context("a task without a runtime")?.block_on(handle).context("a bridge task failed")
            }
        }
    }
}

/// A row built and waiting at its gate.
pub struct Prepared {
    spec: BridgeSpec,
    ctl: Arc<Control>,
    runtime: Option<tokio::runtime::Runtime>,
    producers: Vec<Joinable<ProducerReport>>,
    consumer: Option<Joinable<Consumer>>,
}

/// Builds one row: opens the channel, starts the consumer and the producers, and returns once
/// every one of them is at the gate, so that none of their start-up falls in the measured
/// region (the CPU per message and the messages per second then cover the same span).
pub fn prepare(spec: &BridgeSpec) -> anyhow::Result<Prepared> {
    if let Some(why) = unsupported(spec.channel, spec.direction, spec.capacity) {
        bail!("{:?} cannot bridge {} at capacity {}: {why}", spec.channel, spec.direction, spec.capacity);
    }
    if spec.producers == 0 {
        bail!("a bridge needs at least one producer");
    }
    let runtime = if spec.direction != Direction::THREAD_TO_THREAD {
        Some(tokio::runtime::Builder::new_multi_thread().build().context("cannot start the tokio runtime")?)
    } else {
        None
    };
    let queue_limit = (spec.capacity == Capacity::Unbounded).then_some(spec.queue_limit.max(1));
    let ctl = Arc::new(Control::new(queue_limit, spec.drop_after));
    let mut prepared = Prepared { spec: *spec, ctl, runtime, producers: Vec::new(), consumer: None };
    match spec.drop_after {
        None => prepared.open::<Msg>()?,
        Some(_) => prepared.open::<Tracked>()?,
    }
    // Start-up ends here, before the measured region: every thread and task exists and waits.
    prepared.ctl.gate.wait_for_arrivals(prepared.producers.len() + 1);
    Ok(prepared)
}

impl Prepared {
    fn open<E: Envelope>(&mut self) -> anyhow::Result<()> {
        use Capacity::{Bounded, Unbounded};
        match (self.spec.channel, self.spec.capacity) {
            (Channel::Flume, Bounded(n)) => self.any_direction(flume::bounded::<E>(n)),
            (Channel::Flume, Unbounded) => self.any_direction(flume::unbounded::<E>()),
            (Channel::TokioMpsc, Bounded(n)) => self.any_direction(tokio::sync::mpsc::channel::<E>(n)),
            (Channel::TokioMpsc, Unbounded) => self.any_direction(tokio::sync::mpsc::unbounded_channel::<E>()),
            (Channel::StdMpsc, Bounded(n)) => self.threads_only(std::sync::mpsc::sync_channel::<E>(n)),
            (Channel::StdMpsc, Unbounded) => self.threads_only(std::sync::mpsc::channel::<E>()),
            (Channel::Crossbeam, Bounded(n)) => self.threads_only(crossbeam_channel::bounded::<E>(n)),
            (Channel::Crossbeam, Unbounded) => self.threads_only(crossbeam_channel::unbounded::<E>()),
        }
    }

    fn any_direction<E: Envelope>(
        &mut self,
        (tx, rx): (impl SyncSend<E> + AsyncSend<E>, impl SyncRecv<E> + AsyncRecv<E>),
    ) -> anyhow::Result<()> {
        let consumer = Consumer::new(self.spec.producers, self.spec.total(), &self.ctl);
        self.consumer = Some(match self.spec.direction.to {
            Side::Thread => thread("consumer".into(), move || consumer.consume_blocking(rx))?,
            Side::Task => self.task(consumer.consume_async(rx))?,
        });
        match self.spec.direction.from {
            Side::Thread => self.thread_producers(tx),
            Side::Task => {
                for (id, tx, count, ctl) in self.producer_parts(tx) {
                    self.producers.push(self.task(produce_async(tx, id, count, ctl))?);
                }
                Ok(())
            }
        }
    }

    fn threads_only<E: Envelope>(&mut self, (tx, rx): (impl SyncSend<E>, impl SyncRecv<E>)) -> anyhow::Result<()> {
        let consumer = Consumer::new(self.spec.producers, self.spec.total(), &self.ctl);
        self.consumer = Some(thread("consumer".into(), move || consumer.consume_blocking(rx))?);
        self.thread_producers(tx)
    }

    fn thread_producers<E: Envelope>(&mut self, tx: impl SyncSend<E>) -> anyhow::Result<()> {
        for (id, tx, count, ctl) in self.producer_parts(tx) {
            self.producers.push(thread(format!("producer-{id}"), move || produce_blocking(tx, id, count, ctl))?);
        }
        Ok(())
    }

    /// Each producer's id, sender, count and control. The channel's own sender goes to the
    /// last producer, so that the consumer sees the channel close exactly when the last
    /// producer is done.
    fn producer_parts<T: Clone>(&self, tx: T) -> Vec<(u32, T, u32, Arc<Control>)> {
        let mut senders: Vec<T> = (1..self.spec.producers).map(|_| tx.clone()).collect();
        senders.push(tx);
        let parts = senders.into_iter().zip(0..);
        parts.map(|(tx, id)| (id, tx, self.spec.per_producer, Arc::clone(&self.ctl))).collect()
    }

    fn task<F: Future<Output: Send> + Send + 'static>(&self, future: F) -> anyhow::Result<Joinable<F::Output>> {
        Ok(Joinable::Task(self.runtime.as_ref().context("a task side without a runtime")?.spawn(future)))
    }

    /// How many parties (producers and the consumer) are waiting at the gate.
    pub fn parties_at_gate(&self) -> usize {
        self.ctl.gate.arrived()
    }

    /// Opens the gate and waits until the consumer is done and every producer has returned:
    /// the measured region. Call once.
    pub fn execute(&mut self) -> anyhow::Result<BridgeOutcome> {
        let consumer = self.consumer.take().context("a row executes once")?;
        let producers = mem::take(&mut self.producers);
        let start = Instant::now();
        self.ctl.gate.open();
        let consumer = consumer.join(self.runtime.as_ref());
        // Every producer is joined even if the consumer failed: none may outlive the row.
        let reports: Vec<_> = producers.into_iter().map(|p| p.join(self.runtime.as_ref())).collect();
        let elapsed = start.elapsed();
        let consumer = consumer?;
        let reports = reports.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        let sent: Vec<u64> = reports.iter().map(|r| r.sent).collect();
        Ok(BridgeOutcome {
            spec: self.spec,
            delivery: consumer.books.close(&sent),
            latency_ns: consumer.latency_ns,
            elapsed,
            refused: reports.iter().filter(|r| r.refused).count() as u64,
            discarded: self.ctl.discarded.load(Ordering::Relaxed),
            peak_depth: self.ctl.queue_limit.map(|_| self.ctl.peak_depth.load(Ordering::Relaxed)),
            guard_hit: self.ctl.guard_hit.load(Ordering::Relaxed),
        })
    }
}

fn thread<T: Send + 'static>(name: String, f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<Joinable<T>> {
    let handle = std::thread::Builder::new().name(name.clone()).spawn(f);
    Ok(Joinable::Thread(handle.with_context(|| format!("cannot start the {name} thread"))?))
}

impl Drop for Prepared {
    /// A row torn down before (or without) running: every waiting producer is released with
    /// nothing to send, which closes the channel and ends the consumer; then all are joined.
    fn drop(&mut self) {
        self.ctl.gate.abandon();
        if let Some(consumer) = self.consumer.take() {
            let _ = consumer.join(self.runtime.as_ref());
        }
        for producer in mem::take(&mut self.producers) {
            let _ = producer.join(self.runtime.as_ref());
        }
        if let Some(runtime) = self.runtime.take() {
            // Nothing is left on it; a bound keeps a bug from hanging the teardown.
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}
