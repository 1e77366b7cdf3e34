//! `casebook report` and `casebook pages`: the book's results, kept per machine.
//!
//! `report` runs cases at their default preset on this machine and files what they printed
//! under `docs/src/results/<machine label>/`: each case's JSON report (the data every page is
//! made from), its full Markdown report, its figures cut into anchors for the writeups
//! ([`crate::report::snippets`]) and its plots, with a `set.json` that says, per case, the
//! commit and the source trees (the case's crate and the harness) it measured. `pages`
//! regenerates every page that reads those sets: a results page per case with one section
//! per machine (which the case's chapter includes) and the claims page with a column per
//! machine. A set whose case code has changed since it was measured is stale: `pages`
//! removes it, so no results page is older than the code it describes.

mod choosing;
pub mod claims;
mod sets;

use std::{path::Path, time::Instant};

use anyhow::Context;

pub use sets::{Measured, ResultSet};

use crate::{
    host::machine::Machine,
    model::plan::UsageError,
    report::{Report, snippets},
    tool::workspace::{CaseCrate, Workspace},
};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Cases to regenerate [default: every case].
    pub cases: Vec<String>,
    /// Regenerate from a checkout with uncommitted changes (the pages then say so, and the
    /// next `casebook pages` removes them as stale).
    #[arg(long)]
    pub allow_dirty: bool,
    /// Measure each case once per core count, each run pinned to that many CPUs
    /// (`--cores 1,2`); each count's results are a set of their own, labelled `-on-<N>c`.
    #[arg(long, value_name = "N,...", value_delimiter = ',')]
    pub cores: Vec<usize>,
    /// Flags passed to every case, after `--no-progress` (e.g. `--cores 1`, `--repeat 7`).
    #[arg(long, value_name = "FLAGS", allow_hyphen_values = true, num_args = 1..)]
    pub flags: Vec<String>,
}

/// `casebook report`: runs the cases, files their results under this machine's label, then
/// regenerates the pages. Exit 1 when a case failed (its page is still written when it left
/// a report, so the failure can be read).
pub fn report(args: &ReportArgs) -> anyhow::Result<i32> {
    let workspace = Workspace::find()?;
    let cases = if args.cases.is_empty() { workspace.cases().to_vec() } else { workspace.select(&args.cases)? };
    let dirty = sets::dirty(&workspace.root, &cases)?;
    if !dirty.is_empty() && !args.allow_dirty {
        return Err(UsageError::new(format!(
            "uncommitted changes in {}: commit them first, so the pages can say what they measured (or pass --allow-dirty for a trial)",
            dirty.join(", ")
        ))
        .into());
    }
    workspace.build(&cases)?;
    let machine = Machine::detect();
    let counts: Vec<Option<usize>> =
        if args.cores.is_empty() { vec![None] } else { args.cores.iter().map(|c| Some(*c)).collect() };
    let mut failed = Vec::new();
    for cores in counts {
        let (label, mut flags) = match cores {
            None => (machine.label(), Vec::new()),
            Some(n) => (format!("{}-on-{n}c", machine.label()), vec!["--cores".to_string(), n.to_string()]),
        };
        flags.extend(args.flags.iter().cloned());
        failed.extend(report_set(&workspace, &cases, &machine, &label, &flags, !dirty.is_empty())?);
    }
    pages_in(&workspace)?;
    if failed.is_empty() {
        Ok(0)
    } else {
        eprintln!("error: failed: {}", failed.join(", "));
        Ok(1)
    }
}

