//! The case's options, and the sizes they resolve to for every run: the map's two axes,
//! how many requests each run answers, the pool's size, and the CPU calibration.

use casebook::{Needs, Preset, UsageError, model::plan::in_range};
use serde::{Deserialize, Serialize};

use crate::{servers::threads::STACK, service::work, variants::Variant};

/// Every request's budget: its CPU part plus its downstream wait, in µs.
pub const BUDGET_US: u32 = 1000;
/// From this many requests in flight on, a table is about many connections (`async-many-conns`).
pub const MANY_IN_FLIGHT: u32 = 1000;
const MAX_IN_FLIGHT: u64 = 8192;
/// A request's cost beyond its CPU part, over every process on the machine (the clients,
/// the server's reads and writes, the downstream call): used only to size runs.
const OVERHEAD_US: f64 = 60.0;

/// Options of this case, on top of the harness's own.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Args {
    /// CPU per request in µs, the rest of the 1,000 µs budget spent waiting downstream
    /// (comma-separated) [default: quick 10,500; default and full 0,10,100,500,1000].
    #[arg(long, value_name = "US", value_delimiter = ',', help_heading = "Case")]
    pub cpu_us: Vec<u64>,
    /// Requests in flight: client connections, each with one request out at a time
    /// (comma-separated) [default: quick 16,256; default 16,256,1024; full 16,64,256,1024,4096].
    #[arg(long, value_name = "N", value_delimiter = ',', help_heading = "Case")]
    pub in_flight: Vec<u64>,
    /// Requests every run answers, in every cell [default: about a run's length at the
    /// expected rate, and at least one per connection].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub requests: Option<u64>,
    /// Threads of `thread-pool` [default: 16 per usable core].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub pool_threads: Option<u64>,
    /// How long a downstream call may take before the server answers 504, in ms [default: 10000].
    #[arg(long, value_name = "MS", help_heading = "Case")]
    pub downstream_timeout_ms: Option<u64>,
    /// Extra client connections that misbehave beside the well-behaved ones, for the
    /// reliability checks: half send a whole request and reset before the reply, half send
    /// half a request and close [default: 0].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub misbehaving: Option<u64>,
    /// Let the downstream answer only its first N calls and then read every call and answer
    /// none, a downstream that hangs, for the reliability checks [default: answer every call].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub downstream_answers: Option<u64>,
}

/// The resolved sizes every child run receives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    pub cpu_us: Vec<u32>,
    pub in_flight: Vec<u32>,
    /// `--requests`, when given.
    pub requests: Option<u64>,
    /// The length a run is sized for, at the expected rate.
    pub run_s: f64,
    pub cores: usize,
    pub pool_threads: usize,
    pub downstream_timeout_ms: u64,
    /// `--misbehaving`: extra connections that leave mid-request.
    pub misbehaving: u32,
    /// `--downstream-answers`: the downstream goes silent after this many calls.
    #[serde(default)]
    pub downstream_answers: Option<u64>,
    /// The calibration: ns per unit of [`work::crunch`], timed once by the parent.
    pub unit_ns: f64,
}

/// What a row runs besides its variant: its cell of the map.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub in_flight: u32,
    pub cpu_us: u32,
    pub requests: u64,
    /// Extra connections that vanish after a whole request (`vanish`) or close after half of
    /// one (`cut`): the server must answer everyone else regardless.
    pub vanish: u32,
    pub cut: u32,
}

impl Params {
    /// Units of work that make `cpu_us` µs here.
    pub fn units(&self, cpu_us: u32) -> u32 {
        work::units_for(cpu_us, self.unit_ns)
    }

    /// Requests per second a cell can reach: the lower of what the waits allow (`in_flight`
    /// per budget) and what the cores allow. Used only to size runs.
    pub fn expected_rate(&self, cpu_us: u32, in_flight: u32) -> f64 {
        let by_waits = f64::from(in_flight) * 1e6 / f64::from(BUDGET_US);
        let by_cores = self.cores as f64 * 1e6 / (f64::from(cpu_us) + OVERHEAD_US);
        by_waits.min(by_cores)
    }

    /// Requests for one run of a cell: about `run_s` at [`Params::expected_rate`], and at
    /// least one per connection, so every connection has a request in flight at the go.
    pub fn requests_for(&self, cpu_us: u32, in_flight: u32) -> u64 {
        if let Some(requests) = self.requests {
            return requests;
        }
        let sized = (self.expected_rate(cpu_us, in_flight) * self.run_s).round() as u64;
        sized.max(u64::from(in_flight)).max(100)
    }

    pub fn spec(&self, cpu_us: u32, in_flight: u32) -> Spec {
        let vanish = self.misbehaving.div_ceil(2);
        Spec {
            in_flight,
            cpu_us,
            requests: self.requests_for(cpu_us, in_flight),
            vanish,
            cut: self.misbehaving - vanish,
        }
    }
}

