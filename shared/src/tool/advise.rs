//! `casebook advise`: from "my workload looks like this" to a model, read off measured
//! reports. The request-mix map is the core: a request's CPU share of its time and the
//! requests in flight place it in a cell, whose winner, margin and tails the advice quotes;
//! the neighbouring cells say whether the answer is about to flip, and when no cell is near,
//! the advice prints the `just run` command that measures the reader's own point. A file size
//! is answered from file-pipeline's file-size sweep, and a blocking C library from the claims
//! of the cases that test one. Nothing here is a rule of thumb typed by hand: every sentence
//! carries a measured figure, says where it was read, or says that none was measured.
//!
//! - [`workload`]: the flags, checked into one workload (or one line and exit 2).
//! - [`sources`]: where reports are read, the reader's own first.
//! - [`measure`]: what "near" means, and the command that measures a point that is not.
//! - [`file_size`]: the answer for a file size.

pub mod file_size;
pub mod measure;
pub mod sources;
pub mod workload;

use std::path::PathBuf;

use anyhow::Context;
use serde::Serialize;

use self::{
    measure::RunCommand,
    sources::{Found, Source, Sources},
    workload::{Request, Workload},
};
use crate::{
    host::machine::Machine,
    model::{claims::ClaimId, format::Format},
    report::{
        Report,
        map::{Cell, Entry, maps},
    },
    tool::workspace::Workspace,
};

