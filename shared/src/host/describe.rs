// Included by both build.rs and machine.rs: the commit a figure belongs to.

/// The checkout's commit, with `-dirty` when a tracked file outside `docs/` differs from it.
/// Docs are left out because `just report` rewrites the results pages while it runs; they do
/// not change what the binaries measure.
fn describe_commit(workspace: &std::path::Path) -> Option<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(workspace)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).filter(|c| !c.is_empty())?;
    let changes = git(&["status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs"])?;
    Some(if changes.is_empty() { commit } else { format!("{commit}-dirty") })
}
