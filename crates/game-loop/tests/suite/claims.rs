//! Every claim rule on synthetic figures: chosen to hold, to miss, to straddle the line, and
//! to be absent. Nothing runs; the rules alone are under test.

use casebook::{
    Case, ClaimId, ClaimResult, Figure, Hist, Outcome, Preset, Report, RowKey, TableId, VariantSet,
    model::figure::{SYSTEM_CPU, USER_CPU},
    testing::ReportBuilder,
};
use game_loop::{
    GameLoop,
    figures::{INBOX_FULL, INPUT_LATENCY, ON_TIME, SNAPSHOTS_DROPPED, SNAPSHOTS_SENT, TICK_LATENESS},
    findings::claims,
    params::{Args, Params},
    tables::{CLIENTS, HEAVY},
    variants::Variant,
};

fn params() -> Params {
    let args = Args { sweep: Some(vec![10, 1000, 5000]), ..Args::default() };
    GameLoop::params(&args, Preset::Default).expect("valid")
}

/// A report over every planned row, none skipped, whatever this machine's caps say.
fn builder() -> ReportBuilder {
    let params = params();
    let mut tables = GameLoop::plan(&params, Variant::ALL);
    for row in tables.iter_mut().flat_map(|t| t.rows.iter_mut()) {
        row.skipped = None;
    }
    ReportBuilder::new::<Variant>(&GameLoop::INFO, &params, tables)
}

/// Where a claim reads a variant: the clients table at `clients`, or the heavy table.
#[derive(Clone, Copy)]
enum At {
    Light(u32),
    Heavy,
}

impl At {
    fn table(self) -> TableId {
        match self {
            At::Light(_) => CLIENTS,
            At::Heavy => HEAVY,
        }
    }
    fn key(self, variant: Variant) -> RowKey {
        match self {
            At::Light(clients) => (variant, f64::from(clients)).into(),
            At::Heavy => variant.into(),
        }
    }
}

trait Fill {
    fn fig(self, at: At, variant: Variant, figure: Figure, values: &[f64]) -> Self;
    /// One histogram per run, every value of run `i` equal to `values[i]` (µs).
    fn hist(self, at: At, variant: Variant, hist: Hist, values: &[f64]) -> Self;
}

impl Fill for ReportBuilder {
    fn fig(self, at: At, variant: Variant, figure: Figure, values: &[f64]) -> Self {
        self.figure(at.table(), at.key(variant), figure, values)
    }
    fn hist(self, at: At, variant: Variant, hist: Hist, values: &[f64]) -> Self {
        let runs: Vec<Vec<u64>> = values.iter().map(|v| vec![*v as u64; 10]).collect();
        let slices: Vec<&[u64]> = runs.iter().map(Vec::as_slice).collect();
        self.histogram(at.table(), at.key(variant), hist, &slices)
    }
}

fn claims(report: &Report, id: ClaimId) -> Vec<ClaimResult> {
    claims::claims(&params(), report).into_iter().filter(|c| c.id == id).collect()
}

fn one(report: &Report, id: ClaimId) -> ClaimResult {
    let mut found = claims(report, id);
    assert_eq!(found.len(), 1, "{id}");
    found.remove(0)
}

fn assert_not_measured(result: &ClaimResult) {
    assert_eq!(result.outcome, Outcome::Inconclusive);
    assert!(result.evidence.starts_with("not measured"), "{}", result.evidence);
    assert!(result.interval.is_none());
}

const MAIN: At = At::Light(1000);
const DECIDED: [Outcome; 3] = [Outcome::Held, Outcome::DidNotHold, Outcome::Inconclusive];

/// `hybrid-game` where the hybrid's input p99 is `ratio` × the others' (20 ms).
fn game(at: At, ratios: &[f64; 5], on_time: f64) -> Report {
    let others = [20_000.0; 5];
    let ours: Vec<f64> = ratios.iter().map(|r| r * 20_000.0).collect();
    builder()
        .fig(at, Variant::Hybrid, ON_TIME, &[on_time; 5])
        .hist(at, Variant::Hybrid, INPUT_LATENCY, &ours)
        .hist(at, Variant::AllAsync, INPUT_LATENCY, &others)
        .hist(at, Variant::SingleThreadPoll, INPUT_LATENCY, &others)
        .build()
}

