//! Errors: every message the parser can reject a statement with, each with its exact text and
//! (where the error has one) line and column: the constructs Tessera rejects as unsupported,
//! the syntax errors the grammar raises by name, every kind of `expecting ...` a mismatch
//! reports, lexer errors, the nesting limit, invalid types and batch members, and errors
//! past line 1.

use super::{syntax_error, unsupported_error};
use crate::Error;
use crate::parser::parse_statement;

#[test]
fn unsupported_statements_are_named_at_their_start() {
    let cases = [
        ("CREATE INDEX ON t (v)", "CREATE INDEX is not supported"),
        ("CREATE INDEX IF NOT EXISTS i ON t (v)", "CREATE INDEX is not supported"),
        ("CREATE CUSTOM INDEX i ON t (v) USING 'StorageAttachedIndex'", "CREATE INDEX is not supported"),
        (
            "CREATE MATERIALIZED VIEW v AS SELECT * FROM t WHERE k IS NOT NULL PRIMARY KEY (k)",
            "CREATE MATERIALIZED VIEW is not supported",
        ),
        ("CREATE TYPE address (street text)", "CREATE TYPE (user-defined types) is not supported"),
        (
            "CREATE FUNCTION f (a int) CALLED ON NULL INPUT RETURNS int LANGUAGE java AS 'return a;'",
            "CREATE FUNCTION is not supported",
        ),
        (
            "CREATE OR REPLACE FUNCTION f () RETURNS NULL ON NULL INPUT RETURNS int LANGUAGE java AS ''",
            "CREATE FUNCTION is not supported",
        ),
        ("CREATE AGGREGATE a (int) SFUNC f STYPE int", "CREATE AGGREGATE is not supported"),
        ("CREATE OR REPLACE AGGREGATE a (int) SFUNC f STYPE int", "CREATE AGGREGATE is not supported"),
        ("CREATE TRIGGER tr ON t USING 'x'", "CREATE TRIGGER is not supported"),
        ("CREATE ROLE r WITH PASSWORD = 'p' AND LOGIN = true", "CREATE ROLE is not supported"),
        ("CREATE USER u WITH PASSWORD 'p'", "CREATE USER is not supported"),
        ("ALTER TYPE address ADD zip text", "ALTER TYPE (user-defined types) is not supported"),
        ("ALTER MATERIALIZED VIEW v WITH comment = 'x'", "ALTER MATERIALIZED VIEW is not supported"),
        ("ALTER ROLE r WITH LOGIN = false", "ALTER ROLE is not supported"),
        ("ALTER USER u SUPERUSER", "ALTER USER is not supported"),
        ("DROP INDEX i", "DROP INDEX is not supported"),
        ("DROP MATERIALIZED VIEW v", "DROP MATERIALIZED VIEW is not supported"),
        ("DROP TYPE address", "DROP TYPE (user-defined types) is not supported"),
        ("DROP FUNCTION f", "DROP FUNCTION is not supported"),
        ("DROP AGGREGATE a", "DROP AGGREGATE is not supported"),
        ("DROP TRIGGER tr ON t", "DROP TRIGGER is not supported"),
        ("DROP ROLE r", "DROP ROLE is not supported"),
        ("DROP USER u", "DROP USER is not supported"),
        ("DROP IDENTITY 'id'", "DROP IDENTITY is not supported"),
        ("GRANT SELECT ON ks.t TO r", "GRANT is not supported"),
        ("REVOKE ALL ON KEYSPACE ks FROM r", "REVOKE is not supported"),
        ("LIST ROLES", "LIST (roles, users and permissions) is not supported"),
        ("LIST ALL PERMISSIONS OF r", "LIST (roles, users and permissions) is not supported"),
        ("ADD IDENTITY 'id' TO ROLE r", "ADD IDENTITY is not supported"),
    ];
    for (text, message) in cases {
        assert_eq!(unsupported_error(text), (1, 1, message.to_string()), "{text}");
    }
}

