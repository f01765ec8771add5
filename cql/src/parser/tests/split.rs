//! Splitting scripts into statements: semicolons inside strings, `$$` strings, quoted names
//! and comments do not split; batches stay whole; comment-only pieces are dropped; and each
//! piece of a script parses on its own.

use crate::parser::split_statements;

#[test]
fn splits_on_semicolons_outside_quotes_and_comments() {
    let script = "USE ks;\n\
                  INSERT INTO t (k, v) VALUES (1, 'a;b');\n\
                  INSERT INTO t (k, v) VALUES (2, $$c;d$$); -- trailing; comment\n\
                  /* block; comment */ SELECT \"odd;name\" FROM t;\n\
                  // only a comment;\n";
    assert_eq!(
        split_statements(script),
        vec![
            "USE ks",
            "INSERT INTO t (k, v) VALUES (1, 'a;b')",
            "INSERT INTO t (k, v) VALUES (2, $$c;d$$)",
            "SELECT \"odd;name\" FROM t",
        ]
    );
}

#[test]
fn keeps_batches_whole() {
    let script = "begin unlogged batch\n  insert into t (k) values (1);\n  delete from t where k = 2;\napply batch;\n\
                  SELECT * FROM t";
    assert_eq!(
        split_statements(script),
        vec![
            "begin unlogged batch\n  insert into t (k) values (1);\n  delete from t where k = 2;\napply batch",
            "SELECT * FROM t",
        ]
    );
    // A string that mentions APPLY BATCH does not end the batch.
    let script = "BEGIN BATCH INSERT INTO t (k, v) VALUES (1, 'APPLY BATCH;'); APPLY BATCH; USE ks;";
    assert_eq!(
        split_statements(script),
        vec!["BEGIN BATCH INSERT INTO t (k, v) VALUES (1, 'APPLY BATCH;'); APPLY BATCH", "USE ks"]
    );
}

#[test]
fn edge_cases() {
    assert!(split_statements("").is_empty());
    assert!(split_statements("  ;; -- nothing\n ; /* x */").is_empty());
    assert_eq!(split_statements("SELECT 'it''s;' FROM t"), vec!["SELECT 'it''s;' FROM t"]);
    assert_eq!(
        split_statements("SELECT * FROM t WHERE k = 'open;"),
        vec!["SELECT * FROM t WHERE k = 'open;"]
    );
    assert_eq!(split_statements("a -- x\n b; c"), vec!["a -- x\n b", "c"]);
    assert_eq!(split_statements("SELECT 'é;' FROM t;ü"), vec!["SELECT 'é;' FROM t", "ü"]);
    // Every split statement parses on its own.
    let script = "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};\n\
                  CREATE TABLE ks.t (k int PRIMARY KEY, v text);\n\
                  BEGIN BATCH INSERT INTO ks.t (k, v) VALUES (1, 'x;y'); APPLY BATCH;";
    let parts = split_statements(script);
    assert_eq!(parts.len(), 3);
    for p in parts {
        crate::parser::parse_statement(&p).unwrap();
    }
}
