//! The `casebook` command: the front door of a checkout. It runs cases (one, or all of them
//! at quick size), regenerates the book's results, soaks the cases to find checks that fail
//! for some readers and not others, scaffolds a new case, reads saved reports across cases
//! (a summary, the claims table), and counts each variant's instructions under callgrind (a
//! profile).

pub mod advise;
mod book;
mod claims;
mod compare;
pub mod profile;
pub mod prose;
mod scaffold;
mod soak;
mod summary;
mod workspace;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

pub use workspace::{CaseCrate, Workspace};

use crate::{model::plan::UsageError, report::Report};

#[derive(Debug, Parser)]
#[command(
    name = "casebook",
    about = "Run casebook's cases, regenerate the book's results, and read reports across cases"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every case with the question it answers.
    List,
    /// Build and run a case with its own flags (`casebook run parallel-math --quick`), or
    /// every case at quick size with `all`, then the summary.
    Run {
        /// A case, or `all`.
        case: String,
        /// The case's flags; with `all`, only the harness's own (--preset, --quick, --full,
        /// --repeat, --timeout, --no-progress).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        flags: Vec<String>,
    },
    /// Run cases N times at their default preset, in a new row order each time, and every
    /// variant alone at quick size; print each failure and a line per case.
    Soak(soak::SoakArgs),
    /// Scaffold a new case from templates/case: `casebook new my-case`.
    New {
        /// Lowercase words joined by hyphens.
        name: String,
    },
    /// Prove the scaffold works: create a throwaway case, test it, run it, remove it.
    CheckNew,
    /// Two sets of reports side by side: every claim reading on each, flips marked, and how
    /// each table's rows compare. `casebook compare target/casebook docs/src/results/<set>`.
    Compare {
        /// A directory of reports, or one report.
        a: PathBuf,
        /// Another directory of reports, or one report.
        b: PathBuf,
        /// Markdown, for the book.
        #[arg(long, value_enum, default_value_t = CompareFormat::Text)]
        format: CompareFormat,
    },
    /// One screen over every case report.
    Summary {
        /// Report files [default: every target/casebook/*.json].
        files: Vec<PathBuf>,
    },
    /// Run cases at their default preset and file the results under this machine's label in
    /// docs/src/results, then regenerate the pages (`casebook report parallel-math`).
    Report(book::ReportArgs),
    /// Regenerate the book's results pages and claims page from the sets in docs/src/results,
    /// removing those whose code has changed since.
    Pages,
    /// Which model suits a workload, read off this machine's request-mix map:
    /// `casebook advise --cpu-us 200 --wait-us 5000 --in-flight 1000`.
    Advise(advise::AdviseArgs),
    /// Scan the book's prose and the README for measured figures typed by hand (they must
    /// be included from generated output) and for includes that do not resolve.
    CheckProse,
    /// Instructions per measured run of each variant, counted by callgrind, each variant
    /// run alone at quick size: `casebook profile file-pipeline --variants threads,hybrid`;
    /// `--book` files the table under docs/src/results/<machine>/<case>.profile.md.
    Profile(profile::ProfileArgs),
    /// Every framework claim with its outcome in each case, as Markdown.
    Claims {
        /// Report files [default: every target/casebook/*.json].
        files: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum CompareFormat {
    Text,
    Markdown,
}

/// The whole program: `fn main() { casebook::tool::main() }`. Exit status: 0 ok, 1 a run or
/// a check failed, 2 bad input.
pub fn main() -> ! {
    // Output piped into `head` ends quietly, as a command-line tool's should.
    // SAFETY: restoring the default disposition of one signal, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
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
        Command::List => list(),
        Command::Run { case, flags } => run(&case, &flags),
        Command::Soak(args) => soak::soak(&args),
        Command::New { name } => scaffold::new_case(&name).map(|_| 0),
        Command::CheckNew => scaffold::check_new(),
        Command::Compare { a, b, format } => (|| {
            let (a, b) = (compare::Side::load(&a)?, compare::Side::load(&b)?);
            print!("{}", compare::compare(&a, &b, format == CompareFormat::Markdown));
            Ok(0)
        })(),
        Command::Summary { files } => load(files).map(|reports| {
            print!("{}", summary::summary(&reports));
            0
        }),
        Command::Report(args) => book::report(&args),
        Command::Pages => book::pages(),
        Command::Advise(args) => advise::advise(&args),
        Command::CheckProse => check_prose(),
        Command::Profile(args) => profile::profile(&args),
        Command::Claims { files } => load(files).map(|reports| {
            print!("{}", claims::claims_table(&reports));
            0
        }),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) if e.downcast_ref::<UsageError>().is_some() => {
            eprintln!("error: {e}");
            std::process::exit(2)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1)
        }
    }
}

