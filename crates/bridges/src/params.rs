//! The case's options, and the sizes they resolve to for every run.

use std::time::Duration;

use casebook::{Preset, UsageError, model::plan::in_range, run::limits};
use serde::{Deserialize, Serialize};

use crate::{
    background::JobsSpec,
    book::listings::Pace,
    channels::{Capacity, Direction, guard::MemoryGuard},
    mixing::MixSpec,
};

/// Options of this case, on top of the harness's own.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Args {
    /// Messages each matrix row moves at capacity 16 and above, split evenly among its
    /// producers; rows at capacity 0 and 1, where every message is a hand-off between the
    /// two sides, move a tenth [default: quick 20000, default 500000, full 5000000].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub messages: Option<u64>,
    /// Producers in the many-producer table [default: 4].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub producers: Option<u32>,
    /// The matrix's capacities, comma-separated: 0 (rendezvous), a number, or unbounded
    /// [default: quick 1,1024,unbounded; otherwise 0,1,16,1024,unbounded].
    #[arg(long, value_name = "LIST", value_delimiter = ',', help_heading = "Case")]
    pub capacities: Vec<String>,
    /// Runs the book's example N times faster: its throttle, message gaps and message
    /// timeout divided by N; the intervals source stays at 1 ms [default: quick 10,
    /// otherwise 1, the book's own pace].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub book_speedup: Option<u32>,
    /// How long the drift table's consumer runs, in seconds (the book's defect grows with
    /// it; try 30) [default: quick 0.3, default 2, full 30].
    #[arg(long, value_name = "S", help_heading = "Case")]
    pub drift_secs: Option<f64>,
    /// Bytes each interval carries in the drift table besides its count, standing for a
    /// real message; 0 is the book's plain number [default: 1024].
    #[arg(long, value_name = "BYTES", help_heading = "Case")]
    pub drift_payload: Option<usize>,
    /// Capacity of the bounded fix's channel [default: 1].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub fix_capacity: Option<usize>,
    /// Calls each mixing row makes [default: quick 2000, default 20000, full 100000].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub calls: Option<u32>,
    /// Bytes of the record the sync API checksums per call [default: 256].
    #[arg(long, value_name = "BYTES", help_heading = "Case")]
    pub record_bytes: Option<usize>,
    /// Background jobs the program hands off per run [default: quick 40, default 100, full 400].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub jobs: Option<u32>,
    /// Steps in one background job, each a wait and a ledger write [default: 10].
    #[arg(long, value_name = "N", help_heading = "Case")]
    pub job_steps: Option<u32>,
    /// Length of one job step's wait, in milliseconds [default: 2].
    #[arg(long, value_name = "MS", help_heading = "Case")]
    pub job_step_ms: Option<u64>,
    /// The program's own work between two hand-offs, in milliseconds [default: 1].
    #[arg(long, value_name = "MS", help_heading = "Case")]
    pub hand_off_every_ms: Option<u64>,
    /// Memory an unbounded queue may take before its producer is stopped, in MiB [default:
    /// what the harness allows a run: half of what the machine, or its cgroup, has left].
    #[arg(long, value_name = "MIB", help_heading = "Case")]
    pub memory_guard_mib: Option<u64>,
}

/// The resolved sizes every child run receives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Messages per matrix row at capacity 16 and above, a multiple of `producers` (see
    /// [`Params::messages_at`]).
    pub messages: u64,
    pub producers: u32,
    pub capacities: Vec<Capacity>,
    /// The book table's pace.
    pub book: Pace,
    /// The drift table's pace (the book's, with the payload).
    pub drift: Pace,
    pub drift_for: Duration,
    pub fix_capacity: usize,
    pub mix: MixSpec,
    pub jobs: JobsSpec,
    pub guard: MemoryGuard,
    /// Measured runs per table, by the preset (`--repeat` overrides them all).
    pub repeat: Repeats,
}

