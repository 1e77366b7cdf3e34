//! Where advice reads its reports, in order: the directory the reader named; else the
//! reader's own (`target/casebook`, what `just run <case>` wrote on this machine); else the
//! book's set for this machine; else any other set in the book. Each case is looked up on
//! its own, so a reader who measured only request-mix gets their map and the book's other
//! cases, and the advice names the source of every figure it quotes.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use anyhow::Context;
use serde::Serialize;

use crate::report::Report;

/// One place reports may come from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// `--reports DIR`: the only place looked at.
    Given { dir: PathBuf },
    /// The reader's own runs, in `target/casebook`.
    Own { dir: PathBuf },
    /// The book's set measured on a machine with this machine's label.
    ThisMachine { label: String, dir: PathBuf },
    /// A set of the book measured on another machine.
    OtherMachine { label: String, dir: PathBuf },
}

impl Source {
    pub fn dir(&self) -> &Path {
        match self {
            Source::Given { dir } | Source::Own { dir } => dir,
            Source::ThisMachine { dir, .. } | Source::OtherMachine { dir, .. } => dir,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Given { dir } => write!(f, "the reports in {} (--reports)", dir.display()),
            Source::Own { dir } => write!(f, "your own report in {}", dir.display()),
            Source::ThisMachine { label, .. } => write!(f, "the book's set for this machine, {label}"),
            Source::OtherMachine { label, .. } => {
                write!(f, "the book's set {label}, measured on another machine (no set for this one)")
            }
        }
    }
}

/// The places to look, best first.
#[derive(Clone, Debug)]
pub struct Sources {
    order: Vec<Source>,
}

/// A report with the place it was read from.
pub struct Found {
    pub report: Report,
    pub source: Source,
}

impl Sources {
    /// `--reports DIR` alone.
    pub fn given(dir: PathBuf) -> Sources {
        Sources { order: vec![Source::Given { dir }] }
    }

    /// The reader's own reports in `own`, then the set `this_label` under `results`, then
    /// every other set there in name order.
    pub fn ordered(own: PathBuf, results: &Path, this_label: &str) -> Sources {
        let mut order = vec![Source::Own { dir: own }];
        order.push(Source::ThisMachine { label: this_label.to_string(), dir: results.join(this_label) });
        let mut others: Vec<(String, PathBuf)> = std::fs::read_dir(results)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_dir())
                    .filter_map(|p| Some((p.file_name()?.to_str()?.to_string(), p)))
                    .filter(|(label, _)| label != this_label)
                    .collect()
            })
            .unwrap_or_default();
        others.sort();
        order.extend(others.into_iter().map(|(label, dir)| Source::OtherMachine { label, dir }));
        Sources { order }
    }

    /// The first report of `case` in the order; `None` when no place has one.
    pub fn load(&self, case: &str) -> anyhow::Result<Option<Found>> {
        self.load_where(case, |_| true)
    }

    /// The first report of `case` in the order that can answer (`usable`): a report of the
    /// reader's own that did not run the table a question needs (a run with `--tables`, say)
    /// gives way to the next place. `None` when no place has a usable one.
    pub fn load_where(&self, case: &str, usable: impl Fn(&Report) -> bool) -> anyhow::Result<Option<Found>> {
        for source in &self.order {
            let path = source.dir().join(format!("{case}.json"));
            if !path.exists() {
                continue;
            }
            let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let report = Report::from_json(&bytes).with_context(|| format!("{} is not a report", path.display()))?;
            if usable(&report) {
                return Ok(Some(Found { report, source: source.clone() }));
            }
        }
        Ok(None)
    }

    /// Every place looked at, for the message that says none had a report.
    pub fn describe(&self) -> String {
        self.order.iter().map(|s| s.dir().display().to_string()).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, case: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let mut report = crate::report::verdicts::tests::report();
        report.case = case.into();
        std::fs::write(dir.join(format!("{case}.json")), serde_json::to_vec(&report).unwrap()).unwrap();
    }

    fn kind(sources: &Sources, case: &str) -> Option<Source> {
        sources.load(case).unwrap().map(|f| f.source)
    }

    #[test]
    fn the_readers_own_report_comes_first_then_this_machines_set_then_any_set() {
        let root = tempfile::tempdir().unwrap();
        let (own, results) = (root.path().join("own"), root.path().join("results"));
        write(&results.join("amd-8c"), "request-mix");
        write(&results.join("amd-8c"), "bridges");
        write(&results.join("zen-2c"), "bridges");
        write(&results.join("zen-2c"), "game-loop");
        write(&results.join("intel-2c"), "request-mix");
        write(&own, "request-mix");
        let sources = Sources::ordered(own.clone(), &results, "intel-2c");
        assert_eq!(kind(&sources, "request-mix"), Some(Source::Own { dir: own.clone() }));
        std::fs::remove_file(own.join("request-mix.json")).unwrap();
        assert_eq!(
            kind(&sources, "request-mix"),
            Some(Source::ThisMachine { label: "intel-2c".into(), dir: results.join("intel-2c") })
        );
        // Other sets in name order: amd-8c before zen-2c.
        assert_eq!(
            kind(&sources, "bridges"),
            Some(Source::OtherMachine { label: "amd-8c".into(), dir: results.join("amd-8c") })
        );
        assert_eq!(
            kind(&sources, "game-loop"),
            Some(Source::OtherMachine { label: "zen-2c".into(), dir: results.join("zen-2c") })
        );
        assert_eq!(kind(&sources, "spawn-costs"), None);
        let said = Source::OtherMachine { label: "amd-8c".into(), dir: results.join("amd-8c") }.to_string();
        assert!(said.contains("amd-8c") && said.contains("another machine"), "{said}");
    }

    #[test]
    fn a_named_directory_is_the_only_place_looked_at() {
        let root = tempfile::tempdir().unwrap();
        write(&root.path().join("own"), "request-mix");
        let given = Sources::given(root.path().join("mine"));
        assert!(given.load("request-mix").unwrap().is_none());
        assert_eq!(given.describe(), root.path().join("mine").display().to_string());
    }
    #[test]
    fn a_report_that_cannot_answer_gives_way_to_the_next_place() {
        let root = tempfile::tempdir().unwrap();
        let (own, results) = (root.path().join("own"), root.path().join("results"));
        write(&own, "file-pipeline");
        write(&results.join("intel-2c"), "file-pipeline");
        let sources = Sources::ordered(own.clone(), &results, "intel-2c");
        // The reader's own report is read first, unless it lacks what the question needs.
        let own_only = |report: &Report| report.case == "file-pipeline";
        assert_eq!(
            sources.load_where("file-pipeline", own_only).unwrap().map(|f| f.source),
            Some(Source::Own { dir: own.clone() })
        );
        let mut mine =
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(own.join("file-pipeline.json")).unwrap())
                .unwrap();
        mine["preset"] = serde_json::json!("quick");
        std::fs::write(own.join("file-pipeline.json"), serde_json::to_vec(&mine).unwrap()).unwrap();
        let not_quick = |report: &Report| report.preset != crate::model::plan::Preset::Quick;
        assert_eq!(
            sources.load_where("file-pipeline", not_quick).unwrap().map(|f| f.source),
            Some(Source::ThisMachine { label: "intel-2c".into(), dir: results.join("intel-2c") })
        );
        assert!(sources.load_where("file-pipeline", |_| false).unwrap().is_none());
    }
}
