//! The workload a reader describes, checked: a point of the request-mix map (CPU and waiting
//! per request, requests in flight), a file size, or both. Flags that cannot describe one
//! workload are a usage error in one line.

use serde::Serialize;

use super::AdviseArgs;
use crate::model::plan::UsageError;

/// The request-mix map's budget: a request's CPU and its wait add up to this many µs.
pub const BUDGET_US: f64 = 1000.0;

/// A request, placed on the map.
#[derive(Debug, Serialize)]
pub struct Request {
    pub cpu_us: f64,
    pub wait_us: f64,
    pub in_flight: u64,
    /// The CPU part scaled to the map's 1 ms budget.
    pub cpu_of_budget_us: f64,
    /// The p99 the service must keep, in µs.
    pub latency_target_us: Option<f64>,
}

/// What the reader asked about.
#[derive(Debug, Serialize)]
pub struct Workload {
    pub request: Option<Request>,
    pub file_size_kib: Option<f64>,
    pub blocking_c: bool,
}

fn non_negative(name: &str, value: Option<f64>, unit: &str) -> Result<(), UsageError> {
    match value {
        Some(v) if !v.is_finite() || v < 0.0 => {
            Err(UsageError::new(format!("{name} must be a number of {unit}, 0 or more, got {v}")))
        }
        _ => Ok(()),
    }
}

pub fn workload(args: &AdviseArgs) -> Result<Workload, UsageError> {
    non_negative("--cpu-us", args.cpu_us, "µs")?;
    non_negative("--wait-us", args.wait_us, "µs")?;
    non_negative("--latency-target-ms", args.latency_target_ms, "ms")?;
    if let Some(kib) = args.file_size_kib
        && (!kib.is_finite() || kib <= 0.0)
    {
        return Err(UsageError::new(format!("--file-size-kib must be a size in KiB above 0, got {kib}")));
    }
    let asks_map = args.cpu_us.is_some()
        || args.wait_us.is_some()
        || args.in_flight.is_some()
        || args.connections.is_some()
        || args.latency_target_ms.is_some();
    if !asks_map && args.file_size_kib.is_none() && !args.blocking_c {
        return Err(UsageError::new(
            "describe a workload: --cpu-us, --wait-us and --in-flight (or --connections), --file-size-kib, or --blocking-c",
        ));
    }
    let request = if asks_map { Some(request(args)?) } else { None };
    Ok(Workload { request, file_size_kib: args.file_size_kib, blocking_c: args.blocking_c })
}

fn request(args: &AdviseArgs) -> Result<Request, UsageError> {
    let (Some(cpu_us), Some(wait_us)) = (args.cpu_us, args.wait_us) else {
        return Err(UsageError::new(
            "a request is placed on the map by both --cpu-us and --wait-us (give 0 for the one it does not do)",
        ));
    };
    if cpu_us + wait_us <= 0.0 {
        return Err(UsageError::new(
            "a request with no CPU and no wait takes no time: give --cpu-us or --wait-us above 0",
        ));
    }
    let in_flight = match (args.in_flight, args.connections) {
        (Some(n), Some(c)) if n > c => {
            return Err(UsageError::new(format!(
                "--in-flight {n} is more than --connections {c}: the map measures at most one request in flight per connection"
            )));
        }
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => return Err(UsageError::new("give --in-flight (or --connections): how many requests at once")),
    };
    if in_flight == 0 {
        return Err(UsageError::new("--in-flight must be 1 or more"));
    }
    if let Some(target) = args.latency_target_ms {
        let floor_ms = (cpu_us + wait_us) / 1000.0;
        if target <= floor_ms {
            return Err(UsageError::new(format!(
                "--latency-target-ms {target} cannot be met by any model: one request alone takes {floor_ms} ms of CPU and waiting"
            )));
        }
    }
    let cpu_of_budget_us = cpu_us / (cpu_us + wait_us) * BUDGET_US;
    Ok(Request {
        cpu_us,
        wait_us,
        in_flight,
        cpu_of_budget_us,
        latency_target_us: args.latency_target_ms.map(|ms| ms * 1000.0),
    })
}

#[cfg(test)]
pub mod tests {
    use super::*;

    pub fn args(cpu: Option<f64>, wait: Option<f64>, in_flight: Option<u64>, connections: Option<u64>) -> AdviseArgs {
        AdviseArgs {
            cpu_us: cpu,
            wait_us: wait,
            in_flight,
            connections,
            blocking_c: false,
            file_size_kib: None,
            latency_target_ms: None,
            json: false,
            reports: None,
        }
    }

    fn request(cpu: f64, wait: f64, in_flight: Option<u64>, connections: Option<u64>) -> Result<Request, UsageError> {
        workload(&args(Some(cpu), Some(wait), in_flight, connections)).map(|w| w.request.unwrap())
    }

    #[test]
    fn a_request_is_scaled_to_the_maps_budget() {
        let r = request(200.0, 800.0, Some(256), None).unwrap();
        assert_eq!((r.cpu_of_budget_us, r.in_flight), (200.0, 256));
        let r = request(50.0, 4950.0, None, Some(4000)).unwrap();
        assert_eq!((r.cpu_of_budget_us, r.in_flight), (10.0, 4000));
    }

    #[test]
    fn bad_and_contradictory_workloads_are_usage_errors() {
        let error = |r: Result<Request, UsageError>| r.unwrap_err().to_string();
        assert!(error(request(-1.0, 10.0, Some(1), None)).contains("--cpu-us must be"));
        assert!(error(request(10.0, -1.0, Some(1), None)).contains("--wait-us must be"));
        assert!(error(request(0.0, 0.0, Some(1), None)).contains("no CPU and no wait"));
        assert!(error(request(f64::NAN, 10.0, Some(1), None)).contains("--cpu-us"));
        assert!(error(request(10.0, 10.0, None, None)).contains("give --in-flight"));
        assert!(error(request(10.0, 10.0, Some(0), None)).contains("1 or more"));
        assert!(error(request(10.0, 10.0, Some(100), Some(10))).contains("more than --connections"));
        let half = workload(&args(Some(10.0), None, Some(16), None)).unwrap_err().to_string();
        assert!(half.contains("both --cpu-us and --wait-us"), "{half}");
        let nothing = workload(&args(None, None, None, None)).unwrap_err().to_string();
        assert!(nothing.contains("describe a workload"), "{nothing}");
        let mut late = args(Some(100.0), Some(5000.0), Some(16), None);
        late.latency_target_ms = Some(5.0);
        assert!(workload(&late).unwrap_err().to_string().contains("cannot be met"));
        let mut no_size = args(None, None, None, None);
        no_size.file_size_kib = Some(0.0);
        assert!(workload(&no_size).unwrap_err().to_string().contains("--file-size-kib"));
        // Every message is one line.
        for e in [half, nothing] {
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }

    #[test]
    fn a_file_size_alone_asks_nothing_of_the_map() {
        let mut files = args(None, None, None, None);
        files.file_size_kib = Some(512.0);
        let w = workload(&files).unwrap();
        assert!(w.request.is_none());
        assert_eq!(w.file_size_kib, Some(512.0));
    }
}
