//! Whole runs with real parts: a seeded database, the server on loopback TCP, the load
//! generator checking every reply, and the audit reconciling every write.

use std::time::Duration;

use db_queries::{
    dataset::Dataset,
    driver::{LoadMode, LoadPlan},
    fixture::SqliteFixture,
    layers::{Engine, Pools, Variant},
    scenario::{ServeSpec, run_in_process},
    workload::Mix,
};

const DATASET: Dataset = Dataset { seed: 11, accounts: 4_000, orders_per_account: 5 };

fn pools() -> Pools {
    Pools {
        connections: 2,
        pipelines: 2,
        acquire_timeout: Duration::from_secs(5),
        max_batch: 64,
        busy_timeout: Duration::from_secs(5),
    }
}

fn spec(variant: Variant) -> ServeSpec {
    ServeSpec { variant, pools: pools(), job: None, max_connections: 1024, workers: 2 }
}

fn closed(connections: usize) -> LoadPlan {
    LoadPlan {
        connections,
        mode: LoadMode::Closed,
        duration: Duration::from_millis(400),
        warmup: Duration::from_millis(50),
        request_timeout: Duration::from_secs(10),
    }
}

#[test]
fn every_sqlite_variant_answers_correctly_and_its_writes_balance() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = SqliteFixture::create(dir.path(), &DATASET).unwrap();
    let mut heads = Vec::new();
    for variant in Variant::ALL.into_iter().filter(|v| v.runs_on(Engine::Sqlite)) {
        let (load, server) = run_in_process(&spec(variant), &fixture.target(), DATASET, Mix::SERVICE, closed(16))
            .unwrap_or_else(|e| panic!("{}: {e:#}", variant.name()));
        let d = &load.driven;
        eprintln!(
            "{}: {:.0} req/s, p99 {} µs, {} writes, errors {:?}, server {:?}",
            variant.name(),
            d.requests_per_s(),
            d.latency.value_at_quantile(0.99),
            load.audit.acked,
            d.errors,
            server.tally.errors
        );
        assert!(d.errors.is_empty(), "{}: {:?} ({:?})", variant.name(), d.errors, d.first_problem);
        assert!(d.ok_timed > 100, "{}: only {} requests", variant.name(), d.ok_timed);
        assert!(load.audit.acked > 0, "{}: no write was acknowledged", variant.name());
        assert!(load.audit.balances(), "{}: {:?}", variant.name(), load.audit);
        assert_eq!(load.audit.applied, load.audit.acked);
        heads.push((variant.name(), d.head_digest));
    }
    assert!(heads.windows(2).all(|w| w[0].1 == w[1].1), "the variants answered differently: {heads:?}");
}
