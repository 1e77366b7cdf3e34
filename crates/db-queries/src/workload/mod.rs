//! The requests: which kind, which account, which window, all derived from the request id.
//!
//! A request is a pure function of (dataset, mix, run tag, request id), so the generator can
//! issue request 17 and later check its reply without keeping anything but the id, and two
//! variants given the same ids are asked exactly the same questions.
//!
//! Beside the requests: [`dataset`], the seeded data they read, as pure functions of a seed;
//! [`protocol`], the wire frames they travel on and the error kinds both sides count.

pub mod dataset;
pub mod protocol;

use std::fmt;

use dataset::{Dataset, EPOCH, SPAN_S, WRITE_STRIDE, digest, hash};
use serde::{Deserialize, Serialize};

/// A range read covers this much of the seeded year: about a month.
pub const RANGE_WINDOW_S: i64 = 30 * 86_400;

/// Request ids of one run stay below this, so a write's order id (tag, id) is unique.
pub const MAX_REQUESTS_PER_RUN: u64 = 1 << 32;

const KIND: u64 = 10;
const ACCOUNT: u64 = 11;
const WINDOW: u64 = 12;
const WRITE_AMOUNT: u64 = 13;

/// The share of each request kind, in percent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mix {
    pub point: u8,
    pub range: u8,
    pub write: u8,
}

impl Mix {
    /// The service: mostly lookups by key, some reports, a few writes.
    pub const SERVICE: Mix = Mix { point: 80, range: 15, write: 5 };
    /// Point reads only: the figure to hold against `pgbench -S`.
    pub const POINT_READS: Mix = Mix { point: 100, range: 0, write: 0 };

    /// Parses `point/range/write` percentages, e.g. `80/15/5`; they must add up to 100.
    pub fn parse(text: &str) -> Result<Mix, String> {
        let parts: Vec<&str> = text.split('/').collect();
        let [point, range, write] = parts.as_slice() else {
            return Err(format!("mix {text:?}: expected three percentages point/range/write, e.g. 80/15/5"));
        };
        let number = |s: &str| s.trim().parse::<u8>().map_err(|_| format!("mix {text:?}: {s:?} is not a percentage"));
        let mix = Mix { point: number(point)?, range: number(range)?, write: number(write)? };
        let total = u32::from(mix.point) + u32::from(mix.range) + u32::from(mix.write);
        if total != 100 {
            return Err(format!("mix {text:?}: the percentages add up to {total}, not 100"));
        }
        Ok(mix)
    }
}

impl fmt::Display for Mix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.point, self.range, self.write)
    }
}

/// What one request asks the data layer to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Read one account by primary key.
    Point { account: i64 },
    /// Count and sum one account's orders placed in `[from, to)`.
    Range { account: i64, from: i64, to: i64 },
    /// Insert an order and add its amount to the account's balance, in one transaction. The
    /// order id is the request's own, so a retried write cannot apply twice.
    Write { order_id: i64, account: i64, amount: i64, placed_at: i64 },
}

impl Request {
    /// Writes go to SQLite's single writer; reads to the readers.
    pub fn is_write(&self) -> bool {
        matches!(self, Request::Write { .. })
    }
}

/// One run's request stream.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Workload {
    pub dataset: Dataset,
    pub mix: Mix,
    /// Unique per run on one database (handed out by the audit): it keeps one run's write
    /// order ids apart from every other run's.
    pub run_tag: u64,
}

impl Workload {
    /// Request `id`: the same question in every run (only a write's order id is the run's
    /// own), so every variant is asked exactly the same things.
    pub fn request(&self, id: u64) -> Request {
        let d = &self.dataset;
        let h = |stream| hash(d.seed, stream, id, 0);
        let roll = (h(KIND) % 100) as u8;
        if roll < self.mix.point {
            Request::Point { account: self.read_account(h(ACCOUNT)) }
        } else if roll < self.mix.point + self.mix.range {
            let from = EPOCH + (h(WINDOW) % (SPAN_S - RANGE_WINDOW_S) as u64) as i64;
            Request::Range { account: self.read_account(h(ACCOUNT)), from, to: from + RANGE_WINDOW_S }
        } else {
            let writable = (d.accounts / WRITE_STRIDE) as u64;
            Request::Write {
                order_id: self.write_order_id(id),
                account: (1 + (h(ACCOUNT) % writable) as i64) * WRITE_STRIDE,
                amount: 1 + (h(WRITE_AMOUNT) % 10_000) as i64,
                // After the seeded year: "today".
                placed_at: EPOCH + SPAN_S + (id % 86_400) as i64,
            }
        }
    }

