//! The command that would measure a reader's own point when no measured cell is near it:
//! `just run request-mix --cpu-us 200 --in-flight 1000`. The flags are the case's own (its
//! `params::Args`); request-mix's test suite parses this very command with them, so a
//! renamed flag fails a test instead of a reader.

use std::fmt;

use serde::Serialize;

/// A request-mix cell is near the workload when its CPU part is within this many µs of the
/// workload's (both on the map's 1 ms budget)...
pub const NEAR_CPU_US: f64 = 50.0;
/// ...and its requests in flight are within this factor of the workload's, either way.
pub const NEAR_IN_FLIGHT: f64 = 2.0;
/// A file-pipeline mix is near when its mean file size is within this factor, either way.
pub const NEAR_FILE_SIZE: f64 = 2.0;

/// `just run <case> <flag> <value> ...`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunCommand {
    pub case: &'static str,
    pub flags: Vec<(&'static str, String)>,
}

impl RunCommand {
    /// What `just run <case>` passes on to the case's binary.
    pub fn args(&self) -> Vec<String> {
        self.flags.iter().flat_map(|(flag, value)| [flag.to_string(), value.clone()]).collect()
    }
}

impl fmt::Display for RunCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "just run {}", self.case)?;
        for arg in self.args() {
            write!(f, " {arg}")?;
        }
        Ok(())
    }
}

/// request-mix at one cell: `cpu_us` of CPU out of its 1 ms budget, `in_flight` connections.
pub fn request_mix(cpu_us: f64, in_flight: u64) -> RunCommand {
    RunCommand {
        case: "request-mix",
        flags: vec![("--cpu-us", format!("{:.0}", cpu_us.round())), ("--in-flight", in_flight.to_string())],
    }
}

/// Whether a measured cell at `(cpu_us, in_flight)` is near the workload's point.
pub fn near(cell: (f64, f64), point: (f64, f64)) -> bool {
    (cell.0 - point.0).abs() <= NEAR_CPU_US && factor(cell.1, point.1) <= NEAR_IN_FLIGHT
}

/// How many times larger the larger of two positive quantities is (1 when equal).
pub fn factor(a: f64, b: f64) -> f64 {
    let (a, b) = (a.max(f64::MIN_POSITIVE), b.max(f64::MIN_POSITIVE));
    if a > b { a / b } else { b / a }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_names_the_cell_with_the_cases_flags() {
        let command = request_mix(200.4, 1000);
        assert_eq!(command.to_string(), "just run request-mix --cpu-us 200 --in-flight 1000");
        assert_eq!(command.args(), ["--cpu-us", "200", "--in-flight", "1000"]);
    }

    #[test]
    fn near_means_both_axes_within_reach() {
        assert!(near((100.0, 256.0), (140.0, 400.0)));
        assert!(!near((100.0, 256.0), (200.0, 256.0)), "CPU 100 µs away");
        assert!(!near((100.0, 256.0), (100.0, 1000.0)), "in flight 3.9 times");
        assert_eq!(factor(16.0, 4.0), 4.0);
        assert_eq!(factor(4.0, 16.0), 4.0);
    }
}
