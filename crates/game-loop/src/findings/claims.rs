//! The framework's claims, computed from a report, never written by hand: one function per
//! claim (and reading), its rule and threshold beside it; the rules say their thresholds in
//! words. Latency claims use each run's own quantiles, paired run by run across rows (runs of
//! a table are interleaved, so run `i` of two rows met the same background load).

use casebook::{
    Claim, ClaimId, ClaimResult, Decision, Format, Hist, Missing, Report, RowReport,
    model::figure::{SYSTEM_CPU, USER_CPU},
    model::format::thousands,
    stats::rules,
    stats::rules::Series,
};

use crate::{
    figures::*,
    params::Params,
    tables::{CLIENTS, HEAVY},
    variants::Variant::{self, *},
};

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
enum Setting {
    /// The clients table at `--clients`: the light world.
    Light,
    /// The heavy table: the same clients, the simulation using about half of every core.
    Heavy,
}

impl Setting {
    fn reading(self, p: &Params) -> String {
        let clients = thousands(u64::from(p.clients));
        match self {
            Setting::Light => format!("light simulation, {clients} clients"),
            Setting::Heavy => format!("heavy simulation (--sim-cost {}), {clients} clients", p.sim_cost_share),
        }
    }

    /// A variant's row where the setting reads it.
    fn row<'a>(self, report: &'a Report, p: &Params, variant: Variant) -> Result<&'a RowReport, Missing> {
        match self {
            Setting::Light => report.need(CLIENTS, (variant, f64::from(p.clients))),
            Setting::Heavy => report.need(HEAVY, variant),
        }
    }

    /// A variant's p99 of `hist` run by run, labelled with what it is and where it was read.
    fn p99(self, report: &Report, p: &Params, variant: Variant, hist: Hist, what: &str) -> Result<Series, Missing> {
        let where_ = match self {
            Setting::Light => at(p.clients),
            Setting::Heavy => "with the heavy simulation".into(),
        };
        Ok(self.row(report, p, variant)?.quantile_series(hist, 0.99)?.named(format!("{variant}'s {what} p99 {where_}")))
    }
}

/// "at 1,000 clients".
fn at(clients: u32) -> String {
    format!("at {} clients", thousands(u64::from(clients)))
}

/// `hybrid-game`: how much worse than the best other placement the hybrid's input-to-snapshot
/// p99 may be and still count as the right choice.
pub const GAME_SLACK: f64 = 1.1;

/// `hybrid-game`: the hybrid holds 64 Hz, and what players feel (input to snapshot, p99) is
/// no worse than with the simulation as a task (all-async) or everything on one thread.
fn hybrid_game(p: &Params, report: &Report, setting: Setting) -> ClaimResult {
    Claim::new(ClaimId::HybridGame).reading(setting.reading(p)).decide(|| {
        let on_time = setting.row(report, p, Hybrid)?.series(ON_TIME)?;
        let on_time = on_time.named(format!("the hybrid's share of ticks on time, {}", setting.reading(p)));
        let ours = setting.p99(report, p, Hybrid, INPUT_LATENCY, "input→snapshot")?;
        let mut decisions = vec![rules::at_least(&on_time, HOLDS_64HZ)];
        for other in [AllAsync, SingleThreadPoll] {
            let theirs = setting.p99(report, p, other, INPUT_LATENCY, "input→snapshot")?;
            decisions.push(rules::ratio_at_most(&ours, &theirs, GAME_SLACK));
        }
        Ok(Decision::all(decisions))
    })
}

/// `realtime-progress`: how much later, at p99, the simulation's ticks start as a task than
/// on a thread: twice tokio's 1 ms timer resolution, so that the timer alone cannot decide it.
pub const PROGRESS_MARGIN_US: f64 = 2000.0;

/// `realtime-progress`: the simulation needs to run every 15.6 ms, on time. On its own thread
/// (hybrid) it sleeps until the tick; as a task (all-async) it waits for a timer and a free
/// worker. The rule compares tick lateness, paired run by run.
fn realtime_progress(p: &Params, report: &Report, setting: Setting) -> ClaimResult {
    Claim::new(ClaimId::RealtimeProgress).reading(setting.reading(p)).decide(|| {
        let thread = setting.p99(report, p, Hybrid, TICK_LATENESS, "tick lateness (simulation on a thread)")?;
        let task = setting.p99(report, p, AllAsync, TICK_LATENESS, "tick lateness (simulation as a task)")?;
        Ok(rules::exceeds_by(&task, &thread, PROGRESS_MARGIN_US))
    })
}

/// `async-many-conns`: how many times thread-per-client's input-to-snapshot p99 must be
/// hybrid-tcp's at thousands of connections.
pub const MANY_CONNS_FACTOR: f64 = 1.5;
/// "Thousands": the smallest client count the claim is read at.
pub const THOUSANDS: u32 = 1000;

