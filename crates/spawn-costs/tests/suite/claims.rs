//! Every claim rule on synthetic figures: figures chosen to hold, to miss, to straddle the
//! line, and to be absent. Nothing runs; the rules alone are under test.

use casebook::{ClaimId, ClaimResult, Figure, Outcome, Preset, Report, run::limits::Readings, testing::ReportBuilder};
use spawn_costs::{
    SpawnCosts,
    figures::*,
    findings,
    params::{Args, Params, resolve},
    tables::{CAPACITY, RESIDENCY, SWITCHING},
    variants::{
        TOKIO_TASKS as TOKIO,
        Variant::{self, *},
    },
};

/// The default preset on a stock box: sizes 1k, 10k, 100k (threads skipped at 100k), a
/// task cap of two million, unless `args` say otherwise.
fn params_with(args: Args) -> Params {
    resolve(&args, Preset::Default, &Readings::stock_linux_box()).expect("valid")
}

fn builder(params: &Params) -> ReportBuilder {
    ReportBuilder::of::<SpawnCosts>(params)
}

/// Every one of `variants` at N = `n` in the residency table records `figure` as `values`.
fn residency(b: ReportBuilder, variants: &[Variant], n: f64, figure: Figure, values: &[f64]) -> ReportBuilder {
    variants.iter().fold(b, |b, v| b.figure(RESIDENCY, (*v, n), figure, values))
}

fn claim(params: &Params, report: &Report, id: ClaimId, reading: Option<&str>) -> ClaimResult {
    findings::claims(params, report)
        .into_iter()
        .find(|c| c.id == id && c.reading.as_deref() == reading)
        .unwrap_or_else(|| panic!("no {id} ({reading:?})"))
}

/// Asserts the claim is "not measured" on a report with no figures at all.
fn not_measured(id: ClaimId, reading: Option<&str>) {
    let params = params_with(Args::default());
    let result = claim(&params, &builder(&params).build(), id, reading);
    assert_eq!(result.outcome, Outcome::Inconclusive, "{id}");
    assert!(result.evidence.starts_with("not measured"), "{id}: {}", result.evidence);
    assert!(result.interval.is_none(), "{id}");
}

const MIB: f64 = 1024.0 * 1024.0;

#[test]
fn thread_stack_is_a_range_at_the_largest_n_under_both_readings() {
    let params = params_with(Args::default());
    for (reading, figure) in [("resident memory", RSS_PER_UNIT), ("reserved address space", VSZ_PER_UNIT)] {
        let o = |values: &[f64]| {
            let report = residency(builder(&params), &[Threads], 10_000.0, figure, values)
                // A smaller N that would say otherwise: the largest N measured decides.
                .figure(RESIDENCY, (Threads, 1000.0), figure, &[9.6e3, 9.6e3, 9.6e3])
                .build();
            claim(&params, &report, ClaimId::ThreadStack, Some(reading)).outcome
        };
        assert_eq!(o(&[2.1 * MIB, 2.1 * MIB, 2.1 * MIB]), Outcome::Held, "{reading}");
        assert_eq!(o(&[9.6e3, 9.7e3, 9.6e3]), Outcome::DidNotHold, "{reading}");
        assert_eq!(o(&[64.0 * MIB, 64.0 * MIB, 64.0 * MIB]), Outcome::DidNotHold, "{reading}: above 8 MB");
        assert_eq!(o(&[1.8e6, 2.3e6, 1.9e6, 2.2e6, 2.0e6]), Outcome::Inconclusive, "{reading}");
        assert_eq!(o(&[3e6]), Outcome::Inconclusive, "{reading}: one run decides nothing");
        not_measured(ClaimId::ThreadStack, Some(reading));
    }
    let report = residency(builder(&params), &[Threads], 10_000.0, RSS_PER_UNIT, &[9.6e3, 9.6e3])
        .figure(RESIDENCY, (Threads, 10_000.0), KERNEL_STACK_PER_UNIT, &[16384.0, 16384.0])
        .build();
    let result = claim(&params, &report, ClaimId::ThreadStack, Some("resident memory"));
    assert!(result.evidence.contains("with 10.0k default-stack threads parked"), "{}", result.evidence);
    assert!(result.evidence.contains("16.0 KiB of kernel stack"), "{}", result.evidence);
    assert!(result.threshold.contains("lies between"), "{}", result.threshold);
    assert_eq!(result.rows, [(RESIDENCY.to_string(), "threads @10000".to_string())]);
    assert!(result.interval.is_some());
}

