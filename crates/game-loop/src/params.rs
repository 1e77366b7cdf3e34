//! The case's options, and the sizes they resolve to for every run.

use std::time::Duration;

use casebook::{Preset, UsageError, model::plan::in_range};
use serde::{Deserialize, Serialize};

use crate::sim::{
    clock::{PERIOD, TICK_HZ},
    systems::calibrate_sim_cost,
    world::{MAX_ENTITIES, WorldConfig},
};

/// The tables this case can measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Tables {
    /// Every variant against the number of clients: the main comparison.
    Clients,
    /// The simulation made heavy (`--sim-cost`): placements under contention.
    Heavy,
    /// A flood of malformed datagrams, clients that vanish, slow TCP clients.
    Abuse,
    /// Input logs replayed with no network: what each executor costs, and determinism.
    Replay,
}

/// Options of this case, on top of the harness's own.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Args {
    /// Tables to measure, comma-separated [default: clients,heavy,abuse,replay; quick:
    /// clients,replay].
    #[arg(long, value_enum, value_delimiter = ',', help_heading = "Case")]
    pub tables: Option<Vec<Tables>>,
    /// Clients in the heavy and abuse tables, and the clients table's point the claims read
    /// [default: quick 100, else 1000].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub clients: Option<u32>,
    /// Client counts of the clients table, comma-separated [default: 1000,5000; quick: the
    /// --clients value alone].
    #[arg(long, value_name = "N,N,...", value_delimiter = ',', help_heading = "Case")]
    pub sweep: Option<Vec<u32>>,
    /// Entities in the world besides the avatars [default: quick 2000, else 10000].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub entities: Option<u32>,
    /// Length of a run the claims read (the clients table at --clients, the heavy table), in
    /// seconds of ticks at 64 Hz [default: quick 0.5, default 1.6, full 3].
    #[arg(long, value_name = "S", help_heading = "Case")]
    pub seconds: Option<f64>,
    /// Length of every other run: the clients table's other points and the replays; the abuse
    /// runs last twice as long [default: --seconds when given, else quick 0.5, default 1,
    /// full 3].
    #[arg(long, value_name = "S", help_heading = "Case")]
    pub sweep_seconds: Option<f64>,
    /// The heavy table's extra simulation work, as a share of one tick's budget on every core:
    /// 0.5 makes a tick cost half of 15.6 ms on each core when spread perfectly, calibrated on
    /// this machine [default: 0.5].
    #[arg(long, value_name = "SHARE", help_heading = "Case")]
    pub sim_cost: Option<f64>,
    /// Malformed datagrams per second in the abuse table [default: quick 2000, else 10000].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub flood: Option<u32>,
    /// Threads driving the bots [default: one per 1000 bots, at most the number of cores].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub bot_threads: Option<usize>,
}

/// The resolved sizes every child run receives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub tables: Vec<Tables>,
    pub clients: u32,
    pub sweep: Vec<u32>,
    pub entities: u32,
    /// Length of a run the claims read, and its tick slots: at the default, more than a
    /// hundred, so that a run's p99 tick is not simply its latest.
    pub seconds: f64,
    pub slots: u64,
    /// Length of every other run (the clients table's other points, the replays), and its
    /// tick slots.
    pub sweep_seconds: f64,
    pub sweep_slots: u64,
    pub sim_cost_share: f64,
    /// Rounds of `--sim-cost` work per entity per tick in the heavy table, calibrated in the
    /// parent so that every run does the same work.
    pub sim_cost_rounds: u32,
    pub flood_per_s: u32,
    pub bot_threads: Option<usize>,
    /// The abuse table's runs are twice as long: a slow TCP client needs more than a second
    /// to fill its socket buffers and its queue.
    pub abuse_seconds: f64,
    pub abuse_slots: u64,
    /// The cores a run may use (`--cores`, or the machine's).
    pub cores: usize,
    /// Measured runs per row of the clients table, of the heavy table and of the replays.
    pub live_repeat: usize,
    pub heavy_repeat: usize,
    pub replay_repeat: usize,
}

/// The one seed of every world and every bot's script.
pub const SEED: u64 = 0x6761_6d65;
/// The most clients a run accepts: far beyond what 2 cores serve, and what bounds the
/// sessions table whatever ids arrive.
pub const MAX_CLIENTS: u32 = 20_000;
/// Share of a TCP abuse run's bots that never read, and of any abuse run's bots that vanish.
pub const ABUSE_SHARE: u32 = 50;

