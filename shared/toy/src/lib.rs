//! A deliberately tiny case that exists to test the harness itself: it can be told to give a
//! wrong answer, fail, hang, litter, leave a grandchild process running, skip rows, start a
//! load generator, or panic, so the harness tests can prove that each is caught, reported
//! and cleaned up, not hidden.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use casebook::{
    Case, CaseInfo, ClaimResult, Column, Ctx, Figure, Format, GenCtx, Hist, LoadSpec, Needs, Note, Plan, Preset,
    Report, Row, Setup, Table, TableId, UsageError, stats::latency,
};
use serde::{Deserialize, Serialize};

pub struct Toy;

#[derive(Clone, Debug, clap::Args)]
pub struct Args {
    /// Sum the integers below this.
    #[arg(long, default_value_t = 100_000)]
    n: u64,
    /// Make the `formula` variant off by one.
    #[arg(long)]
    wrong: bool,
    /// Make the `formula` variant fail with an error.
    #[arg(long)]
    fail: bool,
    /// Make the `formula` variant panic.
    #[arg(long)]
    panic: bool,
    /// Sleep this long inside every measured region.
    #[arg(long, default_value_t = 0)]
    sleep_ms: u64,
    /// Leave a file in the scratch directory.
    #[arg(long)]
    litter: bool,
    /// Forget to call ctx.measure.
    #[arg(long)]
    no_measure: bool,
    /// Record a NaN figure.
    #[arg(long)]
    nan: bool,
    /// Start a `sleep 600` from each run and write its pid into this directory.
    #[arg(long, value_name = "DIR")]
    grandchild: Option<PathBuf>,
    /// Start the `--grandchild` the way a case starts a peer tool: tied to the run, so it dies
    /// with it however the run ends.
    #[arg(long)]
    tied: bool,
    /// Append a line to this file when the set-up's fixture is torn down.
    #[arg(long, value_name = "PATH")]
    teardown_log: Option<PathBuf>,
    /// Panic in the set-up after it built part of its fixture.
    #[arg(long)]
    panic_in_setup: bool,
    /// Panic while deciding the claims, after every run is done.
    #[arg(long)]
    panic_in_claims: bool,
    /// The set-up skips the `formula` rows.
    #[arg(long)]
    skip_in_setup: bool,
    /// The `formula` rows skip themselves at run time.
    #[arg(long)]
    skip_in_child: bool,
    /// Every run starts a load generator that records latencies.
    #[arg(long)]
    load: bool,
    /// Declare a need for this many bytes of memory per run.
    #[arg(long, value_name = "BYTES")]
    need_bytes: Option<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Params {
    n: u64,
    wrong: bool,
    fail: bool,
    panic: bool,
    sleep_ms: u64,
    litter: bool,
    no_measure: bool,
    nan: bool,
    grandchild: Option<PathBuf>,
    tied: bool,
    teardown_log: Option<PathBuf>,
    panic_in_setup: bool,
    panic_in_claims: bool,
    skip_in_setup: bool,
    skip_in_child: bool,
    load: bool,
    need_bytes: Option<u64>,
}

/// What the set-up hands every run: typed, not a path to parse.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Shared {
    input: PathBuf,
    magic: u64,
}

/// The load generator's parameters.
#[derive(Debug, Serialize, Deserialize)]
struct LoadParams {
    requests: u64,
}

casebook::variants! {
    pub enum Variant {
        Loop = "loop" (Sequential): "adds the numbers one by one",
        Formula = "formula" (Threads): "uses n(n-1)/2 on a scoped thread",
    }
}

pub const SUM: TableId = TableId::new("sum");
const REQUESTS: Figure = Figure::new("requests", Format::Count);
const LATENCY: Hist = Hist::micros("latency");
const HOW: Note = Note::new("how");

/// Appends to the teardown log when dropped: the proof that the harness tore the fixture down.
struct Teardown(Option<PathBuf>);

impl Drop for Teardown {
    fn drop(&mut self) {
        if let Some(path) = &self.0
            && let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path)
        {
            let _ = writeln!(file, "torn down");
        }
    }
}

impl Case for Toy {
    type Args = Args;
    type Params = Params;
    type Shared = Shared;
    type Variant = Variant;
    type Spec = ();

    const INFO: CaseInfo = CaseInfo {
        name: "casebook-toy",
        question: "Does the harness catch a wrong, failed or hung variant?",
        claims: &[],
    };

    fn params(args: &Args, _preset: Preset) -> Result<Params, UsageError> {
        if args.n == 0 {
            return Err(UsageError::new("--n must be at least 1"));
        }
        if args.n > 1 << 32 {
            return Err(UsageError::new("--n must be at most 2^32, so the sum fits in 64 bits"));
        }
        let a = args.clone();
        Ok(Params {
            n: a.n,
            wrong: a.wrong,
            fail: a.fail,
            panic: a.panic,
            sleep_ms: a.sleep_ms,
            litter: a.litter,
            no_measure: a.no_measure,
            nan: a.nan,
            grandchild: a.grandchild,
            tied: a.tied,
            teardown_log: a.teardown_log,
            panic_in_setup: a.panic_in_setup,
            panic_in_claims: a.panic_in_claims,
            skip_in_setup: a.skip_in_setup,
            skip_in_child: a.skip_in_child,
            load: a.load,
            need_bytes: a.need_bytes,
        })
    }

