//! The command line every case binary shares, and the top-level flow of a run.
//!
//! Exit status: 0 success, 1 a failed run (a variant failed, timed out or disagreed with
//! the others, or the harness hit a bug), 2 bad input, 130 interrupted by Ctrl-C.

use std::{io::IsTerminal, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, ValueEnum, parser::ValueSource};

use crate::{
    case::Case,
    host::machine::Machine,
    model::{
        plan::{Plan, Preset, UsageError},
        variant::{self, VariantSet},
    },
    report::Report,
    report::plot,
    run::limits::{self, Readings, check_needs},
    run::modes,
    run::process,
    run::runner::{self, RunError, RunOptions},
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
    /// How big a run is: quick (seconds, for tests and CI), default (what the docs quote),
    /// full (the largest sizes, for machines with many cores).
    #[arg(long, value_enum, conflicts_with_all = ["quick", "full"], help_heading = "Run")]
    pub preset: Option<Preset>,
    /// Same as --preset quick.
    #[arg(long, conflicts_with = "full", help_heading = "Run")]
    pub quick: bool,
    /// Same as --preset full.
    #[arg(long, help_heading = "Run")]
    pub full: bool,
    /// Measured runs per row, after one warm-up [default: quick 2, default 5, full 7].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1000), help_heading = "Run")]
    pub repeat: Option<u64>,
    /// Run only these variants (comma-separated); see --list-variants.
    #[arg(long, value_name = "NAMES", value_delimiter = ',', help_heading = "Run")]
    pub variants: Vec<String>,
    /// Pin every measured run to this many of the machine's CPUs and size the case's pools and
    /// runtimes to match (its load generators keep the rest) [default: every CPU].
    #[arg(long, value_name = "N", help_heading = "Run")]
    pub cores: Option<usize>,
    /// Run the tables, and the rows in each round of runs, in an order shuffled by this seed,
    /// to find a check that depends on what ran before it [default: as declared].
    #[arg(long, value_name = "N", help_heading = "Run")]
    pub order_seed: Option<u64>,
    /// Stop and fail a run that takes longer than this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..), help_heading = "Run")]
    pub timeout: u64,
    /// How to print the report on standard output.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table, help_heading = "Output")]
    pub format: OutputFormat,
    /// Where to write the JSON report [default: target/casebook/<case>.json].
    #[arg(long, value_name = "PATH", help_heading = "Output")]
    pub json: Option<PathBuf>,
    /// Draw the sweeps as SVG plots into this directory (as `just report` does for the docs).
    #[arg(long, value_name = "DIR", help_heading = "Output")]
    pub plots: Option<PathBuf>,
    /// Print a saved JSON report in --format instead of running anything.
    #[arg(long, value_name = "PATH", help_heading = "Output")]
    pub render: Option<PathBuf>,
    /// List the variants with their model and why each exists, then exit.
    #[arg(long, help_heading = "Output")]
    pub list_variants: bool,
    /// In the terminal report: the tables' column notes, and every claim's evidence and
    /// threshold in full (Markdown and JSON always have them).
    #[arg(long, help_heading = "Output")]
    pub verbose: bool,
    /// Never draw the progress bar (it is drawn only when stderr is a terminal anyway).
    #[arg(long, help_heading = "Output")]
    pub no_progress: bool,
}

impl CommonArgs {
    fn preset(&self) -> Preset {
        match (self.preset, self.quick, self.full) {
            (Some(preset), _, _) => preset,
            (None, true, _) => Preset::Quick,
            (None, _, true) => Preset::Full,
            _ => Preset::Default,
        }
    }
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
    process::one_line_panics();
    if let Some(result) = modes::hidden::<C>() {
        match result {
            Ok(()) => std::process::exit(0),
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::exit(1)
            }
        }
    }
    // A panic unwinds through the run, dropping the fixture and the scratch files on its way;
    // the hook has already printed it as one line.
    let outcome = std::panic::catch_unwind(|| run::<C>(std::env::args_os().collect()));
    let code = match outcome {
        Err(_) => 1,
        Ok(Ok(code)) => code,
        Ok(Err(Stop::Usage(e))) => {
            eprintln!("error: {e}");
            2
        }
        Ok(Err(Stop::Interrupted)) => {
            eprintln!(
                "interrupted: every run was stopped and the case's files and fixture removed; no report was written"
            );
            130
        }
        Ok(Err(Stop::Failed(e))) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    std::process::exit(code)
}

/// What `--version` prints after the case's name.
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "(casebook harness {}, report format {}, built from commit {} with {})",
        env!("CARGO_PKG_VERSION"),
        crate::report::REPORT_VERSION,
        env!("CASEBOOK_BUILT_FROM"),
        env!("CASEBOOK_RUSTC"),
    )
});

