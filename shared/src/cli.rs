//! The command line every case binary shares, and the top-level flow of a run.
//!
//! Exit status: 0 success, 1 a failed run (a variant failed, timed out or disagreed with
//! the others), 2 bad input, 130 interrupted by Ctrl-C.

use std::{io::IsTerminal, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{Args, CommandFactory, FromArgMatches, Parser, ValueEnum};

use crate::{
    case::{Case, Preset, UsageError, Variant},
    child,
    machine::Machine,
    report::Report,
    runner::{self, RunError, RunOptions},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Tables for a terminal.
    Table,
    /// The same report as Markdown, for the docs.
    Markdown,
    /// The full report with every raw figure.
    Json,
}

/// Options shared by every case.
#[derive(Clone, Debug, Args)]
pub struct CommonArgs {
    /// Small sizes and fewer runs: seconds, for tests and CI.
    #[arg(long, conflicts_with = "full", help_heading = "Run")]
    pub quick: bool,
    /// The largest sizes, for machines with many cores.
    #[arg(long, help_heading = "Run")]
    pub full: bool,
    /// Measured runs per row, after one warm-up [default: quick 2, default 5, full 7].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1000), help_heading = "Run")]
    pub repeat: Option<u64>,
    /// Run only these variants (comma-separated); see --list-variants.
    #[arg(long, value_name = "NAMES", value_delimiter = ',', help_heading = "Run")]
    pub variants: Vec<String>,
    /// Kill and fail a run that takes longer than this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..), help_heading = "Run")]
    pub timeout: u64,
    /// How to print the report on standard output.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table, help_heading = "Output")]
    pub format: OutputFormat,
    /// Where to write the JSON report [default: target/casebook/<case>.json].
    #[arg(long, value_name = "PATH", help_heading = "Output")]
    pub json: Option<PathBuf>,
    /// Print a saved JSON report in --format instead of running anything.
    #[arg(long, value_name = "PATH", help_heading = "Output")]
    pub render: Option<PathBuf>,
    /// List the variants with their model and why each exists, then exit.
    #[arg(long, help_heading = "Output")]
    pub list_variants: bool,
    /// Never draw the progress bar (it is drawn only when stderr is a terminal anyway).
    #[arg(long, help_heading = "Output")]
    pub no_progress: bool,
}

#[derive(Debug, Parser)]
struct Cli<A: Args> {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    case: A,
}

/// Why `main` stops: each maps to one exit status.
#[derive(Debug, thiserror::Error)]
enum Stop {
    #[error(transparent)]
    Usage(#[from] UsageError),
    #[error("interrupted")]
    Interrupted,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// The whole program of a case binary: `fn main() { casebook::main::<MyCase>() }`.
pub fn main<C: Case>() -> ! {
    if std::env::args_os().nth(1).is_some_and(|a| a == child::CHILD_FLAG) {
        match child::child_main::<C>() {
            Ok(()) => std::process::exit(0),
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::exit(1)
            }
        }
    }
    one_line_panics();
    let code = match run::<C>(std::env::args_os().collect()) {
        Ok(code) => code,
        Err(Stop::Usage(e)) => {
            eprintln!("error: {e}");
            2
        }
        Err(Stop::Interrupted) => {
            eprintln!("interrupted: the child was stopped and its scratch files removed; no report was written");
            130
        }
        Err(Stop::Failed(e)) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    std::process::exit(code)
}

/// A panic is a bug, but the user still gets one line, not a backtrace.
fn one_line_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("error: internal error{place}: {message}");
    }));
}

fn parse<C: Case>(args: Vec<std::ffi::OsString>) -> Result<Cli<C::Args>, Stop> {
    let command = Cli::<C::Args>::command()
        .name(C::INFO.name)
        .bin_name(C::INFO.name)
        .about(C::INFO.question)
        .after_help("Exit status: 0 ok, 1 a run failed or variants disagreed, 2 bad input, 130 interrupted.");
    let matches = command.try_get_matches_from(args).map_err(clap_error)?;
    Cli::<C::Args>::from_arg_matches(&matches).map_err(clap_error)
}

/// Help and version are printed as clap would; an error becomes its first line, exit 2.
fn clap_error(error: clap::Error) -> Stop {
    use clap::error::ErrorKind;
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            std::process::exit(0)
        }
        _ => {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ");
            Stop::Usage(UsageError::new(format!("{first} (see --help)")))
        }
    }
}