/// Each table's default number of measured runs: as few as still decide its claims (the
/// rules need two runs), so the default preset stays near 90 s on two cores.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Repeats {
    pub book: usize,
    pub drift: usize,
    pub matrix: usize,
    pub mixing: usize,
    pub background: usize,
}

/// What a row runs besides its variant.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Spec {
    /// The book's example as printed: `take(20)` and done.
    Book,
    /// The book's consumer left running, with no `take`.
    Drift,
    /// A matrix row: the variant's channel, its producers sending in `direction`.
    Bridge { direction: Direction, capacity: Capacity, producers: u32 },
    /// A mixing or fire-and-forget row: its variant says everything.
    Plain,
}

/// One producer's sequence numbers are `u32`s, and the minimal loop moves every message from one.
const MAX_MESSAGES: u64 = u32::MAX as u64;

/// Rows at capacity 0 and 1 move this many times fewer messages: every message there is a
/// hand-off (a wake-up of the other side, often a context switch), about ten times the cost
/// of a buffered one, and rows of similar length keep the default preset near 90 s while the
/// buffered rows, which the harness-overhead bar is read on, run long enough to time well.
pub const HANDOFF_DIVISOR: u64 = 10;

impl Params {
    /// Messages a matrix row at `capacity` moves.
    pub fn messages_at(&self, capacity: Capacity) -> u64 {
        match capacity {
            Capacity::Bounded(0 | 1) => self.messages / HANDOFF_DIVISOR,
            _ => self.messages,
        }
    }
}

const MAX_CAPACITY: usize = 1 << 24;

/// `0`, a number, or `unbounded`.
pub fn parse_capacity(text: &str) -> Result<Capacity, UsageError> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("unbounded") {
        return Ok(Capacity::Unbounded);
    }
    match text.parse::<usize>() {
        Ok(n) if n <= MAX_CAPACITY => Ok(Capacity::Bounded(n)),
        _ => Err(UsageError::new(format!(
            "--capacities takes 0 (rendezvous), a number up to {MAX_CAPACITY}, or unbounded; got '{text}'"
        ))),
    }
}

