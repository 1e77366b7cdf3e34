//! The channels under test, and the one interface each side of a bridge uses.
//!
//! A bridge has a sending side and a receiving side, each either an OS thread (which blocks)
//! or a tokio task (which awaits). A channel crate applies to a direction only if it offers
//! the call that side needs: `flume` and `tokio::sync::mpsc` have both a blocking and an
//! awaiting form of send and receive; `std::sync::mpsc` and `crossbeam-channel` only block,
//! so they bridge thread to thread. The traits here name those four calls, and each
//! channel's endpoints implement the ones it really has, so a direction a channel cannot
//! serve does not compile rather than quietly blocking a runtime worker.
//!
//! The parts: [`books`] (the message and the consumer's books), [`ends`] (what each side
//! does per message), [`gate`] (where they wait to start), [`guard`] (the memory guard of
//! unbounded queues), [`bridge`] (one row, built and run) and [`raw`] (the minimal loop the
//! harness-overhead bar is read against).

pub mod books;
pub mod bridge;
pub mod ends;
pub mod gate;
pub mod guard;
pub mod raw;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::variants::Channel;

impl Channel {
    /// Whether both ends can also await, so that a task may sit on either side.
    pub const fn bridges_tasks(self) -> bool {
        matches!(self, Channel::Flume | Channel::TokioMpsc)
    }
}

/// What runs on one side of a bridge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    Thread,
    Task,
}

/// Who sends to whom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Direction {
    pub from: Side,
    pub to: Side,
}

impl Direction {
    pub const THREAD_TO_THREAD: Direction = Direction { from: Side::Thread, to: Side::Thread };
    pub const THREAD_TO_TASK: Direction = Direction { from: Side::Thread, to: Side::Task };
    pub const TASK_TO_THREAD: Direction = Direction { from: Side::Task, to: Side::Thread };
    pub const TASK_TO_TASK: Direction = Direction { from: Side::Task, to: Side::Task };
    pub const ALL: [Direction; 4] =
        [Direction::THREAD_TO_THREAD, Direction::THREAD_TO_TASK, Direction::TASK_TO_THREAD, Direction::TASK_TO_TASK];
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |s| if s == Side::Thread { "thread" } else { "task" };
        write!(f, "{} → {}", side(self.from), side(self.to))
    }
}

/// How many messages the channel holds before a sender waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capacity {
    /// `Bounded(0)` is a rendezvous: every send waits for its receive.
    Bounded(usize),
    /// Senders never wait; memory is the only bound, so these rows run under a memory guard.
    Unbounded,
}

impl fmt::Display for Capacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capacity::Bounded(0) => write!(f, "0 (rendezvous)"),
            Capacity::Bounded(n) => write!(f, "{n}"),
            Capacity::Unbounded => write!(f, "unbounded"),
        }
    }
}

/// Why a channel cannot serve this direction or capacity, or `None` if it can. Returned as a
/// reason, because a row that cannot run is shown as skipped with it, never dropped.
pub fn unsupported(channel: Channel, direction: Direction, capacity: Capacity) -> Option<&'static str> {
    if direction != Direction::THREAD_TO_THREAD && !channel.bridges_tasks() {
        return Some("only blocking send and receive: a task on either side would block its runtime worker");
    }
    if channel == Channel::TokioMpsc && capacity == Capacity::Bounded(0) {
        return Some("tokio::sync::mpsc has no rendezvous channel: its capacity must be at least 1");
    }
    None
}

/// A sender a thread can use: blocks while the channel is full. On failure (the receiver is
/// gone) the message comes back.
pub trait SyncSend<T>: Clone + Send + 'static {
    fn send_blocking(&self, value: T) -> Result<(), T>;
}

/// A sender a task can use: awaits while the channel is full.
pub trait AsyncSend<T>: Clone + Send + Sync + 'static {
    fn send_async(&self, value: T) -> impl Future<Output = Result<(), T>> + Send;
}

/// A receiver a thread can use: `None` once every sender is gone and the channel is empty.
pub trait SyncRecv<T>: Send + 'static {
    fn recv_blocking(&mut self) -> Option<T>;
}

/// A receiver a task can use.
pub trait AsyncRecv<T>: Send + 'static {
    fn recv_async(&mut self) -> impl Future<Output = Option<T>> + Send;
}

/// The blocking ends whose calls are spelled `send` (the message back in the error's `.0`)
/// and `recv` (an error once every sender is gone).
macro_rules! blocking_ends {
    (send: $($tx:ty),+; recv: $($rx:ty),+) => {
        $(impl<T: Send + 'static> SyncSend<T> for $tx {
            fn send_blocking(&self, value: T) -> Result<(), T> {
                self.send(value).map_err(|e| e.0)
            }
        })+
        $(impl<T: Send + 'static> SyncRecv<T> for $rx {
            fn recv_blocking(&mut self) -> Option<T> {
                self.recv().ok()
            }
        })+
    };
}

// An unbounded tokio sender never waits, so the same non-blocking `send` serves a thread too.
blocking_ends!(
    send: flume::Sender<T>, std::sync::mpsc::SyncSender<T>, std::sync::mpsc::Sender<T>, crossbeam_channel::Sender<T>,
        tokio::sync::mpsc::UnboundedSender<T>;
    recv: flume::Receiver<T>, std::sync::mpsc::Receiver<T>, crossbeam_channel::Receiver<T>
);

impl<T: Send + 'static> AsyncSend<T> for flume::Sender<T> {
    async fn send_async(&self, value: T) -> Result<(), T> {
        flume::Sender::send_async(self, value).await.map_err(|e| e.0)
    }
}

impl<T: Send + 'static> AsyncRecv<T> for flume::Receiver<T> {
    async fn recv_async(&mut self) -> Option<T> {
        flume::Receiver::recv_async(self).await.ok()
    }
}

// ANCHOR: tokio_ends
impl<T: Send + 'static> SyncSend<T> for tokio::sync::mpsc::Sender<T> {
    fn send_blocking(&self, value: T) -> Result<(), T> {
        self.blocking_send(value).map_err(|e| e.0)
    }
}

impl<T: Send + 'static> AsyncSend<T> for tokio::sync::mpsc::Sender<T> {
    async fn send_async(&self, value: T) -> Result<(), T> {
        self.send(value).await.map_err(|e| e.0)
    }
}

impl<T: Send + 'static> SyncRecv<T> for tokio::sync::mpsc::Receiver<T> {
    fn recv_blocking(&mut self) -> Option<T> {
        self.blocking_recv()
    }
}

impl<T: Send + 'static> AsyncRecv<T> for tokio::sync::mpsc::Receiver<T> {
    fn recv_async(&mut self) -> impl Future<Output = Option<T>> + Send {
        self.recv()
    }
}
// ANCHOR_END: tokio_ends

impl<T: Send + 'static> AsyncSend<T> for tokio::sync::mpsc::UnboundedSender<T> {
    fn send_async(&self, value: T) -> impl Future<Output = Result<(), T>> + Send {
        std::future::ready(self.send(value).map_err(|e| e.0))
    }
}

impl<T: Send + 'static> SyncRecv<T> for tokio::sync::mpsc::UnboundedReceiver<T> {
    fn recv_blocking(&mut self) -> Option<T> {
        self.blocking_recv()
    }
}

impl<T: Send + 'static> AsyncRecv<T> for tokio::sync::mpsc::UnboundedReceiver<T> {
    fn recv_async(&mut self) -> impl Future<Output = Option<T>> + Send {
        self.recv()
    }
}
