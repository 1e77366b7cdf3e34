//! A load generator is a second process whose figures join the run's, whose cost is
//! recorded apart, and whose histograms merge across runs.

use casebook::{
    Figure, Format, Hist,
    model::figure::{LOADGEN_CORES, LOADGEN_CPU, LOADGEN_PEAK_RSS, LOADGEN_PEAK_THREADS},
};

use crate::sandbox::{Sandbox, stderr, stdout};

#[test]
fn a_load_generator_reports_its_figures_and_its_cost_apart() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["--repeat", "3", "--load"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = sandbox.report();
    let latency = Hist::micros("latency");
    for row in &report.rows {
        for run in &row.runs {
            assert_eq!(run.figure(Figure::new("requests", Format::Count)), Some(200.0));
            for figure in [LOADGEN_CPU, LOADGEN_CORES, LOADGEN_PEAK_RSS, LOADGEN_PEAK_THREADS] {
                assert!(run.figure(figure).is_some(), "{} lacks {}", row.label, figure.key);
            }
            assert_eq!(run.histogram(latency).unwrap().len(), 200);
        }
        // Merged over three runs: 600 values, 6 of them in the 5 ms tail.
        let merged = row.merged(latency).unwrap();
        assert_eq!(merged.len(), 600);
        assert!(row.quantile(latency, 0.999).unwrap() >= 4_990.0);
        assert!(row.quantile(latency, 0.5).unwrap() < 200.0);
        assert_eq!(row.latency["latency"].count, 600);
    }
    let text = stdout(&output);
    assert!(text.contains("latency p99.9"), "{text}");
    assert!(sandbox.leftovers().is_empty(), "scratch left behind: {:?}", sandbox.leftovers());
}
