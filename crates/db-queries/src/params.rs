//! The case's options, and the sizes and caps they resolve to for every run.
//!
//! The caps on requests in flight come from this machine's limits, read once in the parent
//! ([`casebook::run::limits`]): every request in flight holds a socket in the server and one in
//! the load generator, and under `thread-per-request` a thread. A sweep point above a cap is
//! planned and skipped with the limit that set it, never run into the wall.

use std::time::Duration;

use casebook::{
    Needs, Preset, UsageError,
    host::cpus::usable_cores,
    model::plan::in_range,
    run::limits::{self, Readings},
};
use serde::{Deserialize, Serialize};

use crate::{
    layers::Pools,
    load::driver::{LoadMode, LoadPlan},
    server::job::{JobPlan, Placement},
    store::{fixture::Engine, postgres::PgTarget, sqlite},
    variants::Variant,
    workload::{Mix, dataset::Dataset},
};

/// The tables a run can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TableKind {
    /// Point reads at a fixed number of clients, both engines, beside pgbench.
    Points,
    /// The service's mix, swept over requests in flight, both engines.
    Sweep,
    /// The Postgres sweep again, through the delaying proxy.
    Remote,
    /// The hybrid-web reading: open-loop requests beside a background job.
    Hybrid,
}

/// Options of this case, on top of the harness's own.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Args {
    /// The Postgres server for the Postgres rows, e.g. postgres://postgres@127.0.0.1:5432/test;
    /// DATABASE_URL is read when this is not given. Without either, the Postgres rows are
    /// skipped. An unreachable server given here is an error; one from DATABASE_URL skips the
    /// rows, unless CASEBOOK_REQUIRE_POSTGRES is set.
    #[arg(long, value_name = "URL", help_heading = "Case")]
    pub database_url: Option<String>,
    /// Which tables to run (comma-separated) [default: all].
    #[arg(long, value_enum, value_delimiter = ',', help_heading = "Case")]
    pub tables: Vec<TableKind>,
    /// The request mix, point/range/write in percent [default: 80/15/5].
    #[arg(long, value_name = "P/R/W", help_heading = "Case")]
    pub mix: Option<String>,
    /// Accounts seeded [default: quick 10000, default 100000, full 1000000].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub accounts: Option<i64>,
    /// Mean orders per account [default: 10].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub orders_per_account: Option<u32>,
    /// Requests in flight in the point-read tables, and pgbench's clients [default: 16].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub clients: Option<usize>,
    /// Requests in flight in the SQLite and Postgres sweeps (comma-separated) [default: quick
    /// 64; default 1,4,16,64,256,1024,4096 for SQLite and 1,16,256,4096 for Postgres; full
    /// 1,4,16,64,256,1024,4096].
    #[arg(long, value_name = "N,...", value_delimiter = ',', help_heading = "Case")]
    pub in_flight: Vec<usize>,
    /// Requests in flight in the sweep through the delaying proxy [default: quick 16; default
    /// 1,16,256; full 1,4,16,64,256,1024,4096].
    #[arg(long, value_name = "N,...", value_delimiter = ',', help_heading = "Case")]
    pub remote_in_flight: Vec<usize>,
    /// The round trip the proxy adds between the server and Postgres, in microseconds
    /// [default: 1000].
    #[arg(long, value_name = "US", help_heading = "Case")]
    pub remote_rtt_us: Option<u64>,
    /// How long each run offers load once warm, in milliseconds [default: quick 120, default
    /// 200, full 1000].
    #[arg(long, value_name = "MS", help_heading = "Case")]
    pub duration_ms: Option<u64>,
    /// Postgres connections per data layer [default: 2 x cores + 1].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub pg_pool: Option<u32>,
    /// SQLite reader connections per data layer, beside its one writer [default: cores].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub sqlite_readers: Option<u32>,
    /// Connections async-pipelined multiplexes every request over [default: cores].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub pipelines: Option<u32>,
    /// How long a request may wait for a connection before it fails, in milliseconds
    /// [default: 5000].
    #[arg(long, value_name = "MS", help_heading = "Case")]
    pub acquire_timeout_ms: Option<u64>,
    /// Requests per second in the hybrid-web table (open loop) [default: quick 1000,
    /// otherwise 5000].
    #[arg(long, value_name = "PER_S", help_heading = "Case")]
    pub rate: Option<f64>,
    /// How often the background job rebuilds its aggregate, in milliseconds [default: 100].
    #[arg(long, value_name = "MS", help_heading = "Case")]
    pub job_period_ms: Option<u64>,
    /// Days of orders the background job aggregates [default: 30].
    #[arg(long, value_name = "DAYS", help_heading = "Case")]
    pub job_window_days: Option<u32>,
}

