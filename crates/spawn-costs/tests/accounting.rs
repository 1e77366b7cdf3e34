//! The per-run books on synthetic figures: a run that lost a unit, a capacity run whose note
//! and counts disagree, a ring short of its hand-offs all fail the run; a capacity run that
//! stopped at a failed spawn is reported, with its error, and is not a failure.

use std::io;

use casebook::{Case, Preset, run::limits::Readings, testing::ReportBuilder};
use spawn_costs::{
    Args, CAPACITY, CREATION, Params, SWITCHING, SpawnCosts, THREADS, accounting, figures::*, findings, resolve,
    run::describe_spawn_error,
};

fn params() -> Params {
    resolve(&Args { sizes: Some(vec![1000]), ..Args::default() }, Preset::Default, &Readings::stock_linux_box())
        .expect("valid")
}

fn builder(params: &Params) -> ReportBuilder {
    let all: Vec<_> = SpawnCosts::INFO.variants.iter().collect();
    ReportBuilder::new(&SpawnCosts::INFO, params, SpawnCosts::plan(params, &all))
}

/// `label` of `table` counted `spawned`, `alive` and `exited` units of `target` in two runs.
fn counts(b: ReportBuilder, table: &str, label: &str, [target, spawned, alive, exited]: [f64; 4]) -> ReportBuilder {
    b.figure(table, label, TARGET, &[target; 2])
        .figure(table, label, SPAWNED, &[spawned; 2])
        .figure(table, label, ALIVE_AT_ONCE, &[alive; 2])
        .figure(table, label, EXITED, &[exited; 2])
}

#[test]
fn a_lost_unit_or_a_short_ring_fails_the_run() {
    let p = params();
    let whole = counts(builder(&p), CREATION, "threads @1000", [1000.0, 1000.0, 1000.0, 1000.0])
        .figure(SWITCHING, THREADS, HANDOFFS, &[p.handoffs as f64; 2])
        .build();
    assert!(accounting::check(&p, &whole).is_empty(), "{:?}", accounting::check(&p, &whole));
    let lost = counts(builder(&p), CREATION, "threads @1000", [1000.0, 1000.0, 999.0, 1000.0]).build();
    let failures = accounting::check(&p, &lost);
    assert!(failures.iter().any(|f| f.contains("999 of 1000 units were alive at once")), "{failures:?}");
    let short = builder(&p).figure(SWITCHING, THREADS, HANDOFFS, &[p.handoffs as f64 - 1.0, p.handoffs as f64]).build();
    let failures = accounting::check(&p, &short);
    assert_eq!(failures.len(), 1, "{failures:?}");
    // Accounting that fails leaves no "accounting" verdict behind.
    assert!(!accounting::verdicts(&p, &lost).iter().any(|v| v.starts_with("accounting")));
}

#[test]
fn a_capacity_run_says_what_stopped_it() {
    let p = params();
    let eagain = describe_spawn_error(&io::Error::from_raw_os_error(libc_eagain()));
    assert_eq!(eagain, "EAGAIN: Resource temporarily unavailable");
    let cap = p.thread_cap.units() as f64;
    // One run reached the cap; the other stopped at a failed spawn, short of it.
    let report = counts(builder(&p), CAPACITY, THREADS, [cap, cap, cap, cap])
        .figure(CAPACITY, THREADS, SPAWNED, &[cap, 900.0])
        .figure(CAPACITY, THREADS, ALIVE_AT_ONCE, &[cap, 900.0])
        .figure(CAPACITY, THREADS, EXITED, &[cap, 900.0])
        .note(CAPACITY, THREADS, STOPPED_BY, &[AT_CAP, &eagain])
        .build();
    assert!(accounting::check(&p, &report).is_empty(), "{:?}", accounting::check(&p, &report));
    let row = report.row(CAPACITY, THREADS).expect("row");
    let stop = findings::capacity_stop(&p, row);
    assert_eq!(
        stop,
        "a spawn failed before the cap (EAGAIN: Resource temporarily unavailable) in 1 of 2 runs: a limit this case cannot read bit first"
    );
    // A run that says it reached its cap must have started every unit.
    let report = counts(builder(&p), CAPACITY, THREADS, [cap, 900.0, 900.0, 900.0])
        .note(CAPACITY, THREADS, STOPPED_BY, &[AT_CAP, AT_CAP])
        .build();
    let failures = accounting::check(&p, &report);
    assert!(failures.iter().any(|f| f.contains("reported reaching its cap")), "{failures:?}");
    let row = report.row(CAPACITY, THREADS).expect("row");
    assert_eq!(findings::capacity_stop(&p, row), "stopped at its safe cap, set by this machine's vm.max_map_count");
}

fn libc_eagain() -> i32 {
    // EAGAIN on Linux; spelled out to keep libc out of the dev-dependencies.
    11
}