#[test]
fn unsupported_clauses_are_named_where_they_appear() {
    let cases = [
        ("CREATE TABLE t (k int PRIMARY KEY) WITH COMPACT STORAGE", 41, "COMPACT STORAGE is not supported"),
        (
            "CREATE TABLE t (k int PRIMARY KEY) WITH comment = 'x' AND COMPACT STORAGE",
            59,
            "COMPACT STORAGE is not supported",
        ),
        ("CREATE TABLE t2 LIKE t", 17, "CREATE TABLE ... LIKE is not supported"),
        (
            "CREATE TABLE t (k int PRIMARY KEY, a address)",
            38,
            "the user-defined type 'address' is not supported",
        ),
        ("CREATE TABLE t (k int PRIMARY KEY, v vector<float, 3>)", 38, "the vector type is not supported"),
        (
            "CREATE TABLE t (k int PRIMARY KEY, v 'org.example.Type')",
            38,
            "a custom type ('class name') is not supported",
        ),
        (
            "CREATE TABLE t (k int PRIMARY KEY, v text MASKED WITH DEFAULT)",
            43,
            "column masking (MASKED WITH) is not supported",
        ),
        (
            "CREATE TABLE t (k int PRIMARY KEY, v int CHECK v > 0)",
            42,
            "column constraints (CHECK) are not supported",
        ),
        ("ALTER TABLE t ADD v int CHECK v > 0", 25, "column constraints (CHECK) are not supported"),
        (
            "ALTER TABLE t ALTER v TYPE blob",
            15,
            "ALTER TABLE ... ALTER (changing a column's type or mask) is not supported",
        ),
        ("ALTER TABLE t DROP COMPACT STORAGE", 15, "DROP COMPACT STORAGE is not supported"),
        (
            "ALTER TABLE t DROP v USING TIMESTAMP 5",
            22,
            "ALTER TABLE DROP ... USING TIMESTAMP is not supported",
        ),
        ("ALTER TABLE t DROP IF EXISTS v", 15, "ALTER TABLE DROP IF EXISTS is not supported"),
        ("ALTER TABLE t RENAME IF EXISTS a TO b", 15, "ALTER TABLE RENAME IF EXISTS is not supported"),
        ("ALTER TABLE IF EXISTS t ADD v int", 13, "ALTER TABLE IF EXISTS is not supported"),
        ("ALTER TABLE t ADD IF NOT EXISTS v int", 15, "ALTER TABLE ADD IF NOT EXISTS is not supported"),
        (
            "ALTER KEYSPACE IF EXISTS ks WITH durable_writes = true",
            16,
            "ALTER KEYSPACE IF EXISTS is not supported",
        ),
        ("SELECT k, count(*) FROM t GROUP BY k", 27, "GROUP BY is not supported"),
        ("SELECT CAST(a AS text) FROM t", 8, "CAST is not supported"),
        ("SELECT maxwritetime(a) FROM t", 8, "MAXWRITETIME is not supported"),
        ("SELECT a + 1 FROM t", 10, "arithmetic in selectors (+, -, *, /, %) is not supported"),
        ("SELECT -a FROM t", 8, "arithmetic in selectors (+, -, *, /, %) is not supported"),
        ("SELECT m['k'] FROM t", 9, "field and element selection in selectors (c.f, c[k]) is not supported"),
        ("SELECT writetime(a.f) FROM t", 19, "WRITETIME and TTL of a field or element are not supported"),
        ("SELECT ttl(m['k']) FROM t", 13, "WRITETIME and TTL of a field or element are not supported"),
        (
            "SELECT (int) a FROM t",
            8,
            "parenthesised selectors, tuples and type hints in selectors are not supported",
        ),
        ("SELECT * FROM t WHERE k = 1 + 2", 29, "arithmetic on terms (+, -, *, /, %) is not supported"),
        ("INSERT INTO t (k, v) VALUES (1, CAST(2 AS text))", 33, "CAST is not supported"),
        ("SELECT * FROM t WHERE k = f(cast(1 AS int))", 29, "CAST is not supported"),
        ("SELECT * FROM t WHERE k BETWEEN 1 AND 2", 25, "BETWEEN is not supported"),
        ("SELECT * FROM t WHERE k LIKE 'a%'", 25, "LIKE is not supported"),
        ("SELECT * FROM t WHERE k IS NOT NULL", 25, "IS NOT NULL is not supported"),
        ("SELECT * FROM t WHERE k NOT IN (1)", 25, "NOT IN is not supported"),
        ("SELECT * FROM t WHERE s NOT CONTAINS 1", 25, "NOT CONTAINS is not supported"),
        ("SELECT * FROM t WHERE token(k) BETWEEN 1 AND 2", 32, "BETWEEN is not supported"),
        ("SELECT * FROM t WHERE (a, b) NOT IN ((1, 2))", 30, "NOT IN is not supported"),
        (
            "SELECT * FROM t WHERE m['k'] = 1",
            24,
            "a relation on a collection element (c[k] = v) is not supported",
        ),
        (
            "SELECT * FROM t WHERE expr(idx, 'q')",
            23,
            "a custom index expression (expr(...)) is not supported",
        ),
        ("SELECT * FROM t ORDER BY v ANN OF [1.0, 2.0] LIMIT 1", 28, "ORDER BY ... ANN OF is not supported"),
        ("INSERT INTO t (k, v) VALUES (1, (int) 2)", 33, "a type cast ((type) value) is not supported"),
        ("INSERT INTO t (k, v) VALUES (1, (address) 2)", 33, "a type cast ((type) value) is not supported"),
        (
            "INSERT INTO t (k, v) VALUES (1, (vector<float, 2>) [1.0, 2.0])",
            33,
            "a type cast ((type) value) is not supported",
        ),
        (
            "INSERT INTO t (k, v) VALUES (1, {street: 'x'})",
            33,
            "a user-defined type literal ({field: value}) is not supported",
        ),
        (
            "UPDATE t SET a.f = 1 WHERE k = 1",
            15,
            "setting a user-defined type field (c.field = v) is not supported",
        ),
        (
            "UPDATE t SET v = 1 WHERE k = 1 IF v = 0",
            32,
            "conditions on columns (IF col = ...) are not supported",
        ),
        ("DELETE FROM t WHERE k = 1 IF v = 0", 27, "conditions on columns (IF col = ...) are not supported"),
        ("DELETE a.f FROM t WHERE k = 1", 9, "deleting a user-defined type field (c.field) is not supported"),
        ("DESCRIBE INDEX i", 10, "DESCRIBE INDEX is not supported"),
        ("DESCRIBE MATERIALIZED VIEW v", 10, "DESCRIBE MATERIALIZED VIEW is not supported"),
        ("DESCRIBE FUNCTION ks.f", 10, "DESCRIBE FUNCTION is not supported"),
        ("DESCRIBE AGGREGATE ks.a", 10, "DESCRIBE AGGREGATE is not supported"),
        ("DESCRIBE TABLE t WITH INTERNALS", 18, "DESCRIBE ... WITH INTERNALS is not supported"),
    ];
    for (text, column, message) in cases {
        assert_eq!(unsupported_error(text), (1, column, message.to_string()), "{text}");
    }
}

