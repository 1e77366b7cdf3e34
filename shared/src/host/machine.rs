//! The machine line: what every published figure must be printed beside.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::host::procfs;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cpu_model: String,
    pub logical_cores: usize,
    pub memory_bytes: u64,
    pub os: String,
    pub kernel: String,
    pub rustc: String,
    pub profile: String,
    pub commit: String,
    /// When the run started, UTC, RFC 3339.
    pub date: String,
}

impl Machine {
    pub fn detect() -> Machine {
        Machine {
            cpu_model: cpu_model().unwrap_or_else(|| "unknown CPU".into()),
            logical_cores: crate::host::cpus::machine_cores(),
            memory_bytes: procfs::mem_total().unwrap_or(0),
            os: os_name().unwrap_or_else(|| std::env::consts::OS.into()),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "unknown".into()),
            rustc: env!("CASEBOOK_RUSTC").into(),
            profile: env!("CASEBOOK_PROFILE").into(),
            commit: commit_line(),
            date: utc_now(),
        }
    }

    /// A made-up machine for synthetic reports in tests: 2 cores, 24 GiB.
    pub fn fixed() -> Machine {
        Machine {
            cpu_model: "test CPU".into(),
            logical_cores: 2,
            memory_bytes: 24 << 30,
            os: "test OS".into(),
            kernel: "test".into(),
            rustc: "rustc".into(),
            profile: "test".into(),
            commit: "0000000".into(),
            date: "2026-01-01T00:00:00Z".into(),
        }
    }

    /// A short name for this kind of machine, to file its results under: the CPU model, the
    /// cores and the kernel's version, e.g. `intel-xeon-2c-linux-6.18`. Two runs on machines
    /// alike in these share a label; a reader's machine gets its own.
    pub fn label(&self) -> String {
        const NOISE: [&str; 4] = ["processor", "cpu", "core", "with"];
        let model = self.cpu_model.to_lowercase().replace("(r)", "").replace("(tm)", "");
        // "@ 2.10GHz" is the clock, not the model.
        let model: Vec<&str> = model
            .split('@')
            .next()
            .unwrap_or_default()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|word| !word.is_empty() && !NOISE.contains(word) && !word.ends_with("ghz"))
            .take(4)
            .collect();
        let kernel: Vec<&str> = self.kernel.split(['.', '-']).take(2).collect();
        format!("{}-{}c-linux-{}", model.join("-"), self.logical_cores, kernel.join("."))
    }

    /// One line, for the top of every report.
    pub fn line(&self) -> String {
        format!("{} | {}", self.line_without_date(), self.date)
    }

    /// The machine line without the date, to tell whether two reports share a machine and commit.
    pub fn line_without_date(&self) -> String {
        format!(
            "{} | {} logical cores | {} RAM | {} (kernel {}) | {} | {} build | commit {}",
            self.cpu_model,
            self.logical_cores,
            crate::model::format::format_bytes(self.memory_bytes as f64),
            self.os,
            self.kernel,
            self.rustc,
            self.profile,
            self.commit
        )
    }
}

fn cpu_model() -> Option<String> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let line = cpuinfo.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_string())
}

fn os_name() -> Option<String> {
    let release = std::fs::read_to_string("/etc/os-release").ok()?;
    let line = release.lines().find(|l| l.starts_with("PRETTY_NAME="))?;
    Some(line.trim_start_matches("PRETTY_NAME=").trim_matches('"').to_string())
}

/// The commit the binary was built from; when the tree has moved on since (an edit or a
/// checkout after the build), both, so no figure is filed under the wrong commit.
fn commit_line() -> String {
    let built = env!("CASEBOOK_BUILT_FROM");
    match commit() {
        Some(now) if now != built && built != "unknown" => format!("{built} (built from; tree now {now})"),
        Some(now) if built == "unknown" => now,
        _ => built.to_string(),
    }
}

/// The commit of the checkout right now.
fn commit() -> Option<String> {
    describe_commit(Path::new(env!("CARGO_MANIFEST_DIR")).parent()?)
}

include!("describe.rs");

/// The current UTC time as RFC 3339, to the second.
fn utc_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod label_tests {
    use super::Machine;

    #[test]
    fn a_label_names_the_cpu_cores_and_kernel() {
        let mut machine = Machine::fixed();
        machine.cpu_model = "Intel(R) Xeon(R) Processor @ 2.10GHz".into();
        machine.kernel = "6.18.44-fc-v669".into();
        assert_eq!(machine.label(), "intel-xeon-2c-linux-6.18");
        machine.cpu_model = "AMD EPYC 7B13 64-Core Processor".into();
        machine.logical_cores = 16;
        assert_eq!(machine.label(), "amd-epyc-7b13-64-16c-linux-6.18");
        machine.cpu_model = "AMD EPYC".into();
        machine.logical_cores = 2;
        assert_eq!(machine.label(), "amd-epyc-2c-linux-6.18");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn machine_line_has_the_fields() {
        let m = super::Machine::detect();
        assert!(m.logical_cores >= 1);
        let line = m.line();
        assert!(line.contains("logical cores"), "{line}");
        assert!(m.date.ends_with('Z') && m.date.len() == 20, "{}", m.date);
    }
}
