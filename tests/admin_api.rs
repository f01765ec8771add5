//! `tess`'s nodetool-style commands and the Prometheus metrics against a real two-node cluster
//! (127.0.41.x): what each command prints about real data, that operations succeed and change
//! what tablestats shows, that errors name the problem and exit non-zero, and that `/metrics`
//! counts requests per consistency level and table, and unavailable errors.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestCluster, TestNode};
use std::process::Command;

/// Runs `tess --host H --port P args`: success and everything printed.
fn tess(n: &TestNode, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tess"))
        .args(["--host", &n.host, "--port", &n.admin_port.to_string()])
        .args(args)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn ok(n: &TestNode, args: &[&str]) -> String {
    let (success, text) = tess(n, args);
    assert!(success, "tess {args:?} failed: {text}");
    text
}

fn fails(n: &TestNode, args: &[&str]) -> String {
    let (success, text) = tess(n, args);
    assert!(!success, "tess {args:?} should fail: {text}");
    text
}

/// The value after `label:` on the first line that has it.
fn field<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label).and_then(|r| r.trim_start().strip_prefix(':')))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no '{label}' in:\n{text}"))
}

/// The value of the Prometheus sample `name{labels}` (0 when absent).
fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series).and_then(|r| r.strip_prefix(' ')))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[test]
fn tess_commands_and_metrics_on_a_real_cluster() {
    let mut c = TestCluster::start(41, &[("dc1", "rack1"), ("dc1", "rack2")], "");
    c.run(
        "cluster_e2e.py",
        &[
            "ddl",
            "0",
            "CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2}",
            "CREATE TABLE ks.t (k int PRIMARY KEY, v text)",
        ],
    );
    c.run("cluster_e2e.py", &["write", "0", "ONE", "ks.t", "0", "300"]);
    c.run("cluster_e2e.py", &["read", "0", "QUORUM", "ks.t", "100", "300"]);
    c.run("cluster_e2e.py", &["delete", "0", "ALL", "ks.t", "0", "100"]);
    let (n0, n1) = (&c.nodes[0], &c.nodes[1]);

    // info and the ring.
    let info = ok(n0, &["info"]);
    assert_eq!(field(&info, "Address"), n0.host, "{info}");
    assert_eq!((field(&info, "Data Center"), field(&info, "Rack")), ("dc1", "rack1"), "{info}");
    assert_eq!(field(&info, "Native Transport active"), "true", "{info}");
    let ring = ok(n0, &["ring"]);
    for n in &c.nodes {
        assert!(ring.lines().filter(|l| l.contains(&n.host)).count() >= 8, "{} owns tokens:\n{ring}", n.host);
    }
    let described = ok(n0, &["describering", "ks"]);
    assert!(described.contains("TokenRange(") && described.contains(&n1.host), "{described}");
    let endpoints = ok(n0, &["getendpoints", "ks", "t", "42"]);
    let mut hosts: Vec<&str> = endpoints.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    hosts.sort_unstable();
    assert_eq!(hosts, [n0.host.as_str(), n1.host.as_str()], "RF 2 on two nodes: both replicate every key");

    // Operations change what tablestats shows.
    ok(n0, &["flush", "ks"]);
    let stats = ok(n0, &["tablestats", "ks.t"]);
    assert_eq!(field(&stats, "Table"), "t", "{stats}");
    assert_eq!(field(&stats, "Memtable partition count"), "0", "flushed: {stats}");
    assert_eq!(field(&stats, "Number of partitions (estimate)"), "300", "{stats}");
    assert_eq!(field(&stats, "Tombstones (estimate)"), "100", "{stats}");
    assert_eq!(field(&stats, "Droppable tombstones (estimate)"), "0", "gc_grace is ten days: {stats}");
    assert_eq!(field(&stats, "Local write count"), "400", "300 inserts and 100 deletes: {stats}");
    assert_eq!(field(&stats, "Local read count"), "200", "{stats}");
    assert_eq!(field(&stats, "Percent repaired"), "0.0", "{stats}");
    ok(n0, &["flush", "ks", "t"]);
    c.run("cluster_e2e.py", &["write", "0", "ONE", "ks.t", "300", "310"]);
    ok(n0, &["flush"]);
    ok(n0, &["compact", "ks", "t"]);
    let stats = ok(n0, &["tablestats", "ks"]);
    assert_eq!(field(&stats, "SSTable count"), "1", "compacted: {stats}");
    assert_eq!(field(&stats, "Number of partitions (estimate)"), "310", "{stats}");
    ok(n0, &["garbagecollect", "ks", "t"]);
    let cleaned = ok(n0, &["cleanup"]);
    assert!(!cleaned.to_lowercase().contains("error"), "{cleaned}");
    c.run("cluster_e2e.py", &["read", "1", "ALL", "ks.t", "100", "310"]);
    c.run("cluster_e2e.py", &["absent", "1", "ALL", "ks.t", "0", "100"]);
    let net = ok(n0, &["netstats"]);
    assert_eq!(field(&net, "Mode"), "NORMAL", "{net}");

    // A keyspace with one replica per range has nothing to repair, and says so.
    c.run(
        "cluster_e2e.py",
        &[
            "ddl",
            "0",
            "CREATE KEYSPACE single WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
            "CREATE TABLE single.t (k int PRIMARY KEY, v text)",
        ],
    );
    let nothing = ok(n0, &["repair", "single"]);
    assert!(nothing.contains("nothing to repair"), "{nothing}");

    // Errors name the problem and exit non-zero.
    assert!(fails(n0, &["tablestats", "nope"]).contains("nope"));
    assert!(fails(n0, &["describering", "nope"]).contains("nope"));
    let unknown = fails(n0, &["getendpoints", "ks", "missing", "1"]);
    assert!(unknown.contains("missing"), "{unknown}");
    let repair = fails(n0, &["repair", "nope"]);
    assert!(repair.contains("nope"), "{repair}");

    // Metrics: per level and table, as Prometheus reads them.
    let m = n0.admin_get("/metrics");
    assert_eq!(
        sample(&m, r#"tessera_requests_total{kind="write",consistency="ONE",table="ks.t"}"#),
        310.0,
        "{m}"
    );
    assert_eq!(
        sample(&m, r#"tessera_requests_total{kind="write",consistency="ALL",table="ks.t"}"#),
        100.0,
        "{m}"
    );
    assert_eq!(
        sample(&m, r#"tessera_requests_total{kind="read",consistency="QUORUM",table="ks.t"}"#),
        200.0,
        "{m}"
    );
    assert_eq!(
        sample(&m, r#"tessera_request_latency_seconds_count{kind="read",consistency="QUORUM",table="ks.t"}"#),
        200.0,
        "{m}"
    );
    assert!(sample(&m, r#"tessera_sstables{table="ks.t"}"#) >= 1.0, "{m}");
    assert!(m.contains("# TYPE tessera_pending_compactions gauge"), "{m}");

    // Drain: node 2 flushes and stops; its peer sees it down, ALL becomes unavailable, and the
    // error is counted; tess against the stopped node names it.
    ok(n1, &["drain"]);
    assert!(c.nodes[1].wait_exit().success(), "a drained node exits cleanly");
    c.wait_state(0, 1, false);
    let host1 = c.nodes[1].host.clone();
    let gone = fails(&c.nodes[1], &["info"]);
    assert!(gone.contains(&host1), "{gone}");
    c.run("cluster_e2e.py", &["levels", "0", "ks.t", "ALL=unavailable/unavailable", "ONE=ok/ok"]);
    let m = c.nodes[0].admin_get("/metrics");
    for kind in ["write", "read"] {
        let series =
            format!(r#"tessera_request_errors_total{{kind="{kind}",consistency="ALL",error="unavailable"}}"#);
        assert_eq!(sample(&m, &series), 1.0, "{m}");
    }
    // The drained node starts again on its data.
    c.nodes[1].start_again();
    c.wait_all_up(0);
    c.run("cluster_e2e.py", &["read", "1", "ONE", "ks.t", "100", "310"]);
}
