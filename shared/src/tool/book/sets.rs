//! A results set: one machine's reports in `docs/src/results/<label>/`, what each measured
//! (commit and source trees), and the pages that show the sets side by side.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::{host::machine::Machine, report::Report, tool::workspace::CaseCrate};

/// What one case's results in a set measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Measured {
    /// The commit checked out, as the report's machine line gives it.
    pub commit: String,
    /// Git's tree ids of the case's sources and of the harness's when it ran: the pages are
    /// stale once either differs from HEAD's.
    pub case_tree: String,
    pub harness_tree: String,
    /// Whether the checkout had uncommitted changes: a trial, and the page says so.
    pub dirty: bool,
    pub preset: String,
    /// Wall time of the whole run, set-up and all.
    pub seconds: f64,
    pub date: String,
}

impl Measured {
    pub fn now(root: &Path, case: &CaseCrate, report: &Report, seconds: f64, dirty: bool) -> anyhow::Result<Measured> {
        Ok(Measured {
            commit: report.env.commit.clone(),
            case_tree: tree(root, &format!("crates/{}", case.name))?,
            harness_tree: tree(root, "shared/src")?,
            dirty,
            preset: report.preset.to_string(),
            seconds: (seconds * 10.0).round() / 10.0,
            date: report.env.date.clone(),
        })
    }
}

/// One machine's results.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResultSet {
    pub label: String,
    /// The machine line, without date and commit.
    pub machine: String,
    pub cases: BTreeMap<String, Measured>,
    #[serde(skip)]
    pub dir: PathBuf,
}

impl ResultSet {
    pub fn new(label: &str, machine: &Machine) -> ResultSet {
        let line = machine.line_without_date();
        let machine = line.split(" | commit ").next().unwrap_or(&line).to_string();
        ResultSet { label: label.into(), machine, cases: BTreeMap::new(), dir: PathBuf::new() }
    }

    pub fn load(dir: &Path) -> anyhow::Result<Option<ResultSet>> {
        let path = dir.join("set.json");
        if !path.exists() {
            return Ok(None);
        }
        let mut set: ResultSet = serde_json::from_slice(&std::fs::read(&path)?)
            .with_context(|| format!("{} is not a results set", path.display()))?;
        set.dir = dir.to_path_buf();
        Ok(Some(set))
    }

    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::write(dir.join("set.json"), serde_json::to_string_pretty(self)? + "\n")?;
        Ok(())
    }

    /// The case's report in this set.
    pub fn report(&self, case: &str) -> anyhow::Result<Report> {
        let path = self.dir.join(format!("{case}.json"));
        Report::from_json(&std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?)
    }
}

