//! The book's example: every producer form shows the consumer the same stream, the bounded
//! forms keep the queue at their capacity, and the memory guard stops a runaway producer.

use std::time::Duration;

use bridges::{
    book::{self, Listing, Mode, StreamOutcome, StreamSpec, listings::Pace},
    variants::Variant,
};
use casebook::VariantSet;

/// One run start to end: prepare, execute, tear down.
fn run(spec: &StreamSpec) -> anyhow::Result<StreamOutcome> {
    book::prepare(spec)?.execute()
}

fn spec(listing: Listing, mode: Mode, queue_limit: u64) -> StreamSpec {
    StreamSpec { listing, pace: Pace::faster(10), mode, capacity: 1, queue_limit }
}

#[test]
fn every_producer_form_gives_the_consumer_the_same_stream() {
    let listings = Variant::ALL.iter().filter_map(|v| v.listing());
    let outcomes: Vec<_> = listings.map(|l| run(&spec(l, Mode::Book, u64::MAX)).expect("the example runs")).collect();
    assert_eq!(outcomes.len(), 5);
    for outcome in &outcomes {
        let name = format!("{:?}", outcome.spec.listing);
        assert_eq!(outcome.books.items(), 20, "{name}: take(20)");
        assert!(outcome.books.letters_in_order(), "{name}: {:?}", outcome.books.letters);
        assert!(outcome.books.counts_in_order(), "{name}: {:?}", outcome.books.counts);
        assert!(!outcome.books.counts.is_empty() && !outcome.books.letters.is_empty(), "{name}: both sources seen");
        assert_eq!(outcome.digest(), outcomes[0].digest(), "{name}");
        assert!(!outcome.guard_hit, "{name}");
        assert!(outcome.produced >= outcome.taken, "{name}");
        if outcome.spec.listing.bounded() {
            // One item in the channel and one in the producer's hands, at most.
            assert!(
                outcome.produced <= outcome.taken + 2,
                "{name}: {} made, {} taken",
                outcome.produced,
                outcome.taken
            );
        }
    }
}

#[test]
fn a_drift_run_reads_the_queue_and_the_guard_stops_a_runaway_producer() {
    let drift = Mode::Drift { run_for: Duration::from_millis(300) };
    for listing in [Listing::TaskProducer, Listing::ThreadProducer, Listing::ThreadSenders] {
        let outcome = run(&spec(listing, drift, 8)).expect("the drift run ends");
        let name = format!("{listing:?}");
        assert!(outcome.guard_hit, "{name}: a throttled consumer cannot keep 8 items behind a 1 ms producer");
        assert!(outcome.final_depth <= 9, "{name}: depth {}", outcome.final_depth);
        assert!(outcome.books.counts_in_order() && outcome.books.letters_in_order(), "{name}");
        assert!(outcome.rss_start > 0 && outcome.rss_end > 0, "{name}");
    }
    let outcome = run(&spec(Listing::ThreadBounded, drift, 8)).expect("the drift run ends");
    assert!(!outcome.guard_hit && outcome.final_depth <= 2, "depth {}", outcome.final_depth);
}

#[test]
fn a_bounded_form_without_capacity_is_refused() {
    let err = run(&StreamSpec { capacity: 0, ..spec(Listing::TaskBounded, Mode::Book, 10) }).unwrap_err();
    assert!(err.to_string().contains("capacity of at least 1"), "{err}");
}
