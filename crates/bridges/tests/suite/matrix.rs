//! Every row of the bridge matrix delivers exactly what was sent, in order per producer,
//! including when the consumer walks away mid-stream.

use std::time::Duration;

use bridges::{
    channels::{
        Capacity, Channel, Direction,
        bridge::{self, BridgeOutcome, BridgeSpec},
        raw, unsupported,
    },
    variants::Variant,
};
use casebook::VariantSet;

fn channels() -> impl Iterator<Item = Channel> {
    Variant::ALL.iter().filter_map(|v| v.channel())
}

/// One row start to end: prepare, execute, tear down.
fn run(spec: &BridgeSpec) -> anyhow::Result<BridgeOutcome> {
    bridge::prepare(spec)?.execute()
}

const CAPACITIES: [Capacity; 5] =
    [Capacity::Bounded(0), Capacity::Bounded(1), Capacity::Bounded(16), Capacity::Bounded(1024), Capacity::Unbounded];

fn supported_rows() -> impl Iterator<Item = (Channel, Direction, Capacity)> {
    channels().flat_map(|channel| {
        Direction::ALL.into_iter().flat_map(move |direction| {
            CAPACITIES
                .into_iter()
                .filter(move |capacity| unsupported(channel, direction, *capacity).is_none())
                .map(move |capacity| (channel, direction, capacity))
        })
    })
}

fn spec(channel: Channel, direction: Direction, capacity: Capacity, producers: u32, per_producer: u32) -> BridgeSpec {
    BridgeSpec { channel, direction, capacity, producers, per_producer, drop_after: None, queue_limit: u64::MAX }
}

/// Runs `f` on a thread and fails the test if it has not returned within a minute: a bridge
/// that hangs must fail, not stall the suite.
fn within_a_minute<T: Send + 'static>(what: String, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(f());
    });
    finished.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("{what} hung"))
}

#[test]
fn every_supported_row_delivers_exactly_once_in_order() {
    let rows: Vec<_> = supported_rows().collect();
    assert_eq!(rows.len(), 46, "flume 4 directions x 5 capacities, tokio 4 x 4, std 5, crossbeam 5");
    for (channel, direction, capacity) in rows {
        for producers in [1, 3] {
            let spec = spec(channel, direction, capacity, producers, 2_000);
            let what = format!("{channel:?} {direction} {capacity} x{producers}");
            let outcome = within_a_minute(what.clone(), move || run(&spec)).expect("the row runs");
            assert!(outcome.accounted(), "{what}: {:?}", outcome.delivery);
            assert!(outcome.delivery.exact(), "{what}: {}", outcome.delivery.digest());
            assert_eq!(outcome.delivery.received, u64::from(producers) * 2_000, "{what}");
            assert_eq!((outcome.refused, outcome.discarded, outcome.guard_hit), (0, 0, false), "{what}");
            // One message in 64 per producer carries a stamp: 32 of 2,000 each.
            assert_eq!(outcome.latency_histogram().len(), u64::from(producers) * 32, "{what}");
        }
    }
}

#[test]
fn rows_that_deliver_exactly_give_one_digest_whatever_they_moved() {
    let a = run(&spec(Channel::Flume, Direction::TASK_TO_THREAD, Capacity::Bounded(16), 2, 500)).unwrap();
    let b = run(&spec(Channel::Crossbeam, Direction::THREAD_TO_THREAD, Capacity::Unbounded, 2, 499)).unwrap();
    assert_eq!(a.delivery.digest(), b.delivery.digest());
    // The counts are in the books, for the accounting check, not in the digest.
    assert_eq!((a.delivery.received, b.delivery.received), (1000, 998));
}

#[test]
fn a_consumer_dropped_mid_stream_stops_every_sender_and_loses_nothing_unaccounted() {
    for (channel, direction, capacity) in supported_rows() {
        let spec = BridgeSpec { drop_after: Some(100), ..spec(channel, direction, capacity, 3, 20_000) };
        let what = format!("{channel:?} {direction} {capacity}");
        let outcome = within_a_minute(what.clone(), move || run(&spec)).expect("the row runs");
        let d = &outcome.delivery;
        assert_eq!(d.received, 100, "{what}");
        // Received, or discarded by the channel with its receiver: nothing else.
        assert_eq!(d.sent, d.received + outcome.discarded, "{what}: {d:?}");
        assert!(outcome.accounted(), "{what}: {d:?}, discarded {}", outcome.discarded);
        if let Capacity::Bounded(n) = capacity {
            // A bounded channel cannot absorb 60,000 messages: every producer must have
            // been refused, not left blocked.
            assert!(d.sent <= 100 + n as u64 + 3, "{what}: sent {}", d.sent);
            assert_eq!(outcome.refused, 3, "{what}");
        }
    }
}

#[test]
fn unsupported_rows_are_refused_with_the_reason() {
    let err = run(&spec(Channel::StdMpsc, Direction::TASK_TO_TASK, Capacity::Bounded(1), 1, 10)).unwrap_err();
    assert!(err.to_string().contains("only blocking send and receive"), "{err}");
    let err = run(&spec(Channel::TokioMpsc, Direction::THREAD_TO_TASK, Capacity::Bounded(0), 1, 10)).unwrap_err();
    assert!(err.to_string().contains("no rendezvous"), "{err}");
    let err = run(&spec(Channel::Flume, Direction::THREAD_TO_TASK, Capacity::Bounded(1), 0, 10)).unwrap_err();
    assert!(err.to_string().contains("at least one producer"), "{err}");
}

#[test]
fn a_prepared_row_dropped_unrun_joins_its_threads() {
    for direction in Direction::ALL {
        let prepared = bridge::prepare(&spec(Channel::Flume, direction, Capacity::Bounded(1), 4, 1_000)).unwrap();
        within_a_minute(format!("dropping an unrun {direction} row"), move || drop(prepared));
    }
}

/// Start-up is outside the measured region: when `prepare` returns, before `execute` (the
/// region) begins, every producer and the consumer already exist and wait at the gate.
#[test]
fn every_party_is_at_the_gate_before_the_measured_region() {
    for direction in Direction::ALL {
        for channel in [Channel::Flume, Channel::TokioMpsc] {
            let prepared = bridge::prepare(&spec(channel, direction, Capacity::Bounded(16), 4, 1_000)).unwrap();
            assert_eq!(prepared.parties_at_gate(), 5, "{channel:?} {direction}: 4 producers and the consumer");
        }
    }
}

#[test]
fn the_minimal_loop_moves_every_message_on_every_channel() {
    for channel in channels() {
        raw::minimal_loop(channel, 10_000).unwrap_or_else(|e| panic!("{channel:?}: {e}"));
    }
}

#[test]
fn blocking_only_channels_bridge_threads_only() {
    for channel in [Channel::StdMpsc, Channel::Crossbeam] {
        assert_eq!(unsupported(channel, Direction::THREAD_TO_THREAD, Capacity::Bounded(0)), None);
        for direction in &Direction::ALL[1..] {
            assert!(unsupported(channel, *direction, Capacity::Unbounded).is_some(), "{channel:?} {direction}");
        }
    }
    for direction in Direction::ALL {
        assert_eq!(unsupported(Channel::Flume, direction, Capacity::Bounded(0)), None);
        assert!(unsupported(Channel::TokioMpsc, direction, Capacity::Bounded(0)).is_some());
        assert_eq!(unsupported(Channel::TokioMpsc, direction, Capacity::Bounded(1)), None);
    }
}