#[derive(Debug, clap::Args)]
pub struct AdviseArgs {
    /// CPU work per request, in µs (hashing, parsing, rendering: time on a core).
    #[arg(long, value_name = "US", allow_negative_numbers = true)]
    pub cpu_us: Option<f64>,
    /// Time per request spent waiting on something else (a database, another service, a
    /// disk), in µs.
    #[arg(long, value_name = "US", allow_negative_numbers = true)]
    pub wait_us: Option<f64>,
    /// Requests being served at once at peak.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub in_flight: Option<u64>,
    /// Open client connections at peak, each with at most one request in flight (sets
    /// --in-flight when that is not given).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub connections: Option<u64>,
    /// The work calls a blocking C library with no async bindings.
    #[arg(long)]
    pub blocking_c: bool,
    /// The typical size of the files the service reads and writes, in KiB: answered from
    /// file-pipeline's file-size sweep.
    #[arg(long, value_name = "KIB", allow_negative_numbers = true)]
    pub file_size_kib: Option<f64>,
    /// The p99 latency the service must keep, in ms: variants whose measured p99 exceeds it
    /// in the cell are set aside.
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    pub latency_target_ms: Option<f64>,
    /// Print the advice as JSON.
    #[arg(long)]
    pub json: bool,
    /// Read reports only from this directory [default: your own in target/casebook, else
    /// the book's set for this machine in docs/src/results, else any set there].
    #[arg(long, value_name = "DIR")]
    pub reports: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct Advice {
    workload: Workload,
    /// The request-mix map's answer, when a request was described.
    request: Option<MapAdvice>,
    /// file-pipeline's answer, when a file size was given.
    file_size: Option<Sourced<file_size::FileSizeAdvice>>,
    /// Claims of other cases that bear on a blocking C library.
    blocking_c: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Sourced<T> {
    source: Source,
    /// The machine the report was measured on.
    machine: String,
    #[serde(flatten)]
    advice: T,
}

#[derive(Debug, Serialize)]
struct Ranked {
    variant: String,
    model: String,
    requests_per_s: f64,
    p99_us: Option<f64>,
}

#[derive(Debug, Serialize)]
struct MapAdvice {
    source: Source,
    machine: String,
    /// The measured cell nearest the workload.
    cell: CellAdvice,
    /// How far the cell is from the workload: µs of CPU on the 1 ms budget, and the factor
    /// between the requests in flight.
    cpu_distance_us: f64,
    in_flight_factor: f64,
    /// Within [`measure::NEAR_CPU_US`] and [`measure::NEAR_IN_FLIGHT`].
    near: bool,
    /// What would measure the workload's own point, when the cell is not near.
    measure: Option<RunCommand>,
    /// The cells beside it whose winner differs: where the answer flips.
    flips_nearby: Vec<String>,
}

#[derive(Debug, Serialize)]
struct CellAdvice {
    cpu_us: f64,
    in_flight: f64,
    /// Every variant that ran there, best first.
    ranking: Vec<Ranked>,
    choice: Option<String>,
    /// The winner over the runner-up, or "too close to call".
    margin: String,
    /// The winner over the runner-up run against run, with its interval and runs.
    interval: Option<String>,
    why: String,
}

/// Where to look: `--reports` alone, else the reader's own, this machine's set, any set.
fn sources(args: &AdviseArgs) -> anyhow::Result<Sources> {
    if let Some(dir) = &args.reports {
        return Ok(Sources::given(dir.clone()));
    }
    let workspace = Workspace::find()?;
    Ok(Sources::ordered(workspace.reports(), &workspace.book().join("results"), &Machine::detect().label()))
}

/// The measured value nearest `value`: linear for the CPU axis, by ratio for in flight.
fn nearest(values: &[f64], value: f64, by_ratio: bool) -> Option<f64> {
    let distance = |x: f64| if by_ratio { measure::factor(x.max(1.0), value.max(1.0)) } else { (x - value).abs() };
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
    let fit: Vec<&Entry> = cell.ranking.iter().filter(|e| within(e.tail)).collect();
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
    CellAdvice {
        cpu_us: cell.x,
        in_flight: cell.y,
        ranking,
        choice,
        margin: cell.verdict(),
        interval: cell.margin.clone(),
        why,
    }
}

/// The request-mix map's answer for one request.
fn map_advice(found: Found, request: &Request) -> anyhow::Result<MapAdvice> {
    let Found { report, source } = found;
    let map = maps(&report).into_iter().next().context("the request-mix report holds no map")?;
    let (Some(x), Some(y)) =
        (nearest(&map.xs, request.cpu_of_budget_us, false), nearest(&map.ys, request.in_flight as f64, true))
    else {
        anyhow::bail!("the request-mix report's map has no cells: every row failed or was skipped");
    };
    let cell = map.cell(x, y).context("the nearest cell of the map did not run")?;
    let point = (request.cpu_of_budget_us, request.in_flight as f64);
    let near = measure::near((x, y), point);
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
    Ok(MapAdvice {
        source,
        machine: report.env.line_without_date(),
        cell: advise_cell(cell, request.latency_target_us),
        cpu_distance_us: (x - point.0).abs(),
        in_flight_factor: measure::factor(y, point.1),
        near,
        measure: (!near).then(|| measure::request_mix(request.cpu_of_budget_us, request.in_flight)),
        flips_nearby,
    })
}

pub fn advise(args: &AdviseArgs) -> anyhow::Result<i32> {
    let workload = workload::workload(args)?;
    let sources = sources(args)?;
    let request = match &workload.request {
        None => None,
        Some(request) => {
            let has_map = |report: &Report| maps(report).iter().any(|map| !map.cells.is_empty());
            let Some(found) = sources.load_where("request-mix", has_map)? else {
                anyhow::bail!(
                    "no request-mix report with a map in {}: measure the map on this machine first with `just run request-mix`",
                    sources.describe()
                );
            };
            Some(map_advice(found, request)?)
        }
    };
    let file_size = match workload.file_size_kib {
        None => None,
        Some(kib) => {
            let has_sweep = |report: &Report| file_size::advise(report, kib).is_some();
            let Some(Found { report, source }) = sources.load_where("file-pipeline", has_sweep)? else {
                anyhow::bail!(
                    "no file-pipeline report with its file-size sweep (the `{}` table) in {}: measure it first with `just run file-pipeline --tables mix`",
                    file_size::TABLE,
                    sources.describe()
                );
            };
            let advice = file_size::advise(&report, kib).with_context(|| {
                format!(
                    "file-pipeline's report from {source} has no file-size sweep that ran (its `{}` table)",
                    file_size::TABLE
                )
            })?;
            Some(Sourced { machine: report.env.line_without_date(), source, advice })
        }
    };
    let blocking_c = if workload.blocking_c {
        claim_notes(&sources, &[ClaimId::ThreadsBlockingC, ClaimId::SpawnBlocking])?
    } else {
        Vec::new()
    };
    let advice = Advice { workload, request, file_size, blocking_c };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&advice)?);
    } else {
        print!("{}", text(&advice));
    }
    Ok(0)
}

/// The cases whose claims can bear on a blocking C library, each read from its own source.
const CLAIM_CASES: [&str; 7] =
    ["db-queries", "file-pipeline", "spawn-costs", "parallel-math", "cancellation", "bridges", "game-loop"];

/// What the other cases' reports say about these claims, one line per reading.
fn claim_notes(sources: &Sources, ids: &[ClaimId]) -> anyhow::Result<Vec<String>> {
    let mut notes = Vec::new();
    for case in CLAIM_CASES {
        let Some(Found { report, source }) = sources.load(case)? else { continue };
        for claim in report.claims.iter().filter(|c| ids.contains(&c.id)) {
            let reading = claim.reading.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
            notes.push(format!(
                "{case}: `{}`{reading} {}: {} [from {source}]",
                claim.id,
                claim.standing(),
                claim.evidence
            ));
        }
    }
    if notes.is_empty() {
        notes.push(format!(
            "no report in {} tests a blocking C library: run `just run db-queries` (its blocking SQLite rows) to measure it",
            sources.describe()
        ));
    }
    Ok(notes)
}

