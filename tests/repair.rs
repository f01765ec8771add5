//! Repair on real clusters (three nodes, RF 3, hints off so that a node that was down really
//! misses writes): full repair heals it, measuring overstreaming; incremental repair then
//! streams only new data and marks what it repaired; preview counts mismatches before and
//! none after; subrange and primary-range repairs cover exactly their ranges; a replica down
//! fails the session with its name; a session interrupted by a killed node marks nothing.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestCluster;
use serde_json::json;
use std::process::Command;

const SIMPLE3: &str =
    "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}";
const TABLE: &str = "CREATE TABLE ks.t (k int PRIMARY KEY, v text)";

/// Three nodes, `ks.t`, and node 2 missing rows [lo, hi) written while it was down.
fn cluster_with_a_stale_node(block: u8, lo: u32, hi: u32) -> TestCluster {
    let mut c = TestCluster::start(
        block,
        &[("dc1", "rack1"), ("dc1", "rack1"), ("dc1", "rack1")],
        "hinted_handoff_enabled: false\n",
    );
    c.run("cluster_e2e.py", &["ddl", "0", SIMPLE3, TABLE]);
    miss_writes(&mut c, lo, hi);
    c
}

/// Writes rows [lo, hi) at QUORUM while node 2 is down.
fn miss_writes(c: &mut TestCluster, lo: u32, hi: u32) {
    c.nodes[2].kill9();
    c.wait_state(0, 2, false);
    c.run("cluster_e2e.py", &["write", "0", "QUORUM", "ks.t", &lo.to_string(), &hi.to_string()]);
    c.nodes[2].start_again();
    c.wait_all_up(0);
    c.wait_all_up(2);
}

/// `[k, token]` of the rows node `i` holds (read at ONE through itself).
fn tokens_on(c: &TestCluster, i: usize) -> Vec<(i64, i64)> {
    let out = c.run("cluster_e2e.py", &["tokens", &i.to_string(), "ONE", "ks.t"]);
    let line = out.lines().find_map(|l| l.strip_prefix("TOKENS ")).unwrap();
    serde_json::from_str::<Vec<(i64, i64)>>(line).unwrap()
}

fn percent_repaired(c: &TestCluster, i: usize) -> f64 {
    let s: serde_json::Value =
        serde_json::from_str(&c.nodes[i].admin_get("/v1/tablestats?keyspace=ks&table=t")).unwrap();
    s["keyspaces"][0]["tables"][0]["percent_repaired"].as_f64().unwrap()
}

/// A figure of `ks.t` in node `i`'s tablestats.
fn table_stat(c: &TestCluster, i: usize, name: &str) -> u64 {
    let s: serde_json::Value =
        serde_json::from_str(&c.nodes[i].admin_get("/v1/tablestats?keyspace=ks&table=t")).unwrap();
    s["keyspaces"][0]["tables"][0][name].as_u64().unwrap_or_else(|| panic!("no {name}: {s}"))
}

fn flush_all(c: &TestCluster) {
    for n in &c.nodes {
        n.admin_post("/v1/flush?keyspace=ks", "");
    }
}

