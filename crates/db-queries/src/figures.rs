//! Every figure, histogram and note a run of this case records, declared once.
//!
//! The load generator records what the clients saw (requests per second, latency, errors by
//! kind, the audit of the writes); the server side records what only it knows (the wait for a
//! connection, retries, batch sizes, the background job) and its own cost per request.

use casebook::{Figure, Format, Hist, Note};

use crate::workload::protocol::ErrorKind;

/// Correct replies per second in the timed window: the throughput tables' primary measure.
pub const REQUESTS_PER_S: Figure = Figure::new("requests_per_s", Format::Rate);
/// From a request's send (closed loop) or its due time (open loop) to its reply, µs.
pub const LATENCY: Hist = Hist::micros("latency");
/// Every reply the generator received, timed or not.
pub const REPLIES: Figure = Figure::new("replies", Format::Count);
/// Requests that failed, of any kind.
pub const ERRORS: Figure = Figure::new("errors", Format::Count);
/// Replies whose digest is not what the seeded data says: must be 0 in every run.
pub const WRONG: Figure = Figure::new("errors_wrong_result", Format::Count);

/// The figure that counts errors of `kind`.
pub const fn errors_of(kind: ErrorKind) -> Figure {
    let key = match kind {
        ErrorKind::PoolTimeout => "errors_pool_timeout",
        ErrorKind::Busy => "errors_sqlite_busy",
        ErrorKind::Refused => "errors_refused",
        ErrorKind::ConnectionLost => "errors_connection_lost",
        ErrorKind::Spawn => "errors_thread_spawn",
        ErrorKind::Query => "errors_query",
        ErrorKind::Mismatch => return WRONG,
        ErrorKind::Transport => "errors_transport",
        ErrorKind::Timeout => "errors_timeout",
        ErrorKind::StatementTimeout => "errors_statement_timeout",
    };
    Figure::new(key, Format::Count)
}

/// Writes the server acknowledged.
pub const WRITES_ACKED: Figure = Figure::new("writes_acked", Format::Count);
/// Acknowledged writes missing from the database, or different there: must be 0.
pub const LOST: Figure = Figure::new("writes_lost", Format::Count);
/// Writes applied twice: balances moved by anything but their orders. Must be 0.
pub const DOUBLED: Figure = Figure::new("writes_doubled", Format::Count);
/// Writes applied but not acknowledged: their connection was lost between the commit and the
/// reply, so the client was told they failed. Not an error of the books; counted.
pub const AMBIGUOUS: Figure = Figure::new("writes_ambiguous", Format::Count);
/// Times the audit replaced its own lost connection.
pub const AUDIT_RETRIES: Figure = Figure::new("audit_retries", Format::Count);

/// From a request's arrival at the data layer to its having a connection (or a worker, or a
/// batch slot), µs. `async-pipelined` never waits for one and records none.
pub const POOL_WAIT: Hist = Hist::micros("pool_wait");
/// Requests run again on a fresh connection after theirs was lost.
pub const RETRIES: Figure = Figure::new("retries", Format::Count);
/// Clients the server cut off for sending, or reading, nothing for its client timeout.
pub const CLIENTS_CUT: Figure = Figure::new("clients_cut", Format::Count);
/// Point reads per batch (`async-batched`).
pub const MEAN_BATCH: Figure = Figure::new("mean_batch", Format::Count);
/// The server's CPU time (user and system) in the measured region, per reply.
pub const CPU_PER_REQUEST: Figure = Figure::new("server_cpu_per_request_s", Format::Seconds);
/// The server's voluntary context switches in the measured region, per reply: each is a
/// thread that blocked, on a socket, a lock, a channel or a condition variable.
pub const SWITCHES_PER_REQUEST: Figure = Figure::new("server_switches_per_request", Format::Count);

/// Aggregate rebuilds the background job finished during the run (hybrid-web).
pub const REBUILDS: Figure = Figure::new("rebuilds", Format::Count);
/// How long one rebuild took, fetch and aggregation, µs.
pub const REBUILD_TIME: Hist = Hist::micros("rebuild");

/// `pgbench`'s own mean latency (it reports no distribution).
pub const PGBENCH_LATENCY: Figure = Figure::new("pgbench_latency_avg_s", Format::Seconds);

/// A digest of the correct replies to the first requests, from the generator: equal across
/// variants that answered them all.
pub const HEAD_DIGEST: Note = Note::new("head_digest");
/// The first wrong or failed reply, described.
pub const FIRST_PROBLEM: Note = Note::new("first_problem");
/// The server side's first error, described.
pub const SERVER_ERROR: Note = Note::new("server_error");
