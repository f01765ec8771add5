//! The real `cqlsh` (6.2) against a real node: it connects, creates and queries, prints rows
//! of user and system tables, answers DESCRIBE from the server, and exits with status 2 when a
//! statement fails.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestNode, cqlsh};
use std::process::{Command, Output};

fn cqlsh_e(node: &TestNode, stmt: &str) -> Output {
    Command::new(cqlsh())
        .arg(&node.host)
        .arg(node.port.to_string())
        .arg("-e")
        .arg(stmt)
        .env("CQLSH_NO_BUNDLED", "")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn cqlsh_creates_inserts_selects_and_describes() {
    let node = TestNode::start();
    let o = cqlsh_e(
        &node,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}; \
         CREATE TABLE ks.t (k int, c text, v double, PRIMARY KEY (k, c)); \
         INSERT INTO ks.t (k, c, v) VALUES (1, 'a', 1.5); \
         INSERT INTO ks.t (k, c, v) VALUES (1, 'b', 2.5);",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = cqlsh_e(&node, "SELECT * FROM ks.t WHERE k = 1;");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("(2 rows)"), "{out}");
    assert!(out.contains("1.5") && out.contains(" b "), "{out}");

    let o = cqlsh_e(&node, "SELECT cluster_name, release_version FROM system.local;");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("4.1.0") && out.contains("(1 rows)"), "{out}");

    let o = cqlsh_e(&node, "DESCRIBE KEYSPACES;");
    let out = text(&o);
    assert!(out.contains("ks") && out.contains("system_schema"), "{out}");
    let o = cqlsh_e(&node, "DESCRIBE TABLE ks.t;");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("CREATE TABLE ks.t (") && out.contains("PRIMARY KEY (k, c)"), "{out}");
    assert!(out.contains("CLUSTERING ORDER BY (c ASC)"), "{out}");
}

#[test]
fn cqlsh_exits_2_and_names_the_problem_when_a_statement_fails() {
    let node = TestNode::start();
    let o = cqlsh_e(&node, "SELECT * FROM nowhere.t;");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = cqlsh_e(&node, "SELEC * FROM system.local;");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("SyntaxException") || text(&o).contains("Syntax"), "{}", text(&o));
}

#[test]
fn cqlsh_describes_system_tables_and_names_what_is_unsupported() {
    let node = TestNode::start();
    let o = cqlsh_e(&node, "DESCRIBE TABLE system.local;");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("CREATE TABLE system.local (") && out.contains("release_version text"), "{out}");
    let o = cqlsh_e(&node, "DESCRIBE KEYSPACE system_schema;");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("CREATE TABLE system_schema.tables ("), "{out}");

    // cqlsh prints only what follows `message=`: an unsupported construct must say what it is.
    let o = cqlsh_e(&node, "DESCRIBE INDEX system.i;");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("INDEX") && out.contains("not supported"), "{out}");
    let o = cqlsh_e(&node, "INSERT INTO system.local (key) VALUES ('x');");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("Unauthorized") && out.contains("not user-modifiable"), "{out}");
}
