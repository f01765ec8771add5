//! Repair on a real three-node cluster (RF 3, hints off, node 3 down while writes go on at
//! QUORUM): how long a full repair takes, how many bytes it streams against the bytes that
//! really differed (overstreaming), and what it fetched to find them, per kind of difference:
//!
//! - `missing partitions`: whole partitions node 3 never saw;
//! - `rows in wide partitions`: one new row in each of many 100-row partitions;
//! - `overwritten cells`: rows node 3 holds in an older version, same size;
//! - `incremental`: after the tables are marked repaired, new partitions node 3 missed.
//!
//! `cargo bench --bench repair` (`TESSERA_BENCH_ROWS` sets the size, 20000 by default). Node
//! processes are the release build of `tessera`; they listen on 127.0.51.1-3.
#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::TestCluster;
use cql::Consistency;
use serde_json::json;
use std::time::{Duration, Instant};
use tools::shell::Client;

const VALUE: &str =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Runs statements in unlogged batches of 100 at `cl`.
fn write(c: &mut Client, statements: impl Iterator<Item = String>, cl: Consistency) {
    let all: Vec<String> = statements.collect();
    for chunk in all.chunks(100) {
        let batch = format!("BEGIN UNLOGGED BATCH\n{}\nAPPLY BATCH", chunk.join(";\n"));
        c.query(&batch, cl, None, None).unwrap();
    }
}

struct Outcome {
    scenario: &'static str,
    differing_rows: usize,
    report: serde_json::Value,
    took: Duration,
}

fn repair(
    c: &TestCluster,
    scenario: &'static str,
    differing_rows: usize,
    options: serde_json::Value,
) -> Outcome {
    let started = Instant::now();
    let report = c.repair(0, options);
    let took = started.elapsed();
    assert_eq!(report["state"], "done", "{report}");
    Outcome { scenario, differing_rows, report, took }
}

fn flush(c: &TestCluster) {
    for n in &c.nodes {
        n.admin_post("/v1/flush?keyspace=ks", "");
    }
}

fn main() {
    let rows: usize = std::env::var("TESSERA_BENCH_ROWS").ok().and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let wide_partitions = (rows / 100).max(1);
    let layout = [("dc1", "rack1"), ("dc1", "rack1"), ("dc1", "rack1")];
    let mut c = TestCluster::start(51, &layout, "hinted_handoff_enabled: false\n");
    let mut client = Client::connect(&c.nodes[0].host, c.nodes[0].port).unwrap();
    for ddl in [
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
        "CREATE TABLE ks.narrow (k int PRIMARY KEY, v text)",
        "CREATE TABLE ks.wide (p int, c int, v text, PRIMARY KEY (p, c))",
        "CREATE TABLE ks.updated (k int PRIMARY KEY, v text)",
    ] {
        client.query(ddl, Consistency::One, None, None).unwrap();
    }
    // Every node has the schema once a write at ALL succeeds on each table.
    let deadline = Instant::now() + Duration::from_secs(60);
    while ["narrow", "updated"].iter().any(|t| {
        client
            .query(&format!("INSERT INTO ks.{t} (k, v) VALUES (-1, 'x')"), Consistency::All, None, None)
            .is_err()
    }) || client
        .query("INSERT INTO ks.wide (p, c, v) VALUES (-1, 0, 'x')", Consistency::All, None, None)
        .is_err()
    {
        assert!(Instant::now() < deadline, "the schema never reached every node");
        std::thread::sleep(Duration::from_millis(200));
    }

    // What every replica has.
    let wide = (0..wide_partitions).flat_map(|p| (0..100).map(move |r| (p, r)));
    write(
        &mut client,
        wide.map(|(p, r)| format!("INSERT INTO ks.wide (p, c, v) VALUES ({p}, {r}, '{VALUE}')")),
        Consistency::All,
    );
    write(
        &mut client,
        (0..rows).map(|k| format!("INSERT INTO ks.updated (k, v) VALUES ({k}, 'old-{VALUE}')")),
        Consistency::All,
    );

    // What node 3 misses.
    c.nodes[2].kill9();
    c.wait_state(0, 2, false);
    write(
        &mut client,
        (0..rows).map(|k| format!("INSERT INTO ks.narrow (k, v) VALUES ({k}, '{VALUE}')")),
        Consistency::Quorum,
    );
    write(
        &mut client,
        (0..wide_partitions).map(|p| format!("INSERT INTO ks.wide (p, c, v) VALUES ({p}, 1000, '{VALUE}')")),
        Consistency::Quorum,
    );
    write(
        &mut client,
        (0..rows).map(|k| format!("INSERT INTO ks.updated (k, v) VALUES ({k}, 'new-{VALUE}')")),
        Consistency::Quorum,
    );
    c.nodes[2].start_again();
    c.wait_all_up(0);
    flush(&c);

    let mut outcomes = vec![
        repair(
            &c,
            "missing partitions",
            rows,
            json!({ "keyspace": "ks", "tables": ["narrow"], "full": true }),
        ),
        repair(
            &c,
            "rows in wide partitions",
            wide_partitions,
            json!({ "keyspace": "ks", "tables": ["wide"], "full": true }),
        ),
        repair(
            &c,
            "overwritten cells",
            rows,
            json!({ "keyspace": "ks", "tables": ["updated"], "full": true }),
        ),
    ];
    // Incremental: the first run marks everything repaired; the second reads only new data.
    repair(&c, "first incremental", 0, json!({ "keyspace": "ks", "tables": ["narrow"] }));
    c.nodes[2].kill9();
    c.wait_state(0, 2, false);
    let fresh = rows / 10;
    write(
        &mut client,
        (rows..rows + fresh).map(|k| format!("INSERT INTO ks.narrow (k, v) VALUES ({k}, '{VALUE}')")),
        Consistency::Quorum,
    );
    c.nodes[2].start_again();
    c.wait_all_up(0);
    flush(&c);
    outcomes.push(repair(&c, "incremental", fresh, json!({ "keyspace": "ks", "tables": ["narrow"] })));

    println!("\n{rows} rows; three nodes, RF 3; node 3 missed the differing rows\n");
    println!(
        "| scenario | rows differing | bytes differing | bytes streamed | overstreaming | bytes fetched | repair time |"
    );
    println!("|---|---|---|---|---|---|---|");
    for o in &outcomes {
        let r = &o.report;
        let (streamed, differing) =
            (r["bytes_streamed"].as_u64().unwrap(), r["bytes_differing"].as_u64().unwrap());
        println!(
            "| {} | {} | {} | {} | {:.2} | {} | {:.2} s |",
            o.scenario,
            o.differing_rows,
            differing,
            streamed,
            streamed as f64 / differing.max(1) as f64,
            r["bytes_fetched"],
            o.took.as_secs_f64()
        );
    }
}
