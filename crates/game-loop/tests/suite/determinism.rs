//! The simulation is a pure function of the seeded world and the inputs it applied, ordered
//! by (tick, client id): a log recorded from a live run over loopback, replayed through every
//! variant's simulation, rebuilds the very world the live run ended with.

use crate::common::{bot_spec, play, server_spec, world};
use casebook::VariantSet;
use game_loop::{net::protocol, sim::simulation::Event, variants::Variant};

#[test]
fn a_recorded_log_rebuilds_the_same_world_in_every_variant() {
    let mut config = world(2000, 32);
    config.sim_cost = 4;
    let spec = server_spec(config, 96);
    let mut bots = bot_spec(Variant::Hybrid, 40);
    // Some bots vanish mid-run, so the log holds joins, inputs and time-outs.
    bots.vanish = 6;
    bots.vanish_after = std::time::Duration::from_millis(400);
    let (server, _) = play(Variant::Hybrid, spec, bots);
    assert_eq!(server.sim.timed_out, 6, "the log covers clients timing out");
    let log = server.log.expect("the run kept its log");
    assert!(log.entries.len() > 100, "a log worth replaying: {} events", log.entries.len());
    for variant in Variant::ALL {
        let digest = variant.replay(config, &log).expect("replay runs");
        assert_eq!(digest, server.digest, "{} rebuilt a different world", variant.name());
    }
    // One input held differently rebuilds a different world: the digest does see inputs.
    let mut damaged = log.clone();
    let middle = damaged.entries.len() / 2;
    let Some((_, Event::Input { bits, .. })) =
        damaged.entries[middle..].iter_mut().find(|(_, e)| matches!(e, Event::Input { .. }))
    else {
        panic!("the log's second half has inputs");
    };
    *bits ^= protocol::bits::SPRINT | protocol::bits::RIGHT;
    assert_ne!(Variant::Hybrid.replay(config, &damaged).expect("replay runs"), server.digest);
}