#[test]
fn syntax_errors_name_what_was_found() {
    let cases = [
        ("SELECT * FORM t", 10, "mismatched input 'FORM' expecting 'FROM'"),
        ("SELECT a FORM t", 10, "mismatched input 'FORM' expecting 'FROM'"),
        (
            "SELEC * FROM t",
            1,
            "mismatched input 'SELEC' expecting one of 'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'BEGIN', 'USE', 'TRUNCATE', 'CREATE', 'ALTER', 'DROP', 'DESCRIBE', 'DESC'",
        ),
        ("SELECT * FROM t WHERE", 22, "unexpected end of input, expecting identifier"),
        ("SELECT * FROM t WHERE a = 1 LIMT 5", 29, "mismatched input 'LIMT' expecting end of input"),
        (
            "SELECT * FROM t WHERE a 1",
            25,
            "mismatched input '1' expecting one of '=', '<', '<=', '>', '>=', '!=', 'IN', 'CONTAINS'",
        ),
        ("SELECT * FROM select", 15, "mismatched input 'select' expecting identifier"),
        ("INSERT INTO t (a, b) VALUES (1, )", 33, "mismatched input ')' expecting a term"),
        (
            "INSERT INTO t (a) VALUES (1) USING TTL 'x'",
            40,
            "mismatched input ''x'' expecting an integer or bind marker",
        ),
        ("INSERT INTO t (a) VALUES (1) USING CONSISTENCY MOST", 48, "unknown consistency level 'MOST'"),
        ("SELECT * FROM t USING CONSISTENCY", 34, "unexpected end of input, expecting a consistency level"),
        ("SELECT * FROM t USING TTL 5", 23, "mismatched input 'TTL' expecting 'CONSISTENCY'"),
        (
            "DELETE FROM t USING TTL 5 WHERE k = 1",
            21,
            "mismatched input 'TTL' expecting 'TIMESTAMP' or 'CONSISTENCY'",
        ),
        ("DROP TABLE IF EXSTS t", 15, "mismatched input 'EXSTS' expecting 'EXISTS'"),
        ("CREATE TABEL t (k int PRIMARY KEY)", 8, "mismatched input 'TABEL' expecting 'KEYSPACE' or 'TABLE'"),
        (
            "CREATE TABLE t (k nosuchtype PRIMARY KEY)",
            19,
            "the user-defined type 'nosuchtype' is not supported",
        ),
        (
            "CREATE TABLE t (k int PRIMARY KEY) WITH CLUSTERING ORDER BY (c)",
            63,
            "mismatched input ')' expecting 'ASC' or 'DESC'",
        ),
        (
            "UPDATE t SET v = w + 1 WHERE k = 1",
            18,
            "Only expressions of the form X = X + <value> are supported.",
        ),
        (
            "UPDATE t SET v = w - 1 WHERE k = 1",
            18,
            "Only expressions of the form X = X - <value> are supported.",
        ),
        (
            "UPDATE t SET v = [1] + w WHERE k = 1",
            24,
            "Only expressions of the form X = <value> + X are supported.",
        ),
        ("UPDATE t SET v = 1 WHERE k = 1 IF", 34, "unexpected end of input, expecting 'EXISTS'"),
        ("UPDATE t USING TTL 1 AND TTL 2 SET v = 1 WHERE k = 1", 26, "TTL is given twice in USING"),
        (
            "UPDATE t USING TIMESTAMP 1 AND TIMESTAMP 2 SET v = 1 WHERE k = 1",
            32,
            "TIMESTAMP is given twice in USING",
        ),
        (
            "INSERT INTO t (k) VALUES (1) USING CONSISTENCY ONE AND CONSISTENCY ALL",
            56,
            "CONSISTENCY is given twice in USING",
        ),
        ("SELECT * FROM t;;", 17, "mismatched input ';' expecting end of input"),
        ("INSERT INTO t (a) VALUES (0xabc)", 27, "invalid blob literal '0xabc': odd number of hex digits"),
        ("INSERT INTO t (a) VALUES ('unterminated)", 27, "unterminated string literal"),
        ("SELECT * FROM t WHERE a = 1 # comment", 29, "unexpected character '#'"),
        ("INSERT INTO t (a) VALUES (.5)", 27, "mismatched input '.' expecting a term"),
        (
            "",
            1,
            "unexpected end of input, expecting one of 'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'BEGIN', 'USE', 'TRUNCATE', 'CREATE', 'ALTER', 'DROP', 'DESCRIBE', 'DESC'",
        ),
        (
            "CREATE TABLE t (k frozen<int> PRIMARY KEY)",
            19,
            "frozen<> is only allowed on collections, tuples, and user-defined types",
        ),
    ];
    for (text, column, message) in cases {
        let (line, col, msg) = match parse_statement(text) {
            Err(Error::Syntax { line, column, message })
            | Err(Error::Unsupported { line, column, message }) => (line, column, message),
            other => panic!("{text:?}: expected an error, got {other:?}"),
        };
        assert_eq!((line, col, msg.as_str()), (1, column, message), "{text}");
    }
}