/// Runs the cases into one set; returns the cases that failed.
fn report_set(
    workspace: &Workspace,
    cases: &[CaseCrate],
    machine: &Machine,
    label: &str,
    flags: &[String],
    dirty: bool,
) -> anyhow::Result<Vec<String>> {
    let dir = workspace.book().join("results").join(label);
    std::fs::create_dir_all(dir.join("plots")).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut set = ResultSet::load(&dir)?.unwrap_or_else(|| ResultSet::new(label, machine));
    let mut failed = Vec::new();
    let started = Instant::now();
    for case in cases {
        let took = Instant::now();
        eprintln!("== {} (results for {label})", case.name);
        match run_case(workspace, case, &dir, flags)? {
            Some(report) => {
                let seconds = took.elapsed().as_secs_f64();
                eprintln!("   {} in {seconds:.0} s", case.name);
                let measured = Measured::now(&workspace.root, case, &report, seconds, dirty)?;
                if !report.correctness.ok {
                    failed.push(case.name.clone());
                }
                set.cases.insert(case.name.clone(), measured);
                set.save(&dir)?;
            }
            None => failed.push(case.name.clone()),
        }
    }
    eprintln!("{label}: {} case(s) in {:.0} s", cases.len(), started.elapsed().as_secs_f64());
    Ok(failed)
}

/// Runs one case into the set's directory: its JSON, Markdown, snippets and plots. `None`
/// when it left no report (interrupted, or it could not start).
fn run_case(workspace: &Workspace, case: &CaseCrate, dir: &Path, flags: &[String]) -> anyhow::Result<Option<Report>> {
    let json = dir.join(format!("{}.json", case.name));
    let partial = dir.join(format!("{}.json.partial", case.name));
    sets::remove_case_plots(dir, &case.name)?;
    let status = std::process::Command::new(workspace.binary(case))
        .arg("--no-progress")
        .args(flags)
        .arg("--json")
        .arg(&partial)
        .arg("--plots")
        .arg(dir.join("plots"))
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| format!("cannot start {}", case.name))?;
    if status.code() == Some(130) {
        let _ = std::fs::remove_file(&partial);
        anyhow::bail!("interrupted");
    }
    if !partial.exists() {
        eprintln!("   {} left no report ({status})", case.name);
        return Ok(None);
    }
    std::fs::rename(&partial, &json)?;
    let report = Report::from_json(&std::fs::read(&json)?)?;
    let label = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    // The chapters in cases/ include these files; image paths are relative to the chapter.
    // Row anchors carry the set's label: a chapter includes every machine's set.
    let markdown = report
        .to_markdown_with(&format!("../results/{label}/plots/"))
        .replace("<a id=\"row-", &format!("<a id=\"{label}-row-"))
        // Its headings one level under the set's own ("### On <machine>").
        .replace("\n### ", "\n#### ");
    std::fs::write(dir.join(format!("{}.md", case.name)), markdown)?;
    std::fs::write(
        dir.join(format!("{}.figures.md", case.name)),
        snippets::snippets(&report, &format!("../results/{label}/plots/")),
    )?;
    Ok(Some(report))
}

/// `casebook pages`: regenerates every page from the sets on disk; removes stale sets.
pub fn pages() -> anyhow::Result<i32> {
    pages_in(&Workspace::find()?)?;
    Ok(0)
}

fn pages_in(workspace: &Workspace) -> anyhow::Result<()> {
    let results = workspace.book().join("results");
    let sets = sets::load_all(&workspace.root, &results)?;
    let names: Vec<String> = workspace.cases().iter().map(|c| c.name.clone()).collect();
    for case in &names {
        std::fs::write(results.join(format!("{case}.md")), sets::case_page(case, &sets))?;
        std::fs::write(results.join(format!("{case}.opener.md")), sets::opener_page(case, &sets))?;
    }
    std::fs::write(results.join("claims.md"), claims::page(&sets)?)?;
    std::fs::write(results.join("map.md"), choosing::map_page(&sets)?)?;
    std::fs::write(results.join("choosing.md"), choosing::crossovers_page(&sets)?)?;
    eprintln!("pages: {} set(s): {}", sets.len(), sets.iter().map(|s| s.label.as_str()).collect::<Vec<_>>().join(", "));
    Ok(())
}
