//! Every claim rule on synthetic maps: figures chosen to hold, to miss, to straddle the line,
//! and to be absent. Nothing runs; the rules alone are under test.

use casebook::{Case, ClaimId, ClaimResult, Outcome, Preset, VariantSet, testing::ReportBuilder};
use request_mix::{
    RequestMix,
    figures::REQUESTS_PER_S,
    findings,
    params::{Args, Params},
    tables::table_id,
    variants::Variant,
};

/// A map of 0 and 1000 µs of CPU at 16 and 4096 in flight.
fn params() -> Params {
    let args = Args { cpu_us: vec![0, 1000], in_flight: vec![16, 4096], requests: Some(1000), ..Args::default() };
    RequestMix::params(&args, Preset::Default).unwrap()
}

const HIGH: &[f64] = &[1000.0, 1010.0, 990.0, 1005.0, 995.0];
const LOW: &[f64] = &[500.0, 505.0, 495.0, 502.0, 498.0];
const STRADDLES: &[f64] = &[1500.0, 400.0, 1400.0, 450.0, 1000.0];

/// A report where `speed(variant, cpu µs, in flight)` gives each row's throughput.
fn map(speed: impl Fn(Variant, u32, u32) -> &'static [f64]) -> Vec<ClaimResult> {
    let params = params();
    let mut builder = ReportBuilder::of::<RequestMix>(&params);
    for in_flight in [16, 4096] {
        for cpu in [0, 1000] {
            for v in Variant::ALL.iter().copied() {
                builder =
                    builder.figure(table_id(in_flight), (v, f64::from(cpu)), REQUESTS_PER_S, speed(v, cpu, in_flight));
            }
        }
    }
    findings::claims::claims(&params, &builder.build())
}

fn outcome(claims: &[ClaimResult], id: ClaimId) -> Outcome {
    claims.iter().find(|c| c.id == id).unwrap_or_else(|| panic!("no {id}")).outcome
}

#[test]
fn async_io_and_many_conns_follow_the_async_side() {
    let async_ahead = map(|v, _, _| if v.async_io() { HIGH } else { LOW });
    assert_eq!(outcome(&async_ahead, ClaimId::AsyncIo), Outcome::Held);
    assert_eq!(outcome(&async_ahead, ClaimId::AsyncManyConns), Outcome::Held);
    let threads_ahead = map(|v, _, _| if v.async_io() { LOW } else { HIGH });
    assert_eq!(outcome(&threads_ahead, ClaimId::AsyncIo), Outcome::DidNotHold);
    assert_eq!(outcome(&threads_ahead, ClaimId::AsyncManyConns), Outcome::DidNotHold);
    let straddles = map(|v, _, _| if v.async_io() { STRADDLES } else { HIGH });
    assert_eq!(outcome(&straddles, ClaimId::AsyncIo), Outcome::Inconclusive);
}

#[test]
fn threads_cpu_reads_only_the_all_cpu_column() {
    // CPU on threads wins at 1000 µs; at 0 µs the other side wins, which threads-cpu ignores.
    let claims = map(|v, cpu, _| if v.cpu_on_threads() == (cpu == 1000) { HIGH } else { LOW });
    assert_eq!(outcome(&claims, ClaimId::ThreadsCpu), Outcome::Held);
    let claims = map(|v, _, _| if v.cpu_on_threads() { LOW } else { HIGH });
    assert_eq!(outcome(&claims, ClaimId::ThreadsCpu), Outcome::DidNotHold);
}

#[test]
fn start_async_names_the_cells_where_the_hybrid_falls_behind() {
    let everywhere = map(|_, _, _| HIGH);
    assert_eq!(outcome(&everywhere, ClaimId::StartAsync), Outcome::Held);
    let behind = map(|v, cpu, n| if v == Variant::TokioRayon && cpu == 1000 && n == 4096 { LOW } else { HIGH });
    let claim = behind.iter().find(|c| c.id == ClaimId::StartAsync).unwrap();
    assert_eq!(claim.outcome, Outcome::DidNotHold);
    assert!(claim.evidence.contains("1000 µs at 4096 in flight"), "{}", claim.evidence);
    assert!(!claim.evidence.contains("(did not hold), 0 µs"), "{}", claim.evidence);
}

#[test]
fn a_map_that_did_not_run_is_inconclusive_and_says_what_is_missing() {
    let params = params();
    let empty = findings::claims::claims(&params, &ReportBuilder::of::<RequestMix>(&params).build());
    for id in [ClaimId::AsyncIo, ClaimId::ThreadsCpu, ClaimId::AsyncManyConns, ClaimId::StartAsync] {
        let claim = empty.iter().find(|c| c.id == id).unwrap();
        assert_eq!(claim.outcome, Outcome::Inconclusive, "{id}");
        assert!(!claim.evidence.is_empty(), "{id}");
    }
}
