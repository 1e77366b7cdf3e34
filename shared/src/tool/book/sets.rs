//! A results set: one machine's reports in `docs/src/results/<label>/`, what each measured
//! (commit and source trees), and the pages that show the sets side by side.
//!
//! A case's results are stale once its crate, or the code that measured them
//! ([`measured_by`]: the harness's measuring code, the parts of the tool that build and
//! launch the cases, the manifests and `Cargo.lock`), has changed since: `pages` removes them.
//! The rest of the tool (compare, advise, the pages) and the prose measure nothing.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::{host::machine::Machine, report::Report, tool::workspace::CaseCrate};

/// What one case's results in a set measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Measured {
    /// The commit checked out, as the report's machine line gives it.
    pub commit: String,
    /// Git's tree ids of the case's sources and of the harness's sources when it ran. The
    /// case's results are stale once the case's tree differs from HEAD's.
    pub case_tree: String,
    pub harness_tree: String,
    /// What else the figures depend on, as one id ([`measured_by`]): the harness's measuring
    /// code and the manifests and lock file it was built with. Stale once it differs from
    /// HEAD's. Empty in a set filed before it was recorded; `pages` fills it in.
    #[serde(default)]
    pub measured_by: String,
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
            measured_by: measured_by(root, "HEAD")?,
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

/// The files a case's figures depend on besides its own crate: the harness's sources, its
/// manifest, the workspace's manifest (the release profile) and lock file (every dependency's
/// version), and cargo's and rustup's settings where a checkout has them. `shared/build.rs`
/// is left out: it only records the compiler, the profile and the commit for the machine line.
const MEASURED_BY: [&str; 8] = [
    "shared/src",
    "shared/Cargo.toml",
    "Cargo.toml",
    "Cargo.lock",
    ".cargo/config.toml",
    ".cargo/config",
    "rust-toolchain.toml",
    "rust-toolchain",
];

/// The parts of the harness's sources that measure nothing: the tool's commands that read
/// reports (compare, advise, summary, the pages and this staleness rule, the prose check), the
/// scaffold, and the binary's one line. No case links to them at run time. The tool's code
/// that builds the cases and chooses their flags (`mod.rs`, `workspace.rs`, `book/mod.rs`) and
/// the profiler stay measuring code, and so does any file not named here.
const NOT_MEASURING: [&str; 12] = [
    "shared/src/bin/",
    "shared/src/tool/advise/",
    "shared/src/tool/advise.rs",
    "shared/src/tool/book/choosing.rs",
    "shared/src/tool/book/claims.rs",
    "shared/src/tool/book/sets.rs",
    "shared/src/tool/claims.rs",
    "shared/src/tool/compare.rs",
    "shared/src/tool/prose.rs",
    "shared/src/tool/scaffold.rs",
    "shared/src/tool/soak.rs",
    "shared/src/tool/summary.rs",
];

/// The version of [`measured_by`]'s definition, the prefix of every id it gives: an id of
/// another version is not compared, and its set is judged at its commit instead.
const MEASURED_BY_VERSION: &str = "2:";

