//! What the figures say: the framework's claims and the verdict sentences, computed from a
//! report, never written by hand. One function per claim, its rule and threshold beside it.
//! Latency claims use each run's own quantiles, paired run by run across rows (runs of a
//! table are interleaved, so run `i` of two rows met the same background load).

use casebook::{
    Claim, ClaimId, ClaimResult, Decision, Measure, Missing, Report, RowReport,
    figure::CORES_BUSY,
    format::{format_count, thousands},
    rules::{self, Series},
    sweep,
};

use crate::{
    Params,
    figures::*,
    plan::{CLIENTS_TABLE, HEAVY_TABLE, REPLAY_SMALL_TABLE, REPLAY_TABLE, SWEEP_VARIANTS},
    variants::Variant,
};

pub use crate::accounting::check;

pub fn claims(params: &Params, report: &Report) -> Vec<ClaimResult> {
    vec![
        hybrid_game(params, report, Setting::Light),
        hybrid_game(params, report, Setting::Heavy),
        realtime_progress(params, report, Setting::Light),
        realtime_progress(params, report, Setting::Heavy),
        async_many_conns(params, report),
        no_thread_per_request(params, report),
        hybrid_coordination(params, report),
    ]
}

/// A share of tick slots on time at or above which a server "held 64 Hz".
pub const HOLDS_64HZ: f64 = 0.99;

/// The two places a claim about the simulation's placement is read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// The clients table at `--clients`: the light world.
    Light,
    /// The heavy table: the same clients, the simulation using about half of every core.
    Heavy,
}

impl Setting {
    fn reading(self, params: &Params) -> String {
        match self {
            Setting::Light => format!("light simulation, {} clients", thousands(u64::from(params.clients))),
            Setting::Heavy => format!(
                "heavy simulation (--sim-cost {}), {} clients",
                params.sim_cost_share,
                thousands(u64::from(params.clients))
            ),
        }
    }
}

/// A variant's row where the setting reads it.
pub fn row<'a>(
    report: &'a Report,
    params: &Params,
    setting: Setting,
    variant: Variant,
) -> Result<&'a RowReport, Missing> {
    match setting {
        Setting::Light => report.need(CLIENTS_TABLE, &label_at(variant, params.clients)),
        Setting::Heavy => report.need(HEAVY_TABLE, variant.name()),
    }
}

/// A sweep row's label, as the harness prints it.
pub fn label_at(variant: Variant, clients: u32) -> String {
    format!("{} @{}", variant.name(), f64::from(clients))
}

fn p99(row: &RowReport, hist: casebook::Hist) -> Result<Series, Missing> {
    row.quantile_series(hist, 0.99)
}

/// How many times `a`'s median is `b`'s: for evidence, not for deciding.
fn times(a: &Series, b: &Series) -> f64 {
    a.median() / b.median()
}

/// `hybrid-game`: how much worse than the best other placement the hybrid's input-to-snapshot
/// p99 may be and still count as the right choice.
pub const GAME_SLACK: f64 = 1.1;

/// `hybrid-game`: the hybrid holds 64 Hz, and what players feel (input to snapshot, p99) is
/// no worse than with the simulation as a task (all-async) or everything on one thread.
fn hybrid_game(params: &Params, report: &Report, setting: Setting) -> ClaimResult {
    Claim::new(
        ClaimId::HybridGame,
        format!(
            "held if the hybrid keeps {:.0}% of its ticks on time and its input→snapshot p99 is at most {GAME_SLACK} × all-async's and × single-thread-poll's, paired run by run, the whole 95% interval on that side",
            HOLDS_64HZ * 100.0
        ),
    )
    .reading(setting.reading(params))
    .decide(|| {
        let hybrid = row(report, params, setting, Variant::Hybrid)?;
        let mut decisions = vec![rules::at_least(&hybrid.series(ON_TIME)?, HOLDS_64HZ)];
        let ours = p99(hybrid, INPUT_LATENCY)?;
        let mut evidence = vec![format!("hybrid input→snapshot p99 {}", ours.show())];
        for other in [Variant::AllAsync, Variant::SingleThreadPoll] {
            let theirs = p99(row(report, params, setting, other)?, INPUT_LATENCY)?;
            decisions.push(rules::ratio_at_most(&ours, &theirs, GAME_SLACK));
            evidence.push(format!("{} {}", other.name(), theirs.show()));
        }
        Ok((Decision::all(decisions), evidence.join(", ")))
    })
}