    fn needs(params: &Params, _variants: &[Variant]) -> Needs {
        match params.need_bytes {
            Some(bytes) => Needs::default().memory("the toy's pretend buffer", bytes),
            None => Needs::default(),
        }
    }

    fn plan(_params: &Params, variants: &[Variant]) -> Vec<Table> {
        let mut table = Table::new(SUM, "Sum of 0..n");
        table.rows = variants.iter().map(|v| Row::new(*v, ())).collect();
        table.baseline_if_present(Variant::Loop);
        table.columns.push(Column::p99(LATENCY));
        table.columns.push(Column::p999(LATENCY));
        table.columns.push(Column::note("how", HOW));
        vec![table]
    }

    // ANCHOR: setup
    /// Writes the input once; every run reads it, which proves children see the fixture.
    fn setup(params: &Params, plan: &mut Plan, dir: &Path) -> anyhow::Result<Setup<Shared>> {
        let teardown = Teardown(params.teardown_log.clone());
        let input = dir.join("n.txt");
        std::fs::write(&input, params.n.to_string())?;
        if params.panic_in_setup {
            panic!("the toy's set-up was told to panic");
        }
        if params.skip_in_setup {
            plan.skip_where(|_, row| row.is(&Variant::Formula.into()), "the set-up found no formula here");
        }
        Ok(Setup::new(Shared { input, magic: 42 }).owning(teardown))
    }
    // ANCHOR_END: setup

    fn run(params: &Params, shared: &Shared, variant: Variant, _spec: (), ctx: &mut Ctx) -> anyhow::Result<()> {
        anyhow::ensure!(shared.magic == 42, "the shared facts did not arrive");
        if params.skip_in_child && variant == Variant::Formula {
            ctx.skip("the formula found it cannot run here");
            return Ok(());
        }
        if params.litter {
            std::fs::write(ctx.scratch().join("litter.txt"), b"left behind")?;
        }
        if let Some(dir) = &params.grandchild {
            let mut command = std::process::Command::new("sleep");
            if params.tied {
                casebook::run::process::tie_to_run(&mut command);
            }
            let child = command.arg("600").spawn()?;
            std::fs::write(dir.join(format!("grandchild-{}", child.id())), child.id().to_string())?;
        }
        let n: u64 = std::fs::read_to_string(&shared.input)?.trim().parse()?;
        if params.nan {
            ctx.figure(Figure::new("broken", Format::Count), f64::NAN);
        }
        if params.no_measure {
            ctx.digest("0");
            return Ok(());
        }
        // ANCHOR: start_load
        let mut load = if params.load { Some(ctx.start_load(&LoadParams { requests: 200 })?) } else { None };
        let sum = ctx.measure(|| -> anyhow::Result<u64> {
            if let Some(load) = &mut load {
                load.go()?;
            }
            std::thread::sleep(std::time::Duration::from_millis(params.sleep_ms));
            match variant {
                Variant::Loop => Ok((0..n).fold(0u64, |acc, x| acc.wrapping_add(std::hint::black_box(x)))),
                Variant::Formula if params.fail => anyhow::bail!("formula was told to fail"),
                Variant::Formula if params.panic => panic!("formula was told to panic"),
                Variant::Formula => {
                    let sum = std::thread::scope(|s| s.spawn(|| n * (n - 1) / 2).join()).unwrap_or(0);
                    Ok(if params.wrong { sum + 1 } else { sum })
                }
            }
        })?;
        if let Some(load) = load {
            load.finish(ctx)?;
        }
        // ANCHOR_END: start_load
        ctx.note(HOW, if variant == Variant::Loop { "added" } else { "multiplied" });
        ctx.digest(sum.to_string());
        Ok(())
    }

    // ANCHOR: load
    /// Pretends to send requests: records a known latency distribution with a tail.
    fn load(_params: &Params, _shared: &Shared, spec: &LoadSpec, generator: &mut GenCtx) -> anyhow::Result<()> {
        let load: LoadParams = spec.decode()?;
        generator.ready()?;
        if !generator.wait_go() {
            return Ok(());
        }
        let mut histogram = latency::histogram();
        for i in 0..load.requests {
            histogram.record(if i % 100 == 99 { 5_000 } else { 100 + i % 7 })?;
        }
        generator.histogram(LATENCY, &histogram)?;
        generator.figure(REQUESTS, load.requests as f64);
        Ok(())
    }
    // ANCHOR_END: load

    fn claims(params: &Params, _report: &Report) -> Vec<ClaimResult> {
        if params.panic_in_claims {
            panic!("the toy's claims were told to panic");
        }
        Vec::new()
    }
}
