//! The variants, declared once for every table, and what each is in its part of the
//! scenario: a listing of the book's example, a channel of the bridge matrix, a way of
//! mixing sync and async calls, or a way of handing off background jobs. The scenario's
//! code sees only its own family's enum, so no part of it can be handed another's variant.

use crate::{background::Background, book::Listing, channels::Channel, mixing::Mixing};

casebook::variants! {
    /// Every form of every table, in the order the tables list them.
    pub enum Variant {
        TaskProducer = "task-producer" (Async): "the book's listing 17-40: both sources as tokio tasks",
        ThreadProducer = "thread-producer" (Hybrid): "listing 17-41: the intervals source as an OS thread, the swap the book says changes nothing",
        ThreadSenders = "thread-senders" (Hybrid): "listing 17-42's shape: both sources as threads sending over async channels",
        TaskBounded = "task-bounded" (Async): "the fix: a bounded channel whose send waits for room, so the consumer paces the task",
        ThreadBounded = "thread-bounded" (Hybrid): "the fix with the thread: blocking_send into a bounded channel",
        Flume = "flume" (Hybrid): "one channel whose ends both block and await: serves every direction",
        TokioMpsc = "tokio-mpsc" (Async): "the async channel most code already has, with blocking_send/blocking_recv for threads",
        StdMpsc = "std-mpsc" (Threads): "the standard library's channel: thread to thread only",
        Crossbeam = "crossbeam" (Threads): "the usual fast choice between threads: thread to thread only",
        DirectCall = "direct-call" (Async): "native: a cheap sync call made directly in async code",
        BlockInPlace = "block-in-place" (Hybrid): "each call wrapped in block_in_place, just in case",
        SpawnBlocking = "spawn-blocking" (Hybrid): "each call sent to the blocking pool with spawn_blocking",
        AsyncAwait = "async-await" (Async): "native: an async API awaited from async code",
        BlockOnPerCall = "block-on" (Hybrid): "the async API called from sync code, one Handle::block_on per call",
        DetachedThread = "detached-thread" (Threads): "std::thread::spawn with the handle dropped: fire and forget",
        DetachedTask = "detached-task" (Async): "tokio::spawn with the handle dropped",
        ThreadScope = "thread-scope" (Threads): "std::thread::scope: every job joined before main goes on",
        JoinSet = "joinset" (Async): "a JoinSet drained before main returns",
    }
}

/// A variant as its part of the scenario knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Listing(Listing),
    Channel(Channel),
    Mixing(Mixing),
    Background(Background),
}

impl Variant {
    pub fn form(self) -> Form {
        use {Form as F, Variant::*};
        match self {
            TaskProducer => F::Listing(Listing::TaskProducer),
            ThreadProducer => F::Listing(Listing::ThreadProducer),
            ThreadSenders => F::Listing(Listing::ThreadSenders),
            TaskBounded => F::Listing(Listing::TaskBounded),
            ThreadBounded => F::Listing(Listing::ThreadBounded),
            Flume => F::Channel(Channel::Flume),
            TokioMpsc => F::Channel(Channel::TokioMpsc),
            StdMpsc => F::Channel(Channel::StdMpsc),
            Crossbeam => F::Channel(Channel::Crossbeam),
            DirectCall => F::Mixing(Mixing::DirectCall),
            BlockInPlace => F::Mixing(Mixing::BlockInPlace),
            SpawnBlocking => F::Mixing(Mixing::SpawnBlocking),
            AsyncAwait => F::Mixing(Mixing::AsyncAwait),
            BlockOnPerCall => F::Mixing(Mixing::BlockOnPerCall),
            DetachedThread => F::Background(Background::DetachedThread),
            DetachedTask => F::Background(Background::DetachedTask),
            ThreadScope => F::Background(Background::ThreadScope),
            JoinSet => F::Background(Background::JoinSet),
        }
    }

    pub fn listing(self) -> Option<Listing> {
        if let Form::Listing(listing) = self.form() { Some(listing) } else { None }
    }

    pub fn channel(self) -> Option<Channel> {
        if let Form::Channel(channel) = self.form() { Some(channel) } else { None }
    }

    /// The native form a mixing form is compared with (itself, for a native one).
    pub fn native(self) -> Option<Variant> {
        match self.form() {
            Form::Mixing(Mixing::DirectCall | Mixing::BlockInPlace | Mixing::SpawnBlocking) => {
                Some(Variant::DirectCall)
            }
            Form::Mixing(_) => Some(Variant::AsyncAwait),
            _ => None,
        }
    }
}