/// One id for everything in [`MEASURED_BY`] at `rev`, less [`NOT_MEASURING`]: git's listing of
/// those files' blob ids, hashed by git.
pub fn measured_by(root: &Path, rev: &str) -> anyhow::Result<String> {
    // `-z`: paths unquoted whatever the user's git configuration, entries ended by NUL.
    let output = Command::new("git")
        .current_dir(root)
        .args(["ls-tree", "-r", "-z", rev, "--"])
        .args(MEASURED_BY)
        .output()
        .context("cannot run git")?;
    anyhow::ensure!(output.status.success(), "git cannot list {rev}'s harness: results are filed from a git checkout");
    let listing: String = String::from_utf8_lossy(&output.stdout)
        .split('\0')
        .filter(|entry| {
            entry.split_once('\t').is_some_and(|(_, path)| !NOT_MEASURING.iter().any(|p| path.starts_with(p)))
        })
        .map(|entry| format!("{entry}\n"))
        .collect();
    anyhow::ensure!(!listing.is_empty(), "{rev} has no harness sources");
    let mut hash = Command::new("git")
        .current_dir(root)
        .args(["hash-object", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run git")?;
    hash.stdin.take().context("git's stdin")?.write_all(listing.as_bytes())?;
    let output = hash.wait_with_output()?;
    anyhow::ensure!(output.status.success(), "git hash-object failed");
    Ok(format!("{MEASURED_BY_VERSION}{}", String::from_utf8_lossy(&output.stdout).trim()))
}

/// How a case's results stand against HEAD's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Standing {
    Stale,
    /// Current, judged by [`measured_by`]: the id can be recorded.
    Current,
    /// Current as far as this clone can tell: the set names a commit it lacks, and only the
    /// harness's whole tree was compared, not the manifests or the lock file.
    CurrentByTree,
}

/// Whether a case's results still describe HEAD's code: its crate's tree and [`measured_by`]
/// are HEAD's. A set with no id of this version is judged at the commit it names, when this
/// clone has that commit, and otherwise by the harness's whole tree.
fn standing(root: &Path, case: &str, m: &Measured, head: &Head) -> Standing {
    let by = |current: bool| if current { Standing::Current } else { Standing::Stale };
    if tree(root, &format!("crates/{case}")).ok().as_ref() != Some(&m.case_tree) {
        return Standing::Stale;
    }
    if m.measured_by.starts_with(MEASURED_BY_VERSION) {
        return by(m.measured_by == head.measured_by);
    }
    let commit = m.commit.split_whitespace().next().unwrap_or_default();
    match measured_by(root, commit) {
        Ok(then) => by(then == head.measured_by),
        Err(_) if m.harness_tree == head.harness_tree => Standing::CurrentByTree,
        Err(_) => Standing::Stale,
    }
}

/// HEAD's ids, read once.
struct Head {
    harness_tree: String,
    measured_by: String,
}

/// The parts of the checkout the cases' results depend on that have uncommitted changes.
pub fn dirty(root: &Path, cases: &[CaseCrate]) -> anyhow::Result<Vec<String>> {
    let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    uncommitted(root, &names)
}

/// Which of [`MEASURED_BY`] and the named cases' crates have uncommitted changes.
fn uncommitted(root: &Path, cases: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut paths: Vec<String> = MEASURED_BY.iter().map(|p| p.to_string()).collect();
    paths.extend(cases.iter().map(|c| format!("crates/{c}")));
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
    let head = Head { harness_tree: tree(root, "shared/src")?, measured_by: measured_by(root, "HEAD")? };
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_dir()).collect();
    dirs.sort();
    for dir in dirs {
        let Some(mut set) = ResultSet::load(&dir)? else { continue };
        let standings: BTreeMap<String, Standing> =
            set.cases.iter().map(|(case, m)| (case.clone(), standing(root, case, m, &head))).collect();
        let mut stale: Vec<String> =
            standings.iter().filter(|(_, s)| **s == Standing::Stale).map(|(case, _)| case.clone()).collect();
        // Staleness is judged against HEAD. With uncommitted changes to what measures, HEAD is
        // not the code on disk (a revert not yet committed would condemn every set): keep the
        // results until the changes are committed.
        let names: Vec<&str> = stale.iter().map(String::as_str).collect();
        let changing = if stale.is_empty() { Vec::new() } else { uncommitted(root, &names)? };
        if !changing.is_empty() {
            eprintln!(
                "pages: uncommitted changes in {}: {} stale result(s) on {} kept until they are committed",
                changing.join(", "),
                stale.len(),
                set.label
            );
            stale.clear();
        }
        for case in &stale {
            eprintln!("pages: {}'s results on {} are stale (its code changed since): removed", case, set.label);
            for suffix in ["json", "md", "figures.md", "profile.md"] {
                let _ = std::fs::remove_file(dir.join(format!("{case}.{suffix}")));
            }
            remove_case_plots(&dir, case)?;
            set.cases.remove(case);
        }
        // What was judged current by its id was measured by HEAD's code: record the id, so
        // that a clone without the set's commit can tell.
        for (case, m) in set.cases.iter_mut() {
            if standings[case] == Standing::Current {
                m.measured_by.clone_from(&head.measured_by);
            }
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
        measured_by: String::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A throwaway git checkout with a harness, one case and a set that measured it.
    struct Checkout(tempfile::TempDir);

    impl Checkout {
        fn new() -> Checkout {
            let checkout = Checkout(tempfile::tempdir().unwrap());
            checkout.git(&["init", "--quiet"]);
            for (path, text) in [
                ("Cargo.toml", "[profile.release]\n"),
                ("Cargo.lock", "tokio 1.0\n"),
                ("shared/Cargo.toml", "[package]\n"),
                ("shared/src/lib.rs", "// runs\n"),
                ("shared/src/tool/compare.rs", "// compares\n"),
                ("shared/src/tool/workspace.rs", "// builds the cases\n"),
                ("shared/src/bin/casebook.rs", "// the tool\n"),
                ("crates/demo/src/lib.rs", "// a case\n"),
                ("docs/src/intro.md", "prose\n"),
            ] {
                checkout.write(path, text);
            }
            checkout.commit();
            checkout
        }

        fn root(&self) -> &Path {
            self.0.path()
        }

        fn git(&self, args: &[&str]) {
            let status = Command::new("git")
                .current_dir(self.root())
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .status()
                .unwrap();
            assert!(status.success(), "git {args:?}");
        }

        fn write(&self, path: &str, text: &str) {
            let path = self.root().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }

        fn commit(&self) {
            self.git(&["add", "-A"]);
            self.git(&["commit", "--quiet", "-m", "change"]);
        }

        fn head(&self) -> String {
            measured_by(self.root(), "HEAD").unwrap()
        }

        /// Files the demo case's results as measured at HEAD, the way `report` does.
        fn file_set(&self, recorded: bool) -> PathBuf {
            let results = self.root().join("results");
            let dir = results.join("m");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("demo.json"), "{}").unwrap();
            let measured = Measured {
                commit: format!("{} (built from)", self.rev("HEAD")),
                case_tree: tree(self.root(), "crates/demo").unwrap(),
                harness_tree: tree(self.root(), "shared/src").unwrap(),
                measured_by: if recorded { self.head() } else { String::new() },
                dirty: false,
                preset: "default".into(),
                seconds: 1.0,
                date: "2026-12-08".into(),
            };
            let set = ResultSet {
                label: "m".into(),
                machine: "m".into(),
                cases: BTreeMap::from([("demo".to_string(), measured)]),
                dir: dir.clone(),
            };
            set.save(&dir).unwrap();
            results
        }

        fn rev(&self, rev: &str) -> String {
            let out = Command::new("git").current_dir(self.root()).args(["rev-parse", rev]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        }

        /// Changes the demo case's record in the filed set.
        fn edit(&self, results: &Path, change: impl FnOnce(&mut Measured)) {
            let dir = results.join("m");
            let mut set = ResultSet::load(&dir).unwrap().unwrap();
            change(set.cases.get_mut("demo").unwrap());
            set.save(&dir).unwrap();
        }

        fn recorded(&self, results: &Path) -> String {
            ResultSet::load(&results.join("m")).unwrap().unwrap().cases["demo"].measured_by.clone()
        }

        fn kept(&self, results: &Path) -> bool {
            load_all(self.root(), results).unwrap().iter().any(|s| s.cases.contains_key("demo"))
        }
    }

    #[test]
    fn the_tool_and_the_prose_measure_nothing_and_everything_else_does() {
        let checkout = Checkout::new();
        let mut id = checkout.head();
        for (path, measures) in [
            ("shared/src/tool/compare.rs", false),
            ("shared/src/bin/casebook.rs", false),
            ("docs/src/intro.md", false),
            ("shared/src/tool/workspace.rs", true),
            ("shared/src/lib.rs", true),
            ("shared/Cargo.toml", true),
            ("Cargo.toml", true),
            ("Cargo.lock", true),
        ] {
            checkout.write(path, "changed\n");
            checkout.commit();
            let now = checkout.head();
            assert_eq!(now != id, measures, "{path}");
            id = now;
        }
    }

    #[test]
    fn a_set_stays_while_what_measured_it_is_unchanged() {
        let checkout = Checkout::new();
        let results = checkout.file_set(true);
        checkout.write("shared/src/tool/compare.rs", "// compares better\n");
        checkout.commit();
        assert!(checkout.kept(&results), "a change to the tool made the set stale");
        checkout.write("Cargo.lock", "tokio 1.1\n");
        checkout.commit();
        assert!(!checkout.kept(&results), "a new dependency version left the set current");
        assert!(!results.join("m").exists(), "the stale set's files stayed");
    }

    #[test]
    fn a_change_to_the_case_makes_its_results_stale() {
        let checkout = Checkout::new();
        let results = checkout.file_set(true);
        checkout.write("crates/demo/src/lib.rs", "// another case\n");
        checkout.commit();
        assert!(!checkout.kept(&results));
    }

    #[test]
    fn a_set_filed_before_the_id_is_judged_at_its_commit_and_then_records_it() {
        let checkout = Checkout::new();
        let results = checkout.file_set(false);
        checkout.write("shared/src/tool/compare.rs", "// compares better\n");
        checkout.commit();
        let sets = load_all(checkout.root(), &results).unwrap();
        assert_eq!(sets[0].cases["demo"].measured_by, checkout.head(), "the current set did not record the id");
        let saved = ResultSet::load(&results.join("m")).unwrap().unwrap();
        assert_eq!(saved.cases["demo"].measured_by, checkout.head(), "set.json was not updated");

        let results = checkout.file_set(false);
        checkout.write("shared/src/lib.rs", "// measures otherwise\n");
        checkout.commit();
        assert!(!checkout.kept(&results), "an old set measured by other harness code stayed");
    }

    #[test]
    fn an_id_of_another_version_is_judged_at_its_commit() {
        let checkout = Checkout::new();
        let results = checkout.file_set(false);
        checkout.edit(&results, |m| m.measured_by = "0123456789abcdef".into());
        assert!(checkout.kept(&results));
        assert_eq!(checkout.recorded(&results), checkout.head());
        assert!(checkout.head().starts_with(MEASURED_BY_VERSION));
    }

    #[test]
    fn a_set_whose_commit_this_clone_lacks_is_judged_by_the_harness_tree_and_not_stamped() {
        let checkout = Checkout::new();
        let results = checkout.file_set(false);
        checkout.edit(&results, |m| m.commit = "0000000000000000000000000000000000000001".into());
        assert!(checkout.kept(&results), "an unchanged harness tree is current");
        assert_eq!(checkout.recorded(&results), "", "a set judged by its tree alone was given an id");
        checkout.write("shared/src/tool/compare.rs", "// compares better\n");
        checkout.commit();
        assert!(!checkout.kept(&results), "without its commit, any change to the harness's tree counts");
    }

    #[test]
    fn uncommitted_changes_keep_stale_results_until_they_are_committed() {
        let checkout = Checkout::new();
        let results = checkout.file_set(true);
        checkout.write("Cargo.lock", "tokio 1.1\n");
        checkout.commit();
        checkout.write("Cargo.lock", "tokio 1.0\n");
        assert!(checkout.kept(&results), "a set was removed while the code that judges it was being edited");
        checkout.commit();
        assert!(checkout.kept(&results), "the committed revert makes the set current again");
        checkout.write("crates/demo/src/lib.rs", "// another case\n");
        checkout.commit();
        assert!(!checkout.kept(&results));
    }
}
