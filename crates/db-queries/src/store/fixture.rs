//! The databases a case run creates, seeds and always removes.
//!
//! Each fixture is a value whose `Drop` removes what it created: the SQLite file and its WAL,
//! or the Postgres schema. The guard exists from the moment there is something to remove, so
//! a seed that fails or is interrupted halfway still cleans up.
//!
//! A Postgres schema's owner holds a session-level advisory lock keyed by the schema's name
//! (its lease) for as long as the schema lives. One left by a run that was killed outright (no
//! `Drop` ran) has lost its lease with the owner's connection, and the next run's sweep drops
//! it. Liveness is decided by the server, never by a local pid: two machines sharing one
//! Postgres see each other's leases. The pid in a schema's name only makes it unique and
//! findable.

use std::{
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use anyhow::Context;
use postgres::NoTls;
use serde::{Deserialize, Serialize};

use crate::{
    store::{fault::pg_kind, postgres::PgTarget, sqlite},
    workload::{dataset::Dataset, protocol::ErrorKind},
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
        let Target::Postgres { db, proxy_port } = self else { return None };
        Some(proxy_port.map_or_else(|| db.clone(), |port| db.through(port)))
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

/// A schema of this process's own, seeded; dropping it drops the schema. `lease` holds the
/// schema's advisory lock while it lives.
pub struct PgFixture {
    target: PgTarget,
    lease: Option<postgres::Client>,
}

impl std::fmt::Debug for PgFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgFixture").field("target", &self.target).finish_non_exhaustive()
    }
}

/// Times the seed starts over on a fresh connection after losing one.
const SEED_TRIES: u32 = 3;

/// Identifiers cannot be bound as parameters; a schema name is only ever this case's own
/// pattern, checked before it is quoted into DDL.
fn valid_schema_name(name: &str) -> bool {
    name.starts_with(SCHEMA_PREFIX)
        && name.len() < 63
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn drop_schema(client: &mut postgres::Client, name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(valid_schema_name(name), "refusing to drop schema {name:?}: not one of this case's");
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))?;
    Ok(())
}

/// Takes the lease on `schema` for this session, if nobody holds it. A session holds its
/// leases until it ends, however it ends.
pub fn take_lease(client: &mut postgres::Client, schema: &str) -> anyhow::Result<bool> {
    Ok(client.query_one("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", &[&schema])?.get(0))
}

fn release_lease(client: &mut postgres::Client, schema: &str) -> anyhow::Result<()> {
    client.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", &[&schema])?;
    Ok(())
}

/// Drops this case's schemas whose lease nobody holds (their owner is gone, wherever it ran);
/// returns their names. `own`, this session's schema, is skipped.
pub fn sweep_stale(client: &mut postgres::Client, own: &str) -> anyhow::Result<Vec<String>> {
    let rows =
        client.query("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)", &[&SCHEMA_PREFIX])?;
    let mut swept = Vec::new();
    for name in rows.iter().map(|row| row.get::<_, String>(0)) {
        if name == own || !valid_schema_name(&name) || !take_lease(client, &name)? {
            continue;
        }
        let dropped = drop_schema(client, &name);
        release_lease(client, &name)?;
        dropped?;
        swept.push(name);
    }
    Ok(swept)
}

/// The first connection of a run: an unreachable server is one clear error, in at most
/// [`CONNECT_TIMEOUT`](crate::store::postgres::CONNECT_TIMEOUT).
pub fn connect(db: &PgTarget) -> anyhow::Result<postgres::Client> {
    connect_as(db, "casebook-db-queries-fixture")
}