#[test]
fn errors_on_later_lines_point_at_line_and_column() {
    let text = "SELECT a,\n       b FORM t\nWHERE k = 1";
    assert_eq!(syntax_error(text), (2, 10, "mismatched input 'FORM' expecting 'FROM'".to_string()));
    let text = "BEGIN BATCH\n  INSERT INTO t (k) VALUES (1);\n  SELECT * FROM t;\nAPPLY BATCH";
    assert_eq!(
        syntax_error(text),
        (3, 3, "SELECT statements are not allowed in a batch (only INSERT, UPDATE and DELETE)".to_string())
    );
    let text = "CREATE TABLE t (\n  k int PRIMARY KEY,\n  v text\n) WITH COMPACT STORAGE";
    assert_eq!(unsupported_error(text), (4, 8, "COMPACT STORAGE is not supported".to_string()));
    let text = "SELECT * FROM t -- comment\n /* multi\n line */ WHERE k = 'é' AND x FORM";
    assert_eq!(
        syntax_error(text),
        (
            3,
            30,
            "mismatched input 'FORM' expecting one of '=', '<', '<=', '>', '>=', '!=', 'IN', 'CONTAINS'"
                .to_string()
        )
    );
}

#[test]
fn invalid_types_and_batch_members() {
    assert_eq!(
        parse_statement("CREATE TABLE t (k int PRIMARY KEY, l list<list<int>>)"),
        Err(Error::Invalid(
            "non-frozen collections are not allowed inside collections (use frozen<...>)".into()
        ))
    );
    assert_eq!(
        parse_statement("CREATE TABLE t (k int PRIMARY KEY, l set<counter>)"),
        Err(Error::Invalid("counters are not allowed inside collections".into()))
    );
    for ty in [
        "tuple<counter>",
        "tuple<int, counter>",
        "frozen<tuple<text, counter>>",
        "list<frozen<tuple<counter>>>",
    ] {
        assert_eq!(
            parse_statement(&format!("CREATE TABLE t (k int PRIMARY KEY, v {ty})")),
            Err(Error::Invalid("counters are not allowed inside tuples".into())),
            "{ty}"
        );
    }
    assert_eq!(
        syntax_error("BEGIN BATCH CREATE TABLE t (k int PRIMARY KEY) APPLY BATCH"),
        (1, 13, "CREATE statements are not allowed in a batch (only INSERT, UPDATE and DELETE)".to_string())
    );
    assert_eq!(
        syntax_error("BEGIN BATCH INSERT INTO t (k) VALUES (1) APPLY"),
        (1, 47, "unexpected end of input, expecting 'BATCH'".to_string())
    );
    assert_eq!(
        syntax_error("BEGIN BATCH foo APPLY BATCH"),
        (1, 13, "mismatched input 'foo' expecting one of 'INSERT', 'UPDATE', 'DELETE', 'APPLY'".to_string())
    );
}

