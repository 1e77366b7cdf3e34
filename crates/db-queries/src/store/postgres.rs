//! Postgres: where the server is, and each request's queries for the three client libraries
//! the variants use: `sqlx` (async pool), `tokio-postgres` (async, pipelining), and the
//! blocking `postgres` crate (threads).
//!
//! Every connection names the case's own schema in its `search_path`, so the SQL is the same
//! text in every variant and in the `pgbench` script, and never built from strings. Each
//! statement is prepared once per connection and reused, as `pgbench -M prepared` does. A
//! write is one statement (a data-modifying CTE inserts the order and credits the account
//! atomically), so every client library sends it in one round trip, pipelined or not.
//!
//! Nothing waits on Postgres without a bound: every connection of the variants carries a
//! `statement_timeout` (a query stuck behind a lock is cancelled and counted), TCP keepalives
//! both ways (a peer that vanished is noticed), and `sqlx`, which has no keepalive setting, a
//! deadline on every reply.
//!
//! The clients are built without TLS. A URL that asks for it (`sslmode=require`, `verify-ca`,
//! `verify-full`) is refused in one line rather than silently connected in the clear;
//! `sslmode=disable`, `allow` and `prefer` connect without TLS, which `prefer` permits.

use std::{collections::HashMap, str::FromStr, time::Duration};

use serde::{Deserialize, Serialize};
use sqlx::{
    Row,
    postgres::{PgConnectOptions, PgConnection, PgSslMode},
};
use tokio_postgres::{
    NoTls, Statement,
    config::{Host, SslMode},
};

use crate::{
    store::fault::Fault,
    workload::{Request, dataset::digest, protocol::ErrorKind},
};

/// How long a connection attempt may take before the database counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The variants' `statement_timeout`: far above any query of this case, below the load
/// generator's request timeout, so a stuck query is the server's error and not a silent hang.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);
/// TCP keepalive, idle time and probes, on the client side and (as server settings) on the
/// backend's: a peer that is gone is noticed within about 16 s.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(10);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(2);
const KEEPALIVE_RETRIES: u32 = 3;
/// Sent data unacknowledged this long closes the socket (Linux `TCP_USER_TIMEOUT`).
const USER_TIMEOUT: Duration = Duration::from_secs(20);
/// `sqlx` has no keepalive: a reply that has not come 5 s after the statement timeout would
/// have fired is a connection given up.
const SQLX_DEADLINE: Duration = STATEMENT_TIMEOUT.saturating_add(Duration::from_secs(5));

// ANCHOR: queries
pub const POINT: &str = "SELECT id, owner, balance FROM accounts WHERE id = $1";
pub const POINTS: &str = "SELECT id, owner, balance FROM accounts WHERE id = ANY($1)";
pub const RANGE: &str = "SELECT count(*), coalesce(sum(amount), 0)::bigint FROM orders
    WHERE account_id = $1 AND placed_at >= $2 AND placed_at < $3";
/// Idempotent by the order id: a retried write inserts nothing, so the update finds no row.
pub const WRITE: &str = "WITH placed AS (
        INSERT INTO orders (id, account_id, amount, placed_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (id) DO NOTHING
        RETURNING account_id, amount)
    UPDATE accounts SET balance = balance + placed.amount FROM placed WHERE accounts.id = placed.account_id";
// ANCHOR_END: queries

/// Where the case's tables are: a server, a database, and a schema of the case's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PgTarget {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
    pub schema: String,
    /// Set on every connection of the variants (not on the set-up's, whose bulk load is long),
    /// at most [`STATEMENT_TIMEOUT`] (the `sqlx` deadline is set from it).
    pub statement_timeout: Duration,
}

/// The `sslmode` of a URL, if it has one (`?sslmode=` or ` sslmode=`).
fn ssl_mode(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("sslmode=")?;
    rest.split(['&', ' ']).next()
}

