//! The books: what the producer made against what the manifest says, never the variant's
//! own account.

use std::collections::{HashMap, HashSet};

use hdrhistogram::Histogram;

use crate::inbox::{manifest::Entry, producer::Produced};

/// One watch run, joined.
#[derive(Clone, Debug)]
pub struct WatchBooks {
    pub produced: u64,
    /// Produced files with at least one entry.
    pub recorded: u64,
    /// Produced, never in the manifest.
    pub lost: u64,
    /// Entries beyond the first for a name.
    pub doubled: u64,
    /// Entries for names the producer never made (a temp name taken as an input, say).
    pub unexpected: u64,
    /// Produced files whose entry is an error.
    pub errors: u64,
    /// Recorded before the producer's stamp: impossible for a correct pipeline, counted so
    /// that it would show.
    pub early: u64,
    /// Producer stamp to the first manifest entry, µs.
    pub latency: Histogram<u64>,
}

/// Joins the producer's log with the manifest.
pub fn join(produced: &[Produced], entries: &[Entry]) -> WatchBooks {
    let mut first: HashMap<&str, &Entry> = HashMap::new();
    for entry in entries {
        first.entry(&entry.name).or_insert(entry);
    }
    let made: HashSet<&str> = produced.iter().map(|p| p.name.as_str()).collect();
    let mut books = WatchBooks {
        produced: produced.len() as u64,
        recorded: 0,
        lost: 0,
        doubled: (entries.len() - first.len()) as u64,
        unexpected: first.keys().filter(|name| !made.contains(*name)).count() as u64,
        errors: 0,
        early: 0,
        latency: casebook::stats::latency::histogram(),
    };
    for p in produced {
        let Some(entry) = first.get(p.name.as_str()) else {
            books.lost += 1;
            continue;
        };
        books.recorded += 1;
        books.errors += u64::from(entry.record.is_failed());
        match entry.at_ns.checked_sub(p.at_ns) {
            Some(ns) => books.latency.saturating_record((ns / 1_000).max(1)),
            None => books.early += 1,
        }
    }
    books
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbox::{manifest::Failure, manifest::Record, producer::Way};

    fn produced(name: &str, at_ns: u64) -> Produced {
        Produced { name: name.into(), way: Way::Rename, at_ns }
    }

    fn entry(name: &str, at_ns: u64) -> Entry {
        Entry { name: name.into(), record: Record::Done { size: 1, blake3: None, compressed: None }, at_ns }
    }

    #[test]
    fn lost_doubled_unexpected_and_early_are_counted_exactly() {
        let log = [produced("a", 1_000), produced("b", 2_000), produced("c", 3_000), produced("d", 9_000_000)];
        let mut failed = entry("c", 4_000);
        failed.record = Record::failed(Failure::NotFound, "gone");
        let entries = [
            entry("a", 6_000),
            entry("b", 1_002_000),
            entry("a", 7_000),
            entry("a", 8_000),
            failed,
            entry(".x.part", 1),
        ];
        let books = join(&log, &entries);
        // "d" was never recorded; "a" twice more; ".x.part" was never produced.
        assert_eq!((books.produced, books.recorded, books.lost), (4, 3, 1));
        assert_eq!((books.doubled, books.unexpected, books.errors, books.early), (2, 1, 1, 0));
        assert_eq!(books.latency.len(), 3);
        assert_eq!(books.latency.min(), 1, "c: 1 µs");
        assert_eq!(books.latency.max(), books.latency.highest_equivalent(1_000), "b: 1 ms");
        let early = join(&[produced("a", 10_000)], &[entry("a", 5_000)]);
        assert_eq!((early.early, early.latency.len()), (1, 0));
    }
}
