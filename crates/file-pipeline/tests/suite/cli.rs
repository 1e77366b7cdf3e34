//! The built binary end to end: a quick run succeeds and reports every claim, its
//! accounting holds, it leaves nothing on disk, even when interrupted; bad options are one
//! line and status 2; a missing b3sum is a skipped row with its reason; an inotify limit
//! ends the run with one clear line.

use std::{os::unix::process::CommandExt, process::Stdio, time::Duration};

use casebook::{
    ClaimId, VariantSet,
    model::figure,
    testing::{CaseBinary, files_under, poll, processes_with_tmpdir},
};
use file_pipeline::{
    FilePipeline,
    figures::{B3SUM_CORES, B3SUM_THREADS, LOST},
    findings,
    tables::{HASH, WATCH},
    variants::Variant,
};

fn binary() -> CaseBinary {
    CaseBinary::new(env!("CARGO_BIN_EXE_file-pipeline"))
}

#[test]
fn quick_run_reports_every_claim_and_cleans_up() {
    let run = binary().run(&["--quick"]);
    let report = run.clean_success();
    assert_eq!(report.case, "file-pipeline");
    assert!(report.correctness.ok, "{:?}", report.correctness.lines);
    for id in <FilePipeline as casebook::Case>::INFO.claims {
        assert!(report.claims.iter().any(|c| c.id == *id), "claim {id} missing");
    }
    assert!(report.claims.iter().any(|c| c.id == ClaimId::HybridPipeline && c.reading.is_some()));

    // The accounting check is not vacuous: one lost file is caught.
    let params = report.params().expect("params");
    assert!(findings::check(&params, report).is_empty());
    let mut tampered = report.clone();
    let row = tampered.rows.iter_mut().find(|r| r.table == WATCH).expect("a watch row");
    *row.runs[0].figures.get_mut(LOST.key).expect("lost recorded") += 1.0;
    assert_eq!(findings::check(&params, &tampered).len(), 1);
}

#[test]
fn the_b3sum_row_reports_b3sums_own_cpu_and_threads_apart_from_its_driver() {
    if let Err(reason) = file_pipeline::pipelines::b3sum::find() {
        return eprintln!("b3sum row not checked: {reason}");
    }
    // Large files: b3sum hashes each on every core, so it runs more than one thread.
    let args = ["--quick", "--tables", "hash", "--mix", "large", "--inbox-mib", "32", "--variants", "b3sum"];
    let run = binary().run(&args);
    let report = run.clean_success();
    let row = report.row(HASH, Variant::B3sum).expect("the b3sum row");
    for run in &row.runs {
        let of = |figure: casebook::Figure| run.figure(figure).unwrap_or_else(|| panic!("no {}", figure.key));
        let driver = of(figure::USER_CPU) + of(figure::SYSTEM_CPU);
        // The driver only waits, reads b3sum's lines and counts its threads.
        assert!(driver < of(figure::CHILD_CPU) / 2.0, "b3sum's CPU folded into its driver's: {driver}");
        assert!(of(B3SUM_CORES) > 0.0);
        if casebook::host::cpus::usable_cores() > 1 {
            assert!(of(B3SUM_THREADS) > 1.0, "b3sum's own threads were not counted");
        }
    }
}

#[test]
fn without_b3sum_its_row_is_skipped_with_the_reason() {
    let args = ["--quick", "--tables", "hash", "--variants", &format!("sequential,{}", Variant::B3sum)];
    let run = binary().run_with(&args, |c| {
        c.env("PATH", "/nonexistent");
    });
    let report = run.clean_success();
    let row = report.row(HASH, Variant::B3sum).expect("the b3sum row is planned");
    assert!(row.skipped.as_deref().is_some_and(|r| r.contains("no b3sum on PATH")), "{:?}", row.skipped);
}

#[test]
fn bad_options_exit_2_with_one_line() {
    for args in [
        &["--variants", "nope"][..],
        &["--inbox-mib", "0"][..],
        &["--work", "zip"][..],
        &["--capacity", "lots"][..],
        &["--tables", "all"][..],
        &["--quick", "--watch-files", "100000"][..],
        &["--in-flight", "0"][..],
    ] {
        binary().refuses(args);
    }
}

#[test]
fn variants_are_listed() {
    binary().lists_variants(Variant::ALL.iter().map(|v| v.name()));
}

#[test]
fn an_interrupted_run_leaves_no_file_and_no_process_behind() {
    let work = tempfile::tempdir().expect("temp dir");
    let scratch = work.path().join("tmp");
    std::fs::create_dir(&scratch).expect("scratch dir");
    // Big enough that the interrupt lands mid-run, with outputs half written.
    let mut child = binary()
        .command()
        .args(["--quick", "--inbox-mib", "64", "--tables", "batch,watch", "--no-progress"])
        .env("TMPDIR", &scratch)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    // Wait until the runs are writing outputs, then interrupt as a terminal would.
    poll(Duration::from_secs(60), || files_under(&scratch).iter().any(|f| f.contains("outbox")).then_some(()));
    // SAFETY: a plain kill(2) of our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let status = child.wait().expect("it ends");
    assert!(!status.success(), "an interrupted run does not report success");
    let left = files_under(&scratch);
    assert!(left.is_empty(), "left behind: {left:?}");
    // Nothing of the run's is still running: no process has our TMPDIR in its environment.
    let processes = processes_with_tmpdir(&scratch);
    assert!(processes.is_empty(), "still running: {processes:?}");
}

#[test]
fn an_inotify_limit_ends_the_run_with_one_clear_line() {
    let mut command = binary().command();
    command.args(["--quick", "--tables", "watch", "--variants", "sequential", "--no-progress"]);
    // SAFETY: the closure makes raw syscalls only, on data prepared before the fork.
    unsafe { command.pre_exec(|| crate::common::namespace_with_zero(c"/proc/sys/user/max_inotify_watches")) };
    let output = command.output().expect("the binary runs (user namespaces are needed)");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The harness says a row failed as it goes on, then ends with one line of error.
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error:") && last.contains("inotify watch limit"), "{stderr}");
    assert!(last.contains("max_user_watches 0") && !stderr.contains("panicked"), "{stderr}");
}
