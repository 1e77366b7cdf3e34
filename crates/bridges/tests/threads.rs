//! No row leaves a thread behind: after each kind of run, this process has exactly the
//! threads it had before. The only test in its binary, so no other test's threads come and go.

use std::time::{Duration, Instant};

use bridges::{
    book::{self, Listing, Mode, StreamSpec},
    bridge::{self, BridgeSpec},
    channels::{Capacity, Channel, Direction},
    listings::Pace,
    mixing::{self, MixSpec, Mixing},
};

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").expect("Linux /proc").count()
}

/// Threads that have been joined may take a moment to leave `/proc`: wait for the count,
/// boundedly, and report what it settled at.
fn settles_at(expected: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let now = threads();
        if now == expected || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
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
            bridge::run(&spec).unwrap();
            assert_eq!(settles_at(before), before, "after flume {direction} {capacity}");
        }
    }
    for listing in Listing::ALL {
        let spec = StreamSpec { listing, pace: Pace::faster(20), mode: Mode::Book, capacity: 1, queue_limit: u64::MAX };
        book::run(&spec).unwrap();
        assert_eq!(settles_at(before), before, "after {}", listing.name());
    }
    for kind in Mixing::ALL {
        mixing::run(kind, &MixSpec { calls: 50, record_bytes: 16 }).unwrap();
        assert_eq!(settles_at(before), before, "after {}", kind.name());
    }
}