fn map_text(w: &Request, a: &MapAdvice) -> String {
    let c = &a.cell;
    let mut out = format!(
        "Your request: {} µs of CPU and {} µs of waiting, {} in flight: {:.0} µs of CPU per 1 ms.\n",
        w.cpu_us, w.wait_us, w.in_flight, w.cpu_of_budget_us
    );
    out += &format!("Read from {} ({}).\n", a.source, a.machine);
    out += &format!(
        "Nearest measured cell: {} µs of CPU per 1 ms at {} in flight, {:.0} µs of CPU and {:.1}x the requests in flight from yours: {}.\n\n",
        c.cpu_us,
        c.in_flight,
        a.cpu_distance_us,
        a.in_flight_factor,
        if a.near { "near" } else { "not near, so read it as the nearest evidence" }
    );
    out += &match &c.choice {
        Some(choice) => format!(
            "Choose: {choice}. {}.\nMargin: {}{}.\n",
            c.why,
            c.margin,
            c.interval.as_ref().map(|i| format!(" ({i})")).unwrap_or_default()
        ),
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
    if let Some(command) = &a.measure {
        out += &format!(
            "\nNo measured cell is near your point. Measure it on this machine (the report lands in target/casebook, where advise reads first):\n  {command}\n"
        );
    }
    out
}

fn text(a: &Advice) -> String {
    let mut parts = Vec::new();
    if let (Some(w), Some(m)) = (&a.workload.request, &a.request) {
        parts.push(map_text(w, m));
    }
    if let Some(f) = &a.file_size {
        parts.push(file_size::text(&f.advice, &format!("{} ({})", f.source, f.machine)));
    }
    if !a.blocking_c.is_empty() {
        let mut out = String::from("A blocking C library:\n");
        for note in &a.blocking_c {
            out += &format!("  {note}\n");
        }
        parts.push(out);
    }
    parts.join("\n")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn entry(variant: &str, model: crate::Model, value: f64, tail: f64) -> Entry {
        Entry { variant: variant.into(), model, value, tail: Some(tail) }
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

    /// The flags as the `casebook` command parses them.
    fn parse(flags: &[&str]) -> Result<AdviseArgs, String> {
        let argv = ["casebook", "advise"].iter().chain(flags);
        match crate::tool::Cli::try_parse_from(argv) {
            Ok(crate::tool::Cli { command: crate::tool::Command::Advise(args) }) => Ok(args),
            Ok(other) => panic!("not advise: {other:?}"),
            Err(e) => Err(e.render().to_string()),
        }
    }

    #[test]
    fn negative_and_contradictory_flags_are_one_line_usage_errors() {
        for flags in [
            &["--cpu-us", "-5", "--wait-us", "800", "--in-flight", "16"][..],
            &["--cpu-us", "200", "--wait-us", "800", "--in-flight", "1000", "--connections", "10"],
            &["--cpu-us", "200", "--wait-us", "800", "--connections", "0"],
            &["--file-size-kib", "-64"],
            &["--cpu-us", "200", "--in-flight", "16"],
        ] {
            let args = parse(flags).unwrap_or_else(|e| panic!("{flags:?} should parse: {e}"));
            let error = workload::workload(&args).unwrap_err().to_string();
            assert_eq!(error.lines().count(), 1, "{flags:?}: {error}");
        }
        // A count below zero is refused by the parser itself, whose first line main prints.
        let error = parse(&["--cpu-us", "200", "--wait-us", "800", "--in-flight", "-3"]).unwrap_err();
        assert!(error.lines().next().unwrap().contains("--in-flight"), "{error}");
    }

    #[test]
    fn a_far_cell_comes_with_the_command_that_measures_the_point() {
        let dir = tempfile::tempdir().unwrap();
        let request = Request {
            cpu_us: 200.0,
            wait_us: 800.0,
            in_flight: 1000,
            cpu_of_budget_us: 200.0,
            latency_target_us: None,
        };
        let found =
            || Found { report: crate::report::map::tests::report(), source: Source::Given { dir: dir.path().into() } };
        let far = map_advice(found(), &request).unwrap();
        assert!(!far.near);
        let command = far.measure.as_ref().unwrap();
        assert_eq!(command.to_string(), "just run request-mix --cpu-us 200 --in-flight 1000");
        let said = map_text(&request, &far);
        assert!(said.contains("just run request-mix --cpu-us 200 --in-flight 1000"), "{said}");
        assert!(said.contains("not near"), "{said}");
        // At a measured cell's own point there is nothing to measure.
        let at_cell = Request { cpu_of_budget_us: 100.0, in_flight: 4096, ..request };
        let near = map_advice(found(), &at_cell).unwrap();
        assert!(near.near && near.measure.is_none());
        assert_eq!((near.cell.cpu_us, near.cell.in_flight), (100.0, 4096.0));
        assert_eq!(near.cell.choice.as_deref(), Some("threads"));
        assert!(!map_text(&at_cell, &near).contains("just run"));
    }
}
