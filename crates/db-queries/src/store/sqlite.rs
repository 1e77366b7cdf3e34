//! SQLite: the schema, the connection settings, and each request's queries, once for
//! `rusqlite` (blocking, called from threads) and once for `sqlx` (async, which runs each
//! connection on a worker thread of its own behind its futures).
//!
//! Settings an expert uses for a file shared by a pool of readers and one writer: WAL (readers
//! never block the writer or each other), `synchronous = NORMAL` (durable at checkpoints, the
//! usual pairing with WAL), a busy timeout (a connection that finds the file locked waits for
//! it rather than failing at once), foreign keys on, and writes begun `IMMEDIATE` (a write
//! transaction takes the write lock up front instead of failing to upgrade a read lock later).

use std::{collections::HashMap, path::Path, time::Duration};

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use sqlx::{
    Connection as _, Row,
    sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous},
};

use crate::{
    store::fault::Fault,
    workload::{
        Request,
        dataset::{Dataset, digest},
        protocol::ErrorKind,
    },
};

/// How long a connection waits for a locked database before `SQLITE_BUSY`, unless told
/// otherwise.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

// ANCHOR: schema
pub const CREATE: &str = "
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, balance INTEGER NOT NULL);
    CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts (id),
        amount INTEGER NOT NULL,
        placed_at INTEGER NOT NULL
    );
    CREATE TABLE meta (runs INTEGER NOT NULL);
    INSERT INTO meta (runs) VALUES (0);";
/// Built after the load, as a bulk load should. The first index covers the range query, the
/// second the background job's scan of a time window.
pub const INDEX: &str = "
    CREATE INDEX orders_by_account ON orders (account_id, placed_at, amount);
    CREATE INDEX orders_by_time ON orders (placed_at, account_id, amount);
    ANALYZE;";
// ANCHOR_END: schema
pub const INSERT_ACCOUNT: &str = "INSERT INTO accounts (id, owner, balance) VALUES (?1, ?2, ?3)";
pub const INSERT_SEEDED_ORDER: &str = "INSERT INTO orders (id, account_id, amount, placed_at) VALUES (?1, ?2, ?3, ?4)";

pub const POINT: &str = "SELECT id, owner, balance FROM accounts WHERE id = ?1";
/// A batch of point reads in one statement: SQLite has no array parameter, so the ids travel
/// as one JSON array, still a bound parameter.
pub const POINTS: &str = "SELECT id, owner, balance FROM accounts WHERE id IN (SELECT value FROM json_each(?1))";
pub const RANGE: &str = "SELECT count(*), coalesce(sum(amount), 0) FROM orders
    WHERE account_id = ?1 AND placed_at >= ?2 AND placed_at < ?3";
/// Idempotent by the order id: a retried write inserts nothing and credits nothing.
pub const INSERT_ORDER: &str = "INSERT INTO orders (id, account_id, amount, placed_at) VALUES (?1, ?2, ?3, ?4)
    ON CONFLICT (id) DO NOTHING";
pub const CREDIT: &str = "UPDATE accounts SET balance = balance + ?2 WHERE id = ?1";
pub const BEGIN_IMMEDIATE: &str = "BEGIN IMMEDIATE";

