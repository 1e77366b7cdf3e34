//! `casebook profile`: how many instructions each variant of a case executes, counted by
//! callgrind. A timing on a shared or virtual machine moves with everything else the machine
//! does; an instruction count hardly moves, so it can say whether two variants do the same
//! CPU work even where their timings cannot. What it cannot say is where a variant waits:
//! callgrind counts user-space instructions only, so time spent in the kernel (waking a
//! thread, a system call) and time spent blocked are not in it.
//!
//! Each selected variant runs alone, under `valgrind --tool=callgrind --trace-children=yes`,
//! so every process gets a callgrind file of its own. The harness runs every measured run in
//! a child process of its own ([`CHILD_FLAG`] is its first argument, which the file's `cmd:`
//! line records); those are the files counted. The parent harness (set-up, fixture, report)
//! and anything a run starts in turn (a load generator, a peer tool) are not.

use std::{
    ffi::OsStr,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use anyhow::Context;

use crate::{
    host::machine::Machine,
    model::{
        format::{format_count, thousands},
        plan::UsageError,
    },
    report::Report,
    run::{child::CHILD_FLAG, process},
    tool::workspace::Workspace,
};

/// What to profile.
#[derive(Debug, clap::Args)]
pub struct ProfileArgs {
    /// The case to profile.
    pub case: String,
    /// The case's own flags [default: --quick], and the profile's: `--variants a,b` (each is
    /// profiled alone, the first is the one the others are compared with; default: every
    /// variant) and `--book` (write the table to docs/src/results/<machine>/<case>.profile.md).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "FLAGS")]
    pub flags: Vec<String>,
}

/// The profile's own options, taken out of the flags; the rest go to the case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// Named by `--variants`; empty for every variant of the case.
    pub variants: Vec<String>,
    /// `--book`: file the table in the book instead of printing it.
    pub book: bool,
    /// What every variant's run is given, with `--quick` added unless a preset was named.
    pub passed: Vec<String>,
}

/// Case flags the profile sets itself or that would make the case run nothing.
const REFUSED: [&str; 5] = ["--json", "--render", "--list-variants", "--plots", "--format"];

impl Selection {
    pub fn parse(flags: &[String]) -> Result<Selection, UsageError> {
        let mut selection = Selection { variants: Vec::new(), book: false, passed: Vec::new() };
        let mut named_variants = false;
        let mut rest = flags.iter();
        while let Some(flag) = rest.next() {
            let (name, inline) = match flag.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value.to_string())),
                _ => (flag.as_str(), None),
            };
            match name {
                "--book" if inline.is_none() => selection.book = true,
                "--variants" => {
                    let value = inline.or_else(|| rest.next().cloned()).filter(|v| !v.starts_with("--"));
                    let value =
                        value.ok_or_else(|| UsageError::new("--variants needs a list of variants: --variants a,b"))?;
                    let names: Vec<String> = value.split(',').map(|v| v.trim().to_string()).collect();
                    if names.iter().any(String::is_empty) {
                        return Err(UsageError::new(format!("--variants {value}: a variant name is empty")));
                    }
                    if named_variants {
                        return Err(UsageError::new("--variants is given twice"));
                    }
                    named_variants = true;
                    selection.variants = names;
                }
                refused if REFUSED.contains(&refused) => {
                    return Err(UsageError::new(format!(
                        "{refused} is not for `casebook profile`: it runs the case without a report of its own and prints instructions per run"
                    )));
                }
                _ => selection.passed.push(flag.clone()),
            }
        }
        let preset = ["--quick", "--full", "--preset"];
        if !selection.passed.iter().any(|f| preset.iter().any(|p| f == p || f.starts_with(&format!("{p}=")))) {
            selection.passed.insert(0, "--quick".into());
        }
        Ok(selection)
    }
}

/// One variant's measured runs, as callgrind counted them.
#[derive(Clone, Debug, PartialEq)]
pub struct Profiled {
    pub variant: String,
    /// Measured child processes (each row's warm-up and runs).
    pub runs: usize,
    /// Their instructions, all together.
    pub instructions: u64,
}

impl Profiled {
    pub fn per_run(&self) -> f64 {
        self.instructions as f64 / self.runs.max(1) as f64
    }
}

