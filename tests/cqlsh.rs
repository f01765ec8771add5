//! The real `cqlsh` (6.2) against a real node: it connects, creates and queries, prints rows
//! of user and system tables (aliases, DISTINCT, static-only partitions), answers DESCRIBE from
//! the server (table options included), honours `USING CONSISTENCY` over its own CONSISTENCY,
//! and exits with status 2 when a statement fails, running the rest of a `-f` file.
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

fn cqlsh_f(node: &TestNode, file: &std::path::Path) -> Output {
    Command::new(cqlsh())
        .arg(&node.host)
        .arg(node.port.to_string())
        .arg("-f")
        .arg(file)
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
    let o = cqlsh_e(&node, "DROP TABLE system.local;");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("Unauthorized") && out.contains("not user-modifiable"), "{out}");
}

#[test]
fn cqlsh_describe_shows_the_compression_option() {
    let node = TestNode::start();
    let o = cqlsh_e(
        &node,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}; \
         CREATE TABLE ks.t (k int PRIMARY KEY, v text) WITH compression = \
         {'class': 'org.apache.cassandra.io.compress.LZ4Compressor', 'chunk_length_in_kb': '16'};",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let want = "compression = {'chunk_length_in_kb': '16', 'class': 'org.apache.cassandra.io.compress.LZ4Compressor'}";
    let o = cqlsh_e(&node, "DESCRIBE TABLE ks.t;");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains(want), "{out}");
    let o = cqlsh_e(
        &node,
        "ALTER TABLE ks.t WITH compression = {'class': 'LZ4Compressor', 'chunk_length_in_kb': 8}; \
         SELECT compression FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = 't';",
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("'chunk_length_in_kb': '8'") && out.contains("(1 rows)"), "{out}");
    // Recorded, with a warning that SSTables stay LZ4-compressed.
    let o = cqlsh_e(&node, "ALTER TABLE ks.t WITH compression = {'enabled': 'false'};");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("recorded but not applied"), "{out}");
    let o = cqlsh_e(&node, "ALTER TABLE ks.t WITH compression = {'class': 'NoSuchCompressor'};");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("ConfigurationException") && out.contains("NoSuchCompressor"), "{out}");
}

#[test]
fn cqlsh_prints_aliases_distinct_and_static_only_partitions() {
    let node = TestNode::start();
    let o = cqlsh_e(
        &node,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}; \
         CREATE TABLE ks.t (k int, c int, v text, s text static, PRIMARY KEY (k, c)); \
         INSERT INTO ks.t (k, s) VALUES (1, 'alone'); \
         INSERT INTO ks.t (k, c, v) VALUES (2, 1, 'x'); \
         INSERT INTO ks.t (k, c, v) VALUES (2, 2, 'y');",
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = cqlsh_e(&node, "SELECT k AS key, c AS clustering, s AS shared FROM ks.t WHERE k = 1;");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains(" key | clustering | shared"), "{out}");
    assert!(out.contains("   1 |       null |  alone") && out.contains("(1 rows)"), "{out}");
    let o = cqlsh_e(&node, "SELECT DISTINCT k, s FROM ks.t;");
    let out = text(&o);
    assert!(out.contains(" 1 | alone") && out.contains(" 2 |  null") && out.contains("(2 rows)"), "{out}");
    // CONSISTENCY THREE alone fails on RF 1; USING CONSISTENCY ONE in the statement wins.
    let o = cqlsh_e(&node, "CONSISTENCY THREE; SELECT c FROM ks.t WHERE k = 2 USING CONSISTENCY ONE;");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("(2 rows)"), "{out}");
    let o = cqlsh_e(&node, "CONSISTENCY THREE; SELECT c FROM ks.t WHERE k = 2;");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("3 replicas required, 1 alive"), "{}", text(&o));
}

#[test]
fn cqlsh_file_with_a_failing_statement_exits_2_and_runs_the_others() {
    let node = TestNode::start();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.cql");
    std::fs::write(
        &f,
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};\n\
         CREATE TABLE ks.t (k int PRIMARY KEY, v text);\n\
         INSERT INTO ks.t (k, v) VALUES (1, 'before');\n\
         INSERT INTO ks.missing (k, v) VALUES (2, 'fails');\n\
         INSERT INTO ks.t (k, v) VALUES (3, 'after');\n",
    )
    .unwrap();
    let o = cqlsh_f(&node, &f);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("missing"), "{}", text(&o));
    let o = cqlsh_e(&node, "SELECT k, v FROM ks.t;");
    let out = text(&o);
    assert!(out.contains("before") && out.contains("after") && out.contains("(2 rows)"), "{out}");
}
