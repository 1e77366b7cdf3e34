//! `casebook advise`: from "my workload looks like this" to a model, read off the reports
//! measured on this machine. The request-mix map is the core: a request's CPU share of its
//! time and the requests in flight place it in a cell, whose winner, margin and tails the
//! advice quotes; the neighbouring cells say whether the answer is about to flip. Claims of
//! other cases that bear on the workload (a blocking C library) are quoted with their outcome.
//! Nothing here is a rule of thumb typed by hand: every sentence carries a measured figure
//! or says that none was measured.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::{
    host::machine::Machine,
    model::{claims::ClaimId, format::Format, plan::UsageError},
    report::{
        Report,
        map::{Cell, maps},
    },
    tool::workspace::Workspace,
};

/// The request-mix map's budget: a request's CPU and its wait add up to this many µs.
const BUDGET_US: f64 = 1000.0;

#[derive(Debug, clap::Args)]
pub struct AdviseArgs {
    /// CPU work per request, in µs (hashing, parsing, rendering: time on a core).
    #[arg(long, value_name = "US")]
    pub cpu_us: f64,
    /// Time per request spent waiting on something else (a database, another service, a
    /// disk), in µs.
    #[arg(long, value_name = "US")]
    pub wait_us: f64,
    /// Requests being served at once at peak.
    #[arg(long, value_name = "N")]
    pub in_flight: Option<u64>,
    /// Open client connections at peak, each with at most one request in flight (sets
    /// --in-flight when that is not given).
    #[arg(long, value_name = "N")]
    pub connections: Option<u64>,
    /// The work calls a blocking C library with no async bindings.
    #[arg(long)]
    pub blocking_c: bool,
    /// The p99 latency the service must keep, in ms: variants whose measured p99 exceeds it
    /// in the cell are set aside.
    #[arg(long, value_name = "MS")]
    pub latency_target_ms: Option<f64>,
    /// Print the advice as JSON.
    #[arg(long)]
    pub json: bool,
    /// A directory of reports [default: this machine's set in docs/src/results, else
    /// target/casebook].
    #[arg(long, value_name = "DIR")]
    pub reports: Option<PathBuf>,
}

/// The workload, checked: a cell of the map to look up.
#[derive(Debug, Serialize)]
struct Workload {
    cpu_us: f64,
    wait_us: f64,
    in_flight: u64,
    /// The CPU part scaled to the map's 1 ms budget.
    cpu_of_budget_us: f64,
}

#[derive(Debug, Serialize)]
struct Advice {
    workload: Workload,
    reports: String,
    machine: String,
    /// The measured cell nearest the workload.
    cell: CellAdvice,
    /// The cells beside it whose winner differs: where the answer flips.
    flips_nearby: Vec<String>,
    /// Claims of other cases that bear on the workload.
    notes: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Ranked {
    variant: String,
    model: String,
    requests_per_s: f64,
    p99_us: Option<f64>,
}

#[derive(Debug, Serialize)]
struct CellAdvice {
    cpu_us: f64,
    in_flight: f64,
    /// Every variant that ran there, best first.
    ranking: Vec<Ranked>,
    choice: Option<String>,
    margin: String,
    why: String,
}

fn workload(args: &AdviseArgs) -> Result<Workload, UsageError> {
    for (name, value) in [("--cpu-us", args.cpu_us), ("--wait-us", args.wait_us)] {
        if !value.is_finite() || value < 0.0 {
            return Err(UsageError::new(format!("{name} must be a number of µs, 0 or more, got {value}")));
        }
    }
    if args.cpu_us + args.wait_us <= 0.0 {
        return Err(UsageError::new(
            "a request with no CPU and no wait takes no time: give --cpu-us or --wait-us above 0",
        ));
    }
    let in_flight = match (args.in_flight, args.connections) {
        (Some(n), Some(c)) if n > c => {
            return Err(UsageError::new(format!(
                "--in-flight {n} is more than --connections {c}: the map measures at most one request in flight per connection"
            )));
        }
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => return Err(UsageError::new("give --in-flight (or --connections): how many requests at once")),
    };
    if in_flight == 0 {
        return Err(UsageError::new("--in-flight must be 1 or more"));
    }
    if let Some(target) = args.latency_target_ms {
        let floor_ms = (args.cpu_us + args.wait_us) / 1000.0;
        if !target.is_finite() || target <= floor_ms {
            return Err(UsageError::new(format!(
                "--latency-target-ms {target} cannot be met by any model: one request alone takes {floor_ms} ms of CPU and waiting"
            )));
        }
    }
    let cpu_of_budget_us = args.cpu_us / (args.cpu_us + args.wait_us) * BUDGET_US;
    Ok(Workload { cpu_us: args.cpu_us, wait_us: args.wait_us, in_flight, cpu_of_budget_us })
}

/// Where the reports are: the option, else this machine's set in the book, else target/.
fn reports_dir(args: &AdviseArgs) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &args.reports {
        return Ok(dir.clone());
    }
    let workspace = Workspace::find()?;
    let set = workspace.book().join("results").join(Machine::detect().label());
    Ok(if set.join("request-mix.json").exists() { set } else { workspace.reports() })
}

