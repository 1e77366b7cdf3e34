//! Every variant, with real bots over loopback: the books balance and nothing is lost.

use crate::common::{bot_spec, play, server_spec, world};
use casebook::VariantSet;
use game_loop::{
    bots::bot::BotReport,
    net::protocol::{DecodeError, Transport},
    servers::{
        books::Count::*,
        spec::{ServerReport, ServerSpec},
    },
    sim::{clock::PERIOD, replay::replay},
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
        assert_eq!(server.clients_at_end, 15, "{name}: their avatars are gone");
        // Each was dropped once: by the simulation, or, over TCP, as a client whose
        // connection was closed for silence. Nobody said goodbye (closed their connection).
        assert_eq!(server.sim.timed_out + server.sim.left, 5, "{name}: {:?}", server.sim);
        assert!(server.sim.left <= server.net[ClosedSilent], "{name}: {:?} {:?}", server.sim, server.net);
        if kept_time(&spec, &server) {
            assert_eq!(server.sim.timed_out, 5, "{name}: the silent clients were dropped by the simulation");
        }
    }
}

/// Whether the ticks kept wall time well enough that the simulation's time-out must come
/// before a TCP connection's silence limit. The limit is twice the time-out so that it does
/// (see `ServerSpec::silence_limit`), but one is counted in ticks run, the other in wall
/// time: a server starved of CPU on a loaded machine runs ticks late or misses slots, and
/// then the limit may come first. From the tick that takes a client's last input to the one
/// that drops it there are `timeout_ticks` periods, and the input waited up to one for its
/// tick; one more to spare.
fn kept_time(spec: &ServerSpec, server: &ServerReport) -> bool {
    let latest = std::time::Duration::from_micros(server.ticks.lateness.0.max());
    server.ticks.missed == 0 && latest + PERIOD * (spec.world.timeout_ticks + 2) < spec.silence_limit()
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

/// The resident set of this test process, in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).expect("resident pages");
    pages * 4096
}

/// Well-formed inputs from many source ports, each claiming a real client's id with the
/// highest sequence number there is, sent as fast as `threads` threads can for `lasting`;
/// returns how many datagrams the spoofing sockets got back.
fn spoof(
    server: std::net::SocketAddr,
    clients: u32,
    threads: usize,
    lasting: std::time::Duration,
) -> std::thread::JoinHandle<u64> {
    use game_loop::net::{
        protocol::{Input, encode_input},
        sockets::udp_socket,
    };
    std::thread::spawn(move || {
        // Let every real client join first: until then an id belongs to whoever claims it.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let until = std::time::Instant::now() + lasting;
        let flooders: Vec<_> = (0..threads)
            .map(|t| {
                std::thread::spawn(move || {
                    let sockets: Vec<_> = (0..32)
                        .map(|_| {
                            let socket = udp_socket(0).expect("spoofing socket");
                            socket.connect(server).expect("connect");
                            socket.set_nonblocking(true).expect("nonblocking");
                            socket
                        })
                        .collect();
                    let (mut bytes, mut buf, mut got) = (Vec::new(), [0u8; 2048], 0u64);
                    let mut n = t as u32;
                    while std::time::Instant::now() < until {
                        for socket in &sockets {
                            bytes.clear();
                            encode_input(&Input { client: n % clients, seq: u32::MAX, bits: 0x1f }, &mut bytes);
                            let _ = socket.send(&bytes);
                            n = n.wrapping_add(1);
                            while socket.recv(&mut buf).is_ok() {
                                got += 1;
                            }
                        }
                    }
                    got
                })
            })
            .collect();
        flooders.into_iter().map(|f| f.join().expect("flooder")).sum()
    })
}

#[test]
fn a_spoofed_flood_neither_steals_nor_freezes_a_client_nor_stops_the_ticks() {
    use game_loop::bots::fleet;
    for variant in [Variant::SingleThreadPoll, Variant::Hybrid, Variant::AllAsync] {
        let name = variant.name();
        let clients = 10;
        // A small inbox, so that the most one tick reads is far below what a drain with no
        // bound reads while the flood outpaces it. The flood also fills the kernel's queue,
        // which then drops real inputs too: the time-out is longer than the run, because a
        // client silenced for a whole time-out leaves by design and its id is free again.
        let spec = ServerSpec { inbox: 1024, ..server_spec(world(500, 640), 320) };
        let server = variant.start(spec).expect("server starts");
        let mut bots = bot_spec(variant, clients);
        bots.server = server.addr();
        let prepared = fleet::prepare(&bots).expect("bots connect");
        let before = rss();
        let flood = spoof(server.addr(), clients, 2, std::time::Duration::from_secs(3));
        let running = std::thread::spawn(move || server.run());
        let bots = prepared.run(|| running.is_finished()).expect("bots run");
        let server = running.join().expect("server thread").expect("server run");
        let stolen = flood.join().expect("spoof thread");
        let grown = rss().saturating_sub(before);

        let sim = &server.sim;
        assert_eq!(stolen, 0, "{name}: the spoofing ports got snapshots ({sim:?})");
        assert_eq!((bots.wrong_client, bots.malformed), (0, 0), "{name}: every snapshot a bot got was its own");
        assert_eq!(server.sim.stale, 0, "{name}: a spoofed sequence number froze a client's inputs");
        assert_eq!((server.sim.joined, server.sim.peak_clients), (10, 10), "{name}: the spoofer joined nobody");
        let newest = bots.newest_tick.expect("the bots heard back");
        let last = server.ticks.ticks as u32 - 1;
        assert!(newest + 8 >= last, "{name}: the bots' snapshots stopped at tick {newest} of {last}");
        assert_books_balance(name, &server, &bots);
        // Generous bounds: a flood may slow the ticks, never stop them or grow the server.
        // A tick's lateness is at most 250 ms by the clock's rule (older slots are missed),
        // so the stall shows in the longest tick, reading included, and in the slots missed.
        let (longest_ms, missed) = (server.ticks.duration.0.max() / 1000, server.ticks.missed);
        let capped = server.net[LeftQueued];
        assert!(
            longest_ms < 750,
            "{name}: one tick took {longest_ms} ms ({missed} slots missed, {capped} reads capped)"
        );
        assert!(grown < 256 << 20, "{name}: the process grew by {} MiB", grown >> 20);
        assert!(server.wrong_route > 0, "{name}: the spoofed inputs reached the server and were refused");
    }
}