#[test]
fn hybrid_game_is_read_light_and_heavy() {
    for (i, at) in [MAIN, At::Heavy].into_iter().enumerate() {
        let outcomes = [
            game(at, &[0.9, 0.92, 0.91, 0.93, 0.9], 1.0),
            game(at, &[1.5, 1.52, 1.49, 1.5, 1.51], 1.0),
            game(at, &[1.02, 1.18, 1.05, 1.15, 1.1], 1.0),
        ]
        .map(|r| claims(&r, ClaimId::HybridGame)[i].outcome);
        assert_eq!(outcomes, DECIDED);
        // Fast but not holding 64 Hz is not the right choice.
        assert_eq!(claims(&game(at, &[0.9; 5], 0.8), ClaimId::HybridGame)[i].outcome, Outcome::DidNotHold);
    }
    let empty = claims(&builder().build(), ClaimId::HybridGame);
    assert_eq!(empty.len(), 2);
    assert!(empty[1].reading.as_deref().is_some_and(|r| r.contains("heavy")));
    empty.iter().for_each(assert_not_measured);
}

/// `realtime-progress` where all-async's lateness p99 is the hybrid's (200 µs) plus `gaps` ms.
fn progress(at: At, gaps: &[f64; 5]) -> Report {
    let task: Vec<f64> = gaps.iter().map(|g| 200.0 + g * 1000.0).collect();
    builder()
        .hist(at, Variant::Hybrid, TICK_LATENESS, &[200.0; 5])
        .hist(at, Variant::AllAsync, TICK_LATENESS, &task)
        .build()
}

#[test]
fn realtime_progress_needs_the_task_later_than_the_thread_by_two_timer_ticks() {
    for (i, at) in [MAIN, At::Heavy].into_iter().enumerate() {
        let outcomes = [[5.0, 6.0, 5.5, 5.2, 6.1], [0.8, 0.9, 1.0, 0.7, 0.8], [1.5, 2.6, 1.8, 2.4, 2.0]]
            .map(|gaps| claims(&progress(at, &gaps), ClaimId::RealtimeProgress)[i].outcome);
        assert_eq!(outcomes, DECIDED);
    }
    claims(&builder().build(), ClaimId::RealtimeProgress).iter().for_each(assert_not_measured);
}

/// `async-many-conns` where thread-per-client's input p99 is `ratio` × hybrid-tcp's at
/// every point of thousands of clients.
fn many(ratio: &[f64; 5], points: &[u32]) -> Report {
    points
        .iter()
        .fold(builder(), |b, &clients| {
            let at = At::Light(clients);
            let threads: Vec<f64> = ratio.iter().map(|r| r * 20_000.0).collect();
            b.hist(at, Variant::HybridTcp, INPUT_LATENCY, &[20_000.0; 5]).hist(
                at,
                Variant::ThreadPerClient,
                INPUT_LATENCY,
                &threads,
            )
        })
        .build()
}

#[test]
fn async_many_conns_compares_the_tcp_pair_at_every_point_of_thousands() {
    let id = ClaimId::AsyncManyConns;
    let outcomes = [[2.5, 2.6, 2.4, 2.5, 2.7], [1.1, 1.0, 1.2, 1.1, 1.0], [1.3, 1.7, 1.4, 1.6, 1.5]]
        .map(|r| one(&many(&r, &[1000, 5000]), id).outcome);
    assert_eq!(outcomes, DECIDED);
    let held = one(&many(&[2.5; 5], &[1000, 5000]), id);
    assert!(
        held.evidence.contains("at 1,000 clients") && held.evidence.contains("at 5,000 clients"),
        "{}",
        held.evidence
    );
    // Ten clients are not thousands: figures there alone decide nothing.
    assert_not_measured(&one(&many(&[2.5; 5], &[10]), id));
}