impl PgTarget {
    /// Reads a `postgres://` URL (or key=value string). Only TCP hosts are supported: the
    /// case's delaying proxy and its load path are TCP.
    pub fn parse(url: &str, schema: &str) -> Result<PgTarget, String> {
        if let Some(mode @ ("require" | "verify-ca" | "verify-full")) = ssl_mode(url) {
            return Err(format!(
                "database URL asks for TLS (sslmode={mode}), which this case's clients are built without; \
                 use sslmode=disable or prefer to connect without it"
            ));
        }
        let config = tokio_postgres::Config::from_str(url).map_err(|e| format!("database URL {url:?}: {e}"))?;
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(host)) => host.clone(),
            Some(_) => return Err(format!("database URL {url:?}: only TCP hosts are supported")),
            None => "127.0.0.1".into(),
        };
        let user = config.get_user().unwrap_or("postgres").to_owned();
        Ok(PgTarget {
            host,
            port: config.get_ports().first().copied().unwrap_or(5432),
            dbname: config.get_dbname().unwrap_or(&user).to_owned(),
            user,
            password: config.get_password().map(|p| String::from_utf8_lossy(p).into_owned()),
            schema: schema.to_owned(),
            statement_timeout: STATEMENT_TIMEOUT,
        })
    }

    /// The same database reached through a local port (the delaying proxy).
    pub fn through(&self, port: u16) -> PgTarget {
        PgTarget { host: "127.0.0.1".into(), port, ..self.clone() }
    }

    /// The server settings every connection starts with: the schema, the statement timeout
    /// (0, none, for the set-up), and the backend's own keepalive towards us.
    fn settings(&self, statement_timeout: Duration) -> [(&'static str, String); 5] {
        [
            ("search_path", self.schema.clone()),
            ("statement_timeout", format!("{}ms", statement_timeout.min(STATEMENT_TIMEOUT).as_millis())),
            ("tcp_keepalives_idle", KEEPALIVE_IDLE.as_secs().to_string()),
            ("tcp_keepalives_interval", KEEPALIVE_INTERVAL.as_secs().to_string()),
            ("tcp_keepalives_count", KEEPALIVE_RETRIES.to_string()),
        ]
    }

    /// The same settings as a `PGOPTIONS`/`options` string.
    pub fn options(&self, statement_timeout: Duration) -> String {
        self.settings(statement_timeout).map(|(k, v)| format!("-c {k}={v}")).join(" ")
    }

    /// A variant's connection (with the statement timeout).
    pub fn config(&self, application: &str) -> tokio_postgres::Config {
        self.config_with(application, self.statement_timeout)
    }

    pub fn config_with(&self, application: &str, statement_timeout: Duration) -> tokio_postgres::Config {
        let mut c = tokio_postgres::Config::new();
        c.host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name(application)
            .options(self.options(statement_timeout))
            .ssl_mode(SslMode::Disable)
            .connect_timeout(CONNECT_TIMEOUT)
            .keepalives(true)
            .keepalives_idle(KEEPALIVE_IDLE)
            .keepalives_interval(KEEPALIVE_INTERVAL)
            .keepalives_retries(KEEPALIVE_RETRIES)
            .tcp_user_timeout(USER_TIMEOUT);
        if let Some(p) = &self.password {
            c.password(p);
        }
        c
    }

    pub fn blocking_config(&self, application: &str) -> postgres::Config {
        self.config(application).into()
    }

    pub fn sqlx_options(&self, application: &str) -> PgConnectOptions {
        let options = PgConnectOptions::new()
            .host(&self.host)
            .port(self.port)
            .username(&self.user)
            .database(&self.dbname)
            .application_name(application)
            .ssl_mode(PgSslMode::Disable)
            .options(self.settings(self.statement_timeout));
        match &self.password {
            Some(p) => options.password(p),
            None => options,
        }
    }
}

/// The statements one connection prepared, for `tokio-postgres` and `postgres` alike (the
/// blocking crate wraps the async one and shares its `Statement`).
#[derive(Clone)]
pub struct Statements {
    point: Statement,
    range: Statement,
    write: Statement,
}