/// Git's id of a directory's tree at HEAD.
fn tree(root: &Path, path: &str) -> anyhow::Result<String> {
    let output = Command::new("git")
        .current_dir(root)
        .args(["rev-parse", &format!("HEAD:{path}")])
        .output()
        .context("cannot run git")?;
    anyhow::ensure!(output.status.success(), "git knows no {path} at HEAD: results are filed from a git checkout");
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The parts of the checkout the cases' results depend on that have uncommitted changes.
pub fn dirty(root: &Path, cases: &[CaseCrate]) -> anyhow::Result<Vec<String>> {
    let mut paths = vec!["shared/src".to_string(), "Cargo.lock".to_string()];
    paths.extend(cases.iter().map(|c| format!("crates/{}", c.name)));
    let output = Command::new("git")
        .current_dir(root)
        .args(["status", "--porcelain", "--"])
        .args(&paths)
        .output()
        .context("cannot run git")?;
    anyhow::ensure!(output.status.success(), "git status failed: results are filed from a git checkout");
    let mut dirty: Vec<String> = paths
        .into_iter()
        .filter(|p| String::from_utf8_lossy(&output.stdout).lines().any(|l| l[3..].starts_with(p.as_str())))
        .collect();
    dirty.dedup();
    Ok(dirty)
}

/// Every set under `results/`, with its stale cases removed (their files with them) and
/// empty sets gone.
pub fn load_all(root: &Path, results: &Path) -> anyhow::Result<Vec<ResultSet>> {
    let mut sets = Vec::new();
    let Ok(entries) = std::fs::read_dir(results) else { return Ok(sets) };
    let harness = tree(root, "shared/src")?;
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    dirs.sort();
    for dir in dirs {
        let Some(mut set) = ResultSet::load(&dir)? else { continue };
        let stale: Vec<String> = set
            .cases
            .iter()
            .filter(|(case, m)| {
                m.harness_tree != harness || tree(root, &format!("crates/{case}")).ok().as_ref() != Some(&m.case_tree)
            })
            .map(|(case, _)| case.clone())
            .collect();
        for case in &stale {
            eprintln!("pages: {}'s results on {} are stale (its code changed since): removed", case, set.label);
            for suffix in ["json", "md", "figures.md", "profile.md"] {
                let _ = std::fs::remove_file(dir.join(format!("{case}.{suffix}")));
            }
            remove_case_plots(&dir, case)?;
            set.cases.remove(case);
        }
        if set.cases.is_empty() {
            std::fs::remove_dir_all(&dir)?;
            continue;
        }
        set.save(&dir)?;
        sets.push(set);
    }
    Ok(sets)
}

pub fn remove_case_plots(dir: &Path, case: &str) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir.join("plots")) else { return Ok(()) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with(&format!("{case}-")) && name.ends_with(".svg") {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// `results/<case>.md`, which the case's chapter includes: one section per machine set.
pub fn case_page(case: &str, sets: &[ResultSet]) -> String {
    let mut out = format!("<!-- generated by casebook pages from results/*/{case}.json: do not edit -->\n");
    let with: Vec<&ResultSet> = sets.iter().filter(|s| s.cases.contains_key(case)).collect();
    if with.is_empty() {
        out += &format!(
            "No results for this case at this commit: its code has changed since it was last measured. Run `just report {case}` to measure it on your machine.\n"
        );
    }
    for set in with {
        let m = &set.cases[case];
        out += &format!(
            "\n### On {}\n\n*Measured at commit {}{} with the `{}` preset on {} ({:.0} s in all); generated by `just report {case}`.*\n\n",
            set.label,
            m.commit,
            if m.dirty { " with uncommitted changes (a trial)" } else { "" },
            m.preset,
            m.date.split('T').next().unwrap_or(&m.date),
            m.seconds,
        );
        out += &format!("{{{{#include {}/{case}.md}}}}\n", set.label);
    }
    out
}

/// `results/<case>.opener.md`, which the chapter includes under its question: the three
/// opening lines (answer, key number, where it flips) of each machine's set.
pub fn opener_page(case: &str, sets: &[ResultSet]) -> String {
    let mut out = format!("<!-- generated by casebook pages from results/*/{case}.json: do not edit -->\n");
    let with: Vec<&ResultSet> = sets.iter().filter(|s| s.cases.contains_key(case)).collect();
    if with.is_empty() {
        out += "*Not measured at this commit: `just report` measures it on your machine.*\n";
    }
    for set in with {
        out += &format!("\n*On {}:*  \n{{{{#include {}/{case}.figures.md:opener}}}}\n", set.label, set.label);
    }
    out
}

/// A result set of one case's report, filed under `dir/label` as `casebook pages` would find
/// it: the pages' tests build their sets with it.
#[cfg(test)]
pub(crate) fn filed(dir: &Path, label: &str, report: &Report) -> ResultSet {
    let dir = dir.join(label);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{}.json", report.case)), serde_json::to_vec(report).unwrap()).unwrap();
    let measured = Measured {
        commit: "abc".into(),
        case_tree: "t".into(),
        harness_tree: "h".into(),
        dirty: false,
        preset: "default".into(),
        seconds: 1.0,
        date: "2026-12-07".into(),
    };
    ResultSet {
        label: label.into(),
        machine: "m".into(),
        cases: std::collections::BTreeMap::from([(report.case.clone(), measured)]),
        dir,
    }
}
