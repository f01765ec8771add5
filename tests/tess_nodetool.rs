//! The nodetool-style `tess` commands against a fake admin API (a std `TcpListener` answering
//! canned JSON): `repair` posts its options, polls the session every 500 ms printing progress,
//! and ends with the preview's `N mismatched ranges` line, a summary, or exit status 1 with the
//! node's error; an error answer prints its message and exits 1; an unreachable node is named;
//! bad options exit 2 before anything is sent; keys and table lists reach the node encoded.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request the fake node received.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    /// Path and query as sent.
    raw: String,
    /// Path and query, decoded.
    target: String,
    body: String,
    at: Instant,
}

/// What the fake node answers to a request: a status and a JSON body.
type Handler = dyn Fn(&Request, usize) -> (u16, Value) + Send + Sync;

/// A fake admin API on 127.0.0.1: each request gets `handler(request, n)` with `n` the number of
/// earlier requests to the same path; one request per connection.
struct FakeNode {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

impl FakeNode {
    fn start(handler: impl Fn(&Request, usize) -> (u16, Value) + Send + Sync + 'static) -> FakeNode {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::<Request>::new()));
        let log = requests.clone();
        let handler: Box<Handler> = Box::new(handler);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                if reader.read_line(&mut first).unwrap_or(0) == 0 {
                    continue;
                }
                let mut length = 0;
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 2 {
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let mut words = first.split_whitespace();
                let method = words.next().unwrap_or_default().to_string();
                let raw = words.next().unwrap_or_default().to_string();
                let target = percent_decode(&raw);
                let body = String::from_utf8(body).unwrap();
                let request = Request { method, raw, target, body, at: Instant::now() };
                let path = request.target.split('?').next().unwrap().to_string();
                let n = {
                    let mut log = log.lock().unwrap();
                    let n = log.iter().filter(|r| r.target.split('?').next() == Some(path.as_str())).count();
                    log.push(request.clone());
                    n
                };
                let (status, json) = handler(&request, n);
                let body = json.to_string();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        FakeNode { port, requests }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    fn tess(&self, args: &[&str]) -> Output {
        tess_at(self.port, args)
    }
}

fn tess_at(port: u16, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tess"))
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(args)
        .output()
        .unwrap()
}

/// The decoded value of the query parameter `name` of a raw request target.
fn query_param(raw: &str, name: &str) -> Option<String> {
    let (_, query) = raw.split_once('?')?;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A repair session of 4 ranges finishing one range per poll, then `last`.
fn repair_node(last: Value) -> FakeNode {
    FakeNode::start(move |req, n| match (req.method.as_str(), req.target.as_str()) {
        ("POST", "/v1/repair") => (200, json!({"id": "s1"})),
        ("GET", "/v1/repair/s1") if n < 4 => (
            200,
            json!({"id": "s1", "state": "running", "keyspaces": ["ks"], "ranges_total": 4, "ranges_done": n,
                   "mismatched_ranges": 0, "bytes_streamed": n * 1024, "partitions_streamed": n,
                   "error": null, "summary": null}),
        ),
        ("GET", "/v1/repair/s1") => (200, last.clone()),
        _ => (404, json!({"error": format!("no route {} {}", req.method, req.target)})),
    })
}

#[test]
fn repair_preview_polls_until_done_and_prints_the_mismatched_ranges() {
    let node = repair_node(json!({"id": "s1", "state": "done", "keyspaces": ["ks"], "ranges_total": 4,
        "ranges_done": 4, "mismatched_ranges": 3, "bytes_streamed": 0, "partitions_streamed": 0,
        "error": null, "summary": null}));
    let out = node.tess(&["repair", "--preview", "-st", "-10", "-et", "10", "ks", "t1", "t2"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.ends_with("\n3 mismatched ranges\n"), "{stdout}");
    for done in 0..4 {
        assert!(stdout.contains(&format!("] Repair session s1: {done}/4 ranges, ")), "{stdout}");
    }
    assert!(stdout.contains("previewKind: UNREPAIRED, token range: (-10,10])"), "{stdout}");

    let requests = node.requests();
    assert_eq!((requests[0].method.as_str(), requests[0].target.as_str()), ("POST", "/v1/repair"));
    let body: Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(
        body,
        json!({"keyspace": "ks", "tables": ["t1", "t2"], "full": false, "preview": true, "primary_range": false,
               "start_token": "-10", "end_token": "10", "dc": null, "local": false})
    );
    let polls: Vec<&Request> = requests.iter().filter(|r| r.target == "/v1/repair/s1").collect();
    assert_eq!(polls.len(), 5);
    for pair in polls.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(450) && gap < Duration::from_secs(3), "polled after {gap:?}");
    }
}

#[test]
fn a_repair_ends_with_a_summary_line() {
    let node = repair_node(json!({"id": "s1", "state": "done", "ranges_total": 4, "ranges_done": 4,
        "mismatched_ranges": 1, "bytes_streamed": 4096, "partitions_streamed": 2,
        "summary": "repaired 4 ranges of ks, 1 mismatched"}));
    let out = node.tess(&["repair", "-full", "-pr", "ks"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let last = stdout.lines().last().unwrap();
    assert!(last.contains("] Repair session s1 completed successfully in "), "{stdout}");
    assert!(last.ends_with("s: repaired 4 ranges of ks, 1 mismatched"), "{stdout}");
    let body: Value = serde_json::from_str(&node.requests()[0].body).unwrap();
    assert_eq!((body["full"].clone(), body["primary_range"].clone()), (json!(true), json!(true)));
}

#[test]
fn a_failed_repair_exits_1_with_the_nodes_error() {
    let node = repair_node(json!({"id": "s1", "state": "failed", "ranges_total": 4, "ranges_done": 3,
        "error": "replica 127.0.0.2 is down"}));
    let out = node.tess(&["repair"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert_eq!(text(&out.stderr), "error: repair session s1 failed: replica 127.0.0.2 is down\n");
    assert!(text(&out.stdout).contains("] Repair session s1: 3/4 ranges, "));
}

#[test]
fn an_error_answer_prints_its_message_and_exits_1() {
    let node = FakeNode::start(|_, _| (404, json!({"error": "keyspace 'nope' does not exist"})));
    let out = node.tess(&["tablestats", "nope.t"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "error: keyspace 'nope' does not exist (HTTP 404)\n");
    assert_eq!(text(&out.stdout), "");
    assert_eq!(node.requests()[0].target, "/v1/tablestats?keyspace=nope&table=t");
}

#[test]
fn an_unreachable_node_is_named() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = tess_at(port, &["info"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("error: cannot reach the admin API at 127.0.0.1:{port}: ")),
        "{stderr}"
    );
}

#[test]
fn bad_options_exit_2_before_asking_the_node() {
    let node = FakeNode::start(|_, _| (200, json!({})));
    for args in [
        &["repair", "-st", "5"][..],
        &["repair", "-st", "x", "-et", "5"],
        &["repair", "--dc", "dc1", "--local"],
        &["repair", "-pr", "-st", "1", "-et", "2"],
        &["tablestats", "ks."],
        &["getendpoints", "ks"],
    ] {
        let out = node.tess(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(!text(&out.stderr).is_empty());
    }
    assert!(node.requests().is_empty(), "{:?}", node.requests());
}

#[test]
fn keys_and_tables_reach_the_node_encoded() {
    let node = FakeNode::start(|req, _| match req.method.as_str() {
        "GET" => (200, json!({"endpoints": ["127.0.0.1", "127.0.0.2"]})),
        _ => (200, json!({"tables": 2, "compactions": 3})),
    });
    let out = node.tess(&["getendpoints", "ks", "my table", "a b:c&d"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "127.0.0.1\n127.0.0.2\n");
    let out = node.tess(&["compact", "ks", "t1", "t2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "Compacted 2 tables in ks (t1, t2): 3 compactions\n");
    let requests = node.requests();
    assert_eq!(requests[0].target.split('?').next(), Some("/v1/endpoints/ks/my table"));
    assert_eq!(query_param(&requests[0].raw, "key").as_deref(), Some("a b:c&d"));
    assert_eq!(requests[1].method, "POST");
    assert_eq!(requests[1].target.split('?').next(), Some("/v1/compact"));
    assert_eq!(query_param(&requests[1].raw, "keyspace").as_deref(), Some("ks"));
    assert_eq!(query_param(&requests[1].raw, "tables").as_deref(), Some("t1,t2"));
}