fn load(dir: &Path, case: &str) -> anyhow::Result<Option<Report>> {
    let path = dir.join(format!("{case}.json"));
    if !path.exists() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Report::from_json(&bytes).map(Some).with_context(|| format!("{} is not a report", path.display()))
}

/// The measured value nearest `value`: linear for the CPU axis, by ratio for in flight.
fn nearest(values: &[f64], value: f64, by_ratio: bool) -> Option<f64> {
    let distance = |x: f64| if by_ratio { (x.max(1.0) / value.max(1.0)).ln().abs() } else { (x - value).abs() };
    values.iter().copied().min_by(|a, b| distance(*a).total_cmp(&distance(*b)))
}

fn advise_cell(cell: &Cell, target_us: Option<f64>) -> CellAdvice {
    let ranking = cell
        .ranking
        .iter()
        .map(|e| Ranked {
            variant: e.variant.clone(),
            model: e.model.to_string(),
            requests_per_s: e.value,
            p99_us: e.tail,
        })
        .collect();
    let within = |tail: Option<f64>| target_us.is_none_or(|t| tail.is_some_and(|p| p <= t));
    let fit: Vec<&crate::report::map::Entry> = cell.ranking.iter().filter(|e| within(e.tail)).collect();
    let p99 = |tail: Option<f64>| tail.map(|t| Format::Micros.show(t)).unwrap_or_else(|| "not measured".into());
    let (choice, why) = match (fit.first(), target_us) {
        (None, Some(t)) => (None, format!("no variant kept its p99 under {} in this cell", Format::Micros.show(t))),
        (None, None) => (None, "no variant ran in this cell".into()),
        (Some(best), _) if Some(best.variant.as_str()) == cell.winner.as_ref().map(|w| w.variant.as_str()) => (
            Some(best.variant.clone()),
            format!(
                "{} ({}) answered the most requests per second here, {}, with a p99 of {}",
                best.variant,
                best.model,
                Format::Rate.show(best.value),
                p99(best.tail)
            ),
        ),
        (Some(best), _) => (
            Some(best.variant.clone()),
            format!(
                "{} ({}) is the fastest that keeps the latency target: {}, p99 {}; the fastest overall, {}, had a p99 of {}",
                best.variant,
                best.model,
                Format::Rate.show(best.value),
                p99(best.tail),
                cell.winner.as_ref().map(|w| w.variant.as_str()).unwrap_or("-"),
                p99(cell.winner.as_ref().and_then(|w| w.tail))
            ),
        ),
    };
    CellAdvice { cpu_us: cell.x, in_flight: cell.y, ranking, choice, margin: cell.verdict(), why }
}