    /// The order id request `id` of this run writes: above every seeded id, one block of
    /// [`MAX_REQUESTS_PER_RUN`] per run tag.
    pub fn write_order_id(&self, id: u64) -> i64 {
        debug_assert!(id < MAX_REQUESTS_PER_RUN);
        self.dataset.first_write_order_id() + (self.run_tag * MAX_REQUESTS_PER_RUN + id) as i64
    }

    /// The order ids this run's writes can have: `[start, end)`.
    pub fn write_order_ids(&self) -> (i64, i64) {
        (
            self.write_order_id(0),
            self.dataset.first_write_order_id() + ((self.run_tag + 1) * MAX_REQUESTS_PER_RUN) as i64,
        )
    }

    /// A uniformly drawn account that takes no writes.
    fn read_account(&self, h: u64) -> i64 {
        let id = 1 + (h % self.dataset.accounts as u64) as i64;
        if Dataset::is_write_account(id) { id - 1 } else { id }
    }

    /// The digest a correct data layer replies with.
    pub fn expected(&self, request: &Request) -> u64 {
        match *request {
            Request::Point { account } => self.dataset.expected_point(account),
            Request::Range { account, from, to } => self.dataset.expected_range(account, from, to),
            Request::Write { order_id, .. } => digest::write(order_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(mix: Mix) -> Workload {
        Workload { dataset: Dataset { seed: 3, accounts: 10_000, orders_per_account: 5 }, mix, run_tag: 2 }
    }

    #[test]
    fn the_mix_is_honoured_and_reads_never_touch_write_accounts() {
        let w = workload(Mix::SERVICE);
        let mut counts = [0u32; 3];
        for id in 0..20_000 {
            match w.request(id) {
                Request::Point { account } | Request::Range { account, .. } => {
                    assert!(!Dataset::is_write_account(account) && (1..=10_000).contains(&account));
                    counts[usize::from(matches!(w.request(id), Request::Range { .. }))] += 1;
                }
                Request::Write { account, order_id, .. } => {
                    assert!(Dataset::is_write_account(account) && account <= 10_000);
                    let (lo, hi) = w.write_order_ids();
                    assert!((lo..hi).contains(&order_id));
                    counts[2] += 1;
                }
            }
        }
        let share = |n: u32| f64::from(n) / 200.0;
        assert!((share(counts[0]) - 80.0).abs() < 2.0, "{counts:?}");
        assert!((share(counts[1]) - 15.0).abs() < 2.0, "{counts:?}");
        assert!((share(counts[2]) - 5.0).abs() < 1.0, "{counts:?}");
    }

    #[test]
    fn runs_ask_the_same_questions_with_disjoint_order_ids() {
        let a = workload(Mix::SERVICE);
        let b = Workload { run_tag: 3, ..a };
        assert!(a.write_order_ids().1 <= b.write_order_ids().0);
        assert!(a.write_order_ids().0 >= a.dataset.first_write_order_id());
        for id in 0..1000 {
            match (a.request(id), b.request(id)) {
                (Request::Write { order_id: x, account: p, .. }, Request::Write { order_id: y, account: q, .. }) => {
                    assert_ne!(x, y);
                    assert_eq!(p, q);
                }
                (x, y) => assert_eq!(x, y),
            }
        }
    }

    #[test]
    fn mixes_parse_and_bad_ones_say_why() {
        assert_eq!(Mix::parse("80/15/5"), Ok(Mix::SERVICE));
        assert_eq!(Mix::parse("100/0/0"), Ok(Mix::POINT_READS));
        assert!(Mix::parse("80/15").unwrap_err().contains("three percentages"));
        assert!(Mix::parse("80/15/6").unwrap_err().contains("add up to 101"));
        assert!(Mix::parse("80/x/5").unwrap_err().contains("not a percentage"));
        assert_eq!(Mix::SERVICE.to_string(), "80/15/5");
        let only_points = workload(Mix::POINT_READS);
        assert!((0..1000).all(|id| matches!(only_points.request(id), Request::Point { .. })));
    }
}
