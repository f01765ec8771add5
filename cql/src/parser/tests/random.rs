//! Bounded random inputs: a few thousand strings built from CQL tokens and random bytes, every
//! prefix of some valid statements, and very deep nesting. None may panic or overflow the
//! stack; the xorshift seed is fixed so a failure reproduces.

use crate::parser::{parse_statement, parse_type, split_statements};

/// xorshift64*, seeded: the same inputs on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "BEGIN",
    "BATCH",
    "APPLY",
    "UNLOGGED",
    "COUNTER",
    "CREATE",
    "ALTER",
    "DROP",
    "TABLE",
    "KEYSPACE",
    "INDEX",
    "TYPE",
    "USE",
    "TRUNCATE",
    "DESCRIBE",
    "FROM",
    "WHERE",
    "AND",
    "IN",
    "CONTAINS",
    "KEY",
    "SET",
    "VALUES",
    "INTO",
    "USING",
    "TTL",
    "TIMESTAMP",
    "CONSISTENCY",
    "QUORUM",
    "IF",
    "NOT",
    "EXISTS",
    "PRIMARY",
    "WITH",
    "ORDER",
    "BY",
    "LIMIT",
    "PER",
    "PARTITION",
    "ALLOW",
    "FILTERING",
    "JSON",
    "DISTINCT",
    "AS",
    "token",
    "count",
    "writetime",
    "frozen",
    "list",
    "map",
    "set",
    "tuple",
    "int",
    "text",
    "static",
    "CLUSTERING",
    "DESC",
    "ASC",
    "null",
    "true",
    "NaN",
    "-Infinity",
    "t",
    "ks",
    "a",
    "b",
    "\"Q\"",
    "'s'",
    "''",
    "$$x$$",
    "1",
    "-2",
    "1.5",
    "1e3",
    "0xff",
    "0xf",
    "1h30m",
    "P1D",
    "123e4567-e89b-12d3-a456-426614174000",
    "?",
    ":n",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ".",
    ":",
    "=",
    "<",
    ">",
    "<=",
    ">=",
    "!=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "+=",
    "-=",
    "--",
    "/*",
    "*/",
    "'",
    "\"",
    "$$",
    "\n",
    "é",
    "\u{0}",
];

#[test]
fn random_token_soup_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let mut text = String::new();
        for _ in 0..rng.below(30) {
            if rng.below(10) == 0 {
                let len = rng.below(4);
                let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                text.push_str(&String::from_utf8_lossy(&bytes));
            } else {
                text.push_str(PIECES[rng.below(PIECES.len())]);
            }
            if rng.below(3) != 0 {
                text.push(' ');
            }
        }
        let _ = parse_statement(&text);
        let _ = parse_type(&text);
        for part in split_statements(&text) {
            let _ = parse_statement(&part);
        }
    }
}

#[test]
fn valid_prefixes_never_panic() {
    let statements = [
        "BEGIN UNLOGGED BATCH USING TIMESTAMP 1 INSERT INTO ks.t (a, b) VALUES (?, :b) IF NOT EXISTS; \
         UPDATE t SET m['k'] = 1, l = [1] + l WHERE k IN (1, 2) IF EXISTS; APPLY BATCH;",
        "SELECT JSON DISTINCT a AS x, writetime(b), token(a), count(*), f(g(1, ?)) FROM ks.t WHERE token(a) > 0 \
         AND (c, d) IN ((1, 2)) ORDER BY c DESC PER PARTITION LIMIT 1 LIMIT ? ALLOW FILTERING USING CONSISTENCY ONE",
        "CREATE TABLE IF NOT EXISTS ks.t (a int, b frozen<map<text, tuple<int, list<int>>>>, c text STATIC, \
         PRIMARY KEY ((a), c)) WITH CLUSTERING ORDER BY (c DESC) AND compaction = {'class': 'x'}",
    ];
    for s in statements {
        assert!(parse_statement(s).is_ok(), "{s}");
        for (end, _) in s.char_indices() {
            let _ = parse_statement(&s[..end]);
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let text = format!("INSERT INTO t (a) VALUES ({}1{})", "[".repeat(5000), "]".repeat(5000));
    assert!(parse_statement(&text).is_err());
    let text = format!("SELECT * FROM t WHERE {}a = 1{}", "(".repeat(5000), ")".repeat(5000));
    assert!(parse_statement(&text).is_err());
    let text = format!("{}int{}", "list<".repeat(5000), ">".repeat(5000));
    assert!(parse_type(&text).is_err());
    let text = format!("SELECT {}a{} FROM t", "f(".repeat(5000), ")".repeat(5000));
    assert!(parse_statement(&text).is_err());
}