pub fn resolve(args: &Args, preset: Preset) -> Result<Params, UsageError> {
    // The default's top level is 1024, not 4096. Every connection sends at least one request,
    // so a run at 4096 in flight and 1 ms of CPU is 4096 ms of CPU, two seconds on two cores;
    // with a warm-up and 5 runs of every variant at every CPU point, and thousands of
    // connections opened for each run, that table alone takes longer than the three minutes
    // the default map must fit in (at 2048 the default took 187 s on a 2-core AMD EPYC VM).
    // The full preset keeps 4096.
    let (cpu_us, in_flight, run_s): (&[u64], &[u64], f64) = match preset {
        Preset::Quick => (&[10, 500], &[16, 256], 0.05),
        Preset::Default => (&[0, 10, 100, 500, 1000], &[16, 256, 1024], 0.08),
        Preset::Full => (&[0, 10, 100, 500, 1000], &[16, 64, 256, 1024, 4096], 0.5),
    };
    let cpu_us = points("cpu-us", &args.cpu_us, cpu_us, 0, u64::from(BUDGET_US))?;
    let in_flight = points("in-flight", &args.in_flight, in_flight, 1, MAX_IN_FLIGHT)?;
    let requests = args.requests.map(|r| in_range("requests", r, 1, 100_000_000)).transpose()?;
    let cores = casebook::host::cpus::usable_cores();
    let pool_threads = in_range("pool-threads", args.pool_threads.unwrap_or(16 * cores as u64), 1, 10_000)? as usize;
    let downstream_timeout_ms =
        in_range("downstream-timeout-ms", args.downstream_timeout_ms.unwrap_or(10_000), 1, 600_000)?;
    let misbehaving = in_range("misbehaving", args.misbehaving.unwrap_or(0), 0, 1000)? as u32;
    let downstream_answers =
        args.downstream_answers.map(|n| in_range("downstream-answers", n, 0, 100_000_000)).transpose()?;
    Ok(Params {
        cpu_us,
        in_flight,
        requests,
        run_s,
        cores,
        pool_threads,
        downstream_timeout_ms,
        misbehaving,
        downstream_answers,
        unit_ns: work::calibrate(),
    })
}

/// What one run needs at the most requests in flight: a descriptor per connection and per
/// downstream connection, and for `thread-per-connection` a thread per connection. A plan
/// past this machine's limits is refused before anything runs.
pub fn needs(params: &Params, variants: &[Variant]) -> Needs {
    let n = u64::from(params.in_flight.iter().copied().max().unwrap_or(0));
    let pool = params.pool_threads as u64;
    let fds =
        variants.iter().map(|v| v.fds_per_connection() * n + if *v == Variant::ThreadPool { pool } else { 0 }).max();
    let mut needs = Needs::default();
    if let Some(fds) = fds {
        needs = needs.fds(format!("{n} connections in flight, each with its downstream connection"), fds);
    }
    if variants.contains(&Variant::ThreadPerConnection) {
        needs = needs.threads_with_stack(format!("thread-per-connection at {n} in flight"), n + 8, STACK as u64);
    } else if variants.contains(&Variant::ThreadPool) {
        needs = needs.threads_with_stack(format!("thread-pool's {pool} threads"), pool + 8, STACK as u64);
    }
    needs
}

/// A list option's points, sorted, each in range, none twice; the preset's when not given.
fn points(option: &str, given: &[u64], preset: &[u64], low: u64, high: u64) -> Result<Vec<u32>, UsageError> {
    let mut points = if given.is_empty() { preset.to_vec() } else { given.to_vec() };
    for point in &points {
        in_range(option, *point, low, high)?;
    }
    points.sort_unstable();
    if points.windows(2).any(|w| w[0] == w[1]) {
        return Err(UsageError::new(format!("--{option} lists a point twice")));
    }
    Ok(points.into_iter().map(|p| p as u32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(args: Args) -> Result<Params, UsageError> {
        resolve(&args, Preset::Default)
    }

    #[test]
    fn runs_are_sized_to_the_rate_a_cell_can_reach_and_one_request_per_connection() {
        let mut p = params(Args::default()).unwrap();
        p.cores = 2;
        // 16 in flight, waits dominate: 16 per ms, for the default's 0.08 s.
        assert_eq!(p.requests_for(10, 16), 1280);
        // 4096 in flight at 1 ms of CPU: one request per connection.
        assert_eq!(p.requests_for(1000, 4096), 4096);
        p.requests = Some(500);
        assert_eq!(p.requests_for(1000, 4096), 500);
    }

    #[test]
    fn bad_points_are_refused() {
        assert!(params(Args { in_flight: vec![0], ..Args::default() }).is_err());
        assert!(params(Args { cpu_us: vec![1001], ..Args::default() }).is_err());
        assert!(params(Args { cpu_us: vec![10, 10], ..Args::default() }).is_err());
        let p = params(Args { cpu_us: vec![500, 0], ..Args::default() }).unwrap();
        assert_eq!(p.cpu_us, [0, 500]);
    }
}
