//! The tables: batch throughput at `--work`, hash-only beside `b3sum`, watch-mode latency,
//! and the two sweeps (channel capacity; file size mix).

use casebook::{Axis, AxisMark, Column, Measure, PlotSpec, Primary, Row, Table, TableId, model::figure::PEAK_RSS};

use crate::inbox::generate::{InboxSpec, Mix};
use crate::params::{InboxRole, Mode, Params, Spec, TableKind};
use crate::pipelines::{Capacity, b3sum};
use crate::{figures::*, variants::Variant, work::Work};

// One table per [`TableKind`], which says what each holds.
pub const BATCH: TableId = TableId::new("batch");
pub const HASH: TableId = TableId::new("hash");
pub const WATCH: TableId = TableId::new("watch");
pub const CAPACITY: TableId = TableId::new("capacity");
pub const MIX: TableId = TableId::new("mix");

const MIB: f64 = (1u64 << 20) as f64;

const THROUGHPUT_NOTE: &str = "throughput: input bytes (and files) over the measured region, which starts with the inbox listed and ends when the last manifest line is written; runtimes and pools are started inside it. The inbox was written by the set-up, so it is in the page cache: reads are memory copies, and outputs are written without fsync (a rename makes each visible whole). cores busy: CPU time / wall; peak threads: sampled every 2 ms by the parent.";

pub fn tables(params: &Params, variants: &[Variant]) -> Vec<Table> {
    let work = params.settings.work;
    let pipelines: Vec<Variant> = variants.iter().copied().filter(|v| v.is_pipeline()).collect();
    let mut tables = Vec::new();
    // With --work hash the batch table is the hash-only table, b3sum included.
    if params.runs(TableKind::Batch) && work != Work::Hash {
        tables.push(batch_table(params, variants, BATCH, work));
    }
    if params.runs(TableKind::Hash) || (params.runs(TableKind::Batch) && work == Work::Hash) {
        tables.push(batch_table(params, variants, HASH, Work::Hash));
    }
    if params.runs(TableKind::Watch) {
        tables.push(watch_table(params, &pipelines));
    }
    if params.runs(TableKind::Capacity) {
        tables.push(capacity_table(params, &pipelines));
    }
    if params.runs(TableKind::Mix) {
        tables.push(mix_table(params, &pipelines));
    }
    tables.retain(|t| !t.rows.is_empty());
    tables
}

fn describe(spec: &InboxSpec, files: usize) -> String {
    format!("{files} files, {:.0} MiB, {} mix", spec.total_bytes as f64 / MIB, spec.mix.name())
}

/// A table read by throughput, with the columns every such table has.
fn throughput_table(id: TableId, title: String, vs_sequential: bool) -> Table {
    let mut table = Table::new(id, title);
    table.primary = Primary::higher(BYTES_PER_S);
    table.columns = vec![Column::new("throughput", BYTES_PER_S).with_spread(), Column::new("files/s", FILES_PER_S)];
    if vs_sequential {
        table.columns.push(Column::vs_baseline("vs sequential"));
    }
    table.columns.extend([Column::cores_busy(), Column::peak_rss(), Column::peak_threads()]);
    table
}

fn batch_table(params: &Params, variants: &[Variant], id: TableId, work: Work) -> Table {
    let title = match work {
        Work::Hash => format!("Hash only (BLAKE3), beside b3sum: {}", describe(&params.inbox, params.files)),
        _ => format!("Batch, work {}: {}", work.name(), describe(&params.inbox, params.files)),
    };
    let mut table = throughput_table(id, title, true);
    table.columns.extend([Column::voluntary_switches(), Column::involuntary_switches()]);
    table.repeat = Some(if id == HASH { params.hash_repeat } else { params.repeat });
    table.note = THROUGHPUT_NOTE.into();
    let spec = Spec { work, ..params.spec(Mode::Batch, InboxRole::Main) };
    table.rows = variants.iter().filter(|v| v.is_pipeline()).map(|v| Row::new(*v, spec)).collect();
    if work == Work::Hash && variants.contains(&Variant::B3sum) {
        let row = Row::new(Variant::B3sum, spec);
        table.rows.push(if let Err(reason) = b3sum::find() { row.skip(reason) } else { row });
        table.columns.extend([Column::new("b3sum cores", B3SUM_CORES), Column::new("b3sum threads", B3SUM_THREADS)]);
        table.note += " b3sum: the BLAKE3 team's tool over the same listed files, in batches of 1000 names per process; it memory-maps each file and hashes big ones on every core, one file after another. Its row's cores busy, peak threads and switches are the process that starts and waits for it; b3sum cores is b3sum's own CPU time (user + system, from its rusage as a waited-for child) over the wall time, and b3sum threads the most threads a b3sum process had, counted from /proc every 2 ms while it ran.";
    }
    table.baseline_if_present(Variant::Sequential);
    table
}

