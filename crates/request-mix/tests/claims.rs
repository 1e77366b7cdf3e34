//! The claim rule on synthetic figures: held, did not hold and inconclusive. Nothing runs.

use casebook::{Case, ClaimId, Outcome, testing::ReportBuilder};

use request_mix::{RequestMix, figures::ITEMS_PER_S, findings, params::Args, tables::MAIN, variants::Variant};

#[test]
fn the_claim_rule_decides_all_three_ways() {
    let params = RequestMix::params(&Args { items: Some(1000) }, casebook::Preset::Quick).unwrap();
    let outcome = |threads: &[f64]| {
        let report = ReportBuilder::of::<RequestMix>(&params)
            .figure(MAIN, Variant::Sequential, ITEMS_PER_S, &[100.0, 101.0, 99.0, 100.0, 100.0])
            .figure(MAIN, Variant::Threads, ITEMS_PER_S, threads)
            .build();
        let claims = findings::claims(&params, &report);
        claims.iter().find(|c| c.id == ClaimId::ThreadParallel).map(|c| c.outcome)
    };
    assert_eq!(outcome(&[190.0, 195.0, 188.0, 192.0, 191.0]), Some(Outcome::Held));
    assert_eq!(outcome(&[110.0, 112.0, 108.0, 111.0, 109.0]), Some(Outcome::DidNotHold));
    assert_eq!(outcome(&[190.0, 110.0, 185.0, 112.0, 150.0]), Some(Outcome::Inconclusive));
}
