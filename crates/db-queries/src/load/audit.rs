//! The books on writes: what the database holds after a run, against what the load generator
//! was told succeeded.
//!
//! The audit is not the variant under test: the load generator runs it, on its own direct
//! connection, before the load (a run tag and the write accounts' balances) and after it
//! (this run's orders and the balances again). A write is counted as lost when it was
//! acknowledged and its order is not in the database as sent; as ambiguous when its order is
//! in the database but no acknowledgement accounts for it (applied, then its connection was
//! lost before the reply: the client was told it failed, and cannot know better); as doubled
//! when an account's balance moved by anything but the sum of its new orders (a credit applied
//! twice, or without its order).
//!
//! The audit's own connection is no more reliable than the variants': a lost one is replaced
//! and the step run again (each is a read, or a tag that only has to be new).

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::{
    store::{
        fixture::{self, Target},
        postgres::PgTarget,
        sqlite,
    },
    workload::{Workload, dataset::WRITE_STRIDE},
};

/// One write the server reported as done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AckedWrite {
    pub order_id: i64,
    pub account: i64,
    pub amount: i64,
}

/// The state before the load: a run tag of its own and the balances writes will move.
#[derive(Debug)]
pub struct Snapshot {
    pub run_tag: u64,
    balances: HashMap<i64, i64>,
}

/// What the audit found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    /// Writes acknowledged to the generator.
    pub acked: u64,
    /// This run's orders found in the database.
    pub applied: u64,
    /// Acknowledged, but the order is missing or differs.
    pub lost: u64,
    /// In the database, but never acknowledged: applied, and reported as failed.
    pub ambiguous: u64,
    /// Write accounts whose balance moved by anything but the sum of their new orders.
    pub balance_mismatches: u64,
    /// Times the audit replaced its own lost connection.
    pub retries: u64,
}

impl Reconciliation {
    /// Writes applied twice (or credited without their order): a ledger that disagrees with
    /// itself, whatever the clients were told.
    pub fn doubled(&self) -> u64 {
        self.balance_mismatches
    }

    pub fn balances(&self) -> bool {
        self.lost == 0 && self.doubled() == 0
    }
}

/// Tries of each audit step on Postgres, each on a fresh connection after a lost one.
const TRIES: u32 = 4;

/// A direct connection for the audit.
pub enum AuditDb {
    Sqlite(rusqlite::Connection),
    Postgres(Box<PgAudit>),
}

/// The audit's Postgres connection, replaced when lost.
pub struct PgAudit {
    db: PgTarget,
    client: Option<postgres::Client>,
    retries: u64,
}

impl PgAudit {
    /// What the audit's connections call themselves: findable as this process's.
    fn application() -> String {
        format!("casebook-dbq-audit-{}", std::process::id())
    }

    /// Runs `step`, on a fresh connection and again after a lost one, up to [`TRIES`] times.
    fn run<T>(
        &mut self,
        mut step: impl FnMut(&mut postgres::Client) -> Result<T, postgres::Error>,
    ) -> anyhow::Result<T> {
        let mut tries = 0;
        loop {
            let attempt = match &mut self.client {
                Some(client) => step(client).map_err(anyhow::Error::from),
                None => fixture::connect_as(&self.db, &Self::application())
                    .and_then(|client| Ok(step(self.client.insert(client))?)),
            };
            match attempt {
                Err(e) if tries + 1 < TRIES && fixture::lost_connection(&e) => {
                    tries += 1;
                    self.retries += 1;
                    self.client = None;
                }
                result => return result,
            }
        }
    }
}

impl AuditDb {
    pub fn open(target: &Target) -> anyhow::Result<AuditDb> {
        Ok(match target {
            Target::Sqlite { path } => AuditDb::Sqlite(
                sqlite::open(path, true, sqlite::BUSY_TIMEOUT)
                    .with_context(|| format!("audit: cannot open {}", path.display()))?,
            ),
            Target::Postgres { db, .. } => {
                let mut audit = PgAudit { db: db.clone(), client: None, retries: 0 };
                audit.run(|_| Ok(()))?;
                AuditDb::Postgres(Box::new(audit))
            }
        })
    }

