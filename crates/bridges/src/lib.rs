//! # bridges
//!
//! **Question:** when threads and async tasks must exchange data, which channel and which
//! direction cost what, what does capacity do, and are thread and task producers really
//! interchangeable?
//!
//! Three tables.
//!
//! **1. The book's interchangeable producers** ([`listings`], run by [`book`]). The Rust
//! book's example merges a messages source and an intervals source, throttles the intervals
//! and takes 20 items; it writes the intervals source as a task, then as a thread, and says
//! the stream is the same. It also says the throttle means the extra intervals are never
//! produced, which is not so (rust-lang/book issue 4488). The forms, and why each exists:
//! - `task-producer`: both sources as tokio tasks: the book's listing 17-40.
//! - `thread-producer`: the intervals source as an OS thread: listing 17-41, the swap the
//!   book says changes nothing.
//! - `thread-senders`: both sources as threads sending over async channels to the async
//!   consumer: listing 17-42's "threads for blocking work, async channels for coordination".
//! - `task-bounded`, `thread-bounded`: the fix, a bounded channel whose full buffer makes the
//!   producer wait, so the consumer's pace is the producer's.
//!
//! Each runs as printed (the digest compares what the consumer saw) and for longer, with the
//! queue's depth and the process's RSS sampled as the unbounded queue grows.
//!
//! **2. The bridge matrix** ([`bridge`], over the endpoints in [`channels`]). Small messages
//! from one producer (or several) to one consumer, thread to thread, thread to task, task to
//! thread and task to task, through each channel where it applies, at capacities 0, 1, 16,
//! 1024 and unbounded. The variants are the channel crates:
//! - `flume`: one channel whose ends both block and await, so it serves every direction.
//! - `tokio-mpsc`: the async channel most code already has, with `blocking_send` and
//!   `blocking_recv` for a thread's side; it has no rendezvous form.
//! - `std-mpsc`: the standard library's, thread to thread only.
//! - `crossbeam`: the usual fast choice between threads, thread to thread only.
//!
//! The consumer keeps books per producer ([`books`]): every message once, in order; unbounded
//! rows run under a memory guard computed up front ([`guard`]); and [`raw`] drives each
//! channel with a minimal loop, the reference for the harness's own overhead.
//!
//! **3. Mixing and fire-and-forget.** [`mixing`]: a cheap sync call made from async code
//! through `block_in_place` or a `spawn_blocking` per call, against calling it directly; and
//! an async API called from sync code through `Handle::block_on` per call, against awaiting
//! it. [`background`]: jobs handed off as detached threads, detached tasks, scoped threads or
//! a `JoinSet`, and how many of them were lost or cut short when `main` returned, counted
//! from a ledger file that outlives the program.

pub mod background;
pub mod book;
pub mod books;
pub mod bridge;
pub mod channels;
mod ends;
pub mod gate;
pub mod guard;
pub mod listings;
pub mod mixing;
pub mod raw;
