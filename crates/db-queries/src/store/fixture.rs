//! The databases a case run creates, seeds and always removes.
//!
//! Each fixture is a value whose `Drop` removes what it created: the SQLite file and its WAL,
//! or the Postgres schema. The guard exists from the moment there is something to remove, so
//! a seed that fails or is interrupted halfway still cleans up. A Postgres schema is named
//! after the process that owns it; one left by a run that was killed outright (no `Drop` ran)
//! is swept by the next run once its owner's pid is gone.

use std::{
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU32, Ordering},
};

use anyhow::Context;
use postgres::NoTls;
use serde::{Deserialize, Serialize};

use crate::{
    store::{postgres::PgTarget, sqlite},
    workload::dataset::Dataset,
};

/// Every schema this case creates starts with this, followed by the owner's pid.
pub const SCHEMA_PREFIX: &str = "casebook_dbq_";

/// Rows between two looks at the interrupt flag while seeding.
const CHECK_EVERY: u64 = 50_000;

/// The two engines every data layer is measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub const fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "Postgres",
        }
    }
}

/// Where one run's data lives, handed to every process that touches it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    Sqlite {
        path: PathBuf,
    },
    /// `proxy_port`: the variants reach the server through the delaying proxy on this local
    /// port; the audit always goes direct.
    Postgres {
        db: PgTarget,
        proxy_port: Option<u16>,
    },
}

impl Target {
    pub fn engine(&self) -> Engine {
        match self {
            Target::Sqlite { .. } => Engine::Sqlite,
            Target::Postgres { .. } => Engine::Postgres,
        }
    }

    /// The Postgres target the variants connect to (through the proxy when there is one).
    pub fn pg_for_variants(&self) -> Option<PgTarget> {
        match self {
            Target::Postgres { db, proxy_port: Some(port) } => Some(db.through(*port)),
            Target::Postgres { db, proxy_port: None } => Some(db.clone()),
            Target::Sqlite { .. } => None,
        }
    }
}

/// A seeded SQLite file; dropping it removes the file and its WAL.
#[derive(Debug)]
pub struct SqliteFixture {
    pub path: PathBuf,
}

impl SqliteFixture {
    /// Creates and seeds the file in `dir`; `interrupted` is polled while loading.
    pub fn create(dir: &Path, dataset: &Dataset, interrupted: &dyn Fn() -> bool) -> anyhow::Result<SqliteFixture> {
        let fixture = SqliteFixture { path: dir.join("db-queries.sqlite") };
        sqlite::remove(&fixture.path)?;
        sqlite::create_and_seed(&fixture.path, dataset, interrupted)
            .with_context(|| format!("cannot create the SQLite database {}", fixture.path.display()))?;
        Ok(fixture)
    }

    pub fn target(&self) -> Target {
        Target::Sqlite { path: self.path.clone() }
    }
}

impl Drop for SqliteFixture {
    fn drop(&mut self) {
        if let Err(e) = sqlite::remove(&self.path) {
            eprintln!("db-queries: cannot remove {}: {e}", self.path.display());
        }
    }
}

/// A schema of this process's own, seeded; dropping it drops the schema.
#[derive(Debug)]
pub struct PgFixture {
    target: PgTarget,
}

/// Identifiers cannot be bound as parameters; a schema name is only ever this case's own
/// pattern, checked before it is quoted into DDL.
fn valid_schema_name(name: &str) -> bool {
    name.starts_with(SCHEMA_PREFIX)
        && name.len() < 63
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The owner's pid in a schema name, if it is one of ours.
fn owner_pid(name: &str) -> Option<u32> {
    name.strip_prefix(SCHEMA_PREFIX)?.split('_').next()?.parse().ok()
}

fn drop_schema(client: &mut postgres::Client, name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(valid_schema_name(name), "refusing to drop schema {name:?}: not one of this case's");
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))?;
    Ok(())
}

/// Drops schemas whose owner process is gone; returns their names.
pub fn sweep_stale(client: &mut postgres::Client) -> anyhow::Result<Vec<String>> {
    let rows =
        client.query("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)", &[&SCHEMA_PREFIX])?;
    let mut swept = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        let Some(pid) = owner_pid(&name) else { continue };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            drop_schema(client, &name)?;
            swept.push(name);
        }
    }
    Ok(swept)
}

/// The first connection of a run: an unreachable server is one clear error, in at most
/// [`CONNECT_TIMEOUT`](crate::store::postgres::CONNECT_TIMEOUT).
pub fn connect(db: &PgTarget) -> anyhow::Result<postgres::Client> {
    db.blocking_config("casebook-db-queries-fixture").connect(NoTls).with_context(|| {
        format!("cannot reach Postgres at {}:{} (database {}, user {})", db.host, db.port, db.dbname, db.user)
    })
}