/// Every variant's count, with the machine line of the runs.
#[derive(Clone, Debug)]
pub struct Profile {
    pub rows: Vec<Profiled>,
    /// The case's own machine line (its build, its commit).
    pub machine: String,
    /// `valgrind --version`.
    pub valgrind: String,
}

/// `casebook profile`.
pub fn profile(args: &ProfileArgs) -> anyhow::Result<i32> {
    let selection = Selection::parse(&args.flags)?;
    if args.case == "all" {
        return Err(UsageError::new("`casebook profile` takes one case, not all").into());
    }
    let workspace = Workspace::find()?;
    let case = workspace.select(std::slice::from_ref(&args.case))?.remove(0);
    let valgrind = valgrind()?;
    workspace.build(std::slice::from_ref(&case))?;
    process::install_interrupt_handler();
    let profile = measure(&valgrind, &workspace.binary(&case), &selection, &std::env::temp_dir())?;
    let command = command_line(&case.name, &args.flags);
    let markdown = markdown(&case.name, &command, &profile);
    if selection.book {
        let label = Machine::detect().label();
        let dir = workspace.book().join("results").join(&label);
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(format!("{}.profile.md", case.name));
        std::fs::write(&path, &markdown).with_context(|| format!("cannot write {}", path.display()))?;
        print!("{}", table(&profile));
        eprintln!("written to {}", path.strip_prefix(&workspace.root).unwrap_or(&path).display());
    } else {
        print!("{markdown}");
    }
    Ok(0)
}

/// The valgrind on the `PATH`, or a usage error that says how to install it.
pub fn valgrind() -> Result<PathBuf, UsageError> {
    find_on_path(&std::env::var_os("PATH").unwrap_or_default(), "valgrind").ok_or_else(|| {
        UsageError::new(
            "valgrind is not installed (callgrind counts the instructions): install it with `apt-get install -y valgrind`",
        )
    })
}

fn find_on_path(path: &OsStr, name: &str) -> Option<PathBuf> {
    std::env::split_paths(path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// Runs each variant of the case binary under callgrind, in a temporary directory under
/// `scratch` that is removed however this ends (an error, Ctrl-C).
pub fn measure(valgrind: &Path, binary: &Path, selection: &Selection, scratch: &Path) -> anyhow::Result<Profile> {
    let dir = tempfile::Builder::new()
        .prefix("casebook-profile-")
        .tempdir_in(scratch)
        .with_context(|| format!("cannot create a directory in {}", scratch.display()))?;
    let variants = if selection.variants.is_empty() { every_variant(binary)? } else { selection.variants.clone() };
    let version = Command::new(valgrind).arg("--version").output().context("cannot run valgrind --version")?;
    let mut rows = Vec::new();
    let mut machine = String::new();
    for (index, variant) in variants.iter().enumerate() {
        eprintln!("== {variant} under callgrind");
        let out = dir.path().join(format!("variant-{index}"));
        std::fs::create_dir(&out)?;
        let json = out.join("report.json");
        let log = out.join("stderr.log");
        let mut command = Command::new(valgrind);
        command
            .args(["--tool=callgrind", "--trace-children=yes", "--quiet"])
            .arg(format!("--callgrind-out-file={}", out.join("callgrind.out.%p").display()))
            .arg(binary)
            .args(&selection.passed)
            .args(["--no-progress", "--variants", variant, "--json"])
            .arg(&json)
            // The case's own temporary files go in ours, so they go with it.
            .env("TMPDIR", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?);
        run_to_end(process::tie_to_run(&mut command), &log, variant)?;
        if machine.is_empty() {
            let report = Report::from_json(&std::fs::read(&json).context("the case wrote no report")?)?;
            machine = report.env.line();
        }
        let counted = count(&out)?;
        anyhow::ensure!(counted.runs > 0, "callgrind saw no measured run of {variant}");
        rows.push(Profiled { variant: variant.clone(), runs: counted.runs, instructions: counted.instructions });
    }
    Ok(Profile { rows, machine, valgrind: String::from_utf8_lossy(&version.stdout).trim().to_string() })
}

/// The case's variants, from `--list-variants` (a name first on each line).
fn every_variant(binary: &Path) -> anyhow::Result<Vec<String>> {
    let output = Command::new(binary)
        .arg("--list-variants")
        .output()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    anyhow::ensure!(output.status.success(), "{} --list-variants failed", binary.display());
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(String::from))
        .collect())
}