fn parse<C: Case>(args: Vec<std::ffi::OsString>) -> Result<(Cli<C::Args>, ArgMatches), Stop> {
    let command = Cli::<C::Args>::command()
        .name(C::INFO.name)
        .bin_name(C::INFO.name)
        .version(VERSION.as_str())
        .about(C::INFO.question)
        .after_help("Exit status: 0 ok, 1 a run failed or variants disagreed, 2 bad input, 130 interrupted.");
    let matches = command.try_get_matches_from(args).map_err(clap_error)?;
    let cli = Cli::<C::Args>::from_arg_matches(&matches).map_err(clap_error)?;
    Ok((cli, matches))
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

/// `--render` prints a saved report: an option that would change a run means the user
/// expected a run, so say so instead of ignoring it.
fn render_conflicts<A: Args>(matches: &ArgMatches) -> Result<(), UsageError> {
    const WITH_RENDER: [&str; 5] = ["render", "format", "plots", "no_progress", "verbose"];
    let command = Cli::<A>::command();
    // Argument ids only: a flattened struct also shows up as a group id.
    let arguments: Vec<&str> = command.get_arguments().map(|a| a.get_id().as_str()).collect();
    let given: Vec<String> = matches
        .ids()
        .map(|id| id.as_str())
        .filter(|id| arguments.contains(id) && !WITH_RENDER.contains(id))
        .filter(|id| matches.value_source(id) == Some(ValueSource::CommandLine))
        .map(|id| format!("--{}", id.replace('_', "-")))
        .collect();
    if given.is_empty() {
        Ok(())
    } else {
        Err(UsageError::new(format!(
            "--render prints a saved report and runs nothing, so {} would be ignored; drop it or run without --render",
            given.join(", ")
        )))
    }
}

/// Resolves `--variants` against the case's variants, in the order given; an unknown name
/// is a usage error listing the valid ones.
pub fn select_variants<V: VariantSet>(case: &str, wanted: &[String]) -> Result<Vec<V>, UsageError> {
    if wanted.is_empty() {
        return Ok(V::ALL.to_vec());
    }
    let mut selected: Vec<V> = Vec::new();
    for name in wanted.iter().map(|n| n.trim()) {
        match V::parse(name) {
            Some(v) if !selected.contains(&v) => selected.push(v),
            Some(_) => {}
            None => {
                let valid: Vec<&str> = V::ALL.iter().map(|v| v.name()).collect();
                return Err(UsageError::new(format!(
                    "unknown variant '{name}' for {case}; valid variants: {}",
                    valid.join(", ")
                )));
            }
        }
    }
    Ok(selected)
}

/// Where reports go unless `--json` says otherwise: the build's target directory
/// (`CARGO_TARGET_DIR` when it is set, as cargo itself does).
pub fn default_json_path(case: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap_or(std::path::Path::new(".")).join("target")
    });
    target.join("casebook").join(format!("{case}.json"))
}

fn print_report(report: &Report, format: OutputFormat, verbose: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let text = match format {
        OutputFormat::Table => report.to_text_with(crate::report::render::TextOptions::for_terminal(verbose)),
        OutputFormat::Markdown => report.to_markdown(),
        OutputFormat::Json => serde_json::to_string_pretty(report)? + "\n",
    };
    // A reader that closed the pipe early (`| head`) has what it wanted: not an error.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn draw_plots(report: &mut Report, dir: Option<&PathBuf>) -> anyhow::Result<()> {
    if let Some(dir) = dir {
        report.plots =
            plot::draw(report, dir).with_context(|| format!("cannot draw the plots into {}", dir.display()))?;
    }
    Ok(())
}

