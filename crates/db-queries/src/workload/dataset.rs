//! The seeded data, as functions of a seed: what the fixture loads and what the load
//! generator checks every read against.
//!
//! Nothing here is random at run time. An account's owner and opening balance, how many orders
//! it has, and each order's amount and time are hashes of the seed and the account id, so the
//! load generator can compute the exact answer to any read without asking the database, and
//! the fixture can stream the rows into the database without holding them.
//!
//! Accounts whose id is a multiple of [`WRITE_STRIDE`] take every write; the others are never
//! written. That split is what makes reads checkable while writes run: a read's expected answer
//! never depends on which writes happened to land first. Writes are checked separately, by the
//! [`audit`](crate::load::audit) after the run.

use serde::{Deserialize, Serialize};

/// One account in this many takes the workload's writes; reads go to the others.
pub const WRITE_STRIDE: i64 = 16;

/// Orders are placed within one year starting here (unix seconds, 2023-11-14).
pub const EPOCH: i64 = 1_700_000_000;
pub const SPAN_S: i64 = 365 * 86_400;

/// Streams of the hash, one per independent quantity, so that changing how one is derived
/// never shifts another.
const OWNER: u64 = 1;
const BALANCE: u64 = 2;
const ORDER_COUNT: u64 = 3;
const AMOUNT: u64 = 4;
const PLACED_AT: u64 = 5;

/// The splitmix64 finaliser: a fast, well-mixed 64-bit hash of one word.
pub const fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of (seed, stream, a, b): every derived quantity goes through here.
pub const fn hash(seed: u64, stream: u64, a: u64, b: u64) -> u64 {
    mix64(seed ^ mix64(stream.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ mix64(a ^ mix64(b))))
}

/// The dataset's shape. Two runs with equal `Dataset`s see byte-identical databases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dataset {
    pub seed: u64,
    /// Accounts, with ids `1..=accounts`.
    pub accounts: i64,
    /// Mean orders per account; each account has between 0 and twice this many.
    pub orders_per_account: u32,
}

/// One seeded order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order {
    pub id: i64,
    pub account: i64,
    /// Cents, 1..=50,000.
    pub amount: i64,
    pub placed_at: i64,
}

impl Dataset {
    pub fn is_write_account(id: i64) -> bool {
        id % WRITE_STRIDE == 0
    }

    pub fn owner(&self, id: i64) -> String {
        format!("owner-{:012x}", hash(self.seed, OWNER, id as u64, 0) & 0xFFFF_FFFF_FFFF)
    }

    /// The balance an account is seeded with, in cents (0 to 9,999.99).
    pub fn opening_balance(&self, id: i64) -> i64 {
        (hash(self.seed, BALANCE, id as u64, 0) % 1_000_000) as i64
    }

    /// The largest number of orders one account can be seeded with.
    pub fn max_orders_per_account(&self) -> u32 {
        2 * self.orders_per_account
    }

    pub fn order_count(&self, account: i64) -> u32 {
        (hash(self.seed, ORDER_COUNT, account as u64, 0) % (u64::from(self.max_orders_per_account()) + 1)) as u32
    }

    /// An account's `j`-th order. Ids interleave accounts (`j * accounts + account`), so one
    /// account's orders are spread over the whole table, as they are in a real one, and each is
    /// computable on its own.
    pub fn order(&self, account: i64, j: u32) -> Order {
        let id = i64::from(j) * self.accounts + account;
        Order {
            id,
            account,
            amount: 1 + (hash(self.seed, AMOUNT, id as u64, 0) % 50_000) as i64,
            placed_at: EPOCH + (hash(self.seed, PLACED_AT, id as u64, 0) % SPAN_S as u64) as i64,
        }
    }

    /// Every seeded order, in id order: how the fixture streams them into the database.
    pub fn orders(&self) -> impl Iterator<Item = Order> + '_ {
        (0..self.max_orders_per_account()).flat_map(move |j| {
            (1..=self.accounts).filter(move |&a| j < self.order_count(a)).map(move |a| self.order(a, j))
        })
    }

    /// How many orders the fixture seeds (computed, not stored: a few ms per million).
    pub fn order_total(&self) -> u64 {
        (1..=self.accounts).map(|a| u64::from(self.order_count(a))).sum()
    }

    /// Seeded ids stay below this; the workload's writes use ids from here up.
    pub fn first_write_order_id(&self) -> i64 {
        (i64::from(self.max_orders_per_account()) + 1) * self.accounts + 1
    }

    /// What a point read of a read-only account must return.
    pub fn expected_point(&self, account: i64) -> u64 {
        digest::account(account, &self.owner(account), self.opening_balance(account))
    }

    /// What a range read of a read-only account must return: its seeded orders placed in
    /// `[from, to)`, counted and summed.
    pub fn expected_range(&self, account: i64, from: i64, to: i64) -> u64 {
        let (count, sum) = (0..self.order_count(account))
            .map(|j| self.order(account, j))
            .filter(|o| (from..to).contains(&o.placed_at))
            .fold((0, 0), |(n, s), o| (n + 1, s + o.amount));
        digest::range(count, sum)
    }
}