pub fn advise(args: &AdviseArgs) -> anyhow::Result<i32> {
    let workload = workload(args)?;
    let dir = reports_dir(args)?;
    let Some(mix) = load(&dir, "request-mix")? else {
        anyhow::bail!(
            "no request-mix report in {}: measure the map on this machine first with `just run request-mix` (or `just report request-mix`)",
            dir.display()
        );
    };
    let map = maps(&mix).into_iter().next().context("the request-mix report holds no map")?;
    let (Some(x), Some(y)) =
        (nearest(&map.xs, workload.cpu_of_budget_us, false), nearest(&map.ys, workload.in_flight as f64, true))
    else {
        anyhow::bail!("the request-mix report's map has no cells: every row failed or was skipped");
    };
    let cell = map.cell(x, y).context("the nearest cell of the map did not run")?;
    let target_us = args.latency_target_ms.map(|ms| ms * 1000.0);
    let advice_cell = advise_cell(cell, target_us);
    let mut flips_nearby = Vec::new();
    let neighbours = |values: &[f64], at: f64| -> Vec<f64> {
        let i = values.iter().position(|v| *v == at).unwrap_or(0);
        [i.checked_sub(1), Some(i + 1)].into_iter().flatten().filter_map(|j| values.get(j).copied()).collect()
    };
    let winner = |c: &Cell| c.clear_winner().map(|w| w.variant.clone());
    for nx in neighbours(&map.xs, x) {
        if let Some(other) = map.cell(nx, y)
            && winner(other) != winner(cell)
        {
            flips_nearby.push(format!("at {nx} µs of CPU per 1 ms ({y} in flight): {}", other.verdict()));
        }
    }
    for ny in neighbours(&map.ys, y) {
        if let Some(other) = map.cell(x, ny)
            && winner(other) != winner(cell)
        {
            flips_nearby.push(format!("at {ny} in flight ({x} µs of CPU per 1 ms): {}", other.verdict()));
        }
    }
    let mut notes = Vec::new();
    if args.blocking_c {
        notes.extend(claim_notes(&dir, &[ClaimId::ThreadsBlockingC, ClaimId::SpawnBlocking])?);
    }
    let advice = Advice {
        workload,
        reports: dir.display().to_string(),
        machine: mix.env.line_without_date(),
        cell: advice_cell,
        flips_nearby,
        notes,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&advice)?);
    } else {
        print!("{}", text(&advice));
    }
    Ok(0)
}

/// What the other cases' reports say about these claims, one line per reading.
fn claim_notes(dir: &Path, ids: &[ClaimId]) -> anyhow::Result<Vec<String>> {
    let mut notes = Vec::new();
    for case in ["db-queries", "file-pipeline", "spawn-costs", "parallel-math", "cancellation", "bridges", "game-loop"]
    {
        let Some(report) = load(dir, case)? else { continue };
        for claim in report.claims.iter().filter(|c| ids.contains(&c.id)) {
            let reading = claim.reading.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
            notes.push(format!("{case}: `{}`{reading} {}: {}", claim.id, claim.standing(), claim.evidence));
        }
    }
    if notes.is_empty() {
        notes.push(format!(
            "no report in {} tests a blocking C library: run `just run db-queries` (its blocking SQLite rows) to measure it",
            dir.display()
        ));
    }
    Ok(notes)
}

