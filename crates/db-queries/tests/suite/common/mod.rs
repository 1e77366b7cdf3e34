//! What the integration tests share: a small dataset, pool sizes, load plans, and the Postgres
//! server the tests may use.

#![allow(dead_code)]

use std::{
    sync::{Mutex, MutexGuard},
    time::Duration,
};

use db_queries::{
    layers::Pools,
    load::driver::{LoadMode, LoadPlan},
    store::postgres::PgTarget,
    variants::ServeSpec,
    variants::Variant,
    workload::dataset::Dataset,
};

pub const DATASET: Dataset = Dataset { seed: 11, accounts: 4_000, orders_per_account: 5 };

pub fn pools() -> Pools {
    Pools {
        connections: 2,
        pipelines: 2,
        acquire_timeout: Duration::from_secs(5),
        max_batch: 64,
        busy_timeout: Duration::from_secs(5),
    }
}

pub fn spec(layer: Variant) -> ServeSpec {
    ServeSpec {
        layer,
        pools: pools(),
        job: None,
        max_connections: 1024,
        client_timeout: Duration::from_secs(60),
        workers: 2,
    }
}

pub fn closed(connections: usize, ms: u64) -> LoadPlan {
    LoadPlan {
        connections,
        mode: LoadMode::Closed,
        duration: Duration::from_millis(ms),
        warmup: Duration::from_millis(ms / 8),
        request_timeout: Duration::from_secs(10),
    }
}

/// Tests in one binary run in parallel, in one process, and find a variant's connections by
/// its name and this process's pid: those that use Postgres take turns.
pub fn postgres_turn() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The Postgres server to test against: `DATABASE_URL`, or the project machines' default. When
/// none answers the test is skipped with a line on stderr, unless `CASEBOOK_REQUIRE_POSTGRES`
/// is set (CI sets it): then a missing server fails the test.
pub fn postgres() -> Option<PgTarget> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let db = PgTarget::parse(&url, "public").expect("a valid DATABASE_URL");
    match db_queries::store::fixture::connect(&db) {
        Ok(_) => Some(db),
        Err(e) if std::env::var_os("CASEBOOK_REQUIRE_POSTGRES").is_some() => {
            panic!("CASEBOOK_REQUIRE_POSTGRES is set and Postgres is unreachable: {e:#}")
        }
        Err(e) => {
            eprintln!("skipped: no Postgres ({e:#}); set DATABASE_URL to run this test");
            None
        }
    }
}
