//! The hybrid-web reading's background job: a periodic rebuild of an aggregate (a leaderboard
//! of the accounts with the most order volume lately, with each one's typical order, and
//! revenue per day), run beside the requests either on a thread of its own or as a task on
//! the async workers.
//!
//! Both placements run the same job the same way: fetch every order placed in the window on a
//! connection of the job's own, then aggregate the rows in Rust. On a thread, the OS scheduler
//! shares the cores between the job and the request handlers. As a task, the aggregation runs
//! on an async worker without an await inside, and the requests queued behind that worker wait
//! for it: the claim says a background job belongs on a thread, and this is what it means.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, mpsc},
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use sqlx::{Connection, Row};
use tokio_util::sync::CancellationToken;

use crate::{
    server::books::micros,
    store::{
        fault::Fault,
        fixture::{self, Target},
        sqlite,
    },
    workload::{
        dataset::{EPOCH, SPAN_S, mix64},
        protocol::ErrorKind,
    },
};

/// Accounts kept on the leaderboard.
pub const TOP: usize = 100;

const SQLITE_ROWS: &str = "SELECT account_id, amount, placed_at FROM orders WHERE placed_at >= ?1";
const POSTGRES_ROWS: &str = "SELECT account_id, amount, placed_at FROM orders WHERE placed_at >= $1";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Placement {
    /// A thread of its own, with a blocking connection.
    Thread,
    /// A task on the server's async runtime, with an async connection.
    Async,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobPlan {
    pub placement: Placement,
    /// A rebuild starts this often (or right after the last one, if it ran longer).
    pub period: Duration,
    /// The rebuild covers orders placed in the last this-many seconds of the seeded year.
    pub window_s: i64,
}

/// What the job did.
#[derive(Clone, Debug)]
pub struct JobTally {
    pub rebuilds: u64,
    /// µs per rebuild, fetch and aggregation together.
    pub rebuild_time: Histogram<u64>,
    pub first_error: Option<String>,
    /// The last rebuild's aggregate: what a real job would publish.
    pub last_digest: u64,
}

type Books = Arc<Mutex<JobTally>>;

fn record(books: &Books, started: Instant, result: Result<u64, Fault>) {
    let mut books = books.lock().expect("job lock");
    match result {
        Ok(digest) => {
            books.rebuilds += 1;
            books.last_digest = digest;
            let _ = books.rebuild_time.record(micros(started.elapsed()));
        }
        Err(fault) => {
            books.first_error.get_or_insert(fault.to_string());
        }
    }
}

// ANCHOR: aggregate
/// The rebuild's CPU part: each account's volume and median and 90th-percentile order, the
/// top accounts by volume, and revenue per day, folded into one digest (what a real job would
/// publish).
pub fn aggregate(rows: &[(i64, i64, i64)]) -> u64 {
    let mut per_account: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut per_day = vec![0i64; (SPAN_S / 86_400) as usize + 2];
    for &(account, amount, placed_at) in rows {
        per_account.entry(account).or_default().push(amount);
        let day = ((placed_at - EPOCH) / 86_400).clamp(0, per_day.len() as i64 - 1) as usize;
        per_day[day] += amount;
    }
    let mut ranked: Vec<(i64, i64, i64, i64)> = per_account
        .into_iter()
        .map(|(account, mut amounts)| {
            amounts.sort_unstable();
            let at = |q: f64| amounts[((amounts.len() - 1) as f64 * q) as usize];
            (account, amounts.iter().sum(), at(0.5), at(0.9))
        })
        .collect();
    ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top = ranked.iter().take(TOP).fold(0, |h, (account, sum, p50, p90)| {
        mix64(h ^ *account as u64 ^ mix64(*sum as u64 ^ mix64(*p50 as u64 ^ (*p90 as u64).rotate_left(32))))
    });
    per_day.iter().fold(top, |h, day| mix64(h ^ *day as u64))
}
// ANCHOR_END: aggregate

/// A running job; stop it with [`Job::stop`].
pub struct Job {
    stop: CancellationToken,
    /// Dropped to wake and stop the thread between rebuilds.
    stop_thread: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    books: Books,
}

impl Job {
    /// Starts the job beside a server running on the current runtime.
    pub async fn start(plan: JobPlan, target: &Target) -> Result<Job, Fault> {
        let tally = JobTally {
            rebuilds: 0,
            rebuild_time: casebook::stats::latency::histogram(),
            first_error: None,
            last_digest: 0,
        };
        let books = Arc::new(Mutex::new(tally));
        let since = EPOCH + SPAN_S - plan.window_s;
        let stop = CancellationToken::new();
        let mut job =
            Job { stop: stop.clone(), stop_thread: None, thread: None, task: None, books: Arc::clone(&books) };
        match plan.placement {
            Placement::Thread => {
                let mut fetch = blocking_fetcher(target)?;
                let (stop_thread, stopped) = mpsc::channel::<()>();
                job.stop_thread = Some(stop_thread);
                let thread = std::thread::Builder::new()
                    .name("rebuild-job".into())
                    .spawn(move || {
                        loop {
                            let started = Instant::now();
                            record(&books, started, fetch(since).map(|rows| aggregate(&rows)));
                            match stopped.recv_timeout(plan.period.saturating_sub(started.elapsed())) {
                                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                                _ => return,
                            }
                        }
                    })
                    .map_err(|e| Fault::new(ErrorKind::Spawn, e.to_string()))?;
                job.thread = Some(thread);
            }
            Placement::Async => {
                let mut conn = AsyncConn::open(target).await?;
                job.task = Some(tokio::spawn(async move {
                    let mut tick = tokio::time::interval(plan.period);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        tokio::select! {
                            _ = tick.tick() => {}
                            _ = stop.cancelled() => return,
                        }
                        let started = Instant::now();
                        let rows = conn.fetch(since).await;
                        record(&books, started, rows.map(|rows| aggregate(&rows)));
                    }
                }));
            }
        }
        Ok(job)
    }

    /// Stops the job and waits for a rebuild in progress to end.
    pub async fn stop(mut self) -> JobTally {
        self.stop.cancel();
        drop(self.stop_thread.take());
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        self.books.lock().expect("job lock").clone()
    }
}