/// Digests of query results: what a server replies with and what the generator expects. The
/// same functions on both sides, so a reply matches only if the database returned the data.
pub mod digest {
    use super::mix64;

    /// FNV-1a, for the owner string.
    fn text(s: &str) -> u64 {
        s.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3))
    }

    pub fn account(id: i64, owner: &str, balance: i64) -> u64 {
        mix64(id as u64 ^ mix64(text(owner) ^ mix64(balance as u64)))
    }

    /// Distinct from any `account` digest by construction of the inputs, though nothing relies
    /// on that: a reply is only ever compared with the digest of its own request's kind.
    pub fn range(count: i64, sum: i64) -> u64 {
        mix64(0x0052_414E_4745 ^ mix64(count as u64) ^ mix64(sum as u64).rotate_left(17))
    }

    /// A write's digest names the order it wrote: a reply for the wrong request cannot match.
    pub fn write(order_id: i64) -> u64 {
        mix64(0x0057_5249_5445 ^ mix64(order_id as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Dataset = Dataset { seed: 7, accounts: 1000, orders_per_account: 4 };

    #[test]
    fn orders_come_in_id_order_and_match_the_per_account_view() {
        let all: Vec<Order> = SMALL.orders().collect();
        assert_eq!(all.len() as u64, SMALL.order_total());
        assert!(all.windows(2).all(|w| w[0].id < w[1].id), "ids ascend");
        for account in [1, 2, 16, 999, 1000] {
            let mine: Vec<Order> = all.iter().copied().filter(|o| o.account == account).collect();
            let computed: Vec<Order> = (0..SMALL.order_count(account)).map(|j| SMALL.order(account, j)).collect();
            assert_eq!(mine, computed, "account {account}");
        }
        assert!(all.iter().all(|o| o.id < SMALL.first_write_order_id()));
        assert!(all.iter().all(|o| (EPOCH..EPOCH + SPAN_S).contains(&o.placed_at)));
    }

    #[test]
    fn the_mean_is_about_what_was_asked_and_the_seed_matters() {
        let mean = SMALL.order_total() as f64 / SMALL.accounts as f64;
        assert!((3.5..4.5).contains(&mean), "{mean}");
        let other = Dataset { seed: 8, ..SMALL };
        assert_ne!(SMALL.owner(5), other.owner(5));
        assert_ne!(SMALL.expected_point(5), other.expected_point(5));
    }

    #[test]
    fn a_range_sums_exactly_the_orders_inside_it() {
        let account = (1..SMALL.accounts).find(|&a| SMALL.order_count(a) >= 3).unwrap();
        let orders: Vec<Order> = (0..SMALL.order_count(account)).map(|j| SMALL.order(account, j)).collect();
        let first = orders.iter().map(|o| o.placed_at).min().unwrap();
        let at_first = orders.iter().filter(|o| o.placed_at == first);
        let (n, sum) = (at_first.clone().count() as i64, at_first.map(|o| o.amount).sum());
        assert_eq!(SMALL.expected_range(account, first, first + 1), digest::range(n, sum));
        let all = SMALL.expected_range(account, EPOCH, EPOCH + SPAN_S);
        assert_eq!(all, digest::range(orders.len() as i64, orders.iter().map(|o| o.amount).sum()));
        assert_eq!(SMALL.expected_range(account, 0, 1), digest::range(0, 0));
    }

    #[test]
    fn write_accounts_are_the_multiples_of_the_stride() {
        let w: Vec<i64> = (1..=SMALL.accounts).filter(|&a| Dataset::is_write_account(a)).collect();
        assert_eq!((w.len(), w[0]), (62, 16));
        assert!(w.iter().all(|a| a % WRITE_STRIDE == 0));
    }
}