/// A point read's digest, from the row `tokio-postgres` or `postgres` returned.
fn point_digest(row: &tokio_postgres::Row) -> Result<u64, Fault> {
    Ok(digest::account(row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}

fn range_digest(row: &tokio_postgres::Row) -> Result<u64, Fault> {
    Ok(digest::range(row.try_get(0)?, row.try_get(1)?))
}

/// A blocking connection with its statements, for the thread variants.
pub struct PgConn {
    client: postgres::Client,
    statements: Statements,
}

impl PgConn {
    pub fn connect(config: &postgres::Config) -> Result<PgConn, Fault> {
        let mut client = config.connect(NoTls).map_err(|e| refused(e.into()))?;
        let mut prepare = |sql| client.prepare(sql);
        let statements = Statements { point: prepare(POINT)?, range: prepare(RANGE)?, write: prepare(WRITE)? };
        Ok(PgConn { client, statements })
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    pub fn serve(&mut self, request: &Request) -> Result<u64, Fault> {
        let (client, s) = (&mut self.client, &self.statements);
        match *request {
            Request::Point { account } => point_digest(&client.query_one(&s.point, &[&account])?),
            Request::Range { account, from, to } => range_digest(&client.query_one(&s.range, &[&account, &from, &to])?),
            Request::Write { order_id, account, amount, placed_at } => {
                client.execute(&s.write, &[&order_id, &account, &amount, &placed_at])?;
                Ok(digest::write(order_id))
            }
        }
    }
}

// ANCHOR: pipelined_ops
/// An async `tokio-postgres` connection with its statements. Its methods take `&self`: every
/// query issued while others are outstanding is written behind them on the same socket (the
/// client pipelines), instead of waiting for a connection of its own.
pub struct PgAsync {
    client: tokio_postgres::Client,
    statements: Statements,
}

impl PgAsync {
    /// Connects and spawns the connection's IO task on the current runtime.
    pub async fn connect(config: &tokio_postgres::Config) -> Result<PgAsync, Fault> {
        let (client, connection) = config.connect(NoTls).await.map_err(|e| refused(e.into()))?;
        tokio::spawn(connection);
        let (point, range, write) =
            futures::try_join!(client.prepare(POINT), client.prepare(RANGE), client.prepare(WRITE))?;
        Ok(PgAsync { client, statements: Statements { point, range, write } })
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    pub async fn serve(&self, request: Request) -> Result<u64, Fault> {
        let (client, s) = (&self.client, &self.statements);
        match request {
            Request::Point { account } => point_digest(&client.query_one(&s.point, &[&account]).await?),
            Request::Range { account, from, to } => {
                range_digest(&client.query_one(&s.range, &[&account, &from, &to]).await?)
            }
            Request::Write { order_id, account, amount, placed_at } => {
                client.execute(&s.write, &[&order_id, &account, &amount, &placed_at]).await?;
                Ok(digest::write(order_id))
            }
        }
    }
}
// ANCHOR_END: pipelined_ops

/// Serves one request on a `sqlx` connection.
pub async fn serve_sqlx(conn: &mut PgConnection, request: Request) -> Result<u64, Fault> {
    Ok(match request {
        Request::Point { account } => {
            let row = bounded(sqlx::query(POINT).bind(account).fetch_one(&mut *conn)).await?;
            digest::account(row.try_get(0)?, row.try_get::<&str, _>(1)?, row.try_get(2)?)
        }
        Request::Range { account, from, to } => {
            let row = bounded(sqlx::query(RANGE).bind(account).bind(from).bind(to).fetch_one(&mut *conn)).await?;
            digest::range(row.try_get(0)?, row.try_get(1)?)
        }
        Request::Write { order_id, account, amount, placed_at } => {
            let write = sqlx::query(WRITE).bind(order_id).bind(account).bind(amount).bind(placed_at);
            bounded(write.execute(&mut *conn)).await?;
            digest::write(order_id)
        }
    })
}

/// Many point reads in one query, `= ANY($1)`: sqlx has no pipelining, so batching is how it
/// saves round trips.
pub async fn points_sqlx(conn: &mut PgConnection, accounts: &[i64]) -> Result<HashMap<i64, u64>, Fault> {
    let rows = bounded(sqlx::query(POINTS).bind(accounts).fetch_all(&mut *conn)).await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get(0)?;
            Ok((id, digest::account(id, row.try_get::<&str, _>(1)?, row.try_get(2)?)))
        })
        .collect()
}

/// A `sqlx` query with [`SQLX_DEADLINE`]: past it the connection counts as lost (and is
/// closed, not pooled again).
async fn bounded<T>(query: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, Fault> {
    match tokio::time::timeout(SQLX_DEADLINE, query).await {
        Ok(result) => Ok(result?),
        Err(_) => {
            Err(Fault::new(ErrorKind::ConnectionLost, format!("no reply from Postgres within {SQLX_DEADLINE:?}")))
        }
    }
}

/// A failed connection attempt: a refusal, unless it was a pool timeout.
pub fn refused(fault: Fault) -> Fault {
    match fault.kind {
        ErrorKind::PoolTimeout => fault,
        _ => Fault::new(ErrorKind::Refused, fault.detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_targets_and_sockets_are_refused() {
        let t = PgTarget::parse("postgres://postgres@127.0.0.1:5432/test", "s1").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_str(), t.dbname.as_str()),
            ("127.0.0.1", 5432, "postgres", "test")
        );
        let t = PgTarget::parse("postgres://me:pw@db.local/app", "s1").unwrap();
        assert_eq!((t.port, t.password.as_deref()), (5432, Some("pw")));
        assert_eq!(t.through(6000).port, 6000);
        assert!(PgTarget::parse("postgres://%2Frun%2Fpostgresql/test", "s").unwrap_err().contains("only TCP"));
        assert!(PgTarget::parse("not a url at all ===", "s").is_err());
    }

    #[test]
    fn a_url_that_asks_for_tls_is_refused_and_one_that_allows_plain_is_not() {
        for mode in ["require", "verify-ca", "verify-full"] {
            for url in [
                format!("postgres://postgres@127.0.0.1:5432/test?sslmode={mode}"),
                format!("postgres://postgres@127.0.0.1:5432/test?application_name=x&sslmode={mode}&foo=1"),
                format!("host=127.0.0.1 sslmode={mode} dbname=test"),
            ] {
                let err = PgTarget::parse(&url, "s").unwrap_err();
                assert!(err.contains(&format!("sslmode={mode}")) && err.contains("TLS"), "{url}: {err}");
                assert!(!err.contains('\n'), "one line: {err}");
            }
        }
        for mode in ["disable", "prefer"] {
            let t = PgTarget::parse(&format!("postgres://postgres@127.0.0.1:5432/test?sslmode={mode}"), "s");
            assert_eq!(t.unwrap().dbname, "test", "{mode}");
        }
    }
}