type Rows = Vec<(i64, i64, i64)>;
type Fetch = Box<dyn FnMut(i64) -> Result<Rows, Fault> + Send>;

/// The thread's fetch, on a blocking connection of its own.
fn blocking_fetcher(target: &Target) -> Result<Fetch, Fault> {
    Ok(match target {
        Target::Sqlite { path } => {
            let conn = sqlite::open(path, false, sqlite::BUSY_TIMEOUT)?;
            Box::new(move |since| {
                let mut stmt = conn.prepare_cached(SQLITE_ROWS)?;
                let rows = stmt.query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                Ok(rows.collect::<Result<Rows, _>>()?)
            })
        }
        Target::Postgres { db, .. } => {
            // The blocking client cannot connect from inside the runtime: connect on a thread.
            let db = db.clone();
            let mut client = std::thread::spawn(move || fixture::connect(&db))
                .join()
                .map_err(|_| Fault::new(ErrorKind::Query, "connect panicked"))?
                .map_err(|e| Fault::new(ErrorKind::Refused, format!("{e:#}")))?;
            Box::new(move |since| {
                let rows = client.query(POSTGRES_ROWS, &[&since])?;
                Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
            })
        }
    })
}

/// The task's connection: `sqlx`, like the request path.
enum AsyncConn {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl AsyncConn {
    async fn open(target: &Target) -> Result<AsyncConn, Fault> {
        Ok(match target {
            Target::Sqlite { path } => AsyncConn::Sqlite(
                sqlx::SqliteConnection::connect_with(&sqlite::sqlx_options(path, false, sqlite::BUSY_TIMEOUT)).await?,
            ),
            Target::Postgres { db, .. } => AsyncConn::Postgres(
                sqlx::PgConnection::connect_with(&db.sqlx_options("casebook-db-queries-job")).await?,
            ),
        })
    }

    async fn fetch(&mut self, since: i64) -> Result<Rows, Fault> {
        fn rows<R: Row>(rows: Vec<R>) -> Result<Rows, sqlx::Error>
        where
            usize: sqlx::ColumnIndex<R>,
            i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        {
            rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))).collect()
        }
        Ok(match self {
            AsyncConn::Sqlite(c) => rows(sqlx::query(SQLITE_ROWS).bind(since).fetch_all(c).await?)?,
            AsyncConn::Postgres(c) => rows(sqlx::query(POSTGRES_ROWS).bind(since).fetch_all(c).await?)?,
        })
    }
}