/// Where the Postgres URL came from: it decides whether an unreachable server is an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UrlOrigin {
    Flag,
    Environment,
}

/// The Postgres server the run was pointed at. The password never enters the report: it is
/// kept in the parent only, for the set-up, which hands the runs a full [`PgTarget`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PostgresChoice {
    /// The server, without its password.
    pub server: PgTarget,
    pub origin: UrlOrigin,
    /// CASEBOOK_REQUIRE_POSTGRES was set: an unreachable server fails the run.
    pub required: bool,
    #[serde(skip)]
    pub password: Option<String>,
}

impl PostgresChoice {
    /// The target with its password, for connecting.
    pub fn target(&self) -> PgTarget {
        PgTarget { password: self.password.clone(), ..self.server.clone() }
    }
}

/// The caps on requests in flight, from this machine's limits.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Caps {
    /// Most requests in flight the descriptor limit allows, and why.
    pub by_fds: Option<(u64, String)>,
    /// Most requests a thread per request allows, and why.
    pub by_threads: (u64, String),
}

/// The resolved sizes every child run receives.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Params {
    pub tables: Vec<TableKind>,
    pub postgres: Option<PostgresChoice>,
    pub dataset: Dataset,
    pub mix: Mix,
    pub clients: usize,
    /// Requests in flight in the SQLite sweep.
    pub sweep: Vec<usize>,
    /// Requests in flight in the Postgres sweep.
    pub postgres_sweep: Vec<usize>,
    /// Requests in flight in the sweep through the delaying proxy.
    pub remote_sweep: Vec<usize>,
    pub remote_rtt_us: u64,
    pub duration_ms: u64,
    /// The least warm-up before timing starts; a run also waits until every client has had
    /// one reply (see [`crate::load::driver`]).
    pub warmup_ms: u64,
    pub request_timeout_ms: u64,
    pub sqlite_pools: Pools,
    pub pg_pools: Pools,
    /// Async worker threads in the server's runtime.
    pub workers: usize,
    pub rate: f64,
    pub job_period_ms: u64,
    pub job_window_days: u32,
    pub caps: Caps,
    /// Measured runs per row of the point-read and hybrid tables.
    pub repeat: usize,
    /// Measured runs per row of the sweeps: fewer, as they have many rows, but two at least
    /// where a claim is decided from them (a rule needs two paired runs for an interval).
    pub sweep_repeat: usize,
}

/// What one row runs besides its variant.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub engine: Engine,
    pub in_flight: usize,
    /// Point reads only (the point-read tables), or the service's mix.
    pub points_only: bool,
    /// Through the delaying proxy.
    pub remote: bool,
    /// The background job beside the requests, if any.
    pub job: Option<Placement>,
    /// Open loop at this rate, or closed loop.
    pub open_rate: Option<f64>,
}

impl Spec {
    pub fn closed(engine: Engine, in_flight: usize) -> Spec {
        Spec { engine, in_flight, points_only: false, remote: false, job: None, open_rate: None }
    }
}

/// Sweeps go this high at most: past it, even the async rows would spend their run
/// connecting clients.
pub const MAX_IN_FLIGHT: usize = 65_536;
/// Descriptors a server or a generator holds besides its client sockets.
pub const FDS_BESIDES_CLIENTS: u64 = 128;
/// Threads a thread-per-request server holds besides one per request.
pub const THREADS_BESIDES_REQUESTS: u64 = 64;

impl Params {
    pub fn runs(&self, kind: TableKind) -> bool {
        self.tables.contains(&kind)
    }