/// `realtime-progress`: how much later, at p99, the simulation's ticks start as a task than
/// on a thread: twice tokio's 1 ms timer resolution, so that the timer alone cannot decide it.
pub const PROGRESS_MARGIN_US: f64 = 2000.0;

/// `realtime-progress`: the simulation needs to run every 15.6 ms, on time. On its own thread
/// (hybrid) it sleeps until the tick; as a task (all-async) it waits for a timer and a free
/// worker. The rule compares tick lateness, paired run by run.
fn realtime_progress(params: &Params, report: &Report, setting: Setting) -> ClaimResult {
    Claim::new(
        ClaimId::RealtimeProgress,
        format!(
            "held if all-async's tick lateness p99 exceeds the hybrid's by at least {} ms, paired run by run, the whole 95% interval above",
            PROGRESS_MARGIN_US / 1000.0
        ),
    )
    .reading(setting.reading(params))
    .decide(|| {
        let thread = p99(row(report, params, setting, Variant::Hybrid)?, TICK_LATENESS)?;
        let task = p99(row(report, params, setting, Variant::AllAsync)?, TICK_LATENESS)?;
        let evidence = format!(
            "tick lateness p99: simulation on a thread {}, as a task {}",
            thread.show(),
            task.show()
        );
        Ok((rules::exceeds_by(&task, &thread, PROGRESS_MARGIN_US), evidence))
    })
}

/// `async-many-conns`: how many times thread-per-client's input-to-snapshot p99 must be
/// hybrid-tcp's at thousands of connections.
pub const MANY_CONNS_FACTOR: f64 = 1.5;
/// "Thousands": the smallest client count the claim is read at.
pub const THOUSANDS: u32 = 1000;

/// The sweep points of at least [`THOUSANDS`] clients where both TCP variants ran.
fn shared_tcp_points(params: &Params, report: &Report) -> Vec<u32> {
    params
        .sweep
        .iter()
        .copied()
        .filter(|c| *c >= THOUSANDS)
        .filter(|&c| {
            [Variant::ThreadPerClient, Variant::HybridTcp]
                .iter()
                .all(|v| report.need(CLIENTS_TABLE, &label_at(*v, c)).is_ok())
        })
        .collect()
}

/// `async-many-conns`: the same TCP server and simulation thread, connections on tasks
/// (hybrid-tcp) or on two threads each (thread-per-client), at every sweep point of
/// thousands of clients both ran.
fn async_many_conns(params: &Params, report: &Report) -> ClaimResult {
    Claim::new(
        ClaimId::AsyncManyConns,
        format!(
            "held if, at every client count of at least {} both ran, thread-per-client's input→snapshot p99 is at least {MANY_CONNS_FACTOR} × hybrid-tcp's, paired run by run, the whole 95% interval above",
            thousands(u64::from(THOUSANDS))
        ),
    )
    .decide(|| {
        let points = shared_tcp_points(params, report);
        if points.is_empty() {
            return Err(Missing(format!(
                "needs thread-per-client and hybrid-tcp at {} clients or more in the clients table",
                thousands(u64::from(THOUSANDS))
            )));
        }
        let mut decisions = Vec::new();
        let mut evidence = Vec::new();
        for clients in points {
            let label = |v: Variant| label_at(v, clients);
            let threads = report.quantile_series(CLIENTS_TABLE, &label(Variant::ThreadPerClient), INPUT_LATENCY, 0.99)?;
            let tasks = report.quantile_series(CLIENTS_TABLE, &label(Variant::HybridTcp), INPUT_LATENCY, 0.99)?;
            evidence.push(format!(
                "at {} clients input→snapshot p99 {} with a thread pair per connection, {} with tasks ({:.2}x)",
                thousands(u64::from(clients)),
                threads.show(),
                tasks.show(),
                times(&threads, &tasks)
            ));
            decisions.push(rules::ratio_at_least(&threads, &tasks, MANY_CONNS_FACTOR));
        }
        Ok((Decision::all(decisions), evidence.join("; ")))
    })
}

