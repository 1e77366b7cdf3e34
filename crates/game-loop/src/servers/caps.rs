//! How many clients a server may take here, decided before any connects.
//!
//! A TCP client holds a descriptor on the server and another in the bots' process; under
//! `thread-per-client` it also holds two threads, and threads run into the kernel's task and
//! memory-map limits long before memory. The harness's limit readers
//! ([`casebook::run::limits`]) give each limit with headroom; this module turns them into
//! clients. UDP clients hold no descriptor and no thread: only the case's `MAX_CLIENTS`
//! bounds them.

use casebook::run::limits::{self, Cap, Limit, Readings};

use crate::{net::protocol::Transport, servers::tcp_threads::CONNECTION_STACK, variants::Variant};

/// OS threads a `thread-per-client` client costs: a reader and a writer.
const THREADS_PER_CLIENT: u64 = 2;

/// Every limit on the clients of `variant`'s server, as a number of clients: a TCP client
/// costs a descriptor, and a `thread-per-client` one two threads.
pub fn client_limits(variant: Variant, r: &Readings) -> Vec<Limit> {
    let mut found = Vec::new();
    if variant.transport() == Transport::Tcp
        && let Some(fds) = limits::fd_budget(r)
    {
        found.push(Limit {
            name: "RLIMIT_NOFILE".into(),
            units: fds,
            detail: format!(
                "{} descriptors per process less {} kept free; one per client on each side",
                r.nofile.unwrap_or(0),
                limits::FD_RESERVE
            ),
        });
    }
    if variant == Variant::ThreadPerClient {
        for limit in limits::thread_limits(r, CONNECTION_STACK as u64) {
            found.push(Limit {
                units: limit.units / THREADS_PER_CLIENT,
                detail: format!("{}; {THREADS_PER_CLIENT} threads per client", limit.detail),
                name: limit.name,
            });
        }
    }
    found
}

/// The most clients `variant`'s server may take here, or `wanted` when that is fewer.
pub fn client_cap(variant: Variant, r: &Readings, wanted: u64) -> Cap {
    limits::safe_cap(&client_limits(variant, r), wanted, "the run's size")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_bind_thread_per_client_and_descriptors_bind_tcp() {
        let mut r = Readings::stock_linux_box();
        // A stock box's 1,024 descriptors less 64 kept free bind any TCP server.
        let cap = client_cap(Variant::HybridTcp, &r, 5000);
        assert_eq!((cap.units, cap.set_by.as_str()), (960, "RLIMIT_NOFILE"));
        // With descriptors to spare, memory maps bind two threads per client: (65,530 - 40 -
        // 1,024) / 4 maps per thread / 2 threads per client.
        r.nofile = Some(1 << 20);
        let cap = client_cap(Variant::ThreadPerClient, &r, 50_000);
        assert_eq!((cap.units, cap.set_by.as_str()), (8_058, "vm.max_map_count"));
        assert_eq!(client_cap(Variant::HybridTcp, &r, 50_000).units, 50_000);
        // UDP clients hold neither.
        assert!(client_limits(Variant::SingleThreadPoll, &Readings::stock_linux_box()).is_empty());
    }
}
