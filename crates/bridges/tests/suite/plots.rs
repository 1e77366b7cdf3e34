//! The capacity sweeps' plots draw every capacity swept: 0 (rendezvous) and unbounded, which
//! a log axis cannot place, sit past its ends with ticks of their own instead of dropping out.

use bridges::{Bridges, channels::Capacity, figures::MESSAGES_PER_S, params::Args, tables::MATRIX, variants::Variant};
use casebook::{Case, Preset, testing::ReportBuilder};

#[test]
fn each_capacity_plot_shows_rendezvous_and_unbounded() {
    let params = Bridges::params(&Args::default(), Preset::Default).unwrap();
    let ends = [Capacity::Bounded(0), Capacity::Unbounded];
    assert!(ends.iter().all(|c| params.capacities.contains(c)), "{:?}", params.capacities);
    let mut report = ReportBuilder::of::<Bridges>(&params);
    for table in MATRIX {
        for (i, capacity) in params.capacities.iter().enumerate() {
            let rate = [1e5 * (i + 1) as f64];
            report = match capacity {
                Capacity::Bounded(n) => report.figure(table, (Variant::Flume, *n as f64), MESSAGES_PER_S, &rate),
                // Off the number line: the row is named by its variant alone.
                Capacity::Unbounded => report.figure(table, Variant::Flume, MESSAGES_PER_S, &rate),
            };
        }
    }
    let report = report.build();
    let dir = tempfile::tempdir().unwrap();
    let drawn = casebook::report::plot::draw(&report, dir.path()).unwrap();
    for table in MATRIX {
        let plot = drawn
            .iter()
            .find(|p| p.table == table.as_str() && p.file.ends_with("-1.svg"))
            .unwrap_or_else(|| panic!("no messages/s plot of {table}"));
        let svg = std::fs::read_to_string(dir.path().join(&plot.file)).unwrap();
        let texts: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim()))
            .collect();
        for tick in ["0", "1", "1000", "unbounded"] {
            assert!(texts.contains(&tick), "{} has no tick {tick}: {texts:?}", plot.file);
        }
    }
}
