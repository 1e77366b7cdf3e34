//! The tables: each workload with every variant at its natural unit size, and the
//! granularity sweep that varies the unit size on Mandelbrot.

use casebook::{Axis, Column, Measure, PlotSpec, Row, Table, TableId};

use crate::{
    figures::PROBE,
    params::{Params, Spec, WorkloadKind},
    variants::Variant,
};

/// The uneven workload, one row per unit.
pub const MANDELBROT: TableId = TableId::new("mandelbrot");
/// The uniform workload, repeated passes.
pub const NBODY: TableId = TableId::new("nbody");
/// Mandelbrot at every unit size, for the variants that have one.
pub const SWEEP: TableId = TableId::new("granularity-sweep");

const PROBE_NOTE: &str = "probe columns: lateness of a 1 ms tokio timer tick during the measured region, every tick of the row's runs merged into one distribution (tokio's timer wheel has 1 ms resolution, so about 1 ms late is on time). wall, cores busy (CPU time / wall) and context switches cover the measured region of the whole child process; peak RSS is the child's high-water mark; peak threads is sampled every 2 ms by the parent.";

pub fn tables(params: &Params, variants: &[Variant]) -> Vec<Table> {
    let mut tables = Vec::new();
    let mandelbrot = Spec { workload: WorkloadKind::Mandelbrot, granularity: 1 };
    if params.workload.runs_mandelbrot() {
        let m = &params.mandelbrot;
        let title = format!("Mandelbrot {}x{}, max {} iterations, one row per unit", m.width, m.height, m.max_iter);
        tables.push(throughput_table(MANDELBROT, title, mandelbrot, params, variants));
    }
    if params.workload.runs_nbody() {
        let n = &params.nbody;
        let title = format!("n-body, {} bodies, {} steps, {} bodies per unit", n.bodies, n.steps, params.body_block);
        let spec = Spec { workload: WorkloadKind::Nbody, granularity: params.body_block };
        tables.push(throughput_table(NBODY, title, spec, params, variants));
    }
    if params.workload.runs_mandelbrot() && !params.sweep.is_empty() && variants.iter().any(|v| v.swept()) {
        tables.push(sweep_table(params, variants, mandelbrot));
    }
    tables
}

fn throughput_table(id: TableId, title: String, spec: Spec, params: &Params, variants: &[Variant]) -> Table {
    let mut table = Table::new(id, title);
    table.repeat = Some(params.repeat);
    table.columns.extend([Column::p50(PROBE), Column::p99(PROBE), Column::max(PROBE)]);
    table.note = PROBE_NOTE.into();
    table.rows = variants.iter().map(|v| Row::new(*v, spec)).collect();
    table.baseline_if_present(Variant::Sequential);
    table
}

/// Every swept variant at every unit size, beside one sequential row (at no unit size) that
/// is the baseline of them all.
fn sweep_table(params: &Params, variants: &[Variant], spec: Spec) -> Table {
    let mut table = Table::new(SWEEP, "Granularity sweep: Mandelbrot rows per unit of concurrency");
    // The unit sizes grow geometrically, up to one chunk per thread.
    table.axis = Some(Axis::new("rows/unit").log());
    table.columns = vec![Column::wall(), Column::speedup(), Column::peak_threads(), Column::p99(PROBE)];
    table.repeat = Some(params.sweep_repeat);
    table.note = "Each swept variant at each unit size; sequential is the baseline. The largest value is one chunk per thread. probe p99: as in the Mandelbrot table.".into();
    // Probe lateness spans 1 ms to hundreds: only a log scale shows both ends.
    table.plots = vec![PlotSpec::Primary, PlotSpec::log_y(Measure::quantile(PROBE, 0.99))];
    if variants.contains(&Variant::Sequential) {
        table.rows.push(Row::new(Variant::Sequential, spec));
    }
    for variant in variants.iter().filter(|v| v.swept()) {
        for &granularity in &params.sweep {
            table.rows.push(Row::at(*variant, granularity as f64, Spec { granularity, ..spec }));
        }
    }
    table.baseline_if_present(Variant::Sequential);
    table
}