/// [`connect`] under an application name of the caller's. The set-up's connections carry no
/// statement timeout: a bulk load of millions of rows is one statement.
pub fn connect_as(db: &PgTarget, application: &str) -> anyhow::Result<postgres::Client> {
    postgres::Config::from(db.config_with(application, Duration::ZERO)).connect(NoTls).with_context(|| {
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
    /// Takes a lease on a fresh schema name, sweeps stale schemas, creates this run's own and
    /// loads the dataset with `COPY`. `interrupted` is polled while loading; when it says so
    /// the load stops and the schema is dropped.
    pub fn create(db: &PgTarget, dataset: &Dataset, interrupted: &dyn Fn() -> bool) -> anyhow::Result<PgFixture> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let mut lease = connect(db)?;
        let name = loop {
            let name = format!("{SCHEMA_PREFIX}{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
            anyhow::ensure!(valid_schema_name(&name), "bad schema name {name}");
            if take_lease(&mut lease, &name)? {
                break name;
            }
        };
        sweep_stale(&mut lease, &name).context("cannot sweep stale schemas")?;
        // A schema of this name can only be a stale one: its lease is ours now.
        drop_schema(&mut lease, &name)?;
        lease.batch_execute(&format!("CREATE SCHEMA \"{name}\""))?;
        // From here on, every way out drops the schema.
        let fixture = PgFixture { target: PgTarget { schema: name, ..db.clone() }, lease: Some(lease) };
        fixture.seed(dataset, interrupted).with_context(|| format!("cannot seed schema {}", fixture.target.schema))?;
        Ok(fixture)
    }

    /// Seeds the schema; a lost connection starts the seed over on a fresh one.
    fn seed(&self, dataset: &Dataset, interrupted: &dyn Fn() -> bool) -> anyhow::Result<()> {
        let mut tries = 0;
        loop {
            let seeded = connect(&self.target).and_then(|mut client| seed_once(&mut client, dataset, interrupted));
            match seeded {
                Err(e) if tries + 1 < SEED_TRIES && lost_connection(&e) => tries += 1,
                result => return result,
            }
        }
    }

    pub fn target(&self) -> &PgTarget {
        &self.target
    }
}

fn seed_once(client: &mut postgres::Client, dataset: &Dataset, interrupted: &dyn Fn() -> bool) -> anyhow::Result<()> {
    // What an earlier, lost try left.
    client.batch_execute("DROP TABLE IF EXISTS orders, accounts, meta")?;
    client.batch_execute(CREATE)?;
    let mut copy = BufWriter::with_capacity(1 << 16, client.copy_in("COPY accounts (id, owner, balance) FROM STDIN")?);
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

/// Whether an error is, at its root, a lost Postgres connection (worth a fresh one). A `COPY`
/// writer reports it as an IO error, wrapping the client's or not.
pub fn lost_connection(e: &anyhow::Error) -> bool {
    let lost = |e: &postgres::Error| pg_kind(e) == ErrorKind::ConnectionLost;
    e.chain().any(|cause| {
        cause.downcast_ref::<postgres::Error>().is_some_and(lost)
            || cause.downcast_ref::<std::io::Error>().is_some_and(|io| {
                io.get_ref().and_then(|inner| inner.downcast_ref::<postgres::Error>()).is_some_and(lost)
                    || matches!(
                        io.kind(),
                        std::io::ErrorKind::BrokenPipe
                            | std::io::ErrorKind::ConnectionReset
                            | std::io::ErrorKind::ConnectionAborted
                    )
            })
    })
}

impl Drop for PgFixture {
    fn drop(&mut self) {
        // The blocking client runs a runtime of its own, which cannot start on a thread that is
        // already inside one: drop from a thread of our own, wherever this guard is dropped.
        let (target, lease) = (self.target.clone(), self.lease.take());
        let dropped = std::thread::spawn(move || {
            drop_schema(&mut connect(&target)?, &target.schema)?;
            drop(lease);
            anyhow::Ok(())
        })
        .join();
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
    fn only_our_own_schema_names_are_accepted() {
        assert!(valid_schema_name("casebook_dbq_123_0"));
        assert!(!valid_schema_name("public"));
        assert!(!valid_schema_name("casebook_dbq_1\"; DROP TABLE x; --"));
        assert!(!valid_schema_name("casebook_dbq_X"));
    }
}