    /// A query's rows of integers, on either engine (SQLite takes Postgres' `$1` too).
    fn rows(&mut self, sql: &str, params: &[i64]) -> anyhow::Result<Vec<Vec<i64>>> {
        Ok(match self {
            AuditDb::Sqlite(c) => {
                let mut stmt = c.prepare(sql)?;
                let columns = stmt.column_count();
                let rows =
                    stmt.query_map(rusqlite::params_from_iter(params), |r| (0..columns).map(|i| r.get(i)).collect())?;
                rows.collect::<Result<_, _>>()?
            }
            AuditDb::Postgres(audit) => audit.run(|c| {
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|p| p as _).collect();
                Ok(c.query(sql, &params)?.iter().map(|r| (0..r.len()).map(|i| r.get(i)).collect()).collect())
            })?,
        })
    }

    /// Takes a run tag and the balances of every write account. Nothing may write meanwhile.
    pub fn begin(&mut self) -> anyhow::Result<Snapshot> {
        let tag = self.rows("UPDATE meta SET runs = runs + 1 RETURNING runs", &[])?;
        let run_tag = tag.first().context("audit: no run tag")?[0] as u64;
        Ok(Snapshot { run_tag, balances: self.balances()? })
    }

    /// The balance of every write account.
    fn balances(&mut self) -> anyhow::Result<HashMap<i64, i64>> {
        let rows = self.rows("SELECT id, balance FROM accounts WHERE id % $1 = 0", &[WRITE_STRIDE])?;
        Ok(rows.iter().map(|r| (r[0], r[1])).collect())
    }

    /// Compares the database after the run with the acknowledged writes.
    pub fn reconcile(
        &mut self,
        snapshot: &Snapshot,
        workload: &Workload,
        acked: &[AckedWrite],
    ) -> anyhow::Result<Reconciliation> {
        let (lo, hi) = workload.write_order_ids();
        let rows = self.rows("SELECT id, account_id, amount FROM orders WHERE id >= $1 AND id < $2", &[lo, hi])?;
        let orders: Vec<AckedWrite> =
            rows.iter().map(|r| AckedWrite { order_id: r[0], account: r[1], amount: r[2] }).collect();
        let balances = self.balances()?;
        let retries = match self {
            AuditDb::Postgres(audit) => audit.retries,
            AuditDb::Sqlite(_) => 0,
        };
        Ok(Reconciliation { retries, ..compare(&snapshot.balances, &balances, &orders, acked) })
    }
}

/// The comparison itself, apart from any database, so its tests can feed it every way a
/// ledger goes wrong.
pub fn compare(
    before: &HashMap<i64, i64>,
    after: &HashMap<i64, i64>,
    orders: &[AckedWrite],
    acked: &[AckedWrite],
) -> Reconciliation {
    let in_db: HashMap<i64, AckedWrite> = orders.iter().map(|o| (o.order_id, *o)).collect();
    let told: HashMap<i64, AckedWrite> = acked.iter().map(|a| (a.order_id, *a)).collect();
    let lost = told.values().filter(|a| in_db.get(&a.order_id) != Some(a)).count() as u64;
    let ambiguous = in_db.values().filter(|o| told.get(&o.order_id) != Some(o)).count() as u64;
    let mut credited: BTreeMap<i64, i64> = BTreeMap::new();
    for o in orders {
        *credited.entry(o.account).or_default() += o.amount;
    }
    let balance_mismatches = after
        .iter()
        .filter(|&(id, balance)| {
            let moved = balance - before.get(id).copied().unwrap_or(*balance);
            moved != credited.get(id).copied().unwrap_or(0)
        })
        .count() as u64
        + before.keys().filter(|id| !after.contains_key(id)).count() as u64;
    Reconciliation {
        acked: told.len() as u64,
        applied: in_db.len() as u64,
        lost,
        ambiguous,
        balance_mismatches,
        retries: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(order_id: i64, account: i64, amount: i64) -> AckedWrite {
        AckedWrite { order_id, account, amount }
    }

    fn balances(pairs: &[(i64, i64)]) -> HashMap<i64, i64> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn a_clean_run_balances_and_every_way_a_ledger_goes_wrong_is_counted() {
        let before = balances(&[(16, 100), (32, 0)]);
        let writes = [w(1, 16, 3), w(2, 16, 4), w(3, 32, 5)];
        let r = compare(&before, &balances(&[(16, 107), (32, 5)]), &writes, &writes);
        assert!(r.balances(), "{r:?}");
        assert_eq!((r.acked, r.applied), (3, 3));
        // Acknowledged but missing: lost, and the balance did not move either.
        let r = compare(&before, &before, &[], &[w(1, 16, 3)]);
        assert_eq!((r.lost, r.doubled()), (1, 0));
        // Applied but reported failed (the connection was lost before the reply): ambiguous,
        // not doubled, and the ledger balances.
        let r = compare(&before, &balances(&[(16, 103), (32, 0)]), &[w(1, 16, 3)], &[]);
        assert_eq!((r.lost, r.ambiguous, r.doubled()), (0, 1, 0));
        assert!(r.balances(), "{r:?}");
        // Credited twice for one order.
        let r = compare(&before, &balances(&[(16, 106), (32, 0)]), &[w(1, 16, 3)], &[w(1, 16, 3)]);
        assert_eq!((r.lost, r.doubled()), (0, 1));
        // The order landed with another amount than was sent.
        let r = compare(&before, &balances(&[(16, 109), (32, 0)]), &[w(1, 16, 9)], &[w(1, 16, 3)]);
        assert_eq!((r.lost, r.ambiguous), (1, 1));
        // A write account vanished.
        let r = compare(&before, &balances(&[(16, 100)]), &[], &[]);
        assert_eq!(r.balance_mismatches, 1);
    }
}
