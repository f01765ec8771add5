//! The native protocol at the byte level against a real node: version negotiation as drivers
//! probe it, SUPPORTED, protocol errors for malformed, oversized and out-of-order frames (the
//! connection closes, the node keeps serving others), many requests in flight on one
//! connection answered under their stream ids, LZ4 frames, and schema-change events for
//! connections that REGISTER.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::BytesMut;
use common::TestNode;
use cql::protocol::{
    Compression, Event, FrameHeader, HEADER_LEN, QueryParams, Request, Response, ResultBody, decompress_body,
    encode_request_frame, flags,
};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

struct Conn {
    s: TcpStream,
    compression: Compression,
}

impl Conn {
    fn open(node: &TestNode) -> Conn {
        let s = TcpStream::connect((node.host.as_str(), node.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Conn { s, compression: Compression::None }
    }

    fn send(&mut self, stream: i16, req: &Request) {
        let mut buf = BytesMut::new();
        encode_request_frame(4, stream, req, self.compression, &mut buf);
        self.s.write_all(&buf).unwrap();
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).unwrap();
    }

    /// Reads one frame: (header, response); `None` when the node closed the connection.
    fn recv(&mut self) -> Option<(FrameHeader, Response)> {
        let mut h = [0u8; HEADER_LEN];
        self.s.read_exact(&mut h).ok()?;
        let h = FrameHeader::decode(&h);
        let mut body = vec![0u8; h.length as usize];
        self.s.read_exact(&mut body).unwrap();
        let body = if h.flags & flags::COMPRESSION != 0 {
            decompress_body(Compression::Lz4, &body).unwrap().to_vec()
        } else {
            body
        };
        Some((h, Response::decode(h.opcode, h.flags & !flags::COMPRESSION, &body).unwrap()))
    }

    fn closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.s.read(&mut b), Ok(0))
    }

    fn startup(&mut self, compression: Option<&str>) {
        let mut opts = vec![("CQL_VERSION".to_string(), "3.4.5".to_string())];
        if let Some(c) = compression {
            opts.push(("COMPRESSION".to_string(), c.to_string()));
        }
        self.send(0, &Request::Startup(opts));
        let (_, r) = self.recv().unwrap();
        assert_eq!(r, Response::Ready);
        if compression == Some("lz4") {
            self.compression = Compression::Lz4;
        }
    }

    fn query(&mut self, stream: i16, q: &str) -> Response {
        self.send(stream, &Request::Query { query: q.into(), params: QueryParams::default() });
        let (h, r) = self.recv().unwrap();
        assert_eq!(h.stream, stream);
        r
    }
}

