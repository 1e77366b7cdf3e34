//! Every figure, histogram and note a run of this case records, declared once. The clients'
//! figures come from the clients' load generator, the downstream's from the downstream's,
//! the server's from the measured process itself.

use casebook::{Figure, Format, Hist, Note};

// The clients.
/// Requests answered ok per second, from the go to the last reply.
pub const REQUESTS_PER_S: Figure = Figure::new("requests_per_s", Format::Rate);
/// Send to reply, µs, coordinated omission corrected as if every connection wanted a request
/// every budget (1 ms).
pub const LATENCY: Hist = Hist::micros("latency");
pub const CONNECTIONS: Figure = Figure::new("connections", Format::Count);
pub const CONNECT_FAILURES: Figure = Figure::new("connect_failures", Format::Count);
pub const OK: Figure = Figure::new("ok", Format::Count);
/// Replies saying the downstream timed out (the server's 504s).
pub const GATEWAY_TIMEOUTS: Figure = Figure::new("gateway_timeouts", Format::Count);
/// Replies saying the downstream call failed (the server's 502s).
pub const GATEWAY_ERRORS: Figure = Figure::new("gateway_errors", Format::Count);
/// Replies for another request, or with an unknown status.
pub const BAD_REPLIES: Figure = Figure::new("bad_replies", Format::Count);
/// Requests sent whose connection failed before their reply.
pub const LOST: Figure = Figure::new("lost", Format::Count);
/// Requests never sent because every connection had failed.
pub const UNSENT: Figure = Figure::new("unsent", Format::Count);
/// Connections the server closed before their first reply.
pub const CLOSED_EARLY: Figure = Figure::new("closed_early", Format::Count);
/// The order-free digest of every ok reply, as the clients' generator hands it to the run.
pub const DIGEST: Note = Note::new("digest");

// The server.
pub const ACCEPTED: Figure = Figure::new("accepted", Format::Count);
/// Connections closed at once because the server held its maximum (or had no thread).
pub const REFUSED: Figure = Figure::new("refused", Format::Count);
pub const SERVED: Figure = Figure::new("served", Format::Count);
/// Connections that ended with a request half read, or whose reply could not be written.
pub const CUT_OFF: Figure = Figure::new("cut_off", Format::Count);
pub const DOWNSTREAM_TIMEOUTS: Figure = Figure::new("downstream_timeouts", Format::Count);
pub const DOWNSTREAM_ERRORS: Figure = Figure::new("downstream_errors", Format::Count);
/// The most connections the server would hold, and what set it.
pub const MAX_CONNECTIONS: Note = Note::new("max_connections");
/// What one request's CPU part took in the measured process, timed before the run (µs):
/// the calibration, checked where it is used.
pub const CPU_PER_REQUEST: Figure = Figure::new("cpu_per_request_us", Format::Micros);
/// The calibration: ns per unit of the kernel, measured once by the parent for every run.
pub const UNIT_NS: Figure = Figure::new("unit_ns", Format::Nanos);

// The downstream service.
pub const DOWNSTREAM_CONNECTIONS: Figure = Figure::new("downstream_connections", Format::Count);
pub const DOWNSTREAM_ANSWERED: Figure = Figure::new("downstream_answered", Format::Count);
pub const DOWNSTREAM_UNANSWERED: Figure = Figure::new("downstream_unanswered", Format::Count);
/// How long after its due time each downstream answer left, µs.
pub const DOWNSTREAM_LATE: Hist = Hist::micros("downstream_late");
