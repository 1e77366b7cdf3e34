//! The variants, declared once: the enum gives each its name on the command line, its model
//! and why a real team would write it; [`Variant::start`] is the one place that says which
//! server each one is. The servers themselves are in [`crate::servers`].

use casebook::{Model, VariantSet};

use crate::servers::{
    Server, ServerSpec, pool,
    tasks::{self, Cpu},
    threads,
};

casebook::variants! {
    /// Where a request's CPU part and its downstream wait run, in the order the tables list them.
    pub enum Variant {
        ThreadPerConnection = "thread-per-connection" (Threads): "a blocking thread per client connection: the classic server; the kernel preempts long CPU work",
        ThreadPool = "thread-pool" (Threads): "a fixed pool of blocking threads fed by one epoll reader: bounded threads, but every downstream wait holds one",
        TokioInline = "tokio-inline" (Async): "a task per connection with the CPU inline between awaits: what async code does unless told otherwise",
        TokioSpawnBlocking = "tokio-spawn-blocking" (Hybrid): "the CPU part in spawn_blocking: tokio's documented way to run blocking work",
        TokioRayon = "tokio-rayon" (Hybrid): "async IO, the CPU part on a rayon pool awaited through a oneshot: the hybrid the framework recommends",
        ThreadPerCore = "thread-per-core" (Async): "a current-thread runtime per core with its own SO_REUSEPORT listener, CPU inline: nothing shared",
    }
}

impl Variant {
    /// Whether its sockets are async (tasks wait, not threads): the side `async-io` and
    /// `async-many-conns` are about.
    pub fn async_io(self) -> bool {
        self.model() != Model::Threads
    }

    /// Whether its CPU part runs on threads of its own rather than on the runtime's workers:
    /// the side `threads-cpu` is about.
    pub fn cpu_on_threads(self) -> bool {
        self.model() != Model::Async
    }

    /// Starts this variant's server.
    pub fn start(self, spec: &ServerSpec) -> anyhow::Result<Server> {
        match self {
            Variant::ThreadPerConnection => threads::thread_per_connection(spec),
            Variant::ThreadPool => pool::thread_pool(spec),
            Variant::TokioInline => tasks::tokio_server(spec, Cpu::Inline),
            Variant::TokioSpawnBlocking => tasks::tokio_server(spec, Cpu::SpawnBlocking),
            Variant::TokioRayon => {
                let pool =
                    rayon::ThreadPoolBuilder::new().num_threads(spec.cores).thread_name(|_| "rayon".into()).build()?;
                tasks::tokio_server(spec, Cpu::Rayon(std::sync::Arc::new(pool)))
            }
            Variant::ThreadPerCore => tasks::thread_per_core(spec),
        }
    }

    /// Server-side descriptors one client connection costs: the connection, and its own
    /// downstream connection where the model keeps one per client connection.
    pub fn fds_per_connection(self) -> u64 {
        if self == Variant::ThreadPool { 1 } else { 2 }
    }
}