fn error_code(r: &Response) -> i32 {
    match r {
        Response::Error(e) => e.code,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn unsupported_versions_get_the_error_drivers_downgrade_on() {
    let node = TestNode::start();
    for v in [0x42u8, 0x41, 5, 3] {
        let mut c = Conn::open(&node);
        // OPTIONS with version v, stream 7.
        c.send_raw(&[v, 0, 0, 7, 0x05, 0, 0, 0, 0]);
        let (h, r) = c.recv().unwrap();
        assert_eq!(h.version, 0x84, "answered in a v4 response frame");
        assert_eq!(h.stream, 7);
        let Response::Error(e) = r else { panic!("expected an error for version {v}") };
        assert_eq!(e.code, 0x000A);
        assert!(e.message.contains("unsupported protocol version"), "{}", e.message);
    }
    let mut c = Conn::open(&node);
    c.send(3, &Request::Options);
    let (_, r) = c.recv().unwrap();
    let Response::Supported(m) = r else { panic!("expected SUPPORTED") };
    assert!(m.iter().any(|(k, v)| k == "CQL_VERSION" && !v.is_empty()));
    assert!(m.iter().any(|(k, _)| k == "COMPRESSION"));
}

#[test]
fn bad_frames_get_a_protocol_error_and_close_only_their_connection() {
    let node = TestNode::start();
    let mut healthy = Conn::open(&node);
    healthy.startup(None);

    // Oversized body length.
    let mut c = Conn::open(&node);
    c.startup(None);
    c.send_raw(&[4, 0, 0, 1, 0x07, 0x7f, 0xff, 0xff, 0xff]);
    let (h, r) = c.recv().unwrap();
    assert_eq!((h.stream, error_code(&r)), (1, 0x000A));
    assert!(c.closed());

    // A QUERY body that lies about its string length.
    let mut c = Conn::open(&node);
    c.startup(None);
    c.send_raw(&[4, 0, 0, 2, 0x07, 0, 0, 0, 6, 0, 0, 0x10, 0, b'x', b'y']);
    let (_, r) = c.recv().unwrap();
    assert_eq!(error_code(&r), 0x000A);
    assert!(c.closed());

    // A QUERY before STARTUP.
    let mut c = Conn::open(&node);
    c.send(5, &Request::Query { query: "SELECT * FROM system.local".into(), params: QueryParams::default() });
    let (_, r) = c.recv().unwrap();
    assert_eq!(error_code(&r), 0x000A);

    // Garbage that is not a frame at all.
    let mut c = Conn::open(&node);
    c.send_raw(b"GET / HTTP/1.1\r\n\r\n");
    let (_, r) = c.recv().unwrap();
    assert_eq!(error_code(&r), 0x000A);

    // The first connection is unaffected.
    let r = healthy.query(9, "SELECT key FROM system.local");
    assert!(matches!(r, Response::Result(ResultBody::Rows(_))), "{r:?}");
}

#[test]
fn many_requests_in_flight_come_back_under_their_stream_ids_with_lz4() {
    let node = TestNode::start();
    let mut c = Conn::open(&node);
    c.startup(Some("lz4"));
    for stream in 1..=200i16 {
        c.send(
            stream,
            &Request::Query {
                query: "SELECT * FROM system_schema.columns".into(),
                params: QueryParams::default(),
            },
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for _ in 1..=200 {
        let (h, r) = c.recv().unwrap();
        assert!(matches!(r, Response::Result(ResultBody::Rows(_))), "{r:?}");
        assert!(seen.insert(h.stream), "stream {} answered twice", h.stream);
    }
    assert_eq!(seen.len(), 200);
}

#[test]
fn registered_connections_get_schema_change_events() {
    let node = TestNode::start();
    let mut listener = Conn::open(&node);
    listener.startup(None);
    listener.send(1, &Request::Register(vec!["SCHEMA_CHANGE".into(), "STATUS_CHANGE".into()]));
    assert_eq!(listener.recv().unwrap().1, Response::Ready);

    let mut c = Conn::open(&node);
    c.startup(None);
    let r = c.query(
        1,
        "CREATE KEYSPACE ev WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    );
    assert!(matches!(r, Response::Result(ResultBody::SchemaChange(_))), "{r:?}");
    let (h, ev) = listener.recv().unwrap();
    assert_eq!(h.stream, -1);
    let Response::Event(Event::SchemaChange(sc)) = ev else {
        panic!("expected a schema change event, got {ev:?}")
    };
    assert_eq!(sc.change, "CREATED");
}

#[test]
fn execute_of_an_unknown_id_is_unprepared_with_the_id() {
    let node = TestNode::start();
    let mut c = Conn::open(&node);
    c.startup(None);
    let id = bytes::Bytes::from_static(&[9u8; 16]);
    c.send(4, &Request::Execute { id: id.clone(), params: QueryParams::default() });
    let (h, r) = c.recv().unwrap();
    assert_eq!(h.stream, 4);
    let Response::Error(e) = r else { panic!("expected an error, got {r:?}") };
    assert_eq!(e.code, 0x2500);
    assert_eq!(e.extra, cql::protocol::ErrorExtra::Unprepared { id });
    // Prepared, it runs.
    c.send(5, &Request::Prepare { query: "SELECT key FROM system.local WHERE key = ?".into() });
    let (_, r) = c.recv().unwrap();
    let Response::Result(ResultBody::Prepared(p)) = r else { panic!("expected Prepared, got {r:?}") };
    assert_eq!(p.metadata.columns.len(), 1);
    let params = QueryParams {
        values: vec![cql::protocol::Value::Bytes(bytes::Bytes::from_static(b"local"))],
        ..Default::default()
    };
    c.send(6, &Request::Execute { id: p.id, params });
    let (_, r) = c.recv().unwrap();
    let Response::Result(ResultBody::Rows(rows)) = r else { panic!("expected rows, got {r:?}") };
    assert_eq!(rows.rows_count, 1);
}

fn error_message(r: &Response) -> (i32, String) {
    match r {
        Response::Error(e) => (e.code, e.message.clone()),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn bound_values_must_match_the_markers_one_for_one() {
    use cql::protocol::{BatchQuery, BatchRequest, BatchStatement, Value, batch_kind};
    let node = TestNode::start();
    let mut c = Conn::open(&node);
    c.startup(None);
    c.query(1, "CREATE KEYSPACE bv WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    c.query(2, "CREATE TABLE bv.t (k int PRIMARY KEY, v text)");
    let int = |i: i32| Value::Bytes(bytes::Bytes::copy_from_slice(&i.to_be_bytes()));
    let text = |s: &'static str| Value::Bytes(bytes::Bytes::from_static(s.as_bytes()));

    let query = |c: &mut Conn, stream: i16, q: &str, values: Vec<Value>| {
        c.send(
            stream,
            &Request::Query { query: q.into(), params: QueryParams { values, ..Default::default() } },
        );
        c.recv().unwrap().1
    };
    // Too many, too few, and values for a statement without markers: all refused, nothing written.
    let r = query(&mut c, 3, "INSERT INTO bv.t (k, v) VALUES (?, ?)", vec![int(1), text("a"), int(9)]);
    let (code, msg) = error_message(&r);
    assert_eq!(code, 0x2200);
    assert_eq!(msg, "There were 2 markers(?) in CQL but 3 bound variables");
    let r = query(&mut c, 4, "INSERT INTO bv.t (k, v) VALUES (?, ?)", vec![int(1)]);
    assert_eq!(error_message(&r).1, "There were 2 markers(?) in CQL but 1 bound variables");
    let r = query(&mut c, 5, "INSERT INTO bv.t (k, v) VALUES (1, 'a')", vec![int(1)]);
    assert_eq!(error_message(&r).1, "There were 0 markers(?) in CQL but 1 bound variables");
    let r = c.query(6, "SELECT * FROM bv.t");
    let Response::Result(ResultBody::Rows(rows)) = r else { panic!("expected rows, got {r:?}") };
    assert_eq!(rows.rows_count, 0);

    // The same rule per statement of a BATCH message, and no USING CONSISTENCY inside one.
    let batch = |kind: u8, statements: Vec<(&'static str, Vec<Value>)>| {
        Request::Batch(BatchRequest {
            kind,
            statements: statements
                .into_iter()
                .map(|(q, values)| BatchStatement { query: BatchQuery::Text(q.into()), values })
                .collect(),
            consistency: cql::Consistency::One,
            serial_consistency: None,
            timestamp: None,
        })
    };
    c.send(
        7,
        &batch(
            batch_kind::LOGGED,
            vec![
                ("INSERT INTO bv.t (k, v) VALUES (?, ?)", vec![int(1), text("a")]),
                ("INSERT INTO bv.t (k, v) VALUES (?, ?)", vec![int(2)]),
            ],
        ),
    );
    let (code, msg) = error_message(&c.recv().unwrap().1);
    assert_eq!((code, msg.as_str()), (0x2200, "There were 2 markers(?) in CQL but 1 bound variables"));
    c.send(
        8,
        &batch(
            batch_kind::UNLOGGED,
            vec![("INSERT INTO bv.t (k, v) VALUES (3, 'c') USING CONSISTENCY ALL", vec![])],
        ),
    );
    let (code, msg) = error_message(&c.recv().unwrap().1);
    assert_eq!(code, 0x2200);
    assert!(msg.contains("USING CONSISTENCY is not allowed"), "{msg}");
    c.send(9, &batch(batch_kind::COUNTER, vec![("INSERT INTO bv.t (k, v) VALUES (4, 'd')", vec![])]));
    let (code, msg) = error_message(&c.recv().unwrap().1);
    assert_eq!(code, 0x2200);
    assert!(msg.contains("Counter batches are not supported"), "{msg}");
    let r = c.query(10, "SELECT * FROM bv.t");
    let Response::Result(ResultBody::Rows(rows)) = r else { panic!("expected rows, got {r:?}") };
    assert_eq!(rows.rows_count, 0, "a refused batch wrote nothing");

    // Named values bind by name: a marker's own name, else its column's; a repeated name binds
    // every marker carrying it; surplus names are ignored.
    let named = |c: &mut Conn, stream: i16, q: &str, names: &[&str], values: Vec<Value>| {
        let params = QueryParams {
            values,
            names: Some(names.iter().map(|n| n.to_string()).collect()),
            ..Default::default()
        };
        c.send(stream, &Request::Query { query: q.into(), params });
        c.recv().unwrap().1
    };
    let r = named(
        &mut c,
        12,
        "INSERT INTO bv.t (k, v) VALUES (?, ?)",
        &["v", "k"],
        vec![text("by column"), int(6)],
    );
    assert_eq!(r, Response::Result(ResultBody::Void));
    let r = named(
        &mut c,
        13,
        "INSERT INTO bv.t (k, v) VALUES (:key, :val)",
        &["extra", "val", "key"],
        vec![int(0), text("by marker"), int(7)],
    );
    assert_eq!(r, Response::Result(ResultBody::Void));
    let r = named(&mut c, 14, "SELECT v FROM bv.t WHERE k IN (:key, :key)", &["key"], vec![int(7)]);
    let Response::Result(ResultBody::Rows(rows)) = r else { panic!("expected rows, got {r:?}") };
    assert_eq!(rows.rows_count, 1);
    let r = named(&mut c, 15, "INSERT INTO bv.t (k, v) VALUES (:key, :val)", &["key"], vec![int(8)]);
    let (code, msg) = error_message(&r);
    assert_eq!((code, msg.as_str()), (0x2200, "No value bound for the variable val"));
    let r = c.query(16, "SELECT k, v FROM bv.t WHERE k IN (6, 7)");
    let Response::Result(ResultBody::Rows(rows)) = r else { panic!("expected rows, got {r:?}") };
    assert_eq!(rows.rows_count, 2);
    // In token order: 7 before 6.
    let cells: Vec<(Vec<u8>, Vec<u8>)> = rows
        .rows()
        .unwrap()
        .iter()
        .map(|row| (row[0].clone().unwrap().to_vec(), row[1].clone().unwrap().to_vec()))
        .collect();
    assert_eq!(
        cells,
        [
            (7i32.to_be_bytes().to_vec(), b"by marker".to_vec()),
            (6i32.to_be_bytes().to_vec(), b"by column".to_vec())
        ]
    );

    // A well-formed batch goes through.
    c.send(
        11,
        &batch(batch_kind::LOGGED, vec![("INSERT INTO bv.t (k, v) VALUES (?, ?)", vec![int(5), text("e")])]),
    );
    assert_eq!(c.recv().unwrap().1, Response::Result(ResultBody::Void));
}
