//! The four tables, their rows and columns, and what each one's figures cover. A size above
//! a variant's cap is planned as a skipped row that says which cap, so the table shows it.

use casebook::{
    Axis, Column, PlotSpec, Primary, Row, Table, TableId,
    model::format::{format_bytes, format_count},
};

use crate::{
    figures::*,
    params::{Params, Spec, UnitCap},
    variants::Variant,
};

/// Spawn N parked units, release them, join them: time per unit.
pub const CREATION: TableId = TableId::new("creation");
/// N units alive and parked at once: memory per unit.
pub const RESIDENCY: TableId = TableId::new("residency");
/// A ring of K units passing a token: time per hand-off.
pub const SWITCHING: TableId = TableId::new("switching");
/// As many units as the cap allows, all alive at once.
pub const CAPACITY: TableId = TableId::new("capacity");

pub fn tables(params: &Params, variants: &[Variant]) -> Vec<Table> {
    vec![
        creation(params, variants),
        residency(params, variants),
        switching(params, variants),
        capacity(params, variants),
    ]
}

/// One row per variant and size; sizes above the variant's cap are skipped, with the cap.
fn sweep_rows(params: &Params, variants: &[Variant], spec: impl Fn(u64) -> Spec) -> Vec<Row> {
    let rows = variants.iter().flat_map(|&variant| params.sizes.iter().map(move |&n| (variant, n)));
    rows.map(|(variant, n)| {
        let (row, cap) = (Row::at(variant, n as f64, spec(n)), params.cap_of(variant));
        if n <= cap.units() {
            return row;
        }
        let cap_units = format_count(cap.units() as f64);
        row.skip(format!("above the {} cap of {cap_units} set by {}", variant.unit(), cap.cap.set_by))
    })
    .collect()
}

/// A sweep over N: few runs each, compared and plotted at the same N.
fn sweep(id: TableId, title: &str, repeat: Option<usize>, primary: Primary) -> Table {
    let mut table = Table::new(id, title);
    table.axis = Some(Axis::new("N").log());
    table.digests_must_agree = false;
    table.repeat = repeat;
    table.plots = vec![PlotSpec::Measure { measure: primary.measure.clone(), log_y: true }];
    table.primary = primary;
    table
}

fn creation(params: &Params, variants: &[Variant]) -> Table {
    let mut table = sweep(
        CREATION,
        "Creation: spawn N parked units, release, join",
        params.creation_repeat,
        Primary::lower(READY_PER_UNIT),
    );
    table.plots.push(PlotSpec::log_y(JOIN_PER_UNIT));
    table.columns = vec![
        Column::new("spawn / unit", SPAWN_PER_UNIT).with_spread(),
        Column::new("running / unit", READY_PER_UNIT).with_spread(),
        Column::new("join / unit", JOIN_PER_UNIT).with_spread(),
        Column::new("spawn / unit, cold", COLD_SPAWN_PER_UNIT).with_spread(),
        Column::new("warm batches", BATCHES),
        Column::new("alive at once", ALIVE_AT_ONCE),
        Column::peak_threads(),
    ];
    table.rows = sweep_rows(params, variants, |units| Spec::Creation { units });
    table.note = format!(
        "Each unit counts itself in, waits for one release signal, and ends. spawn: until the spawn calls returned; running: until the last unit had started and parked (includes spawn); join: from the release until every unit was joined. All per unit (a batch's total ÷ N). Each run parks, releases and joins N units several times in one process: a cold batch first, then warm batches, up to {} or until they have taken {} ms (at least one); spawn, running and join are the median of the run's warm batches, what a program that spawns all the time pays. spawn / unit, cold is the first batch alone, which also pays for first touching the memory the units take. On the multi-thread runtime a whole process runs in one of two modes, with its second worker joining in or not (cores busy near 1.5 or 1.0), which batches cannot average out; the runs sample it, and a row whose runs split is flagged below. alive at once: the fewest of the run's batches.",
        params.warm_batches, params.batch_budget_ms
    );
    table
}

