//! The options and the plan they resolve to: usage errors, the sweep's unit sizes, the
//! tables and rows for the selected variants, and what the largest run needs of the machine.

use casebook::{Case, Preset, VariantSet};
use parallel_math::{
    ParallelMath,
    params::{Args, Params, WorkloadKind, resolve},
    tables::{MANDELBROT, NBODY, SWEEP, tables},
    variants::Variant,
};

fn args() -> Args {
    Args { threads: Some(2), ..Args::default() }
}

#[test]
fn the_plan_has_every_selected_variant_and_a_sweep() {
    let args = Args {
        width: Some(48),
        height: Some(36),
        max_iter: Some(200),
        bodies: Some(40),
        steps: Some(2),
        body_block: Some(3),
        sweep: Some(vec![1, 5, 0]),
        ..args()
    };
    let params = ParallelMath::params(&args, Preset::Quick).unwrap();
    let planned = tables(&params, Variant::ALL);
    let ids: Vec<&str> = planned.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, [MANDELBROT.as_str(), NBODY.as_str(), SWEEP.as_str()]);
    assert_eq!(planned[0].rows.len(), Variant::ALL.len());
    assert_eq!(planned[0].baseline.as_deref(), Some(Variant::Sequential.name()));
    assert_eq!(params.sweep, vec![1, 5, 18]);
    let sweep = &planned[2];
    let swept = Variant::ALL.iter().filter(|v| v.swept()).count();
    assert_eq!(swept, 6);
    assert_eq!(sweep.rows.len(), 1 + swept * 3);
    assert_eq!(sweep.rows.iter().filter(|r| r.axis_value.is_none()).count(), 1, "one sequential row");
    assert!(!sweep.plots.is_empty());

    assert!(tables(&params, &[Variant::Rayon]).iter().all(|t| t.baseline.is_none()));

    let nbody = Params { workload: WorkloadKind::Nbody, ..params };
    let ids: Vec<String> = tables(&nbody, Variant::ALL).into_iter().map(|t| t.id).collect();
    assert_eq!(ids, [NBODY.as_str()], "the sweep is on Mandelbrot only");
}

#[test]
fn out_of_range_options_are_usage_errors() {
    let error = |args: &Args| resolve(args, Preset::Quick).unwrap_err().to_string();
    assert!(error(&Args { threads: Some(0), ..args() }).contains("--threads"));
    assert!(error(&Args { threads: Some(5000), ..args() }).contains("--threads"));
    assert!(error(&Args { height: Some(0), ..args() }).contains("--height"));
    assert!(error(&Args { sweep: Some(vec![]), ..args() }).contains("--sweep"));
    assert!(error(&Args { min_efficiency: Some(1.5), ..args() }).contains("--min-efficiency"));
}

#[test]
fn a_zero_in_the_sweep_is_one_chunk_per_thread() {
    let params = resolve(&Args { height: Some(36), sweep: Some(vec![5, 0, 1, 500]), ..args() }, Preset::Quick);
    // 36 rows / 2 threads; 500 is clamped to the whole image; sorted and deduplicated.
    assert_eq!(params.unwrap().sweep, vec![1, 5, 18, 36]);
    assert!(resolve(&Args { no_sweep: true, ..args() }, Preset::Quick).unwrap().sweep.is_empty());
}

#[test]
fn needs_name_the_image_the_tasks_and_the_threads() {
    let huge = Args { width: Some(1_000_000_000), height: Some(1_000_000_000), ..args() };
    let needs = resolve(&huge, Preset::Quick).unwrap().needs(Variant::ALL);
    let (what, bytes) = &needs.memory[0];
    assert!(what.contains("1000000000x1000000000 Mandelbrot image"), "{what}");
    assert!(*bytes >= 4_000_000_000_000_000_000, "{bytes}");
    assert_eq!(needs.threads.as_ref().map(|t| t.1), Some(1_000_000_002));

    // Only the workload that runs counts; n-body's units are its body blocks.
    let nbody = Args { workload: WorkloadKind::Nbody, bodies: Some(1600), body_block: Some(16), ..args() };
    let needs = resolve(&nbody, Preset::Quick).unwrap().needs(Variant::ALL);
    assert!(needs.memory.iter().all(|(what, _)| !what.contains("Mandelbrot")), "{:?}", needs.memory);
    assert_eq!(needs.threads.map(|t| t.1), Some(102));

    // A variant that does not run needs nothing: rayon alone starts no thread per row.
    let needs = resolve(&huge, Preset::Quick).unwrap().needs(&[Variant::Rayon]);
    assert!(needs.threads.is_none());
    assert_eq!(needs.memory.len(), 1, "{:?}", needs.memory);
}
