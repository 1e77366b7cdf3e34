//! `casebook`: reads saved case reports and summarises them across cases.
//!
//! - `casebook summary [FILES]`: one screen over every case: did its checks pass, who was
//!   fastest against the baseline (or the case's first verdict), how the claims came out.
//! - `casebook claims [FILES]`: every framework claim with its outcome in each case that
//!   tests it, and the combined outcome: the table the docs' decision guide includes.

use std::path::PathBuf;

use anyhow::Context;
use casebook::{ClaimId, Outcome, Report, format::format_value};
use clap::{Parser, Subcommand};
use comfy_table::{ContentArrangement, Table, presets};

#[derive(Debug, Parser)]
#[command(name = "casebook", about = "Summarise saved casebook reports across cases")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One screen over every case report.
    Summary {
        /// Report files [default: every target/casebook/*.json].
        files: Vec<PathBuf>,
    },
    /// Every framework claim with its outcome in each case, as Markdown.
    Claims {
        /// Report files [default: every target/casebook/*.json].
        files: Vec<PathBuf>,
    },
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            std::process::exit(0);
        }
        Err(e) => {
            let rendered = e.render().to_string();
            eprintln!("{} (see --help)", rendered.lines().next().unwrap_or("error: invalid arguments"));
            std::process::exit(2);
        }
    };
    let result = match cli.command {
        Command::Summary { files } => load(files).map(|reports| print!("{}", summary(&reports))),
        Command::Claims { files } => load(files).map(|reports| print!("{}", claims_table(&reports))),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn load(files: Vec<PathBuf>) -> anyhow::Result<Vec<Report>> {
    let files = if files.is_empty() {
        let dir = casebook::cli::default_json_path("x").parent().map(PathBuf::from).unwrap_or_default();
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("no reports in {}: run a case first", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("casebook-toy.json"))
            .collect();
        found.sort();
        found
    } else {
        files
    };
    if files.is_empty() {
        anyhow::bail!("no reports found: run a case first");
    }
    files
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            Report::from_json(&bytes)
                .with_context(|| format!("{} is not a report this casebook can read", path.display()))
        })
        .collect()
}

fn summary(reports: &[Report]) -> String {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    table.set_header(vec!["case", "run", "checks", "headline", "claims"]);
    for report in reports {
        let fastest: Vec<String> = report
            .tables
            .iter()
            // Only tables that race variants against a baseline have a meaningful "best".
            .filter(|t| t.axis.is_none() && t.baseline.is_some())
            .filter_map(|t| {
                let (measure, better) = (&t.primary.measure, t.primary.better);
                let best = report
                    .ran_in(&t.id)
                    .filter_map(|r| Some((r, r.value(measure)?)))
                    .reduce(|a, b| if better.prefers(b.1, a.1) { b } else { a })?;
                let versus = report
                    .baseline_of(best.0)
                    .and_then(|b| b.value(measure))
                    .map(|b| format!(", {:.2}x the baseline", better.gain(best.1, b)))
                    .unwrap_or_default();
                Some(format!("{}: {} {}{versus}", t.id, best.0.label, format_value(best.1, measure.format())))
            })
            .collect();
        // Cases that measure costs or accounting rather than speed lead with their first verdict.
        let headline = if fastest.is_empty() {
            // An accounting line only says the books balanced (the checks column says that too).
            let mut verdicts = report.verdicts.iter();
            let first = verdicts.clone().find(|v| !v.starts_with("accounting")).or(verdicts.next());
            first.map(|v| shorten(v, 110)).unwrap_or_default()
        } else {
            fastest.join("\n")
        };
        let (held, not, unsure) = report.claim_counts();
        table.add_row(vec![
            report.case.clone(),
            format!("{}, {} runs/row, {}", report.preset, report.repeat, report.env.commit),
            if report.correctness.ok { "passed".to_string() } else { "FAILED".to_string() },
            headline,
            format!("{held} held, {not} did not, {unsure} inconclusive"),
        ]);
    }
    // Reports from different machines or commits must not hide under one machine line.
    let mut machines: Vec<String> = reports.iter().map(|r| r.env.line_without_date()).collect();
    machines.dedup();
    let header = if machines.len() == 1 {
        format!("machine: {}", machines[0])
    } else {
        reports
            .iter()
            .map(|r| format!("machine ({}): {}", r.case, r.env.line_without_date()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!("{header}\n{table}\n")
}

fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(limit).collect::<String>())
    }
}

/// The outcome of a claim across cases and readings: the same if they agree; otherwise the
/// answer depends on how the claim is read, and each reading is listed beside it.
fn combined(outcomes: &[Outcome]) -> String {
    match outcomes.first() {
        None => "not measured".into(),
        Some(first) if outcomes.iter().all(|o| o == first) => first.to_string(),
        Some(_) => "depends on the reading".into(),
    }
}

fn claims_table(reports: &[Report]) -> String {
    let mut out = String::from("| id | claim | outcome here | per case |\n|---|---|---|---|\n");
    for id in ClaimId::ALL {
        let mut outcomes = Vec::new();
        let mut per_case = Vec::new();
        for report in reports {
            for claim in report.claims.iter().filter(|c| c.id == *id) {
                outcomes.push(claim.outcome);
                let reading = claim.reading.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
                per_case.push(format!("[{}](cases/{}.md){reading}: {}", report.case, report.case, claim.outcome));
            }
        }
        let per_case = if per_case.is_empty() { "not tested yet".to_string() } else { per_case.join("; ") };
        out += &format!("| `{id}` | {} | {} | {per_case} |\n", id.text(), combined(&outcomes));
    }
    out
}