#[test]
fn a_tcp_connection_claiming_another_clients_id_cannot_take_or_end_it() {
    use game_loop::{
        bots::fleet,
        net::protocol::{Input, encode_input, frame},
    };
    use std::io::{Read, Write};
    for variant in [Variant::ThreadPerClient, Variant::HybridTcp] {
        let name = variant.name();
        let server = variant.start(server_spec(world(200, 64), 96)).expect("server starts");
        let addr = server.addr();
        let mut bots = bot_spec(variant, 4);
        bots.server = addr;
        let prepared = fleet::prepare(&bots).expect("bots connect");
        let running = std::thread::spawn(move || server.run());
        let rogue = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let mut rogue = std::net::TcpStream::connect(addr).expect("connect");
            let mut bytes = Vec::new();
            for client in 0..4 {
                let mut input = Vec::new();
                encode_input(&Input { client, seq: u32::MAX, bits: 0x1f }, &mut input);
                frame(&input, &mut bytes);
            }
            rogue.write_all(&bytes).expect("write");
            std::thread::sleep(std::time::Duration::from_millis(200));
            rogue.set_nonblocking(true).expect("nonblocking");
            let got = rogue.read(&mut [0u8; 256]).unwrap_or(0);
            // Closing sends the goodbye of whatever client the connection last claimed.
            drop(rogue);
            got
        });
        let bots = prepared.run(|| running.is_finished()).expect("bots run");
        let server = running.join().expect("server thread").expect("server run");
        assert_eq!(rogue.join().expect("rogue"), 0, "{name}: the rogue connection got snapshots");
        assert_eq!((server.sim.stale, server.sim.left), (0, 0), "{name}: a client was frozen or ended");
        assert_eq!(server.clients_at_end, 4, "{name}");
        assert_eq!(bots.wrong_client, 0, "{name}");
        assert!(server.wrong_route >= 4, "{name}: {} claims refused", server.wrong_route);
    }
}

#[test]
fn play_leaves_the_network_up_and_finish_takes_it_down() {
    for &variant in Variant::ALL {
        let name = variant.name();
        let server = variant.start(server_spec(world(100, 64), 4)).expect("server starts");
        let addr = server.addr();
        // Whether the server still holds its port: a UDP bind to it fails, a TCP connect works.
        let held = || match variant.transport() {
            Transport::Udp => std::net::UdpSocket::bind(addr).is_err(),
            Transport::Tcp => std::net::TcpStream::connect(addr).is_ok(),
        };
        let played = server.play().expect("ticks run");
        assert!(held(), "{name}: the network went down inside the measured region");
        let report = played.finish().expect("server stops");
        assert!(!held(), "{name}: the port is still held after finish");
        assert_eq!(report.ticks.ticks + report.ticks.missed, 4, "{name}");
    }
}

/// Inputs that reach a server whose receive task outlives the ticks (the hybrids, all-async)
/// find no simulation to take them: that is the end of the run, not a full inbox. Counting
/// them as inbox drops made every run of those variants look as if their channels had
/// dropped inputs.
#[test]
fn inputs_after_the_last_tick_are_not_counted_as_inbox_drops() {
    use game_loop::net::protocol::{Input, encode_input};
    for variant in [Variant::Hybrid, Variant::HybridSt, Variant::AllAsync] {
        let server = variant.start(server_spec(world(200, 64), 4)).expect("server starts");
        let addr = server.addr();
        let played = server.play().expect("ticks run");
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let mut datagram = Vec::new();
        for seq in 1..=200 {
            datagram.clear();
            encode_input(&Input { client: 7, seq, bits: 0 }, &mut datagram);
            socket.send_to(&datagram, addr).expect("send");
        }
        // Long enough for the network side to read them before it is stopped.
        std::thread::sleep(std::time::Duration::from_millis(100));
        let report = played.finish().expect("server stops");
        let name = variant.name();
        assert!(report.net[Inputs] > 0, "{name}: the inputs were read after the last tick");
        assert_eq!(report.net[InboxFull], 0, "{name}: none of them was a full inbox");
    }
}