fn text(a: &Advice) -> String {
    let w = &a.workload;
    let c = &a.cell;
    let mut out = format!(
        "Your request: {} µs of CPU and {} µs of waiting, {} in flight: {:.0} µs of CPU per 1 ms.\n",
        w.cpu_us, w.wait_us, w.in_flight, w.cpu_of_budget_us
    );
    out += &format!(
        "Nearest measured cell: {} µs of CPU per 1 ms at {} in flight (reports in {}; {}).\n\n",
        c.cpu_us, c.in_flight, a.reports, a.machine
    );
    out += &match &c.choice {
        Some(choice) => format!("Choose: {choice}. {}.\nMargin: {}.\n", c.why, c.margin),
        None => format!("No choice: {}.\n", c.why),
    };
    out += "\nEvery variant in that cell, best first:\n";
    for r in &c.ranking {
        let p99 = r.p99_us.map(|t| Format::Micros.show(t)).unwrap_or_else(|| "-".into());
        out += &format!("  {:<22} {:<8} {:>10}  p99 {p99}\n", r.variant, r.model, Format::Rate.show(r.requests_per_s));
    }
    if a.flips_nearby.is_empty() {
        out += "\nThe neighbouring cells have the same winner: the answer is not about to flip.\n";
    } else {
        out += "\nThe answer flips nearby:\n";
        for flip in &a.flips_nearby {
            out += &format!("  {flip}\n");
        }
    }
    if !a.notes.is_empty() {
        out += "\nA blocking C library:\n";
        for note in &a.notes {
            out += &format!("  {note}\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(cpu: f64, wait: f64, in_flight: Option<u64>, connections: Option<u64>) -> AdviseArgs {
        AdviseArgs {
            cpu_us: cpu,
            wait_us: wait,
            in_flight,
            connections,
            blocking_c: false,
            latency_target_ms: None,
            json: false,
            reports: None,
        }
    }

    #[test]
    fn a_workload_is_scaled_to_the_maps_budget() {
        let w = workload(&args(200.0, 800.0, Some(256), None)).unwrap();
        assert_eq!((w.cpu_of_budget_us, w.in_flight), (200.0, 256));
        let w = workload(&args(50.0, 4950.0, None, Some(4000))).unwrap();
        assert_eq!((w.cpu_of_budget_us, w.in_flight), (10.0, 4000));
    }

    #[test]
    fn bad_and_contradictory_workloads_are_usage_errors() {
        assert!(workload(&args(-1.0, 10.0, Some(1), None)).is_err());
        assert!(workload(&args(0.0, 0.0, Some(1), None)).is_err());
        assert!(workload(&args(f64::NAN, 10.0, Some(1), None)).is_err());
        assert!(workload(&args(10.0, 10.0, None, None)).is_err());
        assert!(workload(&args(10.0, 10.0, Some(0), None)).is_err());
        assert!(workload(&args(10.0, 10.0, Some(100), Some(10))).is_err());
        let mut late = args(100.0, 5000.0, Some(16), None);
        late.latency_target_ms = Some(5.0);
        let error = workload(&late).unwrap_err().to_string();
        assert!(error.contains("cannot be met"), "{error}");
    }

    fn entry(variant: &str, model: crate::Model, value: f64, tail: f64) -> crate::report::map::Entry {
        crate::report::map::Entry { variant: variant.into(), model, value, tail: Some(tail) }
    }

    #[test]
    fn a_latency_target_sets_aside_the_fastest_when_its_tail_is_too_long() {
        let fast = entry("tokio-inline", crate::Model::Async, 2000.0, 40_000.0);
        let steady = entry("tokio-rayon", crate::Model::Hybrid, 1500.0, 9_000.0);
        let cell = Cell {
            x: 500.0,
            y: 256.0,
            table: "in-flight-256".into(),
            ranking: vec![fast.clone(), steady.clone()],
            winner: Some(fast),
            runner_up: Some(steady),
            separated: crate::Outcome::Held,
            margin: None,
            tail_warning: true,
        };
        assert_eq!(advise_cell(&cell, None).choice.as_deref(), Some("tokio-inline"));
        let within = advise_cell(&cell, Some(10_000.0));
        assert_eq!(within.choice.as_deref(), Some("tokio-rayon"));
        assert!(within.why.contains("fastest overall, tokio-inline"), "{}", within.why);
        assert_eq!(advise_cell(&cell, Some(5_000.0)).choice, None);
    }

    #[test]
    fn the_nearest_level_in_flight_is_by_ratio_and_cpu_by_difference() {
        assert_eq!(nearest(&[16.0, 256.0, 4096.0], 1000.0, true), Some(256.0));
        assert_eq!(nearest(&[16.0, 256.0, 4096.0], 2100.0, true), Some(4096.0));
        assert_eq!(nearest(&[0.0, 10.0, 100.0, 500.0, 1000.0], 260.0, false), Some(100.0));
    }
}