fn watch_table(params: &Params, pipelines: &[Variant]) -> Table {
    let title = format!(
        "Watch: {} files written at {}/s into a watched inbox, half renamed into place, half written in place",
        params.watch_files, params.watch_rate
    );
    let mut table = Table::new(WATCH, title);
    table.primary = Primary::lower(Measure::quantile(LATENCY, 0.99));
    table.columns = vec![
        Column::p50(LATENCY),
        Column::p99(LATENCY),
        Column::p999(LATENCY),
        Column::max(LATENCY),
        Column::new("lost", LOST),
        Column::new("doubled", DOUBLED),
        Column::new("rescans", RESCANS),
        Column::cores_busy(),
        Column::peak_rss(),
        Column::peak_threads(),
    ];
    table.columns.extend(Column::load_generator_set());
    table.repeat = Some(params.watch_repeat);
    table.note = format!(
        "latency: from the producer's CLOCK_MONOTONIC stamp just before the close or rename that made a file whole to the stamp of its manifest line, every file of the row's runs merged. The producer is the load generator, a process of its own; it copies the first {} files of the {} inbox on an open-loop schedule. lost: produced, never in the manifest; doubled: manifest lines beyond the first for a name; rescans: inotify queue overflows answered by listing the inbox again. cores busy and peak RSS are the pipeline's; the load generator's are apart.",
        params.watch_files,
        params.inbox.mix.name()
    );
    let spec = params.spec(Mode::Watch, InboxRole::Main);
    table.rows = pipelines.iter().map(|v| Row::new(*v, spec)).collect();
    table.baseline_if_present(Variant::Sequential);
    table
}

fn capacity_table(params: &Params, pipelines: &[Variant]) -> Table {
    let inbox = params.sweep_spec(params.inbox.mix);
    let title = format!("Channel capacity sweep: {}", describe(&inbox, inbox.sizes().len()));
    let mut table = throughput_table(CAPACITY, title, false);
    table.axis = Some(Axis::new("channel capacity (files)").log());
    table.plots = vec![PlotSpec::Primary, PlotSpec::log_y(PEAK_RSS)];
    table.repeat = Some(params.sweep_repeat);
    table.note = "The reader runs ahead of the CPU pool (reads are page-cache copies, compression is not), so the channel fills to its capacity. Capacity 0 is a rendezvous (each hand-over waits for the taker); it and unbounded are drawn as their own ringed points at the ends of the log axis.".into();
    for v in pipelines.iter().copied().filter(|v| Variant::SWEPT_BY_CAPACITY.contains(v)) {
        for &capacity in &params.capacities {
            let spec = Spec { capacity, ..params.spec(Mode::Batch, InboxRole::Sweep(inbox.mix)) };
            table.rows.push(match capacity {
                Capacity::Bounded(0) => Row { label: format!("{v} @0 (rendezvous)"), ..Row::at(v, 0.0, spec) },
                Capacity::Bounded(n) => Row::at(v, n as f64, spec),
                // Past the axis's end, so its key is the variant alone.
                Capacity::Unbounded => Row::at_mark(v, AxisMark::high(capacity.to_string()), spec),
            });
        }
    }
    table
}

fn mix_table(params: &Params, pipelines: &[Variant]) -> Table {
    let title =
        format!("File size mix sweep: {:.0} MiB of small, mixed and large files", params.sweep_bytes as f64 / MIB);
    let mut table = throughput_table(MIX, title, true);
    table.axis = Some(Axis::new("mean file size (KiB)").log());
    table.plots = vec![PlotSpec::Primary, PlotSpec::log_y(FILES_PER_S)];
    table.repeat = Some(params.mix_repeat);
    // Each mix is its own inbox, so the answer is the same within a mix, not across them.
    table.digests_by_axis = true;
    let mixes: Vec<(Mix, f64)> =
        [Mix::Small, Mix::Mixed, Mix::Large].into_iter().map(|mix| (mix, params.sweep_spec(mix).mean_kib())).collect();
    let each: Vec<String> =
        mixes.iter().map(|(m, kib)| format!("{} at {kib} KiB per file on average", m.name())).collect();
    table.note = format!(
        "The same {} MiB in each mix: {}. Every variant agrees with every other on each mix (checked mix by mix).",
        params.sweep_bytes >> 20,
        each.join(", ")
    );
    for v in pipelines {
        for &(mix, kib) in &mixes {
            table.rows.push(Row::at(*v, kib, params.spec(Mode::Batch, InboxRole::Sweep(mix))));
        }
    }
    table.baseline_if_present(Variant::Sequential);
    table
}