// ANCHOR: schema
const CREATE: &str = "
    CREATE TABLE accounts (id bigint NOT NULL, owner text NOT NULL, balance bigint NOT NULL);
    CREATE TABLE orders (id bigint NOT NULL, account_id bigint NOT NULL, amount bigint NOT NULL, placed_at bigint NOT NULL);
    CREATE TABLE meta (runs bigint NOT NULL);
    INSERT INTO meta (runs) VALUES (0);";
/// Keys and indexes after the load, as a bulk load should. The first index covers the range
/// query, the second the background job's scan of a time window.
const INDEX: &str = "
    ALTER TABLE accounts ADD PRIMARY KEY (id);
    ALTER TABLE orders ADD PRIMARY KEY (id);
    ALTER TABLE orders ADD FOREIGN KEY (account_id) REFERENCES accounts (id);
    CREATE INDEX orders_by_account ON orders (account_id, placed_at) INCLUDE (amount);
    CREATE INDEX orders_by_time ON orders (placed_at) INCLUDE (account_id, amount);";
// ANCHOR_END: schema

impl PgFixture {
    /// Sweeps stale schemas, creates this run's own and loads the dataset with `COPY`.
    /// `interrupted` is polled while loading; when it says so the load stops and the schema
    /// is dropped.
    pub fn create(db: &PgTarget, dataset: &Dataset, interrupted: &dyn Fn() -> bool) -> anyhow::Result<PgFixture> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("{SCHEMA_PREFIX}{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let mut admin = connect(db)?;
        sweep_stale(&mut admin).context("cannot sweep stale schemas")?;
        anyhow::ensure!(valid_schema_name(&name), "bad schema name {name}");
        admin.batch_execute(&format!("CREATE SCHEMA \"{name}\""))?;
        // From here on, every way out drops the schema.
        let fixture = PgFixture { target: PgTarget { schema: name, ..db.clone() } };
        drop(admin);
        fixture.seed(dataset, interrupted).with_context(|| format!("cannot seed schema {}", fixture.target.schema))?;
        Ok(fixture)
    }

    fn seed(&self, dataset: &Dataset, interrupted: &dyn Fn() -> bool) -> anyhow::Result<()> {
        let mut client = connect(&self.target)?;
        client.batch_execute(CREATE)?;
        let mut copy =
            BufWriter::with_capacity(1 << 16, client.copy_in("COPY accounts (id, owner, balance) FROM STDIN")?);
        for id in 1..=dataset.accounts {
            writeln!(copy, "{id}\t{}\t{}", dataset.owner(id), dataset.opening_balance(id))?;
            anyhow::ensure!(!(id as u64).is_multiple_of(CHECK_EVERY) || !interrupted(), "interrupted while seeding");
        }
        copy.into_inner().map_err(|e| e.into_error())?.finish()?;
        let mut copy = BufWriter::with_capacity(
            1 << 16,
            client.copy_in("COPY orders (id, account_id, amount, placed_at) FROM STDIN")?,
        );
        for (n, o) in dataset.orders().enumerate() {
            writeln!(copy, "{}\t{}\t{}\t{}", o.id, o.account, o.amount, o.placed_at)?;
            anyhow::ensure!(!(n as u64).is_multiple_of(CHECK_EVERY) || !interrupted(), "interrupted while seeding");
        }
        copy.into_inner().map_err(|e| e.into_error())?.finish()?;
        client.batch_execute(INDEX)?;
        // Statistics and the visibility map, so the planner and index-only scans see the data.
        client.batch_execute("VACUUM ANALYZE accounts")?;
        client.batch_execute("VACUUM ANALYZE orders")?;
        Ok(())
    }

    pub fn target(&self) -> &PgTarget {
        &self.target
    }
}

impl Drop for PgFixture {
    fn drop(&mut self) {
        // The blocking client runs a runtime of its own, which cannot start on a thread that is
        // already inside one: drop from a thread of our own, wherever this guard is dropped.
        let target = self.target.clone();
        let dropped = std::thread::spawn(move || drop_schema(&mut connect(&target)?, &target.schema)).join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("db-queries: cannot drop schema {}: {e:#}", self.target.schema),
            Err(_) => eprintln!("db-queries: dropping schema {} panicked", self.target.schema),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_schema_names_are_accepted_and_parsed() {
        assert!(valid_schema_name("casebook_dbq_123_0"));
        assert!(!valid_schema_name("public"));
        assert!(!valid_schema_name("casebook_dbq_1\"; DROP TABLE x; --"));
        assert!(!valid_schema_name("casebook_dbq_X"));
        assert_eq!(owner_pid("casebook_dbq_4242_3"), Some(4242));
        assert_eq!(owner_pid("casebook_dbq_abc"), None);
        assert_eq!(owner_pid("other_4242"), None);
    }
}
