//! The checkout the `casebook` tool works on: where it is, which cases it has, how to build
//! them and where their binaries and reports go.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::Context;
use serde::Deserialize;

use crate::model::plan::UsageError;

/// One case crate: its command name and the question it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseCrate {
    pub name: String,
    pub question: String,
}

/// A casebook checkout: the workspace root and cargo's target directory.
#[derive(Clone, Debug)]
pub struct Workspace {
    pub root: PathBuf,
    pub target: PathBuf,
    cases: Vec<CaseCrate>,
}

#[derive(Deserialize)]
struct Metadata {
    packages: Vec<Package>,
    target_directory: PathBuf,
    workspace_root: PathBuf,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    description: Option<String>,
    manifest_path: PathBuf,
}

/// The cargo that started us (`cargo run` sets `CARGO`), else the one on the `PATH`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

impl Workspace {
    /// The workspace this tool was built from, as cargo describes it: every package under
    /// `crates/` is a case.
    pub fn find() -> anyhow::Result<Workspace> {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("Cargo.toml");
        let output = cargo()
            .args(["metadata", "--format-version", "1", "--no-deps", "--offline", "--manifest-path"])
            .arg(&manifest)
            .output()
            .context("cannot run cargo metadata")?;
        anyhow::ensure!(
            output.status.success(),
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr).lines().next().unwrap_or("")
        );
        let metadata: Metadata = serde_json::from_slice(&output.stdout).context("cargo metadata's output")?;
        let crates = metadata.workspace_root.join("crates");
        let mut cases: Vec<CaseCrate> = metadata
            .packages
            .into_iter()
            .filter(|p| p.manifest_path.parent().and_then(Path::parent) == Some(crates.as_path()))
            .map(|p| CaseCrate { name: p.name, question: p.description.unwrap_or_default() })
            .collect();
        cases.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Workspace { root: metadata.workspace_root, target: metadata.target_directory, cases })
    }

    pub fn cases(&self) -> &[CaseCrate] {
        &self.cases
    }

    /// The cases named, or every case for `all` or none; an unknown name is a usage error
    /// that lists the valid ones.
    pub fn select(&self, names: &[String]) -> Result<Vec<CaseCrate>, UsageError> {
        if names.is_empty() || names.iter().any(|n| n == "all") {
            return Ok(self.cases.clone());
        }
        names
            .iter()
            .map(|name| {
                self.cases.iter().find(|c| &c.name == name).cloned().ok_or_else(|| {
                    UsageError::new(format!("unknown case '{name}'; valid cases: all, {}", self.names().join(", ")))
                })
            })
            .collect()
    }

    fn names(&self) -> Vec<&str> {
        self.cases.iter().map(|c| c.name.as_str()).collect()
    }

    /// Builds the cases' release binaries (and nothing else), showing cargo's own errors.
    pub fn build(&self, cases: &[CaseCrate]) -> anyhow::Result<()> {
        let mut command = cargo();
        command.current_dir(&self.root).args(["build", "--quiet", "--release"]);
        for case in cases {
            command.args(["-p", &case.name]);
        }
        let status = command.status().context("cannot run cargo build")?;
        anyhow::ensure!(status.success(), "cargo build failed");
        Ok(())
    }

    /// The case's release binary.
    pub fn binary(&self, case: &CaseCrate) -> PathBuf {
        self.target.join("release").join(&case.name)
    }

    /// Where reports go: `target/casebook`.
    pub fn reports(&self) -> PathBuf {
        self.target.join("casebook")
    }

    /// The book's source, `docs/src`.
    pub fn book(&self) -> PathBuf {
        self.root.join("docs").join("src")
    }
}
