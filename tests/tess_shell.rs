//! `tess shell` against a real node: `-e` and `-f` run statements and print aligned tables,
//! DESCRIBE comes from the server, CONSISTENCY applies to the statements after it, and a
//! failing statement prints one clear line and makes the exit status 2 (the rest of a `-f` file
//! still runs). PAGING and SOURCE behave as in cqlsh. With stdin not a terminal the line editor
//! reads plain lines, so an interactive session can be driven through a pipe: paging stops at
//! each page, and the session's statements are appended to `$HOME/.tess_history`.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestNode;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn tess(node: &TestNode, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tess"))
        .arg("shell")
        .arg(&node.host)
        .arg(node.port.to_string())
        .args(args)
        .output()
        .unwrap()
}

/// Runs an interactive session (no `-e` or `-f`) with `input` on stdin and `home` as `$HOME`.
fn tess_interactive(node: &TestNode, home: &Path, input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tess"))
        .arg("shell")
        .arg(&node.host)
        .arg(node.port.to_string())
        .env("HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Dropping stdin after the input ends the session even if it waits for more.
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A keyspace `ks` with a table `t` holding rows (1, 1) .. (1, 5).
fn five_rows(node: &TestNode) {
    let o = tess(
        node,
        &[
            "-e",
            "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}; \
             CREATE TABLE ks.t (k int, c int, PRIMARY KEY (k, c)); \
             BEGIN BATCH INSERT INTO ks.t (k, c) VALUES (1, 1); INSERT INTO ks.t (k, c) VALUES (1, 2); \
             INSERT INTO ks.t (k, c) VALUES (1, 3); INSERT INTO ks.t (k, c) VALUES (1, 4); \
             INSERT INTO ks.t (k, c) VALUES (1, 5); APPLY BATCH",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
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

#[test]
fn file_with_a_failing_statement_exits_2_and_runs_the_others() {
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
    let o = tess(&node, &["-f", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unconfigured table missing"), "{}", text(&o));
    let o = tess(&node, &["-e", "SELECT k, v FROM ks.t"]);
    let out = text(&o);
    assert!(out.contains("before") && out.contains("after") && out.contains("(2 rows)"), "{out}");
    // A syntax error counts the same.
    std::fs::write(&f, "SELEC * FROM ks.t;\nINSERT INTO ks.t (k, v) VALUES (4, 'still');\n").unwrap();
    let o = tess(&node, &["-f", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("SELEC"), "{}", text(&o));
    let o = tess(&node, &["-e", "SELECT v FROM ks.t WHERE k = 4"]);
    assert!(text(&o).contains("still"), "{}", text(&o));
}

#[test]
fn paging_command_reports_sets_and_refuses_bad_sizes() {
    let node = TestNode::start();
    five_rows(&node);
    let o = tess(
        &node,
        &[
            "-e",
            "PAGING; PAGING OFF; PAGING; PAGING 2; PAGING; PAGING ON; PAGING; PAGING 2; SELECT c FROM ks.t",
        ],
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let want = [
        "Query paging is currently enabled. Page size: 100",
        "Disabled Query paging.",
        "Query paging is currently disabled.",
        "Page size: 2",
        "Query paging is currently enabled. Page size: 2",
        "Now Query paging is enabled\nPage size: 100",
        "Query paging is currently enabled. Page size: 100",
        "Page size: 2",
    ]
    .join("\n");
    assert!(out.starts_with(&want), "{out}");
    // Without a terminal every page is gathered into one table.
    assert_eq!(out.matches("\n---\n").count(), 1, "{out}");
    assert!(out.contains(" 1\n 2\n 3\n 4\n 5\n\n(5 rows)"), "{out}");
    for bad in ["PAGING 0", "PAGING -3", "PAGING maybe"] {
        let o = tess(&node, &["-e", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o));
        assert!(text(&o).contains("Improper PAGING command"), "{bad}: {}", text(&o));
    }
}

#[test]
fn interactive_paging_stops_at_each_page_until_q() {
    let node = TestNode::start();
    five_rows(&node);
    let home = tempfile::tempdir().unwrap();
    let o = tess_interactive(
        &node,
        home.path(),
        "PAGING 2\nSELECT c FROM ks.t WHERE k = 1;\n\n\nSELECT c FROM ks.t WHERE k = 1;\nq\n\
         PAGING OFF\nSELECT c FROM ks.t WHERE k = 1;\nEXIT\n",
    );
    let out = stdout(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Three pages for the first query (two prompts), one page and a `q` for the second, then one
    // unpaged table.
    assert_eq!(err.matches("---MORE---").count(), 3, "{err}");
    let pages: Vec<Vec<&str>> = out
        .split("\n c\n---\n")
        .skip(1)
        .map(|p| p.lines().take_while(|l| l.starts_with(' ')).map(str::trim).collect())
        .collect();
    let want: Vec<Vec<&str>> =
        vec![vec!["1", "2"], vec!["3", "4"], vec!["5"], vec!["1", "2"], vec!["1", "2", "3", "4", "5"]];
    assert_eq!(pages, want, "{out}");
    assert!(out.contains("Disabled Query paging.") && out.ends_with("(5 rows)\n"), "{out}");
}

#[test]
fn source_runs_files_nested_and_names_a_missing_one() {
    let node = TestNode::start();
    five_rows(&node);
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("with space.cql");
    let outer = dir.path().join("outer.cql");
    std::fs::write(&inner, "INSERT INTO ks.t (k, c) VALUES (2, 1);\nSELECT c FROM ks.t WHERE k = 2;\n")
        .unwrap();
    std::fs::write(
        &outer,
        format!("SOURCE '{}';\nINSERT INTO ks.t (k, c) VALUES (2, 2);\n", inner.display()),
    )
    .unwrap();
    let o =
        tess(&node, &["-e", &format!("SOURCE '{}'; SELECT count(*) FROM ks.t WHERE k = 2", outer.display())]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The inner file's SELECT ran before the outer file's second INSERT.
    let inner_table = out.find(" c\n---\n 1\n\n(1 rows)").unwrap_or_else(|| panic!("{out}"));
    let count = out.find(" count\n-------\n     2\n").unwrap_or_else(|| panic!("{out}"));
    assert!(inner_table < count, "{out}");
    // A missing file is named, fails the run, and the statements after it still run.
    let missing = dir.path().join("nope.cql");
    let o = tess(
        &node,
        &["-e", &format!("SOURCE '{}'; INSERT INTO ks.t (k, c) VALUES (2, 3)", missing.display())],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains(&format!("Could not open '{}'", missing.display())), "{}", text(&o));
    let o = tess(&node, &["-e", "SELECT count(*) FROM ks.t WHERE k = 2"]);
    assert!(stdout(&o).contains("     3\n"), "{}", text(&o));
    // A failure inside a sourced file fails the run too.
    std::fs::write(&inner, "INSERT INTO ks.missing (k, c) VALUES (1, 1);\n").unwrap();
    let o = tess(&node, &["-e", &format!("SOURCE '{}'", inner.display())]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("unconfigured table missing"), "{}", text(&o));
}

#[test]
fn interactive_sessions_append_to_the_history_file() {
    let node = TestNode::start();
    five_rows(&node);
    let home = tempfile::tempdir().unwrap();
    let o =
        tess_interactive(&node, home.path(), "USE ks;\nSELECT c\n  FROM t WHERE k = 1;\nEXPAND ON\nEXIT\n");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(stdout(&o).contains("(5 rows)"), "{}", text(&o));
    let history = home.path().join(".tess_history");
    let first = std::fs::read_to_string(&history).unwrap();
    // A statement typed over two lines is one entry.
    for entry in ["USE ks;", "SELECT c\\n  FROM t WHERE k = 1;", "EXPAND ON", "EXIT"] {
        assert!(first.lines().any(|l| l == entry), "{entry:?} not in {first:?}");
    }
    let o = tess_interactive(&node, home.path(), "CONSISTENCY QUORUM\n");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let second = std::fs::read_to_string(&history).unwrap();
    assert!(second.lines().any(|l| l == "CONSISTENCY QUORUM"), "{second:?}");
    assert!(second.lines().any(|l| l == "USE ks;"), "the first session's entries were lost: {second:?}");
}

#[test]
fn an_earlier_failure_exits_2_even_when_exit_ends_the_run() {
    let node = TestNode::start();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.cql");
    for (script, want) in [
        ("SELEC oops;\nEXIT;\n", 2),
        ("SELEC oops;\nQUIT\n", 2),
        ("SOURCE 'nope.cql';\nexit;\n", 2),
        // Nothing after EXIT runs, so nothing after it can fail.
        ("SELECT * FROM system.local;\nEXIT;\nSELEC oops;\n", 0),
    ] {
        std::fs::write(&f, script).unwrap();
        let o = tess(&node, &["-f", f.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(want), "-f {script:?}: {}", text(&o));
        let o = tess(&node, &["-e", script]);
        assert_eq!(o.status.code(), Some(want), "-e {script:?}: {}", text(&o));
    }
    assert!(text(&tess(&node, &["-e", "SELEC oops; EXIT"])).contains("SELEC"));
    // A session piped into the shell counts the same, whether EXIT or the end of input ends it.
    let home = tempfile::tempdir().unwrap();
    for input in
        ["SELEC oops;\nEXIT\n", "SELEC oops;\nSELECT * FROM system.local;\n", "PAGING maybe\nQUIT;\n"]
    {
        let o = tess_interactive(&node, home.path(), input);
        assert_eq!(o.status.code(), Some(2), "{input:?}: {}", text(&o));
    }
    let o = tess_interactive(&node, home.path(), "SELECT * FROM system.local;\nEXIT\n");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn interactive_paging_prints_the_total_row_count_once() {
    let node = TestNode::start();
    five_rows(&node);
    let home = tempfile::tempdir().unwrap();
    let o = tess_interactive(&node, home.path(), "PAGING 2\nSELECT c FROM ks.t WHERE k = 1;\n\n\nEXIT\n");
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stderr).matches("---MORE---").count(), 2, "{}", text(&o));
    assert_eq!(out.matches(" rows)").count(), 1, "{out}");
    assert!(out.ends_with(" 5\n\n(5 rows)\n"), "{out}");
    // A query whose rows fit on one page, and one with none.
    let o = tess_interactive(
        &node,
        home.path(),
        "PAGING 10\nSELECT c FROM ks.t WHERE k = 1;\nSELECT c FROM ks.t WHERE k = 2;\n",
    );
    let out = stdout(&o);
    assert!(out.contains(" 5\n\n(5 rows)\n") && out.ends_with("(0 rows)\n"), "{out}");
    assert_eq!(String::from_utf8_lossy(&o.stderr).matches("---MORE---").count(), 0, "{}", text(&o));
}

#[test]
fn typed_input_runs_at_the_end_of_each_statement() {
    let node = TestNode::start();
    five_rows(&node);
    let home = tempfile::tempdir().unwrap();
    let o = tess_interactive(
        &node,
        home.path(),
        "-- don't forget the batch\n\
         BEGIN BATCH\n\
         INSERT INTO ks.t (k, c) VALUES (3, 1); // it's the first\n\
         /* it's the second */ INSERT INTO ks.t (k, c) VALUES (3, 2);\n\
         apply batch;\n\
         SELECT count(*) FROM ks.t WHERE k = 3; -- note\n\
         SELECT c FROM ks.t WHERE k = 1 AND c = 1; SELECT c FROM ks.t WHERE k = 1 AND c = 2;\n\
         SELECT c AS \"x;y\" FROM ks.t WHERE k = 1 AND c = 5;\n\
         EXIT\n",
    );
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(o.stderr.iter().all(|b| b.is_ascii_whitespace()), "{}", text(&o));
    // The count ran before the next line was read: it sees both rows of the batch.
    let count = out.find(" count\n-------\n     2\n").unwrap_or_else(|| panic!("{out}"));
    let one = out.find(" c\n---\n 1\n").unwrap_or_else(|| panic!("{out}"));
    let two = out.find(" c\n---\n 2\n").unwrap_or_else(|| panic!("{out}"));
    assert!(count < one && one < two, "{out}");
    assert!(out.contains(" x;y\n-----\n   5\n"), "{out}");
}
