//! Every figure, histogram and note a run of this case records, declared once. The server's
//! are recorded by the measured run, the bots' by the load generator (their records join).

use casebook::{Figure, Format, Hist, Note};

use crate::net::protocol::DecodeError;

// The tick, from the server.
/// From when a tick was due to when it started.
pub const TICK_LATENESS: Hist = Hist::micros("tick_lateness");
/// From a tick's start to the end of its work (inputs in, schedule run, snapshots out).
pub const TICK_DURATION: Hist = Hist::micros("tick_duration");
pub const TICKS: Figure = Figure::new("ticks", Format::Count);
/// Ticks that started a whole period or more late (run back to back to catch up).
pub const MERGED: Figure = Figure::new("ticks_merged", Format::Count);
/// Ticks dropped when the backlog passed 250 ms: simulated time lost.
pub const MISSED: Figure = Figure::new("ticks_missed", Format::Count);
/// Ticks run per second of the run: 64 when the server kept up.
pub const TICK_RATE: Figure = Figure::new("tick_rate", Format::Rate);
/// Share of the run's tick slots that ran less than a period late: 100% means the server
/// held 64 Hz.
pub const ON_TIME: Figure = Figure::new("on_time", Format::Percent);

// The network, from the server.
pub const INPUTS_RECEIVED: Figure = Figure::new("inputs_received", Format::Count);
pub const INBOX_FULL: Figure = Figure::new("inputs_dropped_inbox_full", Format::Count);
/// Inputs (and TCP goodbyes) claiming a client id that another address or connection holds:
/// dropped, so a spoofer can neither take a client's snapshots nor freeze its inputs.
pub const WRONG_ROUTE: Figure = Figure::new("inputs_dropped_wrong_route", Format::Count);
/// `single-thread-poll`: ticks whose read stopped at the per-tick cap (65,536 datagrams, what
/// the other variants' inboxes hold) with datagrams still queued for the next tick.
pub const LEFT_QUEUED: Figure = Figure::new("ticks_left_datagrams_queued", Format::Count);
pub const SNAPSHOTS_BUILT: Figure = Figure::new("snapshots_built", Format::Count);
pub const SNAPSHOTS_SENT: Figure = Figure::new("snapshots_sent", Format::Count);
/// Dropped before a socket: a full queue, or a socket that would have blocked.
pub const SNAPSHOTS_DROPPED: Figure = Figure::new("snapshots_dropped", Format::Count);
pub const SEND_ERRORS: Figure = Figure::new("send_errors", Format::Count);
pub const MALFORMED: Figure = Figure::new("malformed", Format::Count);
/// Malformed datagrams by kind, in [`DecodeError::KINDS`] order.
pub const MALFORMED_BY_KIND: [Figure; DecodeError::KINDS.len()] = [
    Figure::new("malformed_truncated", Format::Count),
    Figure::new("malformed_oversized", Format::Count),
    Figure::new("malformed_bad_magic", Format::Count),
    Figure::new("malformed_wrong_version", Format::Count),
    Figure::new("malformed_unknown_kind", Format::Count),
    Figure::new("malformed_bad_length", Format::Count),
    Figure::new("malformed_wrong_direction", Format::Count),
];
/// Datagrams the kernel dropped at the server's full receive queue.
pub const SERVER_KERNEL_DROPS: Figure = Figure::new("server_kernel_drops", Format::Count);
pub const CONNECTIONS_REFUSED: Figure = Figure::new("connections_refused", Format::Count);
/// TCP connections the server closed because the client stayed silent past the connection's
/// limit (wall time): the second way a silent client is dropped, which comes first when the
/// simulation's ticks run late.
pub const CLOSED_SILENT: Figure = Figure::new("connections_closed_silent", Format::Count);

// The world, from the server.
pub const JOINED: Figure = Figure::new("clients_joined", Format::Count);
pub const TIMED_OUT: Figure = Figure::new("clients_timed_out", Format::Count);
pub const LEFT: Figure = Figure::new("clients_left", Format::Count);
pub const CLIENTS_AT_END: Figure = Figure::new("clients_at_end", Format::Count);
/// 1 when replaying the run's own input log rebuilt the world it ended with, else 0.
pub const REPLAY_MATCHES: Figure = Figure::new("replay_matches", Format::Count);
/// The safe cap on clients for this variant here, and what set it.
pub const CLIENT_CAP: Note = Note::new("client_cap");

// The bots, from the load generator.
/// From sending input `s` to the first snapshot acknowledging `s`.
pub const INPUT_LATENCY: Hist = Hist::micros("input_to_snapshot");
/// |arrival - (previous arrival + one period per tick between them)|.
pub const JITTER: Hist = Hist::micros("snapshot_jitter");
/// How late the bots sent against their own schedule: the load generator keeping up.
pub const SEND_LAG: Hist = Hist::micros("bot_send_lag");
pub const BOTS: Figure = Figure::new("bots_connected", Format::Count);
pub const CONNECT_FAILURES: Figure = Figure::new("bot_connect_failures", Format::Count);
pub const INPUTS_SENT: Figure = Figure::new("inputs_sent", Format::Count);
pub const SNAPSHOTS_RECEIVED: Figure = Figure::new("snapshots_received", Format::Count);
pub const LOST: Figure = Figure::new("snapshots_lost", Format::Count);
pub const LATE: Figure = Figure::new("snapshots_late", Format::Count);
pub const BOT_MALFORMED: Figure = Figure::new("bot_malformed", Format::Count);
pub const BOT_KERNEL_DROPS: Figure = Figure::new("bot_kernel_drops", Format::Count);
pub const VANISHED: Figure = Figure::new("bots_vanished", Format::Count);
pub const SLOW: Figure = Figure::new("bots_slow", Format::Count);
pub const FLOOD_SENT: Figure = Figure::new("flood_sent", Format::Count);
/// Flood datagrams sent by kind, in [`DecodeError::KINDS`] order.
pub const FLOOD_BY_KIND: [Figure; DecodeError::KINDS.len()] = [
    Figure::new("flood_truncated", Format::Count),
    Figure::new("flood_oversized", Format::Count),
    Figure::new("flood_bad_magic", Format::Count),
    Figure::new("flood_wrong_version", Format::Count),
    Figure::new("flood_unknown_kind", Format::Count),
    Figure::new("flood_bad_length", Format::Count),
    Figure::new("flood_wrong_direction", Format::Count),
];
/// The bots' own CPU time, summed over their threads (the harness also measures the whole
/// load-generator process).
pub const BOT_CPU: Figure = Figure::new("bot_thread_cpu_s", Format::Seconds);
/// The bots' CPU over the time they ran (go to the end of the drain), in cores: comparable
/// with the server's cores over its run.
pub const BOT_CORES: Figure = Figure::new("bot_cores", Format::Cores);

// Replays, with no network.
/// One tick's step and snapshot hand-off, replayed as fast as it goes.
pub const REPLAY_TICK: Hist = Hist::micros("replay_tick");