pub fn resolve(args: &Args, preset: Preset) -> Result<Params, UsageError> {
    let (messages, speedup, drift_secs, calls, jobs) = match preset {
        Preset::Quick => (20_000, 10, 0.3, 2_000, 40),
        Preset::Default => (500_000, 1, 2.0, 20_000, 100),
        Preset::Full => (5_000_000, 1, 30.0, 100_000, 400),
    };
    let repeat = match preset {
        Preset::Quick => Repeats { book: 2, drift: 2, matrix: 2, mixing: 2, background: 2 },
        Preset::Default => Repeats { book: 2, drift: 2, matrix: 3, mixing: 3, background: 3 },
        Preset::Full => Repeats { book: 5, drift: 3, matrix: 5, mixing: 5, background: 5 },
    };
    let producers = in_range("producers", args.producers.unwrap_or(4), 2, 64)?;
    let messages = in_range("messages", args.messages.unwrap_or(messages), 640, MAX_MESSAGES)?;
    // A multiple of every producer count and of the hand-off divisor, so that every row's
    // producers share its messages evenly.
    let unit = u64::from(producers) * HANDOFF_DIVISOR;
    let messages = messages - messages % unit;
    let mut capacities = match (args.capacities.is_empty(), preset) {
        (false, _) => args.capacities.iter().map(|c| parse_capacity(c)).collect::<Result<Vec<_>, _>>()?,
        (true, Preset::Quick) => vec![Capacity::Bounded(1), Capacity::Bounded(1024), Capacity::Unbounded],
        (true, _) => [0, 1, 16, 1024].map(Capacity::Bounded).into_iter().chain([Capacity::Unbounded]).collect(),
    };
    capacities.dedup();
    let speedup = in_range("book-speedup", args.book_speedup.unwrap_or(speedup), 1, 50)?;
    let drift_secs = in_range("drift-secs", args.drift_secs.unwrap_or(drift_secs), 0.05, 3600.0)?;
    let payload = in_range("drift-payload", args.drift_payload.unwrap_or(1024), 0, 1 << 24)?;
    let fix_capacity = in_range("fix-capacity", args.fix_capacity.unwrap_or(1), 1, 1_000_000)?;
    let calls = in_range("calls", args.calls.unwrap_or(calls), 1, 10_000_000)?;
    let record_bytes = in_range("record-bytes", args.record_bytes.unwrap_or(256), 1, 1 << 20)?;
    let ms = |option, value: Option<u64>, default| {
        in_range(option, value.unwrap_or(default), 0, 10_000).map(Duration::from_millis)
    };
    let jobs = JobsSpec {
        jobs: in_range("jobs", args.jobs.unwrap_or(jobs), 1, 10_000)?,
        steps: in_range("job-steps", args.job_steps.unwrap_or(10), 1, 10_000)?,
        step: ms("job-step-ms", args.job_step_ms, 2)?,
        submit_every: ms("hand-off-every-ms", args.hand_off_every_ms, 1)?,
    };
    let guard = match args.memory_guard_mib {
        Some(mib) => MemoryGuard::fixed(in_range("memory-guard-mib", mib, 1, 1 << 40)? << 20, "--memory-guard-mib"),
        None => MemoryGuard::from_readings(&limits::Readings::without_probe()),
    };
    Ok(Params {
        messages,
        producers,
        capacities,
        book: Pace::faster(speedup),
        drift: Pace { payload_bytes: payload, ..Pace::book() },
        drift_for: Duration::from_secs_f64(drift_secs),
        fix_capacity,
        mix: MixSpec { calls, record_bytes },
        jobs,
        guard,
        repeat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_resolve_and_messages_split_evenly() {
        for preset in [Preset::Quick, Preset::Default, Preset::Full] {
            let p = resolve(&Args::default(), preset).unwrap();
            assert_eq!(p.messages % u64::from(p.producers), 0);
            assert!(p.guard.bytes > 0);
        }
        let p = resolve(&Args { messages: Some(1001), producers: Some(4), ..Args::default() }, Preset::Quick).unwrap();
        // A multiple of 4 producers times the hand-off divisor, so hand-off rows split evenly too.
        assert_eq!(p.messages, 1000);
        assert_eq!(p.messages_at(Capacity::Bounded(1)), 100);
        assert_eq!(p.messages_at(Capacity::Bounded(0)) % 4, 0);
        assert_eq!(p.messages_at(Capacity::Unbounded), 1000);
        assert_eq!(resolve(&Args::default(), Preset::Default).unwrap().book, Pace::book());
    }

    #[test]
    fn capacities_parse_and_bad_ones_are_named() {
        let args = Args { capacities: vec!["0".into(), "16".into(), "Unbounded".into()], ..Args::default() };
        let p = resolve(&args, Preset::Default).unwrap();
        assert_eq!(p.capacities, vec![Capacity::Bounded(0), Capacity::Bounded(16), Capacity::Unbounded]);
        let err = resolve(&Args { capacities: vec!["lots".into()], ..Args::default() }, Preset::Quick).unwrap_err();
        assert!(err.to_string().contains("'lots'"), "{err}");
    }

    #[test]
    fn out_of_range_options_are_usage_errors() {
        for args in [
            Args { messages: Some(0), ..Args::default() },
            Args { producers: Some(1), ..Args::default() },
            Args { drift_secs: Some(0.0), ..Args::default() },
            Args { fix_capacity: Some(0), ..Args::default() },
            Args { jobs: Some(0), ..Args::default() },
            Args { memory_guard_mib: Some(0), ..Args::default() },
        ] {
            assert!(resolve(&args, Preset::Quick).is_err(), "{args:?}");
        }
        let guard = resolve(&Args { memory_guard_mib: Some(3), ..Args::default() }, Preset::Quick).unwrap().guard;
        assert_eq!(guard.bytes, 3 << 20);
    }
}
