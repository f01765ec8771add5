//! Several real nodes on 127.0.x.y: the Python driver discovers every node, datacenter and
//! rack; `tess status` shows them; clients that REGISTER hear of nodes going down and up; a
//! schema change made while a node is down reaches it when it returns.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::BytesMut;
use common::TestCluster;
use cql::protocol::{Event, FrameHeader, HEADER_LEN, Request, Response, encode_request_frame};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

/// A native-protocol connection that REGISTERed for topology and status events.
fn listen_for_events(host: &str, port: u16) -> TcpStream {
    let mut s = TcpStream::connect((host, port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let send = |s: &mut TcpStream, stream: i16, req: &Request| {
        let mut buf = BytesMut::new();
        encode_request_frame(4, stream, req, cql::protocol::Compression::None, &mut buf);
        s.write_all(&buf).unwrap();
    };
    send(&mut s, 0, &Request::Startup(vec![("CQL_VERSION".into(), "3.4.5".into())]));
    assert_eq!(next_response(&mut s), Response::Ready);
    send(&mut s, 1, &Request::Register(vec!["TOPOLOGY_CHANGE".into(), "STATUS_CHANGE".into()]));
    assert_eq!(next_response(&mut s), Response::Ready);
    s
}

fn next_response(s: &mut TcpStream) -> Response {
    let mut h = [0u8; HEADER_LEN];
    s.read_exact(&mut h).unwrap();
    let h = FrameHeader::decode(&h);
    let mut body = vec![0u8; h.length as usize];
    s.read_exact(&mut body).unwrap();
    Response::decode(h.opcode, h.flags, &body).unwrap()
}

/// Waits for a STATUS_CHANGE `change` about `host`.
fn expect_status(s: &mut TcpStream, change: &str, host: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Response::Event(Event::StatusChange { change: c, address }) = next_response(s)
            && c == change
            && address.ip().to_string() == host
        {
            return;
        }
    }
    panic!("no STATUS_CHANGE {change} for {host}");
}

#[test]
fn the_driver_and_tess_status_see_every_node_and_datacenter() {
    let c =
        TestCluster::start(11, &[("dc1", "rack1"), ("dc1", "rack2"), ("dc2", "rack1"), ("dc2", "rack2")], "");
    c.run("cluster_e2e.py", &["discover", "4", "2"]);
    let s = c.status(3);
    let nodes = s["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 4, "{s}");
    assert!(nodes.iter().all(|n| n["up"] == true && n["tokens"] == 16), "{s}");
    let owns: f64 = nodes.iter().map(|n| n["ownership"].as_f64().unwrap()).sum();
    assert!((owns - 1.0).abs() < 1e-6, "ring ownership adds up to {owns}");

    let n = &c.nodes[0];
    // A registered client hears of a node going down and coming back.
    let mut events = listen_for_events(&n.host, n.port);
    let mut c = c;
    c.nodes[3].kill9();
    expect_status(&mut events, "DOWN", &c.nodes[3].host.clone());
    c.nodes[3].start_again();
    expect_status(&mut events, "UP", &c.nodes[3].host.clone());
    c.wait_all_up(0);

    let n = &c.nodes[0];
    let out = Command::new(env!("CARGO_BIN_EXE_tess"))
        .args(["--host", &n.host, "--port", &n.admin_port.to_string(), "status"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Datacenter: dc1") && text.contains("Datacenter: dc2"), "{text}");
    assert_eq!(text.matches("UN ").count(), 4, "{text}");
    for node in &c.nodes {
        assert!(text.contains(&node.host), "{text}");
    }
}

#[test]
fn a_schema_change_made_during_an_outage_reaches_the_node_when_it_returns() {
    let mut c = TestCluster::start(17, &[("dc1", "rack1"), ("dc1", "rack1"), ("dc1", "rack1")], "");
    c.run(
        "cluster_e2e.py",
        &[
            "ddl",
            "0",
            "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
        ],
    );
    c.nodes[2].kill9();
    c.wait_state(0, 2, false);
    c.run("cluster_e2e.py", &["ddl", "1", "CREATE TABLE ks.late (k int PRIMARY KEY, v text)"]);
    c.run("cluster_e2e.py", &["write", "0", "QUORUM", "ks.late", "0", "20"]);
    c.nodes[2].start_again();
    c.wait_all_up(0);
    c.run("cluster_e2e.py", &["has_table", "2", "ks", "late"]);
    // And it takes writes and serves reads of the table like the others.
    c.run("cluster_e2e.py", &["write", "2", "ALL", "ks.late", "20", "40"]);
    c.run("cluster_e2e.py", &["read", "2", "QUORUM", "ks.late", "0", "40"]);
}