/// Waits for one variant's run under callgrind; stops its whole group on Ctrl-C. The case's
/// usage error is ours (exit 2); any other failure is its last error line.
fn run_to_end(command: &mut Command, log: &Path, variant: &str) -> anyhow::Result<()> {
    let mut child = process::spawn_group(command).context("cannot start valgrind")?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if process::interrupted() {
            process::stop_group(&mut child);
            anyhow::bail!("interrupted");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    process::sweep_group(child.id());
    let said = process::last_error_line(&std::fs::read_to_string(log).unwrap_or_default());
    match status.code() {
        Some(0) => Ok(()),
        Some(2) => Err(UsageError::new(said.trim_start_matches("error: ").to_string()).into()),
        Some(130) => anyhow::bail!("interrupted"),
        _ => anyhow::bail!("{variant} failed under callgrind ({status}): {said}"),
    }
}

/// The measured runs' instructions in a directory of callgrind files.
#[derive(Debug, Default, PartialEq)]
struct Counted {
    runs: usize,
    instructions: u64,
}

fn count(dir: &Path) -> anyhow::Result<Counted> {
    let mut counted = Counted::default();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("callgrind.out.")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        if let Some(instructions) = measured_instructions(&text) {
            counted.runs += 1;
            counted.instructions += instructions;
        }
    }
    Ok(counted)
}

/// A callgrind file's instruction total when the process was a measured run (its command
/// line's first argument is [`CHILD_FLAG`]); `None` for any other process.
fn measured_instructions(text: &str) -> Option<u64> {
    let field = |key: &str| text.lines().find_map(|l| l.strip_prefix(key)).map(str::trim);
    let cmd = field("cmd:")?;
    if cmd.split_whitespace().nth(1) != Some(CHILD_FLAG) {
        return None;
    }
    // `totals:` closes the file; older callgrinds wrote only the header's `summary:`.
    let total = field("totals:").or_else(|| field("summary:"))?;
    total.split_whitespace().next()?.parse().ok()
}

/// How a reader repeats it.
fn command_line(case: &str, flags: &[String]) -> String {
    let flags: Vec<&str> = flags.iter().map(String::as_str).filter(|f| *f != "--book").collect();
    if flags.is_empty() { format!("just profile {case}") } else { format!("just profile {case} {}", flags.join(" ")) }
}

/// The table: a row per variant, each against the first.
fn table(profile: &Profile) -> String {
    let first = profile.rows.first().map(Profiled::per_run).unwrap_or(0.0);
    let name = profile.rows.first().map(|r| r.variant.as_str()).unwrap_or_default();
    let mut out =
        format!("| variant | runs, warm-ups included | instructions / run | against {name} |\n|---|---|---|---|\n");
    for row in &profile.rows {
        let ratio = if first > 0.0 { format!("{:.2}x", row.per_run() / first) } else { "–".into() };
        out += &format!("| {} | {} | {} | {ratio} |\n", row.variant, row.runs, format_count(row.per_run()));
    }
    out
}

