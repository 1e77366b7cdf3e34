//! Replaying an input log: the check that the simulation is deterministic, and, timed, the
//! measure of what each executor costs with no network in the way.

use std::time::Instant;

use crate::sim::{
    clock::{Micros, PERIOD},
    simulation::{Event, InputLog, Sim, SimConfig},
    world::{WorldConfig, mix},
};

/// The keys a bot holds with its input `seq`: they change every half second or so, the same
/// way in every run, so a scripted log and a live bot play the same game.
pub fn held_bits(seed: u64, client: u32, seq: u32) -> u16 {
    (mix(seed ^ (u64::from(client) << 24) ^ u64::from(seq / 15)) & 0x1f) as u16
}

/// An input log as `clients` bots would leave it after `ticks` ticks on a perfect network:
/// each sends 30 inputs a second at its own phase, and a tick applies each client's newest.
pub fn scripted_log(clients: u32, ticks: u32, input_hz: u32, seed: u64) -> InputLog {
    let tick_ns = PERIOD.as_nanos() as u64;
    let input_ns = 1_000_000_000 / u64::from(input_hz.max(1));
    // Inputs a client has sent by the end of `tick`: one at its phase, then one a period.
    let sent_by_end_of = |client: u32, tick: u32| {
        let phase = u64::from(client) * input_ns / u64::from(clients.max(1));
        let end = u64::from(tick + 1) * tick_ns;
        if end <= phase { 0 } else { (end - 1 - phase) / input_ns + 1 }
    };
    let mut log = InputLog { ticks, entries: Vec::new() };
    for tick in 0..ticks {
        for client in 0..clients {
            let newest = sent_by_end_of(client, tick);
            let before = if tick == 0 { 0 } else { sent_by_end_of(client, tick - 1) };
            if newest > before {
                let seq = newest as u32;
                log.entries.push((tick, Event::Input { client, seq, bits: held_bits(seed, client, seq) }));
            }
        }
    }
    log
}

/// Runs a recorded log through a fresh world and returns its digest: the same log must give
/// the same digest on any executor and thread, and the digest the live run ended with.
pub fn replay(config: WorldConfig, how: SimConfig, log: &InputLog) -> u64 {
    let mut sim = Sim::new(config, how, false);
    play_log(&mut sim, log);
    sim.digest()
}

/// Plays `log` through `sim` as fast as it goes, each tick's step and snapshot hand-off
/// timed: what the simulation alone costs on this executor.
pub fn play_log(sim: &mut Sim, log: &InputLog) -> Micros {
    let mut entries = log.entries.iter().peekable();
    let mut events = Vec::new();
    let mut tick = Micros::default();
    for t in 0..log.ticks {
        events.clear();
        while let Some((_, event)) = entries.next_if(|(at, _)| *at == t) {
            events.push(*event);
        }
        let started = Instant::now();
        sim.step(&events);
        sim.take_snapshots(|_, bytes| drop(std::hint::black_box(bytes)));
        tick.record(started.elapsed());
    }
    tick
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::simulation::tests::{CONFIG, HOWS};

    #[test]
    fn a_scripted_client_sends_thirty_inputs_a_second_in_order() {
        let log = scripted_log(4, 128, 30, 1);
        for client in 0..4 {
            let seqs: Vec<u32> = log
                .entries
                .iter()
                .filter_map(|(_, e)| match e {
                    Event::Input { client: c, seq, .. } if *c == client => Some(*seq),
                    _ => None,
                })
                .collect();
            assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
            // Two seconds of ticks, thirty a second, give or take the phase.
            let last = *seqs.last().expect("inputs");
            assert!((59..=61).contains(&last), "client {client}: {last}");
        }
        assert!(log.entries.windows(2).all(|w| (w[0].0, w[0].1.client()) < (w[1].0, w[1].1.client())));
    }

    #[test]
    fn a_log_replays_to_the_same_world_on_every_executor() {
        // Fifty clients where forty fit, and some of them go quiet: joins, refusals, time-outs.
        let mut log = scripted_log(50, 120, 30, 3);
        log.entries.retain(|(tick, e)| !(e.client() % 7 == 0 && *tick > 40));
        let digests: Vec<u64> = HOWS.iter().map(|how| replay(CONFIG, *how, &log)).collect();
        assert!(digests.iter().all(|d| *d == digests[0]), "{digests:x?}");
        // And the inputs matter: without the first tick's, the world ends elsewhere.
        let mut shorter = log.clone();
        shorter.entries.retain(|(tick, _)| *tick != 0);
        assert_ne!(replay(CONFIG, HOWS[0], &shorter), digests[0]);
    }
}