/// `no-thread-per-request`: how many times the server CPU a thread pair per connection must
/// cost over tasks for the same work.
pub const THREAD_COST_FACTOR: f64 = 1.5;

/// `no-thread-per-request`, per connection: the server's CPU for the same game at
/// `--clients`, thread-per-client against hybrid-tcp.
fn no_thread_per_request(params: &Params, report: &Report) -> ClaimResult {
    Claim::new(
        ClaimId::NoThreadPerRequest,
        format!(
            "held if thread-per-client's server CPU is at least {THREAD_COST_FACTOR} × hybrid-tcp's at --clients, paired run by run, the whole 95% interval above"
        ),
    )
    .reading(format!("a thread pair per TCP connection, {} clients", thousands(u64::from(params.clients))))
    .decide(|| {
        let threads = report.series(CLIENTS_TABLE, &label_at(Variant::ThreadPerClient, params.clients), CORES_BUSY)?;
        let tasks = report.series(CLIENTS_TABLE, &label_at(Variant::HybridTcp, params.clients), CORES_BUSY)?;
        let evidence = format!(
            "server cores busy: thread-per-client {}, hybrid-tcp {} ({:.2}x)",
            threads.show(),
            tasks.show(),
            times(&threads, &tasks)
        );
        Ok((rules::ratio_at_least(&threads, &tasks, THREAD_COST_FACTOR), evidence))
    })
}

/// `hybrid-coordination`: how far the hybrid's median input-to-snapshot time may be from
/// the single thread's, which has no channels and no hand-offs.
pub const HANDOFF_SLACK_US: f64 = 1000.0;

/// `hybrid-coordination`: the hybrid's flume channels carry every input in and every
/// snapshot batch out without a drop, and cost no more than a millisecond at the median
/// against a server with no channels at all.
fn hybrid_coordination(params: &Params, report: &Report) -> ClaimResult {
    Claim::new(
        ClaimId::HybridCoordination,
        format!(
            "held if the hybrid's channels dropped nothing in any run and its input→snapshot p50 is within {} ms of single-thread-poll's, paired run by run, the whole 95% interval inside",
            HANDOFF_SLACK_US / 1000.0
        ),
    )
    .reading(format!("flume channels between tokio tasks and the simulation thread, {} clients", thousands(u64::from(params.clients))))
    .decide(|| {
        let hybrid = row(report, params, Setting::Light, Variant::Hybrid)?;
        let single = row(report, params, Setting::Light, Variant::SingleThreadPoll)?;
        let nothing_dropped = hybrid.facts(|run| {
            run.figure(INBOX_FULL) == Some(0.0) && run.figure(SNAPSHOTS_DROPPED) == Some(0.0)
        });
        let ours = hybrid.quantile_series(INPUT_LATENCY, 0.5)?;
        let theirs = single.quantile_series(INPUT_LATENCY, 0.5)?;
        let gap = ours.paired(&theirs, ours.format, "hybrid − single-thread-poll input→snapshot p50", |a, b| a - b);
        let evidence = format!("input→snapshot p50: hybrid {}, single-thread-poll {}", ours.show(), theirs.show());
        let decision = Decision::all([
            rules::every_run("runs with nothing dropped at the channels", &nothing_dropped),
            rules::within(&gap, -HANDOFF_SLACK_US, HANDOFF_SLACK_US),
        ]);
        Ok((decision, evidence))
    })
}

