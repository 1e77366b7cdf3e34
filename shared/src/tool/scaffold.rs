//! `casebook new` and `casebook check-new`: a new case crate copied from `templates/case`,
//! and the proof that the copy builds, tests and runs.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::{
    model::plan::UsageError,
    tool::workspace::{Workspace, cargo},
};

/// The placeholders a template file may use, and what each becomes for `my-case`.
fn placeholders(name: &str) -> [(&'static str, String); 3] {
    let type_name: String = name
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect();
    [("__CASE_NAME__", name.to_string()), ("__CASE_TYPE__", type_name), ("__CRATE_NAME__", name.replace('-', "_"))]
}

/// Whether `name` is lowercase words (letters, then letters or digits) joined by hyphens.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|word| {
            word.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && word.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// Copies the template into `crates/<name>`, filling in the placeholders. The copy is
/// staged beside its destination and moved into place whole.
pub fn new_case(name: &str) -> anyhow::Result<PathBuf> {
    if !valid_name(name) {
        return Err(UsageError::new(format!(
            "a case name is lowercase words joined by hyphens, e.g. my-case (got '{name}')"
        ))
        .into());
    }
    let workspace = Workspace::find()?;
    let destination = workspace.root.join("crates").join(name);
    if destination.exists() || name == "casebook" || name == "all" || name == "casebook-toy" {
        return Err(UsageError::new(format!("'{name}' is taken")).into());
    }
    let staging = tempfile::Builder::new()
        .prefix(".new-case-")
        .tempdir_in(workspace.root.join("crates"))
        .context("cannot stage the new case")?;
    copy_filled(&workspace.root.join("templates").join("case"), staging.path(), &placeholders(name))?;
    std::fs::rename(staging.keep(), &destination).context("cannot move the new case into crates/")?;
    println!("created crates/{name}: edit src/lib.rs, then `just run {name} --quick`; see docs/src/adding-a-case.md");
    Ok(destination)
}

fn copy_filled(from: &Path, to: &Path, fill: &[(&str, String)]) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(to.join(&name))?;
            copy_filled(&entry.path(), &to.join(&name), fill)?;
        } else {
            let mut text = std::fs::read_to_string(entry.path())?;
            for (placeholder, value) in fill {
                text = text.replace(placeholder, value);
            }
            std::fs::write(to.join(name.strip_suffix(".tmpl").unwrap_or(&name)), text)?;
        }
    }
    Ok(())
}

/// Removes the throwaway case however the check ends, and lets cargo drop it from
/// `Cargo.lock` again.
struct Throwaway(PathBuf);

impl Drop for Throwaway {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        let _ = cargo().args(["metadata", "--format-version", "1", "--offline"]).output();
    }
}

/// Scaffolds `scaffold-check`, runs its tests and a quick run, and removes it.
pub fn check_new() -> anyhow::Result<i32> {
    let workspace = Workspace::find()?;
    let _throwaway = Throwaway(new_case("scaffold-check")?);
    let report = workspace.reports().join("scaffold-check.json");
    let steps: [(&str, Vec<&str>); 2] = [
        ("its tests", vec!["test", "--quiet", "-p", "scaffold-check"]),
        // A debug run: a release harness built while the throwaway crate dirties Cargo.lock
        // would stamp later release reports with a "-dirty" commit.
        ("a quick run", vec!["run", "--quiet", "-p", "scaffold-check", "--", "--quick", "--no-progress", "--json"]),
    ];
    for (what, args) in steps {
        let mut command = cargo();
        command.current_dir(&workspace.root).args(args);
        if what == "a quick run" {
            command.arg(&report).stdout(std::process::Stdio::null());
        }
        let status = command.status().with_context(|| format!("cannot run {what}"))?;
        anyhow::ensure!(status.success(), "the scaffolded case failed {what}");
    }
    let _ = std::fs::remove_file(report);
    println!("the scaffold builds, tests and runs");
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_placeholders() {
        assert!(valid_name("my-case") && valid_name("db2-queries"));
        assert!(!valid_name("My-case") && !valid_name("my--case") && !valid_name("2case") && !valid_name(""));
        let filled = placeholders("request-mix");
        assert_eq!(filled[1].1, "RequestMix");
        assert_eq!(filled[2].1, "request_mix");
    }
}
