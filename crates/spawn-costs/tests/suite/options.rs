//! Options: bad values are a one-line UsageError, caps never exceed the machine's, sizes
//! above a variant's cap are planned as skipped rows that name the cap, and what a run
//! needs is checked against the machine before anything runs.

use casebook::{
    Case, Preset, VariantSet,
    run::limits::{Readings, check_needs, maps_in_use},
};
use spawn_costs::{
    SpawnCosts,
    params::{Args, resolve},
    tables::{CAPACITY, CREATION, RESIDENCY},
    variants::Variant::{self, Threads, TokioMulti},
};

fn usage_error(args: Args) -> String {
    match resolve(&args, Preset::Default, &Readings::stock_linux_box()) {
        Ok(params) => panic!("accepted {args:?} as {params:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn bad_options_are_usage_errors_that_name_the_option() {
    let cases: Vec<(Args, &str)> = vec![
        (Args { sizes: Some(vec![]), ..Args::default() }, "--sizes"),
        (Args { sizes: Some(vec![100, 0]), ..Args::default() }, "--sizes"),
        (Args { ring: Some(1), ..Args::default() }, "--ring"),
        (Args { ring: Some(20_000), ..Args::default() }, "--ring"),
        (Args { handoffs: Some(0), ..Args::default() }, "--handoffs"),
        (Args { small_stack_kib: Some(8), ..Args::default() }, "--small-stack-kib"),
        (Args { thread_cap: Some(20_000), ..Args::default() }, "--thread-cap"),
        (Args { task_cap: Some(0), ..Args::default() }, "--task-cap"),
    ];
    for (args, option) in cases {
        let message = usage_error(args);
        assert!(message.contains(option), "{message:?} should name {option}");
        assert!(!message.contains('\n'), "one line: {message:?}");
    }
}

#[test]
fn the_thread_cap_is_the_machines_tightest_limit_and_says_so() {
    let params = resolve(&Args::default(), Preset::Default, &Readings::stock_linux_box()).expect("valid");
    assert_eq!(params.thread_cap.units(), 16_116);
    assert_eq!(params.thread_cap.cap.set_by, "vm.max_map_count");
    assert!(params.thread_cap.machine_limit);
    assert_eq!(params.task_cap.units(), 2_000_000);
    assert!(!params.task_cap.machine_limit, "the preset asked for fewer tasks than memory allows");
    assert_eq!(params.task_cap.origin(), "its cap, set by the default preset, not a machine limit");
    assert_eq!(params.small_stack_bytes, 64 * 1024, "the small stack's default");
    // A user may ask for fewer threads, never more.
    let args = Args { thread_cap: Some(500), ..Args::default() };
    let params = resolve(&args, Preset::Default, &Readings::stock_linux_box()).expect("valid");
    assert_eq!(params.thread_cap.units(), 500);
    assert_eq!(params.small_thread_cap.units(), 500);
    assert_eq!(params.thread_cap.cap.set_by, "--thread-cap");
    assert!(!params.thread_cap.machine_limit);
}

#[test]
fn sizes_above_a_cap_are_skipped_rows_that_name_the_cap() {
    let mut machine = Readings::stock_linux_box();
    machine.cgroup_pids = Some((4_000, 0));
    let args = Args { sizes: Some(vec![10_000, 1_000, 1_000]), ring: Some(100), ..Args::default() };
    let params = resolve(&args, Preset::Default, &machine).expect("valid");
    assert_eq!(params.sizes, vec![1_000, 10_000], "sorted, deduplicated");
    assert_eq!(params.thread_cap.cap.set_by, "cgroup pids.max");
    let tables = SpawnCosts::plan(&params, &[TokioMulti, Threads]);
    for id in [CREATION, RESIDENCY] {
        let table = tables.iter().find(|t| t.is(id)).expect("table");
        let rows: Vec<(&str, Option<&str>)> =
            table.rows.iter().map(|r| (r.label.as_str(), r.skipped.as_deref())).collect();
        assert_eq!(
            rows,
            [
                ("tokio-multi @1000", None),
                ("tokio-multi @10000", None),
                ("threads @1000", None),
                ("threads @10000", Some("above the thread cap of 3000 set by cgroup pids.max")),
            ],
            "{id}"
        );
    }
    let capacity = tables.iter().find(|t| t.is(CAPACITY)).expect("table");
    assert!(capacity.note.contains("cgroup pids.max"), "{}", capacity.note);
}

#[test]
fn what_a_run_needs_fits_the_machine_it_was_sized_on_and_not_a_smaller_one() {
    let machine = Readings::stock_linux_box();
    let params = resolve(&Args::default(), Preset::Default, &machine).expect("valid");
    let needs = SpawnCosts::needs(&params, Variant::ALL);
    assert_eq!(needs.threads.as_ref().map(|t| t.1), Some(16_116));
    assert!(check_needs(&needs, &machine).is_ok());
    // The same sizes on a machine with a tenth of the memory: two million tasks no longer fit.
    let mut small = machine.clone();
    small.mem_available = Some(small.mem_available.unwrap() / 10);
    let error = check_needs(&needs, &small).expect_err("too big").to_string();
    assert!(error.contains("2.00M tasks"), "{error}");
    // And with fewer maps per process, the threads no longer do.
    let mut small = machine.clone();
    small.max_map_count = Some(20_000);
    let error = check_needs(&needs, &small).expect_err("too big").to_string();
    assert!(error.contains("vm.max_map_count"), "{error}");
    // Only what the selected variants hold counts: no tasks, no task memory.
    let needs = SpawnCosts::needs(&params, &[Threads]);
    assert_eq!(needs.memory.len(), 1);
    assert!(needs.memory[0].0.contains("16.1k threads"), "{:?}", needs.memory);
    assert!(needs.threads.as_ref().is_some_and(|t| t.0.contains("default-stack threads")), "{:?}", needs.threads);
    assert!(SpawnCosts::needs(&params, &[TokioMulti]).threads.is_none());
}

#[test]
fn this_machines_readings_give_a_positive_cap() {
    // Whatever machine runs the tests: the probe measured something, the cap is positive
    // and names a limit or the preset.
    assert!(maps_in_use().is_some_and(|n| n > 0));
    let params = SpawnCosts::params(&Args::default(), Preset::Quick).expect("valid");
    assert!(params.thread_cap.units() > 0);
    assert!(!params.thread_cap.cap.set_by.is_empty());
}