/// The performance targets of the issue, for the hybrid at 1,000 clients.
pub const TARGET_LATENESS_US: f64 = 1000.0;
pub const TARGET_INPUT_TICKS: f64 = 2.0;

pub fn verdicts(params: &Params, report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    lines.extend(holds_64hz(params, report));
    lines.extend(target(params, report));
    lines.extend(executors(report));
    lines
}

/// Where each variant of the sweep stopped holding 64 Hz.
fn holds_64hz(params: &Params, report: &Report) -> Vec<String> {
    let on_time = Measure::from(ON_TIME);
    let mut lines = Vec::new();
    for variant in SWEEP_VARIANTS {
        let points = sweep::points(report, CLIENTS_TABLE, variant.name(), &on_time);
        if points.len() < 2 {
            continue;
        }
        let held = sweep::last_where(&points, |v| v >= HOLDS_64HZ);
        let lost = points.iter().find(|(_, v)| *v < HOLDS_64HZ);
        let clients = |x: f64| thousands(x as u64);
        lines.push(match (held, lost) {
            (_, None) => format!(
                "{} held 64 Hz at every client count measured, up to {}.",
                variant.name(),
                clients(points[points.len() - 1].0)
            ),
            (Some((x, _)), Some((y, v))) => format!(
                "{} held 64 Hz up to {} clients; at {} only {:.0}% of its ticks were on time.",
                variant.name(),
                clients(x),
                clients(*y),
                v * 100.0
            ),
            (None, Some((y, v))) => format!(
                "{} did not hold 64 Hz even at {} clients ({:.0}% of ticks on time).",
                variant.name(),
                clients(*y),
                v * 100.0
            ),
        });
    }
    let _ = params;
    lines
}

/// The performance target for the hybrid at 1,000 clients, with the bots' share.
fn target(params: &Params, report: &Report) -> Option<String> {
    let at = if params.sweep.contains(&1000) { 1000 } else { *params.sweep.iter().filter(|c| **c <= 1000).max()? };
    let row = report.row_at(CLIENTS_TABLE, Variant::Hybrid.name(), f64::from(at))?;
    let late = row.quantile(TICK_LATENESS, 0.99)?;
    let input = row.quantile(INPUT_LATENCY, 0.99)?;
    let lost = row.median(LOST)?;
    let (server, bots) = (row.median(CORES_BUSY)?, row.median(BOT_CORES)?);
    let period_us = crate::run::period_us();
    let met = late < TARGET_LATENESS_US && input <= TARGET_INPUT_TICKS * period_us && lost == 0.0;
    Some(format!(
        "Target for the hybrid at {} clients (tick lateness p99 under 1 ms, input→snapshot p99 within 2 ticks, no snapshot lost): {}. Lateness p99 {}, input→snapshot p99 {}, {} lost (median); the server used {:.2} cores and the bots {:.2} of this machine's {}.",
        thousands(u64::from(at)),
        if met { "met" } else { "not met" },
        TICK_LATENESS.format.show(late),
        INPUT_LATENCY.format.show(input),
        format_count(lost),
        server,
        bots,
        report.env.logical_cores
    ))
}

/// What the executors cost with no network, on the small and the default world.
fn executors(report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    for table in [REPLAY_SMALL_TABLE, REPLAY_TABLE] {
        let p50 = |v: Variant| report.row(table, v.name()).and_then(|r| r.quantile(REPLAY_TICK, 0.5));
        if let (Some(multi), Some(single), Some(serial)) =
            (p50(Variant::Hybrid), p50(Variant::HybridSt), p50(Variant::SingleThreadPoll))
        {
            let title = report.table(table).map_or(table.to_string(), |t| t.title.clone());
            lines.push(format!(
                "{title}: a tick's p50 is {} on Bevy's multi-threaded executor, {} on its single-threaded executor, {} with no parallelism at all.",
                REPLAY_TICK.format.show(multi),
                REPLAY_TICK.format.show(single),
                REPLAY_TICK.format.show(serial)
            ));
        }
    }
    lines
}