fn run<C: Case>(args: Vec<std::ffi::OsString>) -> Result<i32, Stop> {
    let (cli, matches) = parse::<C>(args)?;
    let common = cli.common;
    let info = &C::INFO;
    let mut problems = info.problems();
    problems.extend(variant::problems::<C::Variant>());
    if !problems.is_empty() {
        return Err(anyhow::anyhow!("the case's declaration is wrong: {}", problems.join("; ")).into());
    }

    if common.list_variants {
        for v in C::Variant::ALL.iter().map(|v| v.info()) {
            println!("{:<24} {:<10} {}", v.name, v.model.to_string(), v.why);
        }
        return Ok(0);
    }
    if let Some(path) = &common.render {
        render_conflicts::<C::Args>(&matches)?;
        let bytes = std::fs::read(path).map_err(|e| UsageError::new(format!("cannot read {}: {e}", path.display())))?;
        let mut report = Report::from_json(&bytes).map_err(|e| {
            UsageError::new(format!("{} is not a report this casebook can read: {e:#}", path.display()))
        })?;
        draw_plots(&mut report, common.plots.as_ref())?;
        print_report(&report, common.format, common.verbose)?;
        return Ok(if report.correctness.ok { 0 } else { 1 });
    }

    let preset = common.preset();
    let variants = select_variants::<C::Variant>(info.name, &common.variants)?;
    let pin = match common.cores {
        Some(n) => {
            let split = crate::host::cpus::split_for(n).map_err(UsageError::new)?;
            crate::host::cpus::limit(n);
            Some(split)
        }
        None => None,
    };
    // As network servers do at start: every run and load generator inherits it, and the
    // case's caps and the needs check below read the raised limit.
    limits::raise_nofile();
    let params = C::params(&cli.case, preset)?;
    let needs = C::needs(&params, &variants);
    if needs.threads.is_some() || needs.fds.is_some() || !needs.memory.is_empty() {
        let readings = if needs.threads.is_some() { Readings::detect(None) } else { Readings::without_probe() };
        check_needs(&needs, &readings)?;
    }
    let mut plan = Plan { tables: C::plan(&params, &variants) };
    if plan.tables.iter().all(|t| t.rows.is_empty()) {
        return Err(UsageError::new("nothing to run: the selected variants have no rows in this case's tables").into());
    }
    let repeat = common.repeat.map(|r| r as usize).unwrap_or(preset.default_repeat());
    let params_json = serde_json::to_value(&params).context("cannot serialise the parameters")?;
    let executable = std::env::current_exe().context("cannot find this program's own path")?;

    process::install_interrupt_handler();
    let machine = Machine::detect();
    let options = RunOptions {
        repeat,
        repeat_override: common.repeat.map(|r| r as usize),
        timeout: Duration::from_secs(common.timeout),
        progress: !common.no_progress && std::io::stderr().is_terminal(),
        order_seed: common.order_seed,
        pin,
    };
    let setup = |plan: &mut Plan, dir: &std::path::Path| {
        let (shared, owned) = C::setup(&params, plan, dir)?.into_parts();
        Ok((serde_json::to_value(&shared).context("cannot serialise the set-up's shared facts")?, owned))
    };
    let records = match runner::run_plan(&executable, &params_json, &mut plan, &options, setup) {
        Ok(records) => records,
        Err(RunError::Interrupted) => return Err(Stop::Interrupted),
        Err(RunError::Failed(e)) => return Err(Stop::Failed(e)),
    };
    // Record what each table really ran, so the report never claims runs it did not make.
    let tables: Vec<_> = plan
        .tables
        .into_iter()
        .map(|mut table| {
            table.repeat = Some(options.repeat_for(&table));
            table
        })
        .collect();
    let mut report = Report::build(info, &C::Variant::infos(), machine, preset, repeat, params_json, tables, records);
    report.order_seed = common.order_seed;
    report.cores = common.cores;
    crate::report::verdicts::judge(&mut report);
    // The raw records are saved before any case code reads them: a bug in a claim must not
    // throw a whole run away.
    let json_path = common.json.clone().unwrap_or_else(|| default_json_path(info.name));
    let save = |report: &Report| -> anyhow::Result<()> {
        runner::write_atomically(&json_path, &serde_json::to_vec_pretty(report).context("cannot serialise the report")?)
    };
    save(&report)?;
    decide::<C>(&params, &mut report)
        .map_err(|e| anyhow::anyhow!("{e:#}; the raw records of every run are saved in {}", json_path.display()))?;
    if process::interrupted() {
        return Err(Stop::Interrupted);
    }
    draw_plots(&mut report, common.plots.as_ref())?;
    save(&report)?;
    print_report(&report, common.format, common.verbose)?;
    eprintln!("report written to {}", json_path.display());
    if !report.correctness.ok {
        let failures: Vec<&str> =
            report.correctness.lines.iter().filter(|l| l.starts_with("FAILED")).map(|l| l.as_str()).collect();
        return Err(anyhow::anyhow!("the run failed its checks: {}", failures.join("; ")).into());
    }
    Ok(0)
}

/// Runs the case's own checks, verdicts and claims on the report, catching a panic in any of
/// them so the saved raw records are pointed to instead of lost.
fn decide<C: Case>(params: &C::Params, report: &mut Report) -> anyhow::Result<()> {
    let decided = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        (C::check(params, report), C::verdicts(params, report), C::claims(params, report))
    }));
    let (failures, verdicts, claims) =
        decided.map_err(|_| anyhow::anyhow!("computing the case's checks, verdicts or claims failed (see above)"))?;
    report.add_failures(failures);
    let undeclared: Vec<String> =
        claims.iter().filter(|c| !C::INFO.claims.contains(&c.id)).map(|c| c.id.to_string()).collect();
    if !undeclared.is_empty() {
        report.add_failures(vec![format!("the case decided claims it does not declare: {}", undeclared.join(", "))]);
    }
    if report.correctness.lines.is_empty() {
        report.correctness.lines.push("no table compares answers by digest; the case's own checks all passed".into());
    }
    report.verdicts.extend(verdicts);
    report.claims = claims;
    Ok(())
}