fn residency(params: &Params, variants: &[Variant]) -> Table {
    let mut table = sweep(
        RESIDENCY,
        "Residency: N units alive and parked at once",
        params.residency_repeat,
        Primary::lower(RSS_PER_UNIT),
    );
    table.columns = vec![
        Column::new("resident / unit", RSS_PER_UNIT).with_spread(),
        Column::new("virtual / unit", VSZ_PER_UNIT),
        Column::new("kernel stack / unit", KERNEL_STACK_PER_UNIT),
        Column::new("page tables / unit", PAGE_TABLES_PER_UNIT),
        Column::new("alive at once", ALIVE_AT_ONCE),
        Column::peak_threads(),
    ];
    table.rows = sweep_rows(params, variants, |units| Spec::Residency { units });
    table.note = format!(
        "Per unit = (the process's figure with all N parked, once it stops moving) − (the same process just before the first spawn), ÷ N. resident is the anonymous part of RSS (RssAnon): pages in RAM that hold the process's own data, the heap and the stacks, and not its code, which a run may touch for the first time while the units are parked. virtual is VSZ: address space reserved, touched or not; for tasks it moves in the allocator's steps (glibc reserves 64 MiB heaps per arena), so it is exact only for threads. kernel stack is /proc/meminfo's machine-wide KernelStack, which RSS does not count (other programs add noise of either sign); page tables is this process's VmPTE. Default thread stack: {}; small: {}.",
        format_bytes(params.default_stack_bytes as f64),
        format_bytes(params.small_stack_bytes as f64),
    );
    table
}

fn switching(params: &Params, variants: &[Variant]) -> Table {
    let title = format!(
        "Switching: a ring of {} units passes a token {} times",
        params.ring,
        format_count(params.handoffs as f64)
    );
    let mut table = Table::new(SWITCHING, title);
    table.primary = Primary::lower(PER_HANDOFF);
    table.columns = vec![
        Column::new("time / hand-off", PER_HANDOFF).with_spread(),
        Column::new("hand-offs", HANDOFFS),
        Column::voluntary_switches(),
        Column::involuntary_switches(),
        Column::cores_busy(),
    ];
    let spec = Spec::Ring { units: params.ring, handoffs: params.handoffs };
    table.rows = variants.iter().map(|v| Row::new(*v, spec)).collect();
    table.note = "time / hand-off: from injecting the token until its last hand-off arrived, ÷ the hand-offs. Threads use a std sync_channel(1) per unit, tasks and futures a tokio::sync::mpsc channel(1). The measured region is the lap alone: the ring's units are started before it and joined after it, so vol./invol. cs (the whole process's context switches, as the kernel counts them) and cores busy belong to the hand-offs; about one voluntary switch per hand-off means every hand-off went through the kernel scheduler. Every variant must deliver the same number of hand-offs (the digest).".into();
    table
}

fn capacity(params: &Params, variants: &[Variant]) -> Table {
    let mut table = Table::new(CAPACITY, "Capacity: as many units as the cap allows");
    table.digests_must_agree = false;
    table.repeat = Some(params.capacity_repeat);
    table.primary = Primary::higher(ALIVE_AT_ONCE);
    table.columns = vec![
        Column::new("cap", TARGET),
        Column::new("alive at once", ALIVE_AT_ONCE),
        Column::note("stopped by", STOPPED_BY),
        Column::new("time to fill", FILL),
        Column::new("resident / unit", RSS_PER_UNIT),
        Column::new("virtual / unit", VSZ_PER_UNIT),
        Column::new("RSS, all parked", RSS_PARKED),
        Column::peak_threads(),
    ];
    table.rows = variants.iter().map(|v| Row::new(*v, Spec::Capacity { target: params.cap_of(*v).units() })).collect();
    table.note = capacity_note(params);
    table
}

fn capacity_note(params: &Params) -> String {
    let describe = |label: &str, cap: &UnitCap, same_as: Option<&UnitCap>| {
        let detail = match same_as {
            Some(other) if other.cap.set_by == cap.cap.set_by => String::new(),
            _ => format!(" ({})", cap.cap.detail),
        };
        format!("{label}: {}, set by {}{detail}", format_count(cap.units() as f64), cap.cap.set_by)
    };
    let limits: Vec<String> =
        params.thread_limits.iter().map(|l| format!("{} {}", l.name, format_count(l.units as f64))).collect();
    format!(
        "Caps are computed before anything is spawned, from the limits this machine reports, with headroom so that the run never takes the machine (or itself) down. {}. {}. {}. Every thread limit read, as the threads this case may hold under it: {}. These units hold no file descriptors; units that do (sockets, pipes) meet RLIMIT_NOFILE ({}) first. stopped by: {AT_CAP} when every unit up to the cap started, else the error of the spawn that failed. time to fill: from the first spawn until the last unit had parked. resident and virtual / unit as in the residency table; RSS, all parked: the whole process's RSS with every unit parked.",
        describe("Threads", &params.thread_cap, None),
        describe("Small-stack threads", &params.small_thread_cap, Some(&params.thread_cap)),
        describe("Futures and tasks", &params.task_cap, None),
        if limits.is_empty() { "none could be read".to_string() } else { limits.join(", ") },
        params.nofile.map(|n| format_count(n as f64)).unwrap_or_else(|| "unlimited".into())
    )
}
