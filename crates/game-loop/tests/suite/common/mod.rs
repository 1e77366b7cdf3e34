//! A server and its bots in one test process: the server's tick loop on one thread, the
//! bots on others, stopped when the server's run ends.

use std::time::Duration;

use game_loop::{
    bots::{
        bot::BotReport,
        fleet::{self, BotSpec},
    },
    servers::spec::{ServerReport, ServerSpec},
    sim::world::WorldConfig,
    variants::Variant,
};

pub fn world(entities: u32, timeout_ticks: u32) -> WorldConfig {
    WorldConfig { entities, seed: 42, sim_cost: 0, max_clients: 10_000, timeout_ticks }
}

pub fn server_spec(world: WorldConfig, slots: u64) -> ServerSpec {
    ServerSpec::new(world, slots, true, 10_000)
}

pub fn bot_spec(variant: Variant, clients: u32) -> BotSpec {
    BotSpec {
        server: "127.0.0.1:1".parse().expect("addr"),
        transport: variant.transport(),
        clients,
        input_hz: 30,
        threads: 1,
        vanish: 0,
        vanish_after: Duration::from_secs(3600),
        slow: 0,
        flood_per_s: 0,
        flood_for: Duration::ZERO,
        seed: 9,
    }
}

/// Starts the server, connects the bots, runs both until the server's ticks are done.
pub fn play(variant: Variant, spec: ServerSpec, mut bots: BotSpec) -> (ServerReport, BotReport) {
    let server = variant.start(spec).expect("server starts");
    assert!(server.addr().ip().is_loopback());
    bots.server = server.addr();
    let prepared = fleet::prepare(&bots).expect("bots connect");
    let running = std::thread::spawn(move || server.run());
    let bot_report = prepared.run(|| running.is_finished()).expect("bots run");
    let server_report = running.join().expect("server thread").expect("server run");
    (server_report, bot_report)
}
