//! `tess shell` against a real node: `-e` and `-f` run statements and print aligned tables,
//! DESCRIBE comes from the server, CONSISTENCY applies to the statements after it, and a
//! failing statement prints one clear line and makes the exit status 2.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestNode;
use std::process::{Command, Output};

fn tess(node: &TestNode, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tess"))
        .arg("shell")
        .arg(&node.host)
        .arg(node.port.to_string())
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn execute_prints_tables_and_describe() {
    let node = TestNode::start();
    let o = tess(
        &node,
        &[
            "-e",
            "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}; \
             CREATE TABLE ks.t (k int, c text, v list<int>, PRIMARY KEY (k, c)); \
             INSERT INTO ks.t (k, c, v) VALUES (1, 'a', [1, 2]); \
             INSERT INTO ks.t (k, c, v) VALUES (1, 'b', null); \
             SELECT * FROM ks.t WHERE k = 1;",
        ],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains(" k | c | v"), "{out}");
    assert!(out.contains("[1, 2]") && out.contains("null") && out.contains("(2 rows)"), "{out}");

    let o = tess(&node, &["-e", "DESCRIBE TABLE ks.t"]);
    assert!(text(&o).contains("CREATE TABLE ks.t ("), "{}", text(&o));
    let o = tess(&node, &["-k", "ks", "-e", "EXPAND ON; SELECT c FROM t WHERE k = 1 AND c = 'a'"]);
    assert!(text(&o).contains("@ Row 1"), "{}", text(&o));
}

#[test]
fn a_failing_statement_exits_2_with_the_servers_message() {
    let node = TestNode::start();
    let o = tess(&node, &["-e", "SELECT * FROM missing.t"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("code=2200"), "{}", text(&o));
    let o = tess(
        &node,
        &[
            "-e",
            "CONSISTENCY TWO; SELECT * FROM system_schema.keyspaces; CREATE KEYSPACE k2 WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}; CONSISTENCY TWO; INSERT INTO k2.nope (a) VALUES (1)",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn file_runs_a_script_and_connection_failure_exits_1() {
    let node = TestNode::start();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.cql");
    std::fs::write(
        &f,
        "-- a comment; with a semicolon\nCREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};\n\
         CREATE TABLE ks.t (k int PRIMARY KEY, v text);\nINSERT INTO ks.t (k, v) VALUES (1, 'x;y');\nSELECT v FROM ks.t;\n",
    )
    .unwrap();
    let o = tess(&node, &["-f", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("x;y"), "{}", text(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_tess"))
        .args(["shell", "127.0.0.1", "1", "-e", "SELECT 1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}