/// Opens a connection with the settings every variant uses. Readers open the file read-only.
pub fn open(path: &Path, writer: bool, busy: Duration) -> rusqlite::Result<Connection> {
    let access = if writer { OpenFlags::SQLITE_OPEN_READ_WRITE } else { OpenFlags::SQLITE_OPEN_READ_ONLY };
    let conn = Connection::open_with_flags(path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    configure(&conn, busy)?;
    Ok(conn)
}

/// The per-connection settings (WAL itself is a property of the file, set by the fixture).
pub fn configure(conn: &Connection, busy: Duration) -> rusqlite::Result<()> {
    conn.busy_timeout(busy)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// The same settings for `sqlx`.
pub fn sqlx_options(path: &Path, writer: bool, busy: Duration) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .read_only(!writer)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(busy)
        .foreign_keys(true)
}

/// Creates the database file and loads the dataset: one transaction, prepared inserts, indexes
/// after the load.
pub fn create_and_seed(path: &Path, dataset: &Dataset, interrupted: &dyn Fn() -> bool) -> anyhow::Result<()> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.execute_batch(CREATE)?;
    let tx = conn.transaction()?;
    {
        let mut account = tx.prepare(INSERT_ACCOUNT)?;
        for id in 1..=dataset.accounts {
            account.execute(params![id, dataset.owner(id), dataset.opening_balance(id)])?;
        }
        let mut order = tx.prepare(INSERT_SEEDED_ORDER)?;
        for (n, o) in dataset.orders().enumerate() {
            order.execute(params![o.id, o.account, o.amount, o.placed_at])?;
            anyhow::ensure!(n % 50_000 != 0 || !interrupted(), "interrupted while seeding");
        }
    }
    tx.commit()?;
    conn.execute_batch(INDEX)?;
    // Fold the load into the main file so the first run does not pay for it.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Removes the database and its WAL and shared-memory files; missing ones are fine.
pub fn remove(path: &Path) -> std::io::Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

// ANCHOR: rusqlite_ops
/// Serves one request on a `rusqlite` connection, from a thread.
pub fn serve(conn: &mut Connection, request: &Request) -> Result<u64, Fault> {
    Ok(match *request {
        Request::Point { account } => conn.prepare_cached(POINT)?.query_row([account], |row| {
            Ok(digest::account(row.get(0)?, row.get_ref(1)?.as_str().unwrap_or_default(), row.get(2)?))
        })?,
        Request::Range { account, from, to } => conn
            .prepare_cached(RANGE)?
            .query_row([account, from, to], |row| Ok(digest::range(row.get(0)?, row.get(1)?)))?,
        Request::Write { order_id, account, amount, placed_at } => {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let inserted = tx.prepare_cached(INSERT_ORDER)?.execute([order_id, account, amount, placed_at])?;
            if inserted == 1 && tx.prepare_cached(CREDIT)?.execute([account, amount])? != 1 {
                return Err(no_account(account));
            }
            tx.commit()?;
            digest::write(order_id)
        }
    })
}
// ANCHOR_END: rusqlite_ops

fn no_account(account: i64) -> Fault {
    Fault::new(ErrorKind::Query, format!("account {account} does not exist"))
}

/// Serves one request on a `sqlx` connection, from a task.
pub async fn serve_async(conn: &mut SqliteConnection, request: Request) -> Result<u64, Fault> {
    Ok(match request {
        Request::Point { account } => {
            let row = sqlx::query(POINT).bind(account).fetch_one(&mut *conn).await?;
            digest::account(row.try_get(0)?, row.try_get::<&str, _>(1)?, row.try_get(2)?)
        }
        Request::Range { account, from, to } => {
            let row = sqlx::query(RANGE).bind(account).bind(from).bind(to).fetch_one(&mut *conn).await?;
            digest::range(row.try_get(0)?, row.try_get(1)?)
        }
        Request::Write { order_id, account, amount, placed_at } => {
            let mut tx = conn.begin_with(BEGIN_IMMEDIATE).await?;
            let order = sqlx::query(INSERT_ORDER).bind(order_id).bind(account).bind(amount).bind(placed_at);
            if order.execute(&mut *tx).await?.rows_affected() == 1
                && sqlx::query(CREDIT).bind(account).bind(amount).execute(&mut *tx).await?.rows_affected() != 1
            {
                return Err(no_account(account));
            }
            tx.commit().await?;
            digest::write(order_id)
        }
    })
}

/// Many point reads in one query: each id's digest, for the ids that exist.
pub async fn points_async(conn: &mut SqliteConnection, accounts: &[i64]) -> Result<HashMap<i64, u64>, Fault> {
    let ids = format!("[{}]", accounts.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    let rows = sqlx::query(POINTS).bind(ids).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get(0)?;
            Ok((id, digest::account(id, row.try_get::<&str, _>(1)?, row.try_get(2)?)))
        })
        .collect()
}