fn list() -> anyhow::Result<i32> {
    for case in Workspace::find()?.cases() {
        println!("{:<16} {}", case.name, case.question);
    }
    Ok(0)
}

/// The harness's own options: the only ones that mean the same to every case.
#[derive(Debug, Parser)]
#[command(name = "casebook run all", no_binary_name = true)]
struct AllArgs {
    #[arg(long, value_enum, conflicts_with_all = ["quick", "full"])]
    preset: Option<crate::Preset>,
    #[arg(long)]
    quick: bool,
    #[arg(long)]
    full: bool,
    #[arg(long, value_name = "N")]
    repeat: Option<u64>,
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    #[arg(long)]
    no_progress: bool,
}

fn run(case: &str, flags: &[String]) -> anyhow::Result<i32> {
    let workspace = Workspace::find()?;
    if case != "all" {
        let case = workspace.select(&[case.to_string()])?.remove(0);
        workspace.build(std::slice::from_ref(&case))?;
        use std::os::unix::process::CommandExt;
        let error = std::process::Command::new(workspace.binary(&case)).args(flags).exec();
        return Err(anyhow::anyhow!("cannot start {}: {error}", case.name));
    }
    let all = AllArgs::try_parse_from(flags).map_err(|e| {
        let first = e.render().to_string().lines().next().unwrap_or("").trim_start_matches("error: ").to_string();
        UsageError::new(format!(
            "`run all` passes only the harness's options to every case (--preset, --quick, --full, --repeat, --timeout, --no-progress): {first}; run that case alone for its own options"
        ))
    })?;
    let mut passed: Vec<String> = match (all.preset, all.full) {
        (Some(preset), _) => vec!["--preset".into(), preset.to_string()],
        (None, true) => vec!["--full".into()],
        _ => vec!["--quick".into()],
    };
    if let Some(repeat) = all.repeat {
        passed.extend(["--repeat".into(), repeat.to_string()]);
    }
    if let Some(timeout) = all.timeout {
        passed.extend(["--timeout".into(), timeout.to_string()]);
    }
    if all.no_progress {
        passed.push("--no-progress".into());
    }
    let cases = workspace.cases().to_vec();
    workspace.build(&cases)?;
    let mut reports = Vec::new();
    let mut failed = Vec::new();
    for case in &cases {
        eprintln!("== {}", case.name);
        let json = workspace.reports().join(format!("{}.json", case.name));
        let status = std::process::Command::new(workspace.binary(case))
            .args(&passed)
            .arg("--json")
            .arg(&json)
            .status()
            .with_context(|| format!("cannot start {}", case.name))?;
        match status.code() {
            Some(0) => {}
            Some(130) => anyhow::bail!("interrupted"),
            _ => failed.push(case.name.clone()),
        }
        if json.exists() {
            reports.push(json);
        }
    }
    if !reports.is_empty() {
        print!("{}", summary::summary(&load(reports)?));
    }
    if failed.is_empty() {
        Ok(0)
    } else {
        eprintln!("error: {} failed: {}", if failed.len() == 1 { "a case" } else { "cases" }, failed.join(", "));
        Ok(1)
    }
}

/// Reads saved reports: the files given, or every report in `target/casebook`.
fn load(files: Vec<PathBuf>) -> anyhow::Result<Vec<Report>> {
    let files = if files.is_empty() {
        let dir = crate::cli::default_json_path("x").parent().map(PathBuf::from).unwrap_or_default();
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

fn check_prose() -> anyhow::Result<i32> {
    let found = prose::scan(&Workspace::find()?.root)?;
    for f in &found {
        println!("{}:{}: {}: {}", f.file.display(), f.line, f.what, f.text);
    }
    if found.is_empty() {
        println!("the book's prose holds no typed figure, and every include resolves");
        return Ok(0);
    }
    eprintln!(
        "error: {} finding(s): include the figure from docs/src/results/<machine>/<case>.figures.md, or add a constant to docs/figures-allowed.txt with its reason",
        found.len()
    );
    Ok(1)
}
