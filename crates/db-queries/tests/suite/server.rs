//! The front end on its own: a client that sends garbage loses its own connection and nothing
//! else; the connection cap holds extra clients back instead of failing them.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

use crate::common::{DATASET, spec};
use db_queries::{
    run::ServerSide,
    store::fixture::SqliteFixture,
    variants::ServeSpec,
    variants::Variant,
    workload::{
        Request,
        protocol::{self, Reply},
    },
};

fn ask(stream: &mut TcpStream, id: u64, request: &Request) -> Reply {
    let mut out = Vec::new();
    protocol::encode_request(id, request, &mut out);
    stream.write_all(&out).unwrap();
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; usize::from(u16::from_le_bytes(len))];
    stream.read_exact(&mut body).unwrap();
    protocol::decode_reply(&body).unwrap()
}

#[test]
fn a_bad_frame_ends_only_its_own_connection() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = SqliteFixture::create(dir.path(), &DATASET, &|| false).unwrap();
    let server = ServerSide::start(&spec(Variant::ThreadPool), &fixture.target()).unwrap();
    let mut good = TcpStream::connect(server.addr()).unwrap();
    let mut bad = TcpStream::connect(server.addr()).unwrap();
    bad.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // A frame of an unknown kind, then a length past the largest frame.
    bad.write_all(&[9, 0, 1, 0, 0, 0, 0, 0, 0, 0, 42]).unwrap();
    assert_eq!(bad.read(&mut [0u8; 16]).unwrap(), 0, "the server should hang up on garbage");
    let mut worse = TcpStream::connect(server.addr()).unwrap();
    worse.write_all(&[0xFF, 0xFF]).unwrap();
    worse.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(worse.read(&mut [0u8; 16]).unwrap(), 0);
    let account = 17;
    let reply = ask(&mut good, 7, &Request::Point { account });
    assert_eq!(reply, Reply { id: 7, result: Ok(DATASET.expected_point(account)) });
    drop((good, bad, worse));
    assert!(server.wait_drained(3, Duration::from_secs(5)));
    let report = server.finish();
    assert!(report.tally.errors.is_empty());
}

#[test]
fn clients_over_the_cap_wait_their_turn() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = SqliteFixture::create(dir.path(), &DATASET, &|| false).unwrap();
    let server =
        ServerSide::start(&ServeSpec { max_connections: 1, ..spec(Variant::AsyncPool) }, &fixture.target()).unwrap();
    let mut first = TcpStream::connect(server.addr()).unwrap();
    let mut second = TcpStream::connect(server.addr()).unwrap();
    assert!(ask(&mut first, 1, &Request::Point { account: 3 }).result.is_ok());
    // The second is connected in the kernel's backlog but not served while the first is open.
    second.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let mut out = Vec::new();
    protocol::encode_request(2, &Request::Point { account: 5 }, &mut out);
    second.write_all(&out).unwrap();
    assert!(second.read(&mut [0u8; 1]).is_err(), "served past the cap");
    drop(first);
    second.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut len = [0u8; 2];
    second.read_exact(&mut len).unwrap();
    let mut body = vec![0u8; usize::from(u16::from_le_bytes(len))];
    second.read_exact(&mut body).unwrap();
    assert_eq!(protocol::decode_reply(&body).unwrap().result, Ok(DATASET.expected_point(5)));
    drop(second);
    server.finish();
}

#[test]
fn a_stalled_client_is_cut_off_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = SqliteFixture::create(dir.path(), &DATASET, &|| false).unwrap();
    let spec = ServeSpec { client_timeout: Duration::from_millis(300), ..spec(Variant::AsyncPool) };
    let server = ServerSide::start(&spec, &fixture.target()).unwrap();
    // Half a frame, then nothing: without a bound it would hold its slot forever.
    let mut stalled = TcpStream::connect(server.addr()).unwrap();
    stalled.write_all(&[20]).unwrap();
    stalled.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(stalled.read(&mut [0u8; 16]).unwrap(), 0, "the server should hang up on a stalled client");
    // A client that keeps talking is not cut.
    let mut good = TcpStream::connect(server.addr()).unwrap();
    for id in 0..5 {
        std::thread::sleep(Duration::from_millis(100));
        assert!(ask(&mut good, id, &Request::Point { account: 3 }).result.is_ok());
    }
    drop(good);
    assert!(server.wait_drained(2, Duration::from_secs(5)));
    assert_eq!(server.finish().tally.cut, 1);
}
