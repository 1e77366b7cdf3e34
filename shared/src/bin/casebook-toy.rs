//! A deliberately tiny case that exists to test the harness itself: it can be told to give a
//! wrong answer, fail, hang or litter its scratch directory, so the harness tests can prove
//! that each of those is caught and reported, not hidden.

use casebook::{Case, CaseInfo, ClaimResult, Ctx, Model, Point, Preset, Report, Row, Table, UsageError, Variant};
use serde::{Deserialize, Serialize};

struct Toy;

#[derive(Clone, Debug, clap::Args)]
struct Args {
    /// Sum the integers below this.
    #[arg(long, default_value_t = 100_000)]
    n: u64,
    /// Make the `formula` variant off by one.
    #[arg(long)]
    wrong: bool,
    /// Make the `formula` variant fail with an error.
    #[arg(long)]
    fail: bool,
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
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Params {
    n: u64,
    wrong: bool,
    fail: bool,
    sleep_ms: u64,
    litter: bool,
    no_measure: bool,
    nan: bool,
}

impl Case for Toy {
    type Args = Args;
    type Params = Params;

    const INFO: CaseInfo = CaseInfo {
        name: "casebook-toy",
        question: "Does the harness catch a wrong, failed or hung variant?",
        claims: &[],
        variants: &[
            Variant { name: "loop", model: Model::Sequential, why: "adds the numbers one by one" },
            Variant { name: "formula", model: Model::Threads, why: "uses n(n-1)/2 on a scoped thread" },
        ],
    };

    fn params(args: &Args, _preset: Preset) -> Result<Params, UsageError> {
        if args.n == 0 {
            return Err(UsageError::new("--n must be at least 1"));
        }
        if args.n > 1 << 32 {
            return Err(UsageError::new("--n must be at most 2^32, so the sum fits in 64 bits"));
        }
        Ok(Params {
            n: args.n,
            wrong: args.wrong,
            fail: args.fail,
            sleep_ms: args.sleep_ms,
            litter: args.litter,
            no_measure: args.no_measure,
            nan: args.nan,
        })
    }

    /// Writes the input once; every run reads it, which proves children see the fixture.
    fn setup(params: &Params, fixture: &std::path::Path) -> anyhow::Result<()> {
        std::fs::write(fixture.join("n.txt"), params.n.to_string())?;
        Ok(())
    }

    fn plan(_params: &Params, variants: &[&'static Variant]) -> Vec<Table> {
        let mut table = Table::new("sum", "Sum of 0..n");
        table.baseline = variants.iter().any(|v| v.name == "loop").then(|| "loop".to_string());
        table.rows = variants.iter().map(|v| Row::new(v, serde_json::Value::Null)).collect();
        vec![table]
    }

    fn run(params: &Params, point: &Point, ctx: &mut Ctx) -> anyhow::Result<()> {
        if params.litter {
            std::fs::write(ctx.scratch().join("litter.txt"), b"left behind")?;
        }
        let n: u64 = std::fs::read_to_string(ctx.fixture().join("n.txt"))?.trim().parse()?;
        if params.nan {
            ctx.figure("broken", f64::NAN);
        }
        if params.no_measure {
            ctx.digest("0");
            return Ok(());
        }
        let sum = ctx.measure(|| -> anyhow::Result<u64> {
            std::thread::sleep(std::time::Duration::from_millis(params.sleep_ms));
            match point.variant.as_str() {
                "loop" => Ok((0..n).fold(0u64, |acc, x| acc.wrapping_add(std::hint::black_box(x)))),
                "formula" if params.fail => anyhow::bail!("formula was told to fail"),
                "formula" => {
                    let sum = std::thread::scope(|s| s.spawn(|| n * (n - 1) / 2).join()).unwrap_or(0);
                    Ok(if params.wrong { sum + 1 } else { sum })
                }
                other => anyhow::bail!("unknown variant {other}"),
            }
        })?;
        ctx.digest(sum.to_string());
        Ok(())
    }

    fn claims(_report: &Report) -> Vec<ClaimResult> {
        Vec::new()
    }
}

fn main() {
    casebook::main::<Toy>()
}
