//! Records what this binary was built with, for the report's machine line: the compiler, the
//! profile, and the commit of the source tree at build time (the report also reads the tree
//! at run time, and says so when the two differ).
use std::{path::Path, process::Command};

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    println!("cargo:rustc-env=CASEBOOK_RUSTC={}", output_of(Command::new(rustc).arg("--version")));
    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=CASEBOOK_PROFILE={profile}");

    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let workspace = Path::new(&manifest).parent().unwrap_or(Path::new("."));
    let commit = describe_commit(workspace).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=CASEBOOK_BUILT_FROM={commit}");
    // Rebuild when HEAD moves (a checkout or a commit); watch only files that exist, since a
    // missing one would make cargo rerun this script on every build. In a linked worktree
    // `.git` is a file naming the worktree's own git directory, and branch refs live in the
    // repository's common directory.
    let dot_git = workspace.join(".git");
    let git = match std::fs::read_to_string(&dot_git) {
        Ok(text) => text.strip_prefix("gitdir:").map(|d| workspace.join(d.trim())).unwrap_or(dot_git),
        Err(_) => dot_git,
    };
    let common = std::fs::read_to_string(git.join("commondir")).map(|d| git.join(d.trim())).unwrap_or(git.clone());
    let head = git.join("HEAD");
    if head.is_file() {
        println!("cargo:rerun-if-changed={}", head.display());
        if let Some(reference) =
            std::fs::read_to_string(&head).ok().and_then(|h| h.strip_prefix("ref: ").map(|r| r.trim().to_string()))
        {
            for path in [git.join(&reference), common.join(&reference)] {
                if path.is_file() {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/host/describe.rs");
}

include!("src/host/describe.rs");

fn output_of(command: &mut Command) -> String {
    command
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}