/// What a row runs besides its variant.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Spec {
    /// A server with bots over loopback.
    Live {
        clients: u32,
        /// Tick slots in the run.
        slots: u64,
        /// Rounds of `--sim-cost` work per entity per tick (0: the light world).
        sim_cost: u32,
        /// The flood, vanishing and slow bots.
        abuse: bool,
    },
    /// A scripted input log replayed with no network and no clock.
    Replay { entities: u32, clients: u32, ticks: u32 },
}

impl Params {
    pub fn world(&self, entities: u32, sim_cost: u32, abuse: bool) -> WorldConfig {
        WorldConfig {
            entities,
            seed: SEED,
            sim_cost,
            max_clients: MAX_CLIENTS,
            timeout_ticks: self.timeout_ticks(abuse),
        }
    }

    /// Ticks without input before a client is dropped. In the abuse table, a quarter of the
    /// run, so that a bot vanishing a quarter in is gone by half-way; elsewhere five seconds,
    /// a common game-server time-out, so that an overloaded server is not also made to drop
    /// its clients.
    pub fn timeout_ticks(&self, abuse: bool) -> u32 {
        if abuse { (self.abuse_slots / 4).clamp(4, 640) as u32 } else { 5 * TICK_HZ }
    }

    pub fn runs(&self, table: Tables) -> bool {
        self.tables.contains(&table)
    }

    /// Bot threads for `clients` bots.
    pub fn bot_threads_for(&self, clients: u32) -> usize {
        self.bot_threads.unwrap_or_else(|| (clients as usize).div_ceil(1000).clamp(1, self.cores.max(1)))
    }

    /// How far into an abuse run the vanishing bots go silent.
    pub fn vanish_after(&self) -> Duration {
        Duration::from_secs_f64(self.abuse_seconds / 4.0)
    }

    /// How long the flood lasts: to three quarters of the abuse run, so that every datagram
    /// reaches a server that is still reading.
    pub fn flood_for(&self) -> Duration {
        Duration::from_secs_f64(self.abuse_seconds * 0.75)
    }
}

pub fn resolve(args: &Args, preset: Preset) -> Result<Params, UsageError> {
    let quick = preset == Preset::Quick;
    let clients = in_range("clients", args.clients.unwrap_or(if quick { 100 } else { 1000 }), 1, MAX_CLIENTS)?;
    let sweep = match &args.sweep {
        Some(points) => {
            points.iter().try_for_each(|p| in_range("sweep", *p, 1, MAX_CLIENTS).map(drop))?;
            sorted(points, "--sweep needs at least one client count")?
        }
        None if quick => vec![clients],
        // The points the claims read, 1,000 and 5,000: a point at 100, where every variant
        // holds, would cost a sixth of the default run for no claim (--sweep 100,... draws it).
        None => vec![1000, 5000],
    };
    let entities = in_range("entities", args.entities.unwrap_or(if quick { 2000 } else { 10_000 }), 0, MAX_ENTITIES)?;
    // A claim's run at the default lasts 102 ticks: a p99 over more than a hundred ticks is
    // the second latest, not the latest; the other runs stay at 64 ticks.
    let (default_seconds, default_sweep_seconds) = match preset {
        Preset::Quick => (0.5, 0.5),
        Preset::Default => (1.6, 1.0),
        Preset::Full => (3.0, 3.0),
    };
    // Not a number is out of every range.
    let seconds = in_range("seconds", args.seconds.unwrap_or(default_seconds), 0.25, 600.0)?;
    let sweep_seconds =
        in_range("sweep-seconds", args.sweep_seconds.or(args.seconds).unwrap_or(default_sweep_seconds), 0.25, 600.0)?;
    let slots_of = |seconds: f64| (seconds * f64::from(TICK_HZ)).round() as u64;
    let (slots, sweep_slots) = (slots_of(seconds), slots_of(sweep_seconds));
    let sim_cost_share = in_range("sim-cost", args.sim_cost.unwrap_or(0.5), 0.0, 4.0)?;
    let flood_per_s = in_range("flood", args.flood.unwrap_or(if quick { 2000 } else { 10_000 }), 0, 1_000_000)?;
    let bot_threads = args.bot_threads.map(|n| in_range("bot-threads", n, 1, 64)).transpose()?;
    let tables = match &args.tables {
        Some(tables) => sorted(tables, "--tables needs at least one table")?,
        None if quick => vec![Tables::Clients, Tables::Replay],
        None => vec![Tables::Clients, Tables::Heavy, Tables::Abuse, Tables::Replay],
    };
    let cores = casebook::host::cpus::usable_cores();
    // Calibrated only when the heavy table runs: it times the work on this machine.
    let sim_cost_rounds = if tables.contains(&Tables::Heavy) && sim_cost_share > 0.0 {
        let cpu_per_tick = PERIOD.mul_f64(sim_cost_share * cores as f64);
        calibrate_sim_cost(entities, cpu_per_tick)
    } else {
        0
    };
    let abuse_seconds = 2.0 * sweep_seconds;
    let abuse_slots = 2 * sweep_slots;
    // A claim needs 5 paired runs (the harness calls fewer "indicative"). With 5, the
    // interval of the median is the whole range of the runs, so one run can decide a claim:
    // the heavy table gets a sixth. The clients table keeps 5: a sixth round of its sweep
    // took the default past three minutes on a 2-core AMD EPYC VM (187 s).
    let (live_repeat, heavy_repeat, replay_repeat) = match preset {
        Preset::Quick => (1, 1, 1),
        Preset::Default => (5, 6, 5),
        Preset::Full => (7, 7, 5),
    };
    Ok(Params {
        tables,
        clients,
        sweep,
        entities,
        seconds,
        slots,
        sweep_seconds,
        sweep_slots,
        sim_cost_share,
        sim_cost_rounds,
        flood_per_s,
        bot_threads,
        abuse_seconds,
        abuse_slots,
        cores,
        live_repeat,
        heavy_repeat,
        replay_repeat,
    })
}