/// `no-thread-per-request` where thread-per-client's server CPU per snapshot sent is `ratio` ×
/// hybrid-tcp's, and it sent `share` of hybrid-tcp's snapshots.
fn cpu(ratio: &[f64; 5], share: f64) -> Report {
    let sent = 64_000.0;
    builder()
        .fig(MAIN, Variant::HybridTcp, USER_CPU, &[0.3; 5])
        .fig(MAIN, Variant::HybridTcp, SYSTEM_CPU, &[0.2; 5])
        .fig(MAIN, Variant::HybridTcp, SNAPSHOTS_SENT, &[sent; 5])
        .fig(MAIN, Variant::ThreadPerClient, USER_CPU, &ratio.map(|r| r * 0.3 * share))
        .fig(MAIN, Variant::ThreadPerClient, SYSTEM_CPU, &ratio.map(|r| r * 0.2 * share))
        .fig(MAIN, Variant::ThreadPerClient, SNAPSHOTS_SENT, &[sent * share; 5])
        .build()
}

#[test]
fn no_thread_per_request_compares_server_cpu_per_snapshot_at_the_main_point() {
    let id = ClaimId::NoThreadPerRequest;
    let outcomes = [[2.3, 2.4, 2.3, 2.2, 2.4], [1.1, 1.0, 1.05, 1.1, 1.0], [1.3, 1.7, 1.4, 1.6, 1.5]]
        .map(|r| one(&cpu(&r, 1.0), id).outcome);
    assert_eq!(outcomes, DECIDED);
    // Behind the tick, thread-per-client sends half the snapshots with less CPU than hybrid-tcp
    // (its cores busy would read 0.9x): per snapshot it costs 1.8x, and that is what is read.
    let behind = one(&cpu(&[1.8; 5], 0.5), id);
    assert_eq!(behind.outcome, Outcome::Held, "{}", behind.evidence);
    assert!(behind.evidence.contains("CPU per snapshot sent"), "{}", behind.evidence);
    // CPU with no snapshots counted decides nothing.
    let no_snapshots = builder()
        .fig(MAIN, Variant::HybridTcp, USER_CPU, &[0.3; 5])
        .fig(MAIN, Variant::HybridTcp, SYSTEM_CPU, &[0.2; 5])
        .fig(MAIN, Variant::ThreadPerClient, USER_CPU, &[0.6; 5])
        .fig(MAIN, Variant::ThreadPerClient, SYSTEM_CPU, &[0.4; 5])
        .build();
    assert_not_measured(&one(&no_snapshots, id));
    assert_not_measured(&one(&builder().build(), id));
}

/// `hybrid-coordination` with the hybrid's input p50 `gaps` ms away from the single thread's
/// (12 ms), and `dropped` inputs at its inbox in the first run.
fn coordination(gaps: &[f64; 5], dropped: f64) -> Report {
    let ours: Vec<f64> = gaps.iter().map(|g| 12_000.0 + g * 1000.0).collect();
    let mut inbox = [0.0; 5];
    inbox[0] = dropped;
    builder()
        .fig(MAIN, Variant::Hybrid, INBOX_FULL, &inbox)
        .fig(MAIN, Variant::Hybrid, SNAPSHOTS_DROPPED, &[0.0; 5])
        .hist(MAIN, Variant::Hybrid, INPUT_LATENCY, &ours)
        .hist(MAIN, Variant::SingleThreadPoll, INPUT_LATENCY, &[12_000.0; 5])
        .build()
}

#[test]
fn hybrid_coordination_needs_no_drops_and_a_cheap_hand_off() {
    let id = ClaimId::HybridCoordination;
    let outcomes = [[0.2, 0.3, 0.1, 0.2, 0.25], [3.0, 3.2, 2.9, 3.1, 3.0], [0.5, 1.5, 0.8, 1.3, 1.0]]
        .map(|g| one(&coordination(&g, 0.0), id).outcome);
    assert_eq!(outcomes, DECIDED);
    // A dropped input in one run of five: the runs disagree, nothing held.
    assert_ne!(one(&coordination(&[0.2; 5], 3.0), id).outcome, Outcome::Held);
    assert_not_measured(&one(&builder().build(), id));
}