/// Resolves `--variants` against the case's list.
pub fn select_variants(
    all: &'static [Variant],
    case: &str,
    wanted: &[String],
) -> Result<Vec<&'static Variant>, UsageError> {
    if wanted.is_empty() {
        return Ok(all.iter().collect());
    }
    let mut selected = Vec::new();
    for name in wanted.iter().map(|n| n.trim()) {
        match all.iter().find(|v| v.name == name) {
            Some(v) if !selected.iter().any(|s: &&Variant| s.name == v.name) => selected.push(v),
            Some(_) => {}
            None => {
                let valid: Vec<&str> = all.iter().map(|v| v.name).collect();
                return Err(UsageError::new(format!(
                    "unknown variant '{name}' for {case}; valid variants: {}",
                    valid.join(", ")
                )));
            }
        }
    }
    Ok(selected)
}

/// Where reports go unless `--json` says otherwise: the workspace's target directory.
pub fn default_json_path(case: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(std::path::Path::new(".")).join("target")
    });
    target.join("casebook").join(format!("{case}.json"))
}

fn print_report(report: &Report, format: OutputFormat) -> anyhow::Result<()> {
    use std::io::Write;
    let text = match format {
        OutputFormat::Table => report.to_text(),
        OutputFormat::Markdown => report.to_markdown(),
        OutputFormat::Json => serde_json::to_string_pretty(report)? + "\n",
    };
    // A reader that closed the pipe early (`| head`) has what it wanted: not an error.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn run<C: Case>(args: Vec<std::ffi::OsString>) -> Result<i32, Stop> {
    let cli = parse::<C>(args)?;
    let common = cli.common;
    let info = &C::INFO;

    if common.list_variants {
        for v in info.variants {
            println!("{:<24} {:<10} {}", v.name, v.model.to_string(), v.why);
        }
        return Ok(0);
    }
    if let Some(path) = &common.render {
        let bytes = std::fs::read(path).map_err(|e| UsageError::new(format!("cannot read {}: {e}", path.display())))?;
        let report: Report = serde_json::from_slice(&bytes)
            .map_err(|e| UsageError::new(format!("{} is not a casebook report: {e}", path.display())))?;
        print_report(&report, common.format)?;
        return Ok(if report.correctness.ok { 0 } else { 1 });
    }

    let preset = if common.quick {
        Preset::Quick
    } else if common.full {
        Preset::Full
    } else {
        Preset::Default
    };
    let variants = select_variants(info.variants, info.name, &common.variants)?;
    let params = C::params(&cli.case, preset)?;
    let tables = C::plan(&params, &variants);
    if tables.iter().all(|t| t.rows.is_empty()) {
        return Err(UsageError::new("nothing to run: the selected variants have no rows in this case's tables").into());
    }
    let repeat = common.repeat.map(|r| r as usize).unwrap_or(preset.default_repeat());
    let params_json = serde_json::to_value(&params).context("cannot serialise the parameters")?;
    let executable = std::env::current_exe().context("cannot find this program's own path")?;

    runner::install_interrupt_handler();
    let machine = Machine::detect();
    let options = RunOptions {
        repeat,
        repeat_override: common.repeat.map(|r| r as usize),
        timeout: Duration::from_secs(common.timeout),
        progress: !common.no_progress && std::io::stderr().is_terminal(),
    };
    let setup = |fixture: &std::path::Path| C::setup(&params, fixture);
    let records = match runner::run_plan(&executable, &params_json, &tables, &options, setup) {
        Ok(records) => records,
        Err(RunError::Interrupted) => return Err(Stop::Interrupted),
        Err(RunError::Failed(e)) => return Err(Stop::Failed(e)),
    };
    // Record what each table really ran, so the report never claims runs it did not make.
    let tables: Vec<_> = tables
        .into_iter()
        .map(|mut table| {
            table.repeat = Some(options.repeat_for(&table));
            table
        })
        .collect();
    let mut report = Report::build(info, machine, preset, repeat, params_json, tables, records);
    report.add_failures(C::check(&report));
    if report.correctness.lines.is_empty() {
        report.correctness.lines.push("no table compares answers by digest; the case's own checks all passed".into());
    }
    report.verdicts.extend(C::verdicts(&report));
    report.claims = C::claims(&report);
    if runner::interrupted() {
        return Err(Stop::Interrupted);
    }

    let json_path = common.json.clone().unwrap_or_else(|| default_json_path(info.name));
    runner::write_atomically(&json_path, &serde_json::to_vec_pretty(&report).context("cannot serialise the report")?)?;
    print_report(&report, common.format)?;
    eprintln!("report written to {}", json_path.display());
    if !report.correctness.ok {
        let failures: Vec<&str> =
            report.correctness.lines.iter().filter(|l| l.starts_with("FAILED")).map(|l| l.as_str()).collect();
        return Err(anyhow::anyhow!("the run failed its checks: {}", failures.join("; ")).into());
    }
    Ok(0)
}
