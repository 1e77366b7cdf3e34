//! The units really are what the tables say: N alive at once, M hand-offs, a clean stop at
//! the cap or at a failed spawn. Counts only; nothing here depends on timing.

use std::{io, sync::Arc, thread, time::Duration};

use casebook::VariantSet;
use spawn_costs::{
    units::{gate::Gate, park::park_threads},
    variants::{Driver, Variant},
};

/// Every variant's driver, the small-stack threads with 64 KiB stacks.
fn drivers() -> impl Iterator<Item = (Variant, Driver)> {
    Variant::ALL.iter().map(|v| (*v, Driver::new(*v, 64 * 1024).expect("driver starts")))
}

#[test]
fn every_variant_has_all_n_units_alive_at_once_and_ends_them_all() {
    for (variant, driver) in drivers() {
        for n in [1, 37, 300] {
            let parked = driver.park(n, true).expect("park runs");
            assert_eq!(parked.spawned, n, "{variant:?} @{n}: spawned");
            assert_eq!(parked.alive_at_once, n, "{variant:?} @{n}: alive at once");
            assert_eq!(parked.exited, n, "{variant:?} @{n}: exited");
            assert!(parked.spawn_error.is_none(), "{variant:?} @{n}: spawn error");
            let plateau = parked.plateau.expect("memory was sampled");
            assert!(plateau.resident > 0.0, "{variant:?}: RSS was read");
        }
    }
}

#[test]
fn creation_runs_a_cold_batch_then_warm_ones_within_their_limits() {
    for (variant, driver) in drivers() {
        let creation = driver.create(50, 3, Duration::from_secs(60)).expect("creation runs");
        assert_eq!(creation.warm.len(), 3, "{variant:?}: as many warm batches as asked, within a generous budget");
        for batch in creation.batches() {
            assert_eq!((batch.spawned, batch.alive_at_once, batch.exited), (50, 50, 50), "{variant:?}");
            assert!(batch.plateau.is_none(), "{variant:?}: creation samples no memory");
        }
        // A spent budget still leaves one warm batch to report.
        let creation = driver.create(20, 5, Duration::ZERO).expect("creation runs");
        assert_eq!(creation.warm.len(), 1, "{variant:?}");
    }
}

#[test]
fn every_ring_delivers_exactly_the_handoffs_asked_for() {
    for (variant, driver) in drivers() {
        for (units, handoffs) in [(2, 1), (7, 1_000), (64, 513)] {
            let mut laps = 0;
            let ring = driver
                .ring(units, handoffs, |lap| {
                    laps += 1;
                    lap()
                })
                .expect("ring runs");
            assert_eq!(laps, 1, "{variant:?}: the lap runs once, inside the caller's region");
            assert_eq!(ring.handoffs, handoffs, "{variant:?} ring of {units}");
        }
        assert!(driver.ring(1, 10, |lap| lap()).is_err(), "{variant:?}: a ring of one");
    }
}

#[test]
fn a_ring_whose_lap_never_runs_is_still_torn_down() {
    // The units' senders form a cycle, so without the stop token offered at teardown this
    // would wait forever; the harness's timeout would be the only way out.
    for (variant, driver) in drivers() {
        let result = driver.ring(16, 1_000, |_lap| Err(anyhow::anyhow!("the caller gave up")));
        assert!(result.is_err(), "{variant:?}");
        // And the driver still works afterwards: nothing was left holding the runtime.
        let ring = driver.ring(3, 10, |lap| lap()).expect("ring runs");
        assert_eq!(ring.handoffs, 10, "{variant:?}");
    }
}

fn spawn_parked(gate: Arc<Gate>) -> io::Result<thread::JoinHandle<()>> {
    thread::Builder::new().stack_size(64 * 1024).spawn(move || gate.arrive_and_wait())
}

#[test]
fn capacity_stops_at_the_cap() {
    let mut calls = 0;
    let parked = park_threads(25, true, |gate| {
        calls += 1;
        spawn_parked(gate)
    });
    assert_eq!(calls, 25, "no spawn past the cap");
    assert_eq!((parked.spawned, parked.alive_at_once, parked.exited), (25, 25, 25));
    assert!(parked.spawn_error.is_none());
}

#[test]
fn a_failed_spawn_stops_cleanly_and_every_started_thread_is_joined() {
    let mut calls = 0;
    let parked = park_threads(100, false, |gate| {
        calls += 1;
        if calls > 10 {
            // What pthread_create reports when a limit is reached.
            Err(io::Error::from_raw_os_error(libc_eagain()))
        } else {
            spawn_parked(gate)
        }
    });
    assert_eq!(calls, 11, "spawning stops at the first failure");
    assert_eq!(parked.target, 100);
    assert_eq!((parked.spawned, parked.alive_at_once, parked.exited), (10, 10, 10));
    let error = parked.spawn_error.expect("the failure is reported");
    assert_eq!(error.raw_os_error(), Some(libc_eagain()));
}

fn libc_eagain() -> i32 {
    // EAGAIN on Linux; spelled out to keep libc out of the dev-dependencies.
    11
}
