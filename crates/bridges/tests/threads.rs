//! No row leaves a thread behind: after each kind of run, this process has exactly the
//! threads it had before. A binary of its own (not the suite), and its only test, so no
//! other test's threads come and go while it counts.

use std::time::Duration;

use bridges::{
    book::{self, Mode, StreamSpec, listings::Pace},
    channels::{
        Capacity, Channel, Direction,
        bridge::{self, BridgeSpec},
    },
    mixing::{self, MixSpec},
    variants::{Form, Variant},
};
use casebook::{VariantSet, testing::poll};

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").expect("Linux /proc").count()
}

/// Threads that have been joined may take a moment to leave `/proc`: wait for the count,
/// boundedly, and report what it settled at.
fn settles_at(expected: usize) -> usize {
    poll(Duration::from_secs(5), || (threads() == expected).then_some(expected)).unwrap_or_else(threads)
}

#[test]
fn every_kind_of_row_ends_with_the_threads_it_started_with() {
    let before = threads();
    for direction in Direction::ALL {
        for capacity in [Capacity::Bounded(0), Capacity::Unbounded] {
            let spec = BridgeSpec {
                channel: Channel::Flume,
                direction,
                capacity,
                producers: 3,
                per_producer: 1_000,
                drop_after: Some(500),
                queue_limit: u64::MAX,
            };
            bridge::prepare(&spec).and_then(|mut p| p.execute()).unwrap();
            assert_eq!(settles_at(before), before, "after flume {direction} {capacity}");
        }
    }
    for variant in Variant::ALL {
        match variant.form() {
            Form::Listing(listing) => {
                let pace = Pace::faster(20);
                let spec = StreamSpec { listing, pace, mode: Mode::Book, capacity: 1, queue_limit: u64::MAX };
                book::prepare(&spec).and_then(|mut p| p.execute()).unwrap();
            }
            Form::Mixing(form) => {
                mixing::prepare(form, &MixSpec { calls: 50, record_bytes: 16 }).and_then(|mut p| p.execute()).unwrap();
            }
            _ => continue,
        }
        assert_eq!(settles_at(before), before, "after {variant}");
    }
}
