//! The tables: each workload with every variant at its natural unit size, and the
//! granularity sweep that varies the unit size on Mandelbrot.

use casebook::{Axis, Column, Measure, PlotSpec, Row, Table, Variant};

use crate::{
    MANDELBROT_TABLE, NBODY_TABLE, SWEEP_TABLE,
    figures::PROBE,
    params::{Params, RowSpec, WorkloadKind},
    workload::{SEQUENTIAL, SWEPT},
};

const PROBE_NOTE: &str = "probe columns: lateness of a 1 ms tokio timer tick during the measured region, every tick of the row's runs merged into one distribution (tokio's timer wheel has 1 ms resolution, so about 1 ms late is on time). wall, cores busy (CPU time / wall) and context switches cover the measured region of the whole child process; peak RSS is the child's high-water mark; peak threads is sampled every 2 ms by the parent.";

pub fn tables(params: &Params, variants: &[&'static Variant]) -> Vec<Table> {
    let mut tables = Vec::new();
    if params.workload.runs_mandelbrot() {
        let m = &params.mandelbrot;
        tables.push(throughput_table(
            MANDELBROT_TABLE,
            &format!("Mandelbrot {}x{}, max {} iterations, one row per unit", m.width, m.height, m.max_iter),
            RowSpec { workload: WorkloadKind::Mandelbrot, granularity: 1 },
            variants,
        ));
    }
    if params.workload.runs_nbody() {
        let n = &params.nbody;
        tables.push(throughput_table(
            NBODY_TABLE,
            &format!("n-body, {} bodies, {} steps, {} bodies per unit", n.bodies, n.steps, params.body_block),
            RowSpec { workload: WorkloadKind::Nbody, granularity: params.body_block },
            variants,
        ));
    }
    let swept: Vec<&&Variant> = variants.iter().filter(|v| SWEPT.contains(&v.name)).collect();
    if params.workload.runs_mandelbrot() && !params.sweep.is_empty() && !swept.is_empty() {
        tables.push(sweep_table(params, variants, &swept));
    }
    tables
}

fn throughput_table(id: &str, title: &str, spec: RowSpec, variants: &[&'static Variant]) -> Table {
    let mut table = Table::new(id, title);
    table.columns.extend([Column::p50(PROBE), Column::p99(PROBE), Column::max(PROBE)]);
    table.note = PROBE_NOTE.into();
    table.rows = variants.iter().map(|v| Row::new(v, spec)).collect();
    table.baseline_if_present(SEQUENTIAL);
    table
}

/// Every swept variant at every unit size, beside one sequential row (at no unit size) that
/// is the baseline of them all.
fn sweep_table(params: &Params, variants: &[&'static Variant], swept: &[&&'static Variant]) -> Table {
    let mut table = Table::new(SWEEP_TABLE, "Granularity sweep: Mandelbrot rows per unit of concurrency");
    // The unit sizes grow geometrically, up to one chunk per thread.
    table.axis = Some(Axis::new("rows/unit").log());
    table.columns = vec![Column::wall(), Column::speedup(), Column::peak_threads(), Column::p99(PROBE)];
    table.repeat = Some(params.sweep_repeat);
    table.note = "Each swept variant at each unit size; sequential is the baseline. The largest value is one chunk per thread. probe p99: as in the Mandelbrot table.".into();
    // Probe lateness spans 1 ms to hundreds: only a log scale shows both ends.
    table.plots = vec![PlotSpec::Primary, PlotSpec::log_y(Measure::quantile(PROBE, 0.99))];
    if let Some(sequential) = variants.iter().find(|v| v.name == SEQUENTIAL) {
        table.rows.push(Row::new(sequential, RowSpec { workload: WorkloadKind::Mandelbrot, granularity: 1 }));
        table.baseline = Some(SEQUENTIAL.into());
    }
    for variant in swept {
        for &granularity in &params.sweep {
            let spec = RowSpec { workload: WorkloadKind::Mandelbrot, granularity };
            table.rows.push(Row::at(variant, granularity as f64, spec));
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use casebook::Case;

    use super::*;
    use crate::{ParallelMath, params::Args, workload::RAYON};

    fn params() -> Params {
        let args = Args {
            workload: WorkloadKind::Both,
            threads: Some(2),
            width: Some(48),
            height: Some(36),
            max_iter: Some(200),
            bodies: Some(40),
            steps: Some(2),
            body_block: Some(3),
            sweep: Some(vec![1, 5, 0]),
            no_sweep: false,
            min_efficiency: None,
        };
        ParallelMath::params(&args, casebook::Preset::Quick).unwrap()
    }

    #[test]
    fn the_plan_has_every_selected_variant_and_a_sweep() {
        let params = params();
        let all: Vec<&'static Variant> = ParallelMath::INFO.variants.iter().collect();
        let tables = tables(&params, &all);
        let ids: Vec<&str> = tables.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, [MANDELBROT_TABLE, NBODY_TABLE, SWEEP_TABLE]);
        assert_eq!(tables[0].rows.len(), ParallelMath::INFO.variants.len());
        assert_eq!(tables[0].baseline.as_deref(), Some(SEQUENTIAL));
        assert_eq!(params.sweep, vec![1, 5, 18]);
        let sweep = &tables[2];
        assert_eq!(sweep.rows.len(), 1 + SWEPT.len() * 3);
        assert_eq!(sweep.rows.iter().filter(|r| r.axis_value.is_none()).count(), 1, "one sequential row");
        assert!(!sweep.plots.is_empty());

        let only_rayon: Vec<&'static Variant> = all.iter().copied().filter(|v| v.name == RAYON).collect();
        let tables = super::tables(&params, &only_rayon);
        assert!(tables.iter().all(|t| t.baseline.is_none()));

        let nbody = Params { workload: WorkloadKind::Nbody, ..params };
        let ids: Vec<String> = super::tables(&nbody, &all).into_iter().map(|t| t.id).collect();
        assert_eq!(ids, [NBODY_TABLE], "the sweep is on Mandelbrot only");
    }
}
