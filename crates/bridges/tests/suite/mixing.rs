//! Every form of table 3a makes the same calls and returns the same sum.

use bridges::{
    mixing::{self, MixOutcome, MixSpec, Mixing},
    variants::Variant,
};
use casebook::VariantSet;

fn run(form: Mixing, spec: &MixSpec) -> MixOutcome {
    mixing::prepare(form, spec).and_then(|mut p| p.execute()).expect("the row runs")
}

fn forms() -> Vec<Mixing> {
    Variant::ALL.iter().filter_map(|v| v.mixing()).collect()
}

#[test]
fn every_form_returns_the_same_sum() {
    let spec = MixSpec { calls: 300, record_bytes: 64 };
    let outcomes: Vec<_> = forms().into_iter().map(|m| run(m, &spec)).collect();
    assert_eq!(outcomes.len(), 5);
    for outcome in &outcomes {
        assert_eq!(outcome.calls, 300);
        assert_eq!(outcome.digest(), outcomes[0].digest());
    }
    // The sum is of real answers: a different record size changes it.
    let other = run(Mixing::DirectCall, &MixSpec { record_bytes: 65, ..spec });
    assert_ne!(other.sum, outcomes[0].sum);
}

#[test]
fn each_form_is_compared_with_its_native_one() {
    for v in Variant::ALL.iter().filter(|v| v.native().is_some()) {
        let native = v.native().unwrap();
        assert_eq!(native.native(), Some(native));
    }
    assert_eq!(Variant::BlockOnPerCall.native(), Some(Variant::AsyncAwait));
    assert_eq!(Variant::SpawnBlocking.native(), Some(Variant::DirectCall));
    assert_eq!(Variant::Flume.native(), None);
}