    pub fn pools(&self, engine: Engine) -> Pools {
        match engine {
            Engine::Sqlite => self.sqlite_pools,
            Engine::Postgres => self.pg_pools,
        }
    }

    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.duration_ms)
    }

    /// The load one row offers.
    pub fn load_plan(&self, in_flight: usize, open_rate: Option<f64>) -> LoadPlan {
        let warmup = Duration::from_millis(self.warmup_ms);
        LoadPlan {
            connections: in_flight,
            mode: open_rate.map_or(LoadMode::Closed, |rate| LoadMode::Open { rate }),
            // Open loop: a fixed warm-up, then the timed window. Closed loop: the window
            // opens once every client has had a reply, and lasts the duration.
            duration: self.duration() + if open_rate.is_some() { warmup } else { Duration::ZERO },
            warmup,
            request_timeout: Duration::from_millis(self.request_timeout_ms),
        }
    }

    pub fn job(&self, placement: Placement) -> JobPlan {
        JobPlan {
            placement,
            period: Duration::from_millis(self.job_period_ms),
            window_s: i64::from(self.job_window_days) * 86_400,
        }
    }

    /// Why a row with `in_flight` requests cannot run here, if it cannot.
    pub fn over_cap(&self, in_flight: usize, thread_per_request: bool) -> Option<String> {
        if let Some((cap, why)) = &self.caps.by_fds
            && in_flight as u64 > *cap
        {
            return Some(format!("{in_flight} in flight needs more descriptors than {why} allows ({cap})"));
        }
        let (cap, why) = &self.caps.by_threads;
        (thread_per_request && in_flight as u64 > *cap)
            .then(|| format!("{in_flight} threads in flight is above this machine's safe cap of {cap} ({why})"))
    }

    /// What one run needs at most: a socket per request in flight (in the server and again in
    /// the generator, each its own process), and under `thread-per-request` a thread each.
    /// Rows above the machine's caps are planned as skipped, so these always fit.
    pub fn needs(&self, variants: &[Variant]) -> Needs {
        // The most requests in flight any planned row runs with, descriptor cap applied.
        let planned = self.sweeps().chain([self.clients]).max().unwrap_or(1);
        let in_flight = self.caps.by_fds.as_ref().map_or(planned, |(cap, _)| planned.min(*cap as usize)) as u64;
        let mut needs = Needs::default()
            .fds("a socket per request in flight", in_flight + FDS_BESIDES_CLIENTS)
            .memory("buffers for the client connections", in_flight * 64 * 1024);
        if variants.contains(&Variant::ThreadPerRequest) {
            let cap = self.caps.by_threads.0 as usize;
            let threads = self.sweeps().chain([self.clients]).filter(|&n| n <= cap).max().unwrap_or(1) as u64;
            needs = needs.threads("thread-per-request at its largest load", threads + THREADS_BESIDES_REQUESTS);
        }
        needs
    }

    /// Every swept number of requests in flight.
    pub fn sweeps(&self) -> impl Iterator<Item = usize> + '_ {
        self.sweep.iter().chain(&self.postgres_sweep).chain(&self.remote_sweep).copied()
    }
}

fn positive<T: PartialOrd + Default + std::fmt::Display>(name: &str, value: T) -> Result<T, UsageError> {
    if value > T::default() {
        Ok(value)
    } else {
        Err(UsageError::new(format!("--{name} must be at least 1, got {value}")))
    }
}

fn in_flight_list(name: &str, values: &[usize], default: &[usize]) -> Result<Vec<usize>, UsageError> {
    let mut list = if values.is_empty() { default.to_vec() } else { values.to_vec() };
    list.iter().try_for_each(|&n| in_range(name, n, 1, MAX_IN_FLIGHT).map(drop))?;
    list.sort_unstable();
    list.dedup();
    Ok(list)
}

fn postgres_choice(args: &Args) -> Result<Option<PostgresChoice>, UsageError> {
    let (url, origin) = match (&args.database_url, std::env::var("DATABASE_URL")) {
        (Some(url), _) => (url.clone(), UrlOrigin::Flag),
        (None, Ok(url)) if !url.trim().is_empty() => (url, UrlOrigin::Environment),
        _ => return Ok(None),
    };
    let target = PgTarget::parse(&url, "").map_err(UsageError::new)?;
    let required = std::env::var_os("CASEBOOK_REQUIRE_POSTGRES").is_some_and(|v| !v.is_empty() && v != "0");
    Ok(Some(PostgresChoice {
        password: target.password.clone(),
        server: PgTarget { password: None, ..target },
        origin,
        required,
    }))
}

