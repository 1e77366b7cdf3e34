//! Fire-and-forget jobs are counted from a ledger file after the program's process is gone.
//!
//! The program must really exit, so each case re-runs this test binary as a child process
//! in the program's role (the `BRIDGES_PROGRAM` variable says which form and which ledger),
//! and the test reads the ledger once the child has exited.

use std::{path::Path, process::Command, time::Duration};

use bridges::{
    background::{self, Background, JobTally, JobsSpec, Ledger},
    variants::Variant,
};
use casebook::{VariantSet, testing::poll};

/// Each form with its variant, which names it.
fn forms() -> impl Iterator<Item = (Variant, Background)> {
    Variant::ALL.iter().filter_map(|v| Some((*v, v.background()?)))
}

const ROLE: &str = "BRIDGES_PROGRAM";
const TEST: &str = "background::program_role_or_ledger_counts";

fn jobs() -> JobsSpec {
    JobsSpec { jobs: 40, steps: 8, step: Duration::from_millis(2), submit_every: Duration::from_millis(1) }
}

/// In the child: runs the program and exits as `main` returning would.
fn play_program(role: &str) -> ! {
    let (name, path) = role.split_once(':').expect("form:path");
    let Some(kind) = Variant::parse(name).and_then(Variant::background) else { panic!("{name}: no such form") };
    match background::program(kind, &jobs(), Path::new(path)) {
        Ok(_) => std::process::exit(0),
        Err(e) => {
            eprintln!("program failed: {e:#}");
            std::process::exit(1)
        }
    }
}

fn run_program(variant: Variant, dir: &Path) -> JobTally {
    let ledger = dir.join(format!("{variant}.ledger"));
    Ledger::create(&ledger, jobs().jobs).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, format!("{variant}:{}", ledger.display()))
        .spawn()
        .expect("the test binary re-runs itself");
    let Some(status) = poll(Duration::from_secs(60), || child.try_wait().unwrap()) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{variant}: the program did not exit");
    };
    assert!(status.success(), "{variant}: {status}");
    JobTally::read(&ledger, jobs().steps).unwrap()
}

#[test]
fn program_role_or_ledger_counts() {
    if let Ok(role) = std::env::var(ROLE) {
        play_program(&role);
    }
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(forms().count(), 4);
    for (variant, kind) in forms() {
        let tally = run_program(variant, dir.path());
        let name = variant.name();
        eprintln!("{name}: {tally:?}");
        assert!(tally.main_returned, "{name}: {tally:?}");
        assert_eq!((tally.jobs, tally.submitted), (40, 40), "{name}");
        assert_eq!(tally.never_started + tally.cut_short + tally.completed, 40, "{name}: {tally:?}");
        assert_eq!(tally.lost(), tally.never_started + tally.cut_short, "{name}");
        if kind.structured() {
            assert_eq!(tally.completed, 40, "{name}: a structured form waits for every job: {tally:?}");
        }
    }
}

#[test]
fn a_ledger_that_is_not_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-ledger");
    std::fs::write(&path, b"hello, world, not a ledger").unwrap();
    let err = JobTally::read(&path, 8).unwrap_err();
    assert!(err.to_string().contains("is not a job ledger"), "{err}");
    assert!(JobTally::read(&dir.path().join("missing"), 8).is_err());
}