#[test]
fn mismatches_name_every_kind_of_expected_token() {
    let cases = [
        ("ALTER FOO", 7, "mismatched input 'FOO' expecting 'KEYSPACE' or 'TABLE'"),
        ("DROP FOO", 6, "mismatched input 'FOO' expecting 'KEYSPACE' or 'TABLE'"),
        ("ALTER TABLE t FOO", 15, "mismatched input 'FOO' expecting one of 'ADD', 'DROP', 'RENAME', 'WITH'"),
        (
            "INSERT INTO t (a) VALUES (1) USING FOO 5",
            36,
            "mismatched input 'FOO' expecting one of 'TTL', 'TIMESTAMP', 'CONSISTENCY'",
        ),
        (
            "INSERT INTO t (a) VALUES (1) USING TIMESTAMP 1 AND",
            51,
            "unexpected end of input, expecting one of 'TTL', 'TIMESTAMP', 'CONSISTENCY'",
        ),
        ("INSERT INTO t JSON 5", 20, "mismatched input '5' expecting a JSON string or bind marker"),
        ("SELECT , FROM t", 8, "mismatched input ',' expecting a selector"),
        ("SELECT FROM t", 8, "mismatched input 'FROM' expecting a selector"),
        ("CREATE TABLE t (k PRIMARY KEY)", 19, "mismatched input 'PRIMARY' expecting a type"),
        ("CREATE TABLE t (k int PRIMARY KEY, v tuple<>)", 44, "mismatched input '>' expecting a type"),
        ("CREATE KEYSPACE ks WITH x = [1]", 29, "mismatched input '[' expecting a constant"),
        ("CREATE KEYSPACE ks WITH x =", 28, "unexpected end of input, expecting a constant"),
        ("CREATE KEYSPACE ks WITH x = -'a'", 30, "mismatched input ''a'' expecting a number"),
        ("SELECT * FROM t WHERE (a, b) = 1", 32, "mismatched input '1' expecting a tuple or bind marker"),
        ("SELECT * FROM t WHERE (a, b) IN (1)", 34, "mismatched input '1' expecting a tuple or bind marker"),
        (
            "SELECT * FROM t WHERE a IN 1",
            28,
            "mismatched input '1' expecting a parenthesised list or bind marker",
        ),
        (
            "SELECT * FROM t WHERE (a, b) IN 1",
            33,
            "mismatched input '1' expecting a parenthesised list or bind marker",
        ),
        ("INSERT INTO t JSON '{}' DEFAULT FOO", 33, "mismatched input 'FOO' expecting 'NULL' or 'UNSET'"),
        (
            "BEGIN FOO BATCH APPLY BATCH",
            7,
            "mismatched input 'FOO' expecting one of 'UNLOGGED', 'COUNTER', 'BATCH'",
        ),
        ("BEGIN UNLOGGED APPLY BATCH", 16, "mismatched input 'APPLY' expecting 'BATCH'"),
        (
            "SELECT * FROM t WHERE token(k) IN (1)",
            32,
            "mismatched input 'IN' expecting one of '=', '<', '<=', '>', '>=', '!='",
        ),
        (
            "SELECT * FROM t WHERE (a, b) CONTAINS 1",
            30,
            "mismatched input 'CONTAINS' expecting one of '=', '<', '<=', '>', '>=', '!='",
        ),
        ("DESCRIBE", 9, "unexpected end of input, expecting identifier"),
        ("DESCRIBE KEYSPACE 5", 19, "mismatched input '5' expecting identifier or end of input"),
        (
            "BEGIN BATCH BEGIN BATCH APPLY BATCH",
            13,
            "BEGIN statements are not allowed in a batch (only INSERT, UPDATE and DELETE)",
        ),
        ("DELETE FROM t WHERE k = 1 IF", 29, "unexpected end of input, expecting 'EXISTS'"),
    ];
    for (text, column, message) in cases {
        assert_eq!(syntax_error(text), (1, column, message.to_string()), "{text}");
    }
    // What was found is quoted up to 40 characters, then cut with "...".
    let long = format!("SELECT * FROM t WHERE k = 1 '{}'", "a".repeat(60));
    let found = format!("'{}...", "a".repeat(39));
    assert_eq!(syntax_error(&long), (1, 29, format!("mismatched input '{found}' expecting end of input")));
}