pub fn resolve(args: &Args, preset: Preset) -> Result<Params, UsageError> {
    const EVERY: &[usize] = &[1, 4, 16, 64, 256, 1024, 4096];
    type Sizes<'a> = (i64, u64, &'a [usize], &'a [usize], &'a [usize], f64, usize);
    let (accounts, duration_ms, sweep, postgres_sweep, remote, rate, repeat): Sizes = match preset {
        Preset::Quick => (10_000, 120, &[64], &[64], &[16], 1000.0, 1),
        // Fewer Postgres points at the default preset: each at thousands in flight takes
        // seconds to reach its steady state.
        Preset::Default => (100_000, 200, EVERY, &[1, 16, 256, 4096], &[1, 16, 256], 5000.0, 3),
        Preset::Full => (1_000_000, 1000, EVERY, EVERY, EVERY, 5000.0, 5),
    };
    let accounts = in_range("accounts", args.accounts.unwrap_or(accounts), 32, 50_000_000)?;
    let orders_per_account = in_range("orders-per-account", args.orders_per_account.unwrap_or(10), 0, 1000)?;
    let mix = args.mix.as_deref().map_or(Ok(Mix::SERVICE), Mix::parse).map_err(UsageError::new)?;
    let duration_ms = in_range("duration-ms", args.duration_ms.unwrap_or(duration_ms), 1, 600_000)?;
    let cores = usable_cores();
    let acquire_timeout =
        Duration::from_millis(positive("acquire-timeout-ms", args.acquire_timeout_ms.unwrap_or(5000))?);
    let pools = |connections| Pools {
        connections,
        pipelines: 1,
        acquire_timeout,
        max_batch: 256,
        busy_timeout: sqlite::BUSY_TIMEOUT,
    };
    let pipelines = positive("pipelines", args.pipelines.unwrap_or(cores as u32))?;
    let pg_pool = positive("pg-pool", args.pg_pool.unwrap_or(2 * cores as u32 + 1))?;
    let sqlite_readers = positive("sqlite-readers", args.sqlite_readers.unwrap_or(cores as u32))?;
    let rate = args.rate.unwrap_or(rate);
    if !(rate.is_finite() && rate > 0.0 && rate <= 1e6) {
        return Err(UsageError::new(format!("--rate must be between 0 and 1,000,000 requests per second, got {rate}")));
    }
    let job_window_days = in_range("job-window-days", args.job_window_days.unwrap_or(30), 1, 365)?;
    let clients = in_range("clients", args.clients.unwrap_or(16), 1, MAX_IN_FLIGHT)?;
    // Every request in flight holds a socket in the server and another in the generator; the
    // harness has raised the descriptor limit, and every run and generator inherits it.
    let readings = Readings::without_probe();
    let by_fds = limits::fd_budget(&readings).map(|budget| {
        let cap = budget.saturating_sub(FDS_BESIDES_CLIENTS + u64::from(pg_pool.max(sqlite_readers + 1)));
        (cap, format!("RLIMIT_NOFILE {}", readings.nofile.unwrap_or_default()))
    });
    let threads = limits::thread_budget(&readings, 2 << 20);
    let by_threads = (threads.units.saturating_sub(THREADS_BESIDES_REQUESTS), threads.set_by);
    Ok(Params {
        tables: if args.tables.is_empty() { clap::ValueEnum::value_variants().to_vec() } else { args.tables.clone() },
        postgres: postgres_choice(args)?,
        dataset: Dataset { seed: 0x005E_EDDB, accounts, orders_per_account },
        mix,
        clients,
        sweep: in_flight_list("in-flight", &args.in_flight, sweep)?,
        postgres_sweep: in_flight_list("in-flight", &args.in_flight, postgres_sweep)?,
        remote_sweep: in_flight_list("remote-in-flight", &args.remote_in_flight, remote)?,
        remote_rtt_us: args.remote_rtt_us.unwrap_or(1000).min(1_000_000),
        duration_ms,
        warmup_ms: (duration_ms / 5).clamp(20, 500),
        request_timeout_ms: 30_000,
        sqlite_pools: pools(sqlite_readers),
        pg_pools: Pools { pipelines, ..pools(pg_pool) },
        workers: cores,
        rate,
        job_period_ms: positive("job-period-ms", args.job_period_ms.unwrap_or(100))?,
        job_window_days,
        caps: Caps { by_fds, by_threads },
        repeat,
        sweep_repeat: if preset == Preset::Quick { 1 } else { repeat - 1 },
    })
}