/// `async-many-conns`: the same TCP server and simulation thread, connections on tasks
/// (hybrid-tcp) or on two threads each (thread-per-client), at every sweep point of
/// thousands of clients both ran.
fn async_many_conns(p: &Params, report: &Report) -> ClaimResult {
    Claim::new(ClaimId::AsyncManyConns).decide(|| {
        let p99 = |variant: Variant, clients: u32| {
            let series = report.quantile_series(CLIENTS, (variant, f64::from(clients)), INPUT_LATENCY, 0.99)?;
            Ok::<_, Missing>(series.named(format!("{variant}'s input→snapshot p99 {}", at(clients))))
        };
        let both =
            |c: u32| [ThreadPerClient, HybridTcp].iter().all(|v| report.need(CLIENTS, (*v, f64::from(c))).is_ok());
        let points: Vec<u32> = p.sweep.iter().copied().filter(|c| *c >= THOUSANDS && both(*c)).collect();
        if points.is_empty() {
            return Err(Missing(format!(
                "needs thread-per-client and hybrid-tcp at {} clients or more in the clients table",
                thousands(u64::from(THOUSANDS))
            )));
        }
        let decisions = points
            .into_iter()
            .map(|c| Ok(rules::ratio_at_least(&p99(ThreadPerClient, c)?, &p99(HybridTcp, c)?, MANY_CONNS_FACTOR)))
            .collect::<Result<Vec<_>, Missing>>()?;
        Ok(Decision::all(decisions))
    })
}

/// `no-thread-per-request`: how many times the server CPU per snapshot sent a thread pair per
/// connection must cost over tasks.
pub const THREAD_COST_FACTOR: f64 = 1.5;

/// `no-thread-per-request`, per connection: the server's CPU (user and system) per snapshot it
/// sent at `--clients`, thread-per-client against hybrid-tcp. Per snapshot, not per second: a
/// server that falls behind the tick sends fewer snapshots while its cores stay busy, and on a
/// small machine its cores busy then read what the bots leave of the cores, not what its model
/// costs for the work.
fn no_thread_per_request(p: &Params, report: &Report) -> ClaimResult {
    let reading = format!("a thread pair per TCP connection, {} clients", thousands(u64::from(p.clients)));
    Claim::new(ClaimId::NoThreadPerRequest).reading(reading).decide(|| {
        let cost = |variant: Variant| {
            let row = report.need(CLIENTS, (variant, f64::from(p.clients)))?;
            let values = row.runs.iter().map(|run| {
                let sent = run.figure(SNAPSHOTS_SENT).filter(|sent| *sent > 0.0)?;
                Some((run.figure(USER_CPU)? + run.figure(SYSTEM_CPU)?) / sent)
            });
            let label = format!("{variant}'s server CPU per snapshot sent {}", at(p.clients));
            let series = Series::new(label, Format::Seconds, values.collect()).from_row(&row.table, &row.label);
            if series.present().is_empty() {
                return Err(Missing(format!("{}: no run recorded its CPU and the snapshots it sent", row.label)));
            }
            Ok(series)
        };
        Ok(rules::ratio_at_least(&cost(ThreadPerClient)?, &cost(HybridTcp)?, THREAD_COST_FACTOR))
    })
}

/// `hybrid-coordination`: how far the hybrid's median input-to-snapshot time may be from
/// the single thread's, which has no channels and no hand-offs.
pub const HANDOFF_SLACK_US: f64 = 1000.0;

/// `hybrid-coordination`: the hybrid's flume channels carry every input in and every
/// snapshot batch out without a drop, and cost no more than a millisecond at the median
/// against a server with no channels at all.
fn hybrid_coordination(p: &Params, report: &Report) -> ClaimResult {
    let reading = format!(
        "flume channels between tokio tasks and the simulation thread, {} clients",
        thousands(u64::from(p.clients))
    );
    Claim::new(ClaimId::HybridCoordination).reading(reading).decide(|| {
        let hybrid = Setting::Light.row(report, p, Hybrid)?;
        let single = Setting::Light.row(report, p, SingleThreadPoll)?;
        let nothing_dropped =
            hybrid.facts(|run| run.figure(INBOX_FULL) == Some(0.0) && run.figure(SNAPSHOTS_DROPPED) == Some(0.0));
        let ours = hybrid.quantile_series(INPUT_LATENCY, 0.5)?;
        let theirs = single.quantile_series(INPUT_LATENCY, 0.5)?;
        let label = format!("hybrid − single-thread-poll input→snapshot p50 {}", at(p.clients));
        let gap = ours.paired(&theirs, ours.format, &label, |a, b| a - b);
        Ok(Decision::all([
            rules::every_run("nothing was dropped at the hybrid's channels", &nothing_dropped),
            rules::within(&gap, -HANDOFF_SLACK_US, HANDOFF_SLACK_US),
        ])
        .noting(format!(
            "input→snapshot p50: hybrid {}, single-thread-poll {}",
            ours.spread(),
            theirs.spread()
        )))
    })
}
