//! The variants, declared once for every table, and what each is in its part of the
//! scenario: a listing of the book's example, a channel of the bridge matrix, a way of
//! mixing sync and async calls, or a way of handing off background jobs. The scenario's
//! code sees only its own family's enum, so no part of it can be handed another's variant.

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

/// Declares each part's own enum (its variants named as in [`Variant`]), [`Form`],
/// [`Variant::form`] and one accessor per part, from one list.
macro_rules! families {
    ($($(#[$doc:meta])* $family:ident / $part:ident: $($v:ident),+;)+) => {
        $($(#[$doc])* #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $family { $($v),+ })+

        /// A variant as its part of the scenario knows it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Form { $($family($family)),+ }

        impl Variant {
            pub fn form(self) -> Form {
                match self { $($(Variant::$v => Form::$family($family::$v),)+)+ }
            }

            $(pub fn $part(self) -> Option<$family> {
                if let Form::$family(form) = self.form() { Some(form) } else { None }
            })+
        }
    };
}

families! {
    /// The producer forms of table 1.
    Listing / listing: TaskProducer, ThreadProducer, ThreadSenders, TaskBounded, ThreadBounded;
    /// The channel crates of the matrix: `std::sync::mpsc` is `sync_channel(n)` bounded and
    /// `channel()` unbounded.
    Channel / channel: Flume, TokioMpsc, StdMpsc, Crossbeam;
    /// The forms of table 3a (each one's reason is its `why` in [`Variant`]).
    Mixing / mixing: DirectCall, BlockInPlace, SpawnBlocking, AsyncAwait, BlockOnPerCall;
    /// The forms of table 3b (each one's reason is its `why` in [`Variant`]).
    Background / background: DetachedThread, DetachedTask, ThreadScope, JoinSet;
}

impl Variant {
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
