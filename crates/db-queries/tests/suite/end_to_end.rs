//! Whole runs with real parts: a seeded database, the server on loopback TCP, the load
//! generator checking every reply, and the audit reconciling every write.

use crate::common::{DATASET, closed, spec};
use casebook::VariantSet;
use db_queries::{
    run::run_in_process,
    store::fixture::{Engine, PgFixture, SqliteFixture, Target},
    variants::Variant,
    workload::Mix,
};

/// Runs every variant of `engine` on `target` and checks each run; returns the head digests.
fn every_variant(engine: Engine, target: &Target) -> Vec<(&'static str, u64)> {
    let mut heads = Vec::new();
    for &variant in Variant::ALL.iter().filter(|v| v.runs_on(engine)) {
        let (load, server) = run_in_process(&spec(variant), target, DATASET, Mix::SERVICE, closed(16, 400))
            .unwrap_or_else(|e| panic!("{}: {e:#}", variant.name()));
        let d = &load.driven;
        eprintln!(
            "{} {}: {:.0} req/s, {} writes, server {:?}",
            engine.name(),
            variant.name(),
            d.requests_per_s(),
            load.audit.acked,
            server.tally
        );
        assert!(d.errors.is_empty(), "{}: {:?} ({:?})", variant.name(), d.errors, d.first_problem);
        assert!(d.ok_timed > 100, "{}: only {} requests", variant.name(), d.ok_timed);
        assert!(load.audit.acked > 0, "{}: no write was acknowledged", variant.name());
        assert!(load.audit.balances(), "{}: {:?}", variant.name(), load.audit);
        assert_eq!(load.audit.applied, load.audit.acked);
        assert!(d.head_complete(), "{}: requests 0 to 255 were not all answered", variant.name());
        // Every timed reply is in the latency histogram, and every request served waited for a
        // connection once (no run here lost one), counted from whichever thread served it;
        // `async-pipelined` has no pool to wait for.
        assert_eq!(d.latency.len(), d.ok_timed, "{}", variant.name());
        let waits = server.tally.pool_wait.as_ref().map_or(0, |w| w.len());
        let expected = if variant == Variant::AsyncPipelined { 0 } else { d.replies };
        assert_eq!(waits, expected, "{}: pool waits against replies", variant.name());
        heads.push((variant.name(), d.head_digest));
    }
    assert!(heads.windows(2).all(|w| w[0].1 == w[1].1), "the variants answered differently: {heads:?}");
    heads
}

#[test]
fn every_variant_answers_correctly_and_its_writes_balance_on_both_engines() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteFixture::create(dir.path(), &DATASET, &|| false).unwrap();
    let sqlite_heads = every_variant(Engine::Sqlite, &sqlite.target());
    let Some(db) = crate::common::postgres() else { return };
    let pg = PgFixture::create(&db, &DATASET, &|| false).unwrap();
    let pg_heads = every_variant(Engine::Postgres, &Target::Postgres { db: pg.target().clone(), proxy_port: None });
    // The same seed on two engines gives the same answers.
    assert_eq!(sqlite_heads[0].1, pg_heads[0].1);
}