#[test]
fn task_light_needs_every_tokio_variant_under_ten_kib() {
    let params = params_with(Args::default());
    let o = |last: &[f64]| {
        let b = residency(builder(&params), &TOKIO[..2], 100_000.0, RSS_PER_UNIT, &[573.0, 573.0, 574.0]);
        let report = b.figure(RESIDENCY, (TOKIO[2], 100_000.0), RSS_PER_UNIT, last).build();
        claim(&params, &report, ClaimId::TaskLight, None).outcome
    };
    assert_eq!(o(&[591.0, 590.0, 591.0]), Outcome::Held);
    assert_eq!(o(&[20e3, 21e3, 20e3]), Outcome::DidNotHold, "one heavy runtime is enough");
    assert_eq!(o(&[9e3, 11e3, 10e3, 9.5e3, 10.5e3]), Outcome::Inconclusive);
    not_measured(ClaimId::TaskLight, None);
    // A tokio variant in the run that recorded nothing is not measured, not light.
    let report = residency(builder(&params), &TOKIO[..2], 100_000.0, RSS_PER_UNIT, &[573.0, 573.0]).build();
    let result = claim(&params, &report, ClaimId::TaskLight, None);
    assert!(result.evidence.starts_with("not measured"), "{}", result.evidence);
    assert!(result.evidence.contains(TokioCurrent.to_string().as_str()), "{}", result.evidence);
}

#[test]
fn task_millions_needs_two_million_alive_and_a_cap_that_allows_it() {
    let o = |params: &Params, last: &[f64]| {
        let b = TOKIO[..2].iter().fold(builder(params), |b, v| b.figure(CAPACITY, *v, ALIVE_AT_ONCE, &[2e6, 2e6]));
        let report = b.figure(CAPACITY, TOKIO[2], ALIVE_AT_ONCE, last).build();
        claim(params, &report, ClaimId::TaskMillions, None)
    };
    let params = params_with(Args::default());
    assert_eq!(o(&params, &[2e6, 2e6]).outcome, Outcome::Held);
    assert_eq!(o(&params, &[1.5e6, 1.5e6]).outcome, Outcome::DidNotHold);
    assert_eq!(o(&params, &[2e6]).outcome, Outcome::Inconclusive, "one run decides nothing");
    assert_eq!(o(&params, &[2e6, 1.2e6, 2e6, 1.2e6]).outcome, Outcome::Inconclusive);
    // A cap of one million cannot show millions, however many runs reach it.
    let capped = params_with(Args { task_cap: Some(1_000_000), ..Args::default() });
    let result = o(&capped, &[1e6, 1e6]);
    assert_eq!(result.outcome, Outcome::Inconclusive);
    assert!(result.evidence.contains("its cap, set by --task-cap, not a machine limit"), "{}", result.evidence);
    not_measured(ClaimId::TaskMillions, None);
}

#[test]
fn thread_switch_is_a_paired_ratio_of_hand_off_times() {
    let params = params_with(Args::default());
    let o = |threads: &[f64], tasks: &[f64]| {
        let report = builder(&params)
            .figure(SWITCHING, Threads, PER_HANDOFF, threads)
            .figure(SWITCHING, TokioMulti, PER_HANDOFF, tasks)
            .build();
        claim(&params, &report, ClaimId::ThreadSwitch, None)
    };
    let held = o(&[10e-6, 11e-6, 12e-6], &[0.2e-6, 0.21e-6, 0.22e-6]);
    assert_eq!(held.outcome, Outcome::Held);
    assert!(held.interval.as_deref().is_some_and(|i| i.contains("range of 3 runs")), "{:?}", held.interval);
    assert!(
        held.threshold.contains("between threads / time per hand-off between tokio-multi tasks"),
        "{}",
        held.threshold
    );
    assert_eq!(o(&[1.0e-6, 1.1e-6, 1.05e-6], &[0.9e-6, 1.0e-6, 0.95e-6]).outcome, Outcome::DidNotHold);
    let straddles = o(&[1.5e-6, 2.5e-6, 2.0e-6, 1.6e-6, 2.4e-6], &[1e-6; 5]);
    assert_eq!(straddles.outcome, Outcome::Inconclusive);
    not_measured(ClaimId::ThreadSwitch, None);
}

#[test]
fn async_low_memory_compares_the_leaner_thread_with_every_tokio_task() {
    let params = params_with(Args::default());
    let o = |thread: &[f64]| {
        let b = residency(builder(&params), &TOKIO, 10_000.0, RSS_PER_UNIT, &[1000.0; 5]);
        // The small-stack threads are heavier here, so the default-stack ones decide.
        let b = b.figure(RESIDENCY, (ThreadsSmallStack, 10_000.0), RSS_PER_UNIT, &[50e3; 5]);
        let report = b.figure(RESIDENCY, (Threads, 10_000.0), RSS_PER_UNIT, thread).build();
        claim(&params, &report, ClaimId::AsyncLowMemory, None)
    };
    let held = o(&[9.8e3; 5]);
    assert_eq!(held.outcome, Outcome::Held);
    assert!(held.evidence.contains("per parked thread (threads)"), "{}", held.evidence);
    assert_eq!(o(&[1.5e3; 5]).outcome, Outcome::DidNotHold);
    assert_eq!(o(&[3.5e3, 4.5e3, 4.0e3, 3.6e3, 4.4e3]).outcome, Outcome::Inconclusive);
    not_measured(ClaimId::AsyncLowMemory, None);
}
