//! The per-run books on synthetic figures: a run that lost a unit, a capacity run whose note
//! and counts disagree, a ring short of its hand-offs all fail the run; a capacity run that
//! stopped at a failed spawn is reported, with its error, and is not a failure.

use std::io;

use casebook::{Preset, RowKey, TableId, run::limits::Readings, testing::ReportBuilder};
use spawn_costs::{
    SpawnCosts,
    figures::*,
    findings::{capacity_stop, check, verdicts},
    params::{Args, Params, resolve},
    run::describe_spawn_error,
    tables::{CAPACITY, CREATION, SWITCHING},
    variants::Variant::Threads,
};

fn params() -> Params {
    resolve(&Args { sizes: Some(vec![1000]), ..Args::default() }, Preset::Default, &Readings::stock_linux_box())
        .expect("valid")
}

fn builder(params: &Params) -> ReportBuilder {
    ReportBuilder::of::<SpawnCosts>(params)
}

/// The threads row of `table` (at N = `n` in a sweep) counted `spawned`, `alive` and
/// `exited` units of `target` in two runs.
fn counts(
    b: ReportBuilder,
    table: TableId,
    n: Option<f64>,
    [target, spawned, alive, exited]: [f64; 4],
) -> ReportBuilder {
    let row: RowKey = n.map_or(Threads.into(), |n| (Threads, n).into());
    let figures = [(TARGET, target), (SPAWNED, spawned), (ALIVE_AT_ONCE, alive), (EXITED, exited)];
    figures.into_iter().fold(b, |b, (figure, value)| b.figure(table, row, figure, &[value; 2]))
}

#[test]
fn a_lost_unit_or_a_short_ring_fails_the_run() {
    let p = params();
    let whole = counts(builder(&p), CREATION, Some(1000.0), [1000.0, 1000.0, 1000.0, 1000.0])
        .figure(SWITCHING, Threads, HANDOFFS, &[p.handoffs as f64; 2])
        .build();
    assert!(check(&p, &whole).is_empty(), "{:?}", check(&p, &whole));
    assert!(verdicts(&p, &whole).iter().any(|v| v.starts_with("accounting")));
    let lost = counts(builder(&p), CREATION, Some(1000.0), [1000.0, 1000.0, 999.0, 1000.0]).build();
    let failures = check(&p, &lost);
    assert!(failures.iter().any(|f| f.contains("999 of 1000 units were alive at once")), "{failures:?}");
    let short = builder(&p).figure(SWITCHING, Threads, HANDOFFS, &[p.handoffs as f64 - 1.0, p.handoffs as f64]).build();
    let failures = check(&p, &short);
    assert_eq!(failures.len(), 1, "{failures:?}");
    // Accounting that fails leaves no "accounting" verdict behind.
    assert!(!verdicts(&p, &lost).iter().any(|v| v.starts_with("accounting")));
}

#[test]
fn a_capacity_run_says_what_stopped_it() {
    let p = params();
    let eagain = describe_spawn_error(&io::Error::from_raw_os_error(libc_eagain()));
    assert_eq!(eagain, "EAGAIN: Resource temporarily unavailable");
    let cap = p.thread_cap.units() as f64;
    // One run reached the cap; the other stopped at a failed spawn, short of it.
    let report = counts(builder(&p), CAPACITY, None, [cap, cap, cap, cap])
        .figure(CAPACITY, Threads, SPAWNED, &[cap, 900.0])
        .figure(CAPACITY, Threads, ALIVE_AT_ONCE, &[cap, 900.0])
        .figure(CAPACITY, Threads, EXITED, &[cap, 900.0])
        .note(CAPACITY, Threads, STOPPED_BY, &[AT_CAP, &eagain])
        .build();
    assert!(check(&p, &report).is_empty(), "{:?}", check(&p, &report));
    let row = report.row(CAPACITY, Threads).expect("row");
    assert_eq!(
        capacity_stop(&p, Threads, row),
        "a spawn failed before the cap (EAGAIN: Resource temporarily unavailable) in 1 of 2 runs: a limit this case cannot read bit first"
    );
    assert!(verdicts(&p, &report).iter().any(|v| v.starts_with("capacity, threads: 900 alive at once")));
    // A run that says it reached its cap must have started every unit.
    let report = counts(builder(&p), CAPACITY, None, [cap, 900.0, 900.0, 900.0])
        .note(CAPACITY, Threads, STOPPED_BY, &[AT_CAP, AT_CAP])
        .build();
    let failures = check(&p, &report);
    assert!(failures.iter().any(|f| f.contains("reported reaching its cap")), "{failures:?}");
    let row = report.row(CAPACITY, Threads).expect("row");
    assert_eq!(capacity_stop(&p, Threads, row), "stopped at its safe cap, set by this machine's vm.max_map_count");
}

fn libc_eagain() -> i32 {
    // EAGAIN on Linux; spelled out to keep libc out of the dev-dependencies.
    11
}