/// The Markdown for the book, cut into anchors like a case's figures: `command`,
/// `machine`, `table`, and `<variant>-instructions` (the exact count per run).
pub fn markdown(case: &str, command: &str, profile: &Profile) -> String {
    let mut out = format!("<!-- generated by casebook profile {case}: do not edit -->\n");
    let mut put = |name: &str, text: &str| {
        out += &format!("<!-- ANCHOR: {name} -->\n{}\n<!-- ANCHOR_END: {name} -->\n", text.trim_end());
    };
    put("command", &format!("`{command}`"));
    put("machine", &format!("{} | {}", profile.machine, profile.valgrind));
    put("table", &table(profile));
    for row in &profile.rows {
        put(&format!("{}-instructions", row.variant), &thousands(row.per_run().round() as u64));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn the_profiles_options_come_out_of_the_case_flags() {
        let s = Selection::parse(&flags(&["--variants", "threads,hybrid", "--tables", "batch", "--book"])).unwrap();
        assert_eq!(s.variants, ["threads", "hybrid"]);
        assert!(s.book);
        assert_eq!(s.passed, ["--quick", "--tables", "batch"]);
        let s = Selection::parse(&flags(&["--variants=a", "--preset", "default"])).unwrap();
        assert_eq!(
            (s.variants.as_slice(), s.book, s.passed.as_slice()),
            (&["a".to_string()][..], false, &flags(&["--preset", "default"])[..])
        );
        assert_eq!(Selection::parse(&[]).unwrap().passed, ["--quick"]);
    }

    #[test]
    fn bad_profile_options_are_usage_errors() {
        for (args, expect) in [
            (vec!["--variants"], "--variants needs"),
            (vec!["--variants", "--quick"], "--variants needs"),
            (vec!["--variants", "a,,b"], "empty"),
            (vec!["--variants", "a", "--variants", "b"], "twice"),
            (vec!["--json", "x.json"], "--json is not for"),
            (vec!["--list-variants"], "--list-variants is not for"),
        ] {
            let error = Selection::parse(&flags(&args)).unwrap_err().to_string();
            assert!(error.contains(expect), "{args:?}: {error}");
        }
    }

    #[test]
    fn a_missing_valgrind_is_found_missing() {
        assert_eq!(find_on_path(OsStr::new(""), "valgrind"), None);
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(find_on_path(dir.path().as_os_str(), "valgrind"), None);
        std::fs::write(dir.path().join("valgrind"), "").unwrap();
        assert_eq!(find_on_path(dir.path().as_os_str(), "valgrind"), Some(dir.path().join("valgrind")));
    }

    #[test]
    fn an_unknown_case_is_a_usage_error() {
        let args = ProfileArgs { case: "no-such-case".into(), flags: Vec::new() };
        let error = profile(&args).unwrap_err();
        assert!(error.downcast_ref::<UsageError>().is_some(), "{error:#}");
        assert!(error.to_string().contains("unknown case 'no-such-case'"), "{error:#}");
        let args = ProfileArgs { case: "all".into(), flags: Vec::new() };
        assert!(profile(&args).unwrap_err().downcast_ref::<UsageError>().is_some());
    }

    const HEADER: &str = "# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\npid: 41\n";

    #[test]
    fn only_measured_runs_are_counted() {
        let child = format!(
            "{HEADER}cmd:  /t/release/toy {CHILD_FLAG} /tmp/x/run-3.spec.json\nevents: Ir\nsummary: 900\n\nfl=a\n1 900\n\ntotals: 1234\n"
        );
        assert_eq!(measured_instructions(&child), Some(1234));
        let header_only = format!("{HEADER}cmd: /t/toy {CHILD_FLAG} spec\nevents: Ir\nsummary: 77\n");
        assert_eq!(measured_instructions(&header_only), Some(77));
        let parent = format!("{HEADER}cmd: /t/release/toy --quick --variants loop\nevents: Ir\ntotals: 99999\n");
        assert_eq!(measured_instructions(&parent), None);
        let load = format!("{HEADER}cmd: /t/release/toy __casebook-load x\ntotals: 5\n");
        assert_eq!(measured_instructions(&load), None);
        assert_eq!(measured_instructions("cmd: toy"), None);
    }

    #[test]
    fn the_table_compares_each_variant_with_the_first() {
        let profile = Profile {
            rows: vec![
                Profiled { variant: "threads".into(), runs: 3, instructions: 3_000_000 },
                Profiled { variant: "hybrid".into(), runs: 3, instructions: 4_500_000 },
            ],
            machine: "test machine".into(),
            valgrind: "valgrind-3.19.0".into(),
        };
        let md = markdown(
            "file-pipeline",
            &command_line("file-pipeline", &flags(&["--variants", "threads,hybrid", "--book"])),
            &profile,
        );
        assert!(md.contains("`just profile file-pipeline --variants threads,hybrid`"), "{md}");
        assert!(md.contains("| threads | 3 | 1.00M | 1.00x |"), "{md}");
        assert!(md.contains("| hybrid | 3 | 1.50M | 1.50x |"), "{md}");
        assert!(md.contains("<!-- ANCHOR: hybrid-instructions -->\n1,500,000\n"), "{md}");
        assert!(md.contains("test machine | valgrind-3.19.0"), "{md}");
    }
}
