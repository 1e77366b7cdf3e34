//! How a failed query is classified, for every database library the variants use.
//!
//! Each library reports the same few situations its own way: a pool with no free connection,
//! a locked SQLite file, a killed Postgres backend, a refused connection. The server counts
//! and replies with the [`ErrorKind`], so the report's "errors by kind" means the same thing
//! in every row.

use std::fmt;

use tokio_postgres::error::SqlState;

use crate::workload::protocol::ErrorKind;

/// A failed request on the server side: the kind that is counted and replied, and the
/// library's own message, kept for logs and the first-error note.
#[derive(Debug, Clone)]
pub struct Fault {
    pub kind: ErrorKind,
    pub detail: String,
}

impl Fault {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Fault {
        Fault { kind, detail: detail.into() }
    }

    /// Only a lost connection is worth retrying: the query may succeed on a fresh one. Every
    /// write is idempotent (its order id is its key), so a retry after an ambiguous failure
    /// cannot apply it twice.
    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::ConnectionLost
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

/// SQLite's primary result codes for a locked database: `SQLITE_BUSY` and `SQLITE_LOCKED`
/// (extended codes carry them in the low byte).
fn sqlite_code_is_busy(code: i32) -> bool {
    matches!(code & 0xFF, 5 | 6)
}

fn postgres_kind(state: &SqlState) -> ErrorKind {
    if *state == SqlState::TOO_MANY_CONNECTIONS || *state == SqlState::CANNOT_CONNECT_NOW {
        ErrorKind::Refused
    } else if *state == SqlState::ADMIN_SHUTDOWN || *state == SqlState::CRASH_SHUTDOWN {
        ErrorKind::ConnectionLost
    } else if *state == SqlState::QUERY_CANCELED {
        ErrorKind::StatementTimeout
    } else {
        ErrorKind::Query
    }
}

impl From<rusqlite::Error> for Fault {
    fn from(e: rusqlite::Error) -> Fault {
        let kind = match &e {
            rusqlite::Error::SqliteFailure(f, _) if sqlite_code_is_busy(f.extended_code) => ErrorKind::Busy,
            _ => ErrorKind::Query,
        };
        Fault::new(kind, e.to_string())
    }
}

impl From<sqlx::Error> for Fault {
    fn from(e: sqlx::Error) -> Fault {
        let kind = match &e {
            sqlx::Error::PoolTimedOut => ErrorKind::PoolTimeout,
            sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed | sqlx::Error::PoolClosed => {
                ErrorKind::ConnectionLost
            }
            sqlx::Error::Database(db) => match db.code() {
                Some(code) if code.len() == 5 => postgres_kind(&SqlState::from_code(&code)),
                Some(code) => match code.parse::<i32>() {
                    Ok(n) if sqlite_code_is_busy(n) => ErrorKind::Busy,
                    _ => ErrorKind::Query,
                },
                None => ErrorKind::Query,
            },
            _ => ErrorKind::Query,
        };
        Fault::new(kind, e.to_string())
    }
}

/// The kind of a `tokio-postgres` (or blocking `postgres`) error.
pub fn pg_kind(e: &tokio_postgres::Error) -> ErrorKind {
    match e.code() {
        Some(state) => postgres_kind(state),
        None if e.is_closed() => ErrorKind::ConnectionLost,
        // An IO error under a query is a lost connection; other sourceless errors (a bad row, a
        // type mismatch) are the query's.
        None if std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()) => ErrorKind::ConnectionLost,
        None => ErrorKind::Query,
    }
}

impl From<tokio_postgres::Error> for Fault {
    fn from(e: tokio_postgres::Error) -> Fault {
        Fault::new(pg_kind(&e), e.to_string())
    }
}

/// r2d2 says only that no connection came in time; the last connect error, if any, says why.
pub fn from_r2d2(e: r2d2::Error) -> Fault {
    Fault::new(ErrorKind::PoolTimeout, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_busy_and_locked_in_any_extended_form_are_busy() {
        for code in [5, 6, 261, 517, 773, 262] {
            assert!(sqlite_code_is_busy(code), "{code}");
        }
        for code in [0, 1, 19, 2067] {
            assert!(!sqlite_code_is_busy(code), "{code}");
        }
        let busy = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(5), None);
        assert_eq!(Fault::from(busy).kind, ErrorKind::Busy);
    }

    #[test]
    fn postgres_states_map_to_kinds() {
        assert_eq!(postgres_kind(&SqlState::ADMIN_SHUTDOWN), ErrorKind::ConnectionLost);
        assert_eq!(postgres_kind(&SqlState::TOO_MANY_CONNECTIONS), ErrorKind::Refused);
        assert_eq!(postgres_kind(&SqlState::UNIQUE_VIOLATION), ErrorKind::Query);
        assert_eq!(postgres_kind(&SqlState::QUERY_CANCELED), ErrorKind::StatementTimeout);
        assert_eq!(Fault::from(sqlx::Error::PoolTimedOut).kind, ErrorKind::PoolTimeout);
        assert!(Fault::new(ErrorKind::ConnectionLost, "x").is_retryable());
        assert!(!Fault::new(ErrorKind::PoolTimeout, "x").is_retryable());
    }
}
