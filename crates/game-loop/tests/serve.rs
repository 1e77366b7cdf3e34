//! Every variant, with real bots over loopback: the books balance and nothing is lost.

mod common;

use common::{bot_spec, play, server_spec, world};
use casebook::VariantSet;
use game_loop::{
    bots::bot::BotReport,
    net::protocol::DecodeError,
    servers::{books::Count::*, spec::ServerReport},
    sim::replay::replay,
    variants::Variant,
};

/// Every snapshot built was sent, dropped (counted) or failed (counted), never twice; every
/// one a steady bot missed is one of those, or a drop the bot's own kernel counted.
fn assert_books_balance(name: &str, server: &ServerReport, bots: &BotReport) {
    let net = &server.net;
    assert!(net[Sent] + net[Dropped] + net[SendErrors] <= server.sim.snapshots, "{name}: {net:?} vs {:?}", server.sim);
    assert!(bots.snapshots <= net[Sent], "{name}: {} received, {} sent", bots.snapshots, net[Sent]);
    let explained = net[Dropped] + net[SendErrors] + bots.kernel_drops.unwrap_or(0);
    assert!(bots.lost <= explained, "{name}: {} lost, only {explained} counted", bots.lost);
}

#[test]
fn every_variant_serves_its_bots_and_replays_to_the_same_world() {
    for &variant in Variant::ALL {
        let spec = server_spec(world(1000, 64), 80);
        let (server, bots) = play(variant, spec, bot_spec(variant, 24));
        let name = variant.name();
        assert_eq!(server.sim.joined, 24, "{name}: every bot got an avatar");
        assert_eq!(server.clients_at_end, 24, "{name}");
        assert_eq!(server.ticks.ticks + server.ticks.missed, 80, "{name}: every slot ran or was counted missed");
        assert!(bots.snapshots > 0 && !bots.latency.0.is_empty(), "{name}: the bots heard back");
        assert_eq!((bots.malformed, bots.wrong_client, bots.out_of_order), (0, 0, 0), "{name}");
        assert_eq!(server.net.malformed_total(), 0, "{name}");
        assert_eq!(bots.connected, 24, "{name}");
        assert_books_balance(name, &server, &bots);
        // The world the live run ended with is exactly what its log rebuilds.
        let log = server.log.as_ref().expect("recorded");
        assert_eq!(u64::from(log.ticks), server.ticks.ticks, "{name}");
        assert_eq!(replay(spec.world, variant.sim(), log), server.digest, "{name}: live world differs from its replay");
    }
}

#[test]
fn vanished_clients_time_out_and_lose_their_avatars() {
    for variant in [Variant::Hybrid, Variant::SingleThreadPoll, Variant::ThreadPerClient, Variant::HybridTcp] {
        let spec = server_spec(world(500, 16), 96);
        let mut bots = bot_spec(variant, 20);
        bots.vanish = 5;
        bots.vanish_after = std::time::Duration::from_millis(300);
        let (server, bots) = play(variant, spec, bots);
        let name = variant.name();
        assert_eq!(bots.vanished, 5, "{name}");
        assert_eq!(server.sim.timed_out, 5, "{name}: the silent clients were dropped");
        assert_eq!(server.clients_at_end, 15, "{name}: their avatars are gone");
        assert_eq!(server.sim.left, 0, "{name}: nobody said goodbye");
    }
}

#[test]
fn a_slow_tcp_client_loses_its_own_snapshots_and_nobody_elses() {
    for variant in [Variant::ThreadPerClient, Variant::HybridTcp] {
        let mut spec = server_spec(world(500, 64), 256);
        spec.tcp_send_buffer = 4096;
        let mut bots = bot_spec(variant, 12);
        bots.slow = 3;
        let (server, bots) = play(variant, spec, bots);
        let name = variant.name();
        assert_eq!(bots.slow, 3, "{name}");
        let first_drop = server.net.first_drop_tick.expect("the slow clients' queues filled and were capped");
        // After a slow client's queue was full, the ticks went on and reached the others.
        let newest = bots.newest_tick.expect("the steady clients heard back");
        assert!(newest > first_drop, "{name}: nothing reached the steady clients after tick {first_drop}");
        assert_books_balance(name, &server, &bots);
        assert_eq!(server.clients_at_end, 12, "{name}: a slow client is still a client");
    }
}

#[test]
fn a_flood_of_malformed_datagrams_is_counted_kind_by_kind() {
    for variant in [Variant::Hybrid, Variant::AllAsync, Variant::SingleThreadPoll] {
        let spec = server_spec(world(500, 64), 64);
        let mut bots = bot_spec(variant, 10);
        bots.flood_per_s = 3000;
        bots.flood_for = std::time::Duration::from_millis(600);
        let (server, bots) = play(variant, spec, bots);
        let name = variant.name();
        let sent: u64 = bots.flood.iter().sum();
        assert!(sent > 0 && bots.flood.iter().all(|n| *n > 0), "{name}: every kind was sent");
        for kind in DecodeError::KINDS {
            assert!(server.net.malformed_of(kind) <= bots.flood[kind.index()], "{name}: {kind:?}");
        }
        match server.kernel_drops {
            Some(0) => assert_eq!(server.net.malformed, bots.flood, "{name}: every malformed datagram was counted"),
            drops => {
                let dropped = drops.unwrap_or(u64::MAX);
                assert!(server.net.malformed_total() + dropped >= sent, "{name}: {dropped} dropped by the kernel");
            }
        }
        assert_eq!(server.sim.joined, 10, "{name}: the real clients still got in");
    }
}

#[test]
fn garbage_on_a_tcp_connection_is_counted_and_only_that_connection_closes() {
    use std::io::{Read, Write};
    for variant in [Variant::ThreadPerClient, Variant::HybridTcp] {
        let server = variant.start(server_spec(world(200, 64), 48)).expect("server starts");
        let addr = server.addr();
        let running = std::thread::spawn(move || server.run());
        let mut rogue = std::net::TcpStream::connect(addr).expect("connect");
        // A frame of the right length with the wrong magic: counted, the stream stays open.
        let mut frame = vec![14u8, 0];
        frame.extend_from_slice(b"XX\x01\x01garbagegarb");
        // Then a prefix announcing 60,000 bytes: the stream cannot be trusted, so it closes.
        frame.extend_from_slice(&60_000u16.to_le_bytes());
        rogue.write_all(&frame).expect("write");
        rogue.set_read_timeout(Some(std::time::Duration::from_secs(10))).expect("timeout");
        let mut sink = [0u8; 64];
        assert!(
            matches!(rogue.read(&mut sink), Ok(0) | Err(_)),
            "{}: the server closed the connection",
            variant.name()
        );
        let report = running.join().expect("server thread").expect("server run");
        let net = &report.net;
        assert_eq!(net.malformed_of(DecodeError::BadMagic), 1, "{}", variant.name());
        assert_eq!(net.malformed_of(DecodeError::Oversized), 1, "{}", variant.name());
        assert_eq!((net[ClosedMalformed], net[Accepted]), (1, 1), "{}", variant.name());
        assert_eq!(report.sim.joined, 0, "{}: garbage never became a client", variant.name());
    }
}
