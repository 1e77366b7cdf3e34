//! `casebook soak`: runs cases over and over, as readers would, to find the check that fails
//! for some of them and not for others. Each case runs N times at its default preset, each
//! time with its rows in a new order (`--order-seed`), and then every variant alone at quick
//! size, so that a check whose verdict depends on what else ran in the process shows up.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use anyhow::Context;

use crate::tool::workspace::{CaseCrate, Workspace};

/// What to soak.
#[derive(Clone, Debug, clap::Args)]
pub struct SoakArgs {
    /// The case to soak, or `all` [default: all].
    pub case: Option<String>,
    /// Default-preset runs of each case.
    #[arg(default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub runs: u32,
    /// Skip the runs of each variant alone at quick size.
    #[arg(long)]
    pub no_alone: bool,
    /// Seed of the first run's row order; each later run adds one [default: from the clock].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Stop and fail a run that takes longer than this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
}

/// One run of a case binary, as the soak saw it.
#[derive(Debug)]
struct Attempt {
    case: String,
    what: String,
    /// The flags that reproduce it.
    flags: Vec<String>,
    took: Duration,
    failure: Option<String>,
}

pub fn soak(args: &SoakArgs) -> anyhow::Result<i32> {
    let workspace = Workspace::find()?;
    let cases = workspace.select(args.case.as_slice())?;
    workspace.build(&cases)?;
    let out = workspace.reports().join("soak");
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let first_seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() % 100_000).unwrap_or(1)
    });
    let mut attempts = Vec::new();
    for case in &cases {
        let binary = workspace.binary(case);
        for i in 0..args.runs {
            let seed = first_seed + u64::from(i);
            let flags = vec!["--order-seed".to_string(), seed.to_string()];
            let what = format!("default run {}/{}", i + 1, args.runs);
            attempts.push(attempt(&binary, case, what, flags, &out, args.timeout)?);
        }
        if !args.no_alone {
            for variant in variants(&binary)? {
                let flags = vec!["--quick".to_string(), "--variants".to_string(), variant.clone()];
                attempts.push(attempt(&binary, case, format!("{variant} alone, quick"), flags, &out, args.timeout)?);
            }
        }
    }
    println!("\nsoak: {} runs of {} cases (reports in {})", attempts.len(), cases.len(), out.display());
    let failures: Vec<&Attempt> = attempts.iter().filter(|a| a.failure.is_some()).collect();
    for failure in &failures {
        println!(
            "FAILED {} {}: {}\n  again: just run {} {}",
            failure.case,
            failure.what,
            failure.failure.as_deref().unwrap_or(""),
            failure.case,
            failure.flags.join(" ")
        );
    }
    for case in &cases {
        let mine: Vec<&Attempt> = attempts.iter().filter(|a| a.case == case.name).collect();
        let failed = mine.iter().filter(|a| a.failure.is_some()).count();
        let took: Duration = mine.iter().map(|a| a.took).sum();
        println!("{:<16} {} runs, {} failures, {:.0} s", case.name, mine.len(), failed, took.as_secs_f64());
    }
    Ok(if failures.is_empty() { 0 } else { 1 })
}

/// The case's variants, from its own `--list-variants`.
fn variants(binary: &Path) -> anyhow::Result<Vec<String>> {
    let output = Command::new(binary).arg("--list-variants").output().context("cannot list the variants")?;
    anyhow::ensure!(output.status.success(), "{} --list-variants failed", binary.display());
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect())
}

fn attempt(
    binary: &Path,
    case: &CaseCrate,
    what: String,
    flags: Vec<String>,
    out: &Path,
    timeout: u64,
) -> anyhow::Result<Attempt> {
    let report: PathBuf = out.join(format!("{}-{}.json", case.name, slug(&what)));
    eprint!("{} {what} ... ", case.name);
    let started = Instant::now();
    let output = Command::new(binary)
        .args(&flags)
        .args(["--no-progress", "--timeout", &timeout.to_string(), "--json"])
        .arg(&report)
        .stdout(std::process::Stdio::null())
        .output()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let took = started.elapsed();
    if output.status.code() == Some(130) {
        anyhow::bail!("interrupted");
    }
    let failure = (!output.status.success()).then(|| why(&String::from_utf8_lossy(&output.stderr), output.status));
    eprintln!("{} ({:.0} s)", if failure.is_some() { "FAILED" } else { "ok" }, took.as_secs_f64());
    Ok(Attempt { case: case.name.clone(), what, flags, took, failure })
}

/// What a failed run said: its last `error:` line, else its last line.
fn why(stderr: &str, status: std::process::ExitStatus) -> String {
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let said = lines.iter().rev().find(|l| l.starts_with("error:")).or(lines.last());
    match said {
        Some(line) => format!("{line} ({status})"),
        None => format!("no message ({status})"),
    }
}

fn slug(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn a_failure_is_told_by_its_last_error_line() {
        let status = std::process::ExitStatus::from_raw(1 << 8);
        let stderr = "report written to x\nerror: the run failed its checks: FAILED: abuse\n";
        assert_eq!(why(stderr, status), "error: the run failed its checks: FAILED: abuse (exit status: 1)");
        assert_eq!(why("", status), "no message (exit status: 1)");
        assert_eq!(slug("default run 1/3"), "default-run-1-3");
    }
}
