//! Every form of table 3a makes the same calls and returns the same sum.

use bridges::mixing::{self, MixSpec, Mixing};

#[test]
fn every_form_returns_the_same_sum() {
    let spec = MixSpec { calls: 300, record_bytes: 64 };
    let outcomes: Vec<_> = Mixing::ALL.iter().map(|m| mixing::run(*m, &spec).expect("the row runs")).collect();
    for outcome in &outcomes {
        assert_eq!(outcome.calls, 300);
        assert_eq!(outcome.digest(), outcomes[0].digest());
    }
    // The sum is of real answers: a different record size changes it.
    let other = mixing::run(Mixing::DirectCall, &MixSpec { record_bytes: 65, ..spec }).unwrap();
    assert_ne!(other.sum, outcomes[0].sum);
}

#[test]
fn each_form_is_compared_with_its_native_one() {
    for m in Mixing::ALL {
        assert_eq!(m.native().native(), m.native());
    }
    assert_eq!(Mixing::BlockOnPerCall.native(), Mixing::AsyncAwait);
    assert_eq!(Mixing::SpawnBlocking.native(), Mixing::DirectCall);
}
