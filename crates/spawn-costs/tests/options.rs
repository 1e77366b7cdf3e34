//! Options: bad values are a one-line UsageError, caps never exceed the machine's, and
//! thread rows above the thread cap are left out of the plan with a note.

use casebook::{Case, Preset};
use spawn_costs::{
    Args, SpawnCosts, THREADS, TOKIO_MULTI,
    limits::{Readings, maps_in_use},
    resolve,
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
        (Args { small_stack_kib: 8, ..Args::default() }, "--small-stack-kib"),
        (Args { thread_cap: Some(20_000), ..Args::default() }, "--thread-cap"),
        (Args { task_cap: Some(0), ..Args::default() }, "--task-cap"),
    ];
    for (args, option) in cases {
        let message = usage_error(args);
        assert!(message.contains(option), "{message:?} should name {option}");
        assert!(!message.contains('\n'), "one line: {message:?}");
    }
}

fn defaults() -> Args {
    Args::default()
}

#[test]
fn the_thread_cap_is_the_machines_tightest_limit_and_says_so() {
    let params = resolve(&defaults(), Preset::Default, &Readings::stock_linux_box()).expect("valid");
    assert_eq!(params.thread_cap.units, 16_116);
    assert_eq!(params.thread_cap.set_by, "vm.max_map_count");
    assert_eq!(params.task_cap.units, 2_000_000);
    // A user may ask for fewer threads, never more.
    let params = resolve(&Args { thread_cap: Some(500), ..defaults() }, Preset::Default, &Readings::stock_linux_box())
        .expect("valid");
    assert_eq!(params.thread_cap.units, 500);
    assert_eq!(params.small_thread_cap.units, 500);
    assert_eq!(params.thread_cap.set_by, "--thread-cap");
}

#[test]
fn thread_rows_above_the_cap_are_left_out_and_noted() {
    let mut machine = Readings::stock_linux_box();
    machine.cgroup_pids = Some((4_000, 0));
    let params = resolve(
        &Args { sizes: Some(vec![10_000, 1_000, 1_000]), ring: Some(100), ..defaults() },
        Preset::Default,
        &machine,
    )
    .expect("valid");
    assert_eq!(params.sizes, vec![1_000, 10_000], "sorted, deduplicated");
    assert_eq!(params.thread_cap.set_by, "cgroup pids.max");
    let variants: Vec<_> =
        SpawnCosts::INFO.variants.iter().filter(|v| v.name == THREADS || v.name == TOKIO_MULTI).collect();
    let tables = SpawnCosts::plan(&params, &variants);
    let creation = tables.iter().find(|t| t.id == "creation").expect("table");
    let labels: Vec<&str> = creation.rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["tokio-multi @1000", "tokio-multi @10000", "threads @1000"]);
    assert!(creation.note.contains("threads @10.0k"), "{}", creation.note);
    let capacity = tables.iter().find(|t| t.id == "capacity").expect("table");
    assert!(capacity.note.contains("cgroup pids.max"), "{}", capacity.note);
}

#[test]
fn this_machines_readings_give_a_positive_cap() {
    // Whatever machine runs the tests: the probe measured something, the cap is positive
    // and names a limit or the preset.
    assert!(maps_in_use().is_some_and(|n| n > 0));
    let params = SpawnCosts::params(&defaults(), Preset::Quick).expect("valid");
    assert!(params.thread_cap.units > 0);
    assert!(!params.thread_cap.set_by.is_empty());
}