#[test]
fn full_then_incremental_repair_heal_a_node_that_missed_writes() {
    let mut c = cluster_with_a_stale_node(21, 0, 3000);
    c.run("cluster_e2e.py", &["count", "2", "ONE", "ks.t", "0"]);
    let p = c.repair(0, json!({ "keyspace": "ks", "full": true }));
    assert_eq!(p["state"], "done", "{p}");
    c.run("cluster_e2e.py", &["count", "2", "ONE", "ks.t", "3000"]);
    assert_eq!(p["partitions_streamed"], 3000, "only the missing partitions go to node 2: {p}");
    assert_eq!(p["partitions_validated"], 6000, "a full repair reads everything (node 2 had nothing): {p}");
    let (sent, differing) = (p["bytes_streamed"].as_f64().unwrap(), p["bytes_differing"].as_f64().unwrap());
    assert!(differing > 0.0 && sent / differing <= 2.0, "overstreaming {} ({p})", sent / differing);

    // Incremental: the first run marks everything repaired (nothing differs now)...
    flush_all(&c);
    let p = c.repair(0, json!({ "keyspace": "ks" }));
    assert_eq!((p["state"].as_str(), p["partitions_streamed"].as_u64()), (Some("done"), Some(0)), "{p}");
    for i in 0..3 {
        assert_eq!(percent_repaired(&c, i), 100.0, "node {i}");
    }
    // A preview of unrepaired data now has nothing to read; with --full it reads everything.
    let p = c.repair(0, json!({ "keyspace": "ks", "preview": true }));
    assert_eq!(
        (p["partitions_validated"].as_u64(), p["mismatched_ranges"].as_u64()),
        (Some(0), Some(0)),
        "{p}"
    );
    let p = c.repair(0, json!({ "keyspace": "ks", "preview": true, "full": true }));
    assert_eq!(
        (p["partitions_validated"].as_u64(), p["mismatched_ranges"].as_u64()),
        (Some(9000), Some(0)),
        "{p}"
    );
    // ...and the next one reads only what came after: 200 new rows node 2 missed.
    miss_writes(&mut c, 3000, 3200);
    flush_all(&c);
    let p = c.repair(0, json!({ "keyspace": "ks" }));
    assert_eq!(p["state"], "done", "{p}");
    assert_eq!(p["partitions_streamed"], 200, "only the new data is streamed: {p}");
    assert_eq!(p["partitions_validated"], 400, "only unrepaired data is read (200 rows on two nodes): {p}");
    c.run("cluster_e2e.py", &["count", "2", "ONE", "ks.t", "3200"]);
    for i in 0..3 {
        assert_eq!(percent_repaired(&c, i), 100.0, "node {i}");
    }
}

#[test]
fn preview_reports_mismatches_before_and_none_after() {
    let c = cluster_with_a_stale_node(22, 0, 500);
    let n = &c.nodes[0];
    let tess = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tess"))
            .args(["--host", &n.host, "--port", &n.admin_port.to_string()])
            .args(args)
            .output()
            .unwrap();
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "tess {args:?}: {text}");
        text
    };
    let before = tess(&["repair", "--preview", "ks"]);
    let line =
        before.lines().find(|l| l.ends_with("mismatched ranges")).unwrap_or_else(|| panic!("{before}"));
    let count: u32 = line.split_whitespace().next().unwrap().parse().unwrap();
    assert!(count > 0, "{before}");
    // Preview streams nothing.
    c.run("cluster_e2e.py", &["count", "2", "ONE", "ks.t", "0"]);
    tess(&["repair", "--full", "ks"]);
    let after = tess(&["repair", "--preview", "ks"]);
    assert!(after.lines().any(|l| l == "0 mismatched ranges"), "{after}");
}