#[test]
fn lexer_errors_point_at_the_bad_text() {
    let cases = [
        ("SELECT * FROM t WHERE k = \"unterminated", 1, 27, "unterminated quoted identifier"),
        ("SELECT * FROM t WHERE k = $$unterminated", 1, 27, "unterminated $$ string literal"),
        ("SELECT * FROM t /* unterminated", 1, 17, "unterminated comment"),
        ("SELECT * FROM t\n/* unterminated\n", 2, 1, "unterminated comment"),
        ("SELECT é FROM t", 1, 8, "unexpected character 'é'"),
        ("SELECT * FROM t WHERE k ! 1", 1, 25, "unexpected character '!'"),
        ("SELECT * FROM t\nWHERE k = 0xabc", 2, 11, "invalid blob literal '0xabc': odd number of hex digits"),
    ];
    for (text, line, column, message) in cases {
        assert_eq!(syntax_error(text), (line, column, message.to_string()), "{text}");
    }
}

#[test]
fn nesting_past_the_limit_is_named_where_it_happens() {
    let message = "statement nests deeper than 64 levels".to_string();
    // 64 nested terms parse; the 65th (the `1` inside 64 brackets) is one too many.
    assert!(
        parse_statement(&format!("INSERT INTO t (a) VALUES ({}1{})", "[".repeat(63), "]".repeat(63))).is_ok()
    );
    let text = format!("INSERT INTO t (a) VALUES ({}1{})", "[".repeat(64), "]".repeat(64));
    assert_eq!(syntax_error(&text), (1, 27 + 64, message.clone()));
    let text = format!("SELECT * FROM t WHERE {}a = 1{}", "(".repeat(70), ")".repeat(70));
    assert_eq!(syntax_error(&text), (1, 23 + 64, message.clone()));
    let text = format!("SELECT {}a{} FROM t", "f(".repeat(70), ")".repeat(70));
    assert_eq!(syntax_error(&text), (1, 8 + 2 * 64, message.clone()));
    let text = format!("CREATE TABLE t (k int PRIMARY KEY, v {}int{})", "list<".repeat(70), ">".repeat(70));
    assert_eq!(syntax_error(&text), (1, 38 + 5 * 64, message));
}