/// `given` sorted, each once; `empty` is the usage error when there is none.
fn sorted<T: Ord + Clone>(given: &[T], empty: &str) -> Result<Vec<T>, UsageError> {
    let mut sorted = given.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.is_empty() { Err(UsageError::new(empty)) } else { Ok(sorted) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_resolve_and_options_win() {
        let quick = resolve(&Args::default(), Preset::Quick).expect("quick");
        assert_eq!((quick.clients, quick.sweep.clone(), quick.slots, quick.sweep_slots), (100, vec![100], 32, 32));
        assert_eq!(quick.tables, vec![Tables::Clients, Tables::Replay]);
        assert_eq!(quick.sim_cost_rounds, 0, "no heavy table, nothing calibrated");
        let args = Args { sweep: Some(vec![500, 10, 10]), seconds: Some(2.0), ..Args::default() };
        let p = resolve(&args, Preset::Quick).expect("valid");
        assert_eq!((p.sweep.clone(), p.slots, p.sweep_slots, p.abuse_slots), (vec![10, 500], 128, 128, 256));
        assert_eq!((p.timeout_ticks(true), p.timeout_ticks(false)), (64, 320));
        let args = Args { seconds: Some(2.0), sweep_seconds: Some(0.5), ..Args::default() };
        let p = resolve(&args, Preset::Quick).expect("valid");
        assert_eq!((p.slots, p.sweep_slots, p.abuse_slots), (128, 32, 64));
    }

    /// At the default, a run the claims read has more than a hundred ticks, so that its p99
    /// tick (the 99th of every hundred) is not simply its latest.
    #[test]
    fn the_default_claim_runs_hold_more_than_a_hundred_ticks() {
        let args = Args { tables: Some(vec![Tables::Clients]), ..Args::default() };
        let p = resolve(&args, Preset::Default).expect("default");
        assert!(p.slots > 100, "{} ticks", p.slots);
        let latest = p.slots;
        assert!(((0.99 * p.slots as f64).ceil() as u64) < latest, "p99 of {} ticks is the latest", p.slots);
        assert!(p.sweep.contains(&p.clients), "the claims' point is in the sweep");
        assert!(p.live_repeat >= 5 && p.heavy_repeat >= 5, "claims need 5 runs");
    }

    #[test]
    fn out_of_range_options_are_usage_errors() {
        for args in [
            Args { clients: Some(0), ..Args::default() },
            Args { sweep: Some(vec![10, 50_000]), ..Args::default() },
            Args { seconds: Some(0.1), ..Args::default() },
            Args { seconds: Some(f64::NAN), ..Args::default() },
            Args { sweep_seconds: Some(0.1), ..Args::default() },
            Args { sim_cost: Some(-1.0), ..Args::default() },
            Args { tables: Some(vec![]), ..Args::default() },
            Args { bot_threads: Some(0), ..Args::default() },
        ] {
            assert!(resolve(&args, Preset::Quick).is_err(), "{args:?}");
        }
    }

    #[test]
    fn bots_get_a_thread_per_thousand_up_to_the_cores() {
        let p = Params { cores: 2, ..resolve(&Args::default(), Preset::Quick).expect("quick") };
        assert_eq!((p.bot_threads_for(10), p.bot_threads_for(1000), p.bot_threads_for(5000)), (1, 1, 2));
    }
}