#[test]
fn subrange_and_primary_range_repairs_cover_exactly_their_ranges() {
    let c = cluster_with_a_stale_node(23, 0, 1000);
    let all = tokens_on(&c, 0);
    assert_eq!(all.len(), 1000);
    // A subrange: (-2^62, 2^62].
    let (st, et) = (-(1i64 << 62), 1i64 << 62);
    let p = c.repair(
        0,
        json!({ "keyspace": "ks", "full": true, "start_token": st.to_string(), "end_token": et.to_string() }),
    );
    assert_eq!(p["state"], "done", "{p}");
    let inside = |t: i64| t > st && t <= et;
    let mut healed: Vec<i64> = tokens_on(&c, 2).into_iter().map(|(_, t)| t).collect();
    healed.sort_unstable();
    let mut want: Vec<i64> = all.iter().map(|(_, t)| *t).filter(|t| inside(*t)).collect();
    want.sort_unstable();
    assert_eq!(healed, want, "the subrange repair healed exactly the keys inside it");

    // Primary ranges of node 1: the ranges whose first replica it is.
    let ring: serde_json::Value = serde_json::from_str(&c.nodes[1].admin_get("/v1/describering/ks")).unwrap();
    let host1 = c.nodes[1].host.clone();
    let primary: Vec<(i64, i64)> = ring["ranges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["endpoints"][0] == host1.as_str())
        .map(|r| {
            (
                r["start_token"].as_str().unwrap().parse().unwrap(),
                r["end_token"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    let in_primary =
        |t: i64| primary.iter().any(|&(s, e)| if s < e { t > s && t <= e } else { t > s || t <= e });
    let p = c.repair(1, json!({ "keyspace": "ks", "full": true, "primary_range": true }));
    assert_eq!(p["state"], "done", "{p}");
    let mut healed: Vec<i64> = tokens_on(&c, 2).into_iter().map(|(_, t)| t).collect();
    healed.sort_unstable();
    let mut want: Vec<i64> = all.iter().map(|(_, t)| *t).filter(|t| inside(*t) || in_primary(*t)).collect();
    want.sort_unstable();
    assert_eq!(healed, want, "the primary-range repair added exactly node 1's primary ranges");
}

#[test]
fn repair_fails_naming_a_replica_that_is_down_and_an_interrupted_one_marks_nothing() {
    let mut c = cluster_with_a_stale_node(24, 0, 2000);
    c.nodes[1].kill9();
    c.wait_state(0, 1, false);
    let n = &c.nodes[0];
    let out = Command::new(env!("CARGO_BIN_EXE_tess"))
        .args(["--host", &n.host, "--port", &n.admin_port.to_string(), "repair", "ks"])
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "{text}");
    assert!(text.contains(&c.nodes[1].host) && text.contains("down"), "{text}");
    c.nodes[1].start_again();
    c.wait_all_up(0);
    flush_all(&c);

    // An incremental session, and node 1 killed while it runs.
    let started: serde_json::Value =
        serde_json::from_str(&c.nodes[0].admin_post("/v1/repair", &json!({ "keyspace": "ks" }).to_string()))
            .unwrap();
    c.nodes[1].kill9();
    let id = started["id"].as_str().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let p = loop {
        let p: serde_json::Value =
            serde_json::from_str(&c.nodes[0].admin_get(&format!("/v1/repair/{id}"))).unwrap();
        if p["state"] != "running" {
            break p;
        }
        assert!(std::time::Instant::now() < deadline, "{p}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(p["state"], "failed", "the session outlived its replica: {p}");
    assert!(p["error"].as_str().unwrap().contains(&c.nodes[1].host), "the error names the dead replica: {p}");
    // The session fails on the broken connection, before gossip convicts the node.
    c.wait_state(0, 1, false);
    c.nodes[1].start_again();
    c.wait_all_up(0);
    for i in 0..3 {
        let (repaired, pending) =
            (table_stat(&c, i, "repaired_bytes"), table_stat(&c, i, "pending_repair_bytes"));
        assert_eq!((repaired, pending), (0, 0), "node {i} kept data marked by a failed session");
    }
    // Re-running it is safe and completes.
    let p = c.repair(0, json!({ "keyspace": "ks" }));
    assert_eq!(p["state"], "done", "{p}");
    c.run("cluster_e2e.py", &["count", "2", "ONE", "ks.t", "2000"]);
}

#[test]
fn rows_missing_from_a_wide_partition_are_all_that_is_streamed() {
    let value = "x".repeat(100);
    let rows = |lo: u32, hi: u32| {
        let inserts: Vec<String> =
            (lo..hi).map(|c| format!("INSERT INTO ks.w (p, c, v) VALUES (1, {c}, '{value}')")).collect();
        format!("BEGIN UNLOGGED BATCH\n{}\nAPPLY BATCH", inserts.join(";\n"))
    };
    let mut c = TestCluster::start(
        25,
        &[("dc1", "rack1"), ("dc1", "rack1"), ("dc1", "rack1")],
        "hinted_handoff_enabled: false\n",
    );
    let wide = "CREATE TABLE ks.w (p int, c int, v text, PRIMARY KEY (p, c))";
    let batches: Vec<String> = (0..8).map(|b| rows(b * 250, (b + 1) * 250)).collect();
    let mut ddl = vec!["ddl", "0", SIMPLE3, wide];
    ddl.extend(batches.iter().map(String::as_str));
    c.run("cluster_e2e.py", &ddl);
    c.nodes[2].kill9();
    c.wait_state(0, 2, false);
    c.run("cluster_e2e.py", &["ddl", "0", &rows(5000, 5100)]);
    c.nodes[2].start_again();
    c.wait_all_up(0);
    flush_all(&c);

    let p = c.repair(0, json!({ "keyspace": "ks", "full": true }));
    assert_eq!(p["state"], "done", "{p}");
    assert_eq!(p["partitions_streamed"], 1, "{p}");
    let (sent, differing) = (p["bytes_streamed"].as_u64().unwrap(), p["bytes_differing"].as_u64().unwrap());
    // 100 rows of about 110 bytes differ in a partition of 2,100 rows.
    assert!((10_000..20_000).contains(&differing), "{p}");
    assert!(sent as f64 / differing as f64 <= 1.5, "overstreaming {} ({p})", sent as f64 / differing as f64);
    let p = c.repair(0, json!({ "keyspace": "ks", "preview": true, "full": true }));
    assert_eq!(p["mismatched_ranges"], 0, "{p}");
}

#[test]
fn local_and_dc_repairs_sync_only_the_replicas_of_that_datacenter() {
    let layout = [("dc1", "rack1"), ("dc1", "rack1"), ("dc2", "rack1"), ("dc2", "rack1")];
    let mut c = TestCluster::start(26, &layout, "hinted_handoff_enabled: false\n");
    let nts =
        "CREATE KEYSPACE ks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 2}";
    c.run("cluster_e2e.py", &["ddl", "0", nts, TABLE]);
    // Node 4 (dc2) misses 300 rows; every other node holds them.
    c.nodes[3].kill9();
    c.wait_state(0, 3, false);
    c.run("cluster_e2e.py", &["write", "0", "LOCAL_QUORUM", "ks.t", "0", "300"]);
    c.nodes[3].start_again();
    c.wait_all_up(0);
    c.wait_all_up(3);

    // --local on node 1 compares dc1's replicas only: they agree, node 4 stays stale.
    let p = c.repair(0, json!({ "keyspace": "ks", "full": true, "local": true }));
    assert_eq!((p["state"].as_str(), p["partitions_streamed"].as_u64()), (Some("done"), Some(0)), "{p}");
    c.run("cluster_e2e.py", &["count", "3", "ONE", "ks.t", "0"]);
    // --dc dc2 from node 1 syncs dc2's replicas (and node 1, which runs it).
    let p = c.repair(0, json!({ "keyspace": "ks", "full": true, "dc": "dc2" }));
    assert_eq!(p["state"], "done", "{p}");
    assert_eq!(p["partitions_streamed"], 300, "{p}");
    c.run("cluster_e2e.py", &["count", "3", "ONE", "ks.t", "300"]);
    // An unknown datacenter is refused by name, and so is an incremental repair of one
    // datacenter: it would mark data repaired that other replicas were never compared with.
    let refused = |options: serde_json::Value, needle: &str| {
        let (status, body) = c.nodes[0].admin("POST", "/v1/repair", Some(&options.to_string()));
        assert_eq!(status, 400, "{body}");
        assert!(body.contains(needle), "{body}");
    };
    refused(json!({ "keyspace": "ks", "full": true, "dc": "dc9" }), "dc9");
    refused(json!({ "keyspace": "ks", "dc": "dc2" }), "--full");
    refused(json!({ "keyspace": "ks", "local": true }), "--full");
}