#[test]
fn casts_to_any_type_are_named_as_casts() {
    let message = "a type cast ((type) value) is not supported".to_string();
    let values = [
        "(int) 2",
        "(text) 'a'",
        "(address) 2",
        "(address) {'street': 'x'}",
        "(ks.address) ?",
        "(\"Address\") :v",
        "(address) -1",
        "(address) f(1)",
        "(address) (1, 2)",
        "(frozen<address>) 2",
        "(list<int>) [1]",
        "(vector<float, 2>) [1.0, 2.0]",
        "(map<text, frozen<list<int>>>) {}",
    ];
    for value in values {
        let text = format!("INSERT INTO t (k, v) VALUES (1, {value})");
        assert_eq!(unsupported_error(&text), (1, 33, message.clone()), "{text}");
    }
    let text = "SELECT * FROM t WHERE k = (address) 1";
    assert_eq!(unsupported_error(text), (1, 27, message.clone()));
    let text = "SELECT * FROM t WHERE (a, b) IN ((1, (address) 2))";
    assert_eq!(unsupported_error(text), (1, 38, message));
    // A parenthesised name not followed by a value is a tuple, and a name is not a term.
    let cases = [
        ("INSERT INTO t (k, v) VALUES (1, (a))", 34, "mismatched input 'a' expecting a term"),
        ("INSERT INTO t (k, v) VALUES (1, (a, 2))", 34, "mismatched input 'a' expecting a term"),
        ("INSERT INTO t (k, v) VALUES ((a), 1)", 31, "mismatched input 'a' expecting a term"),
    ];
    for (text, column, message) in cases {
        assert_eq!(syntax_error(text), (1, column, message.to_string()), "{text}");
    }
}

#[test]
fn if_exists_forms_fail_where_they_stop_matching() {
    let cases = [
        ("ALTER TABLE t ADD IF int", 22, "mismatched input 'int' expecting 'NOT'"),
        ("ALTER TABLE t ADD IF NOT v int", 26, "mismatched input 'v' expecting 'EXISTS'"),
        ("ALTER TABLE t DROP IF v", 23, "mismatched input 'v' expecting 'EXISTS'"),
        ("ALTER TABLE t RENAME IF a TO b", 25, "mismatched input 'a' expecting 'EXISTS'"),
        ("ALTER TABLE IF t ADD v int", 16, "mismatched input 't' expecting 'EXISTS'"),
        ("ALTER KEYSPACE IF ks WITH durable_writes = true", 19, "mismatched input 'ks' expecting 'EXISTS'"),
    ];
    for (text, column, message) in cases {
        assert_eq!(syntax_error(text), (1, column, message.to_string()), "{text}");
    }
}

#[test]
fn incomplete_types_are_syntax_errors() {
    let cases = [
        ("CREATE TABLE t (k int PRIMARY KEY, v ks.)", 41, "mismatched input ')' expecting a type name"),
        ("CREATE TABLE t (k int PRIMARY KEY, v ks.5)", 41, "mismatched input '5' expecting a type name"),
        ("CREATE TABLE t (k int PRIMARY KEY, v list)", 42, "mismatched input ')' expecting '<'"),
        ("CREATE TABLE t (k int PRIMARY KEY, v set, w int)", 41, "mismatched input ',' expecting '<'"),
        ("CREATE TABLE t (k int PRIMARY KEY, v map)", 41, "mismatched input ')' expecting '<'"),
        ("CREATE TABLE t (k int PRIMARY KEY, v frozen)", 44, "mismatched input ')' expecting '<'"),
        ("CREATE TABLE t (k int PRIMARY KEY, v tuple)", 43, "mismatched input ')' expecting '<'"),
        ("CREATE TABLE t (k int PRIMARY KEY, v vector)", 44, "mismatched input ')' expecting '<'"),
        ("ALTER TABLE t ADD v list", 25, "unexpected end of input, expecting '<'"),
    ];
    for (text, column, message) in cases {
        assert_eq!(syntax_error(text), (1, column, message.to_string()), "{text}");
    }
    // A qualified user-defined type is still named as one.
    assert_eq!(
        unsupported_error("CREATE TABLE t (k int PRIMARY KEY, v ks.address)"),
        (1, 38, "the user-defined type 'ks.address' is not supported".to_string())
    );
}

#[test]
fn describe_of_a_function_aggregate_or_type_needs_a_name() {
    let cases = [
        ("DESC FUNCTION", 14, "unexpected end of input, expecting identifier"),
        ("DESC AGGREGATE", 15, "unexpected end of input, expecting identifier"),
        ("DESC TYPE", 10, "unexpected end of input, expecting identifier"),
        ("DESCRIBE TYPE;", 14, "mismatched input ';' expecting identifier"),
        ("DESCRIBE FUNCTION 5", 19, "mismatched input '5' expecting identifier"),
    ];
    for (text, column, message) in cases {
        assert_eq!(syntax_error(text), (1, column, message.to_string()), "{text}");
    }
}
