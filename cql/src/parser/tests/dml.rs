//! INSERT (values and JSON), UPDATE (every assignment form), DELETE and BATCH: the exact tree
//! for each, the USING clause with TTL, TIMESTAMP and CONSISTENCY, and bind markers numbered
//! in text order across a statement and across a whole batch.

use super::{bind, func, int, ks_table, named, parse, parsed, string, table};
use crate::Consistency;
use crate::ast::{
    Assignment, Batch, BatchKind, Delete, DeleteTarget, Insert, InsertValues, Operator, Relation,
    RelationLhs, Statement, Term, Update, Using,
};

fn eq(column: &str, rhs: Term) -> Relation {
    Relation { lhs: RelationLhs::Column(column.to_string()), op: Operator::Eq, rhs }
}

fn cols(ns: &[&str]) -> Vec<String> {
    ns.iter().map(|s| s.to_string()).collect()
}

#[test]
fn insert_values() {
    assert_eq!(
        parse("INSERT INTO ks.t (a, \"B\", key) VALUES (1, 'x', now())"),
        Statement::Insert(Insert {
            table: ks_table("ks", "t"),
            values: InsertValues::Values {
                columns: cols(&["a", "B", "key"]),
                values: vec![int("1"), string("x"), func("now", vec![])],
            },
            if_not_exists: false,
            using: Using::default(),
        })
    );
}

#[test]
fn insert_with_if_not_exists_and_using() {
    let p = parsed(
        "INSERT INTO t (a, b) VALUES (?, :b) IF NOT EXISTS USING TTL ? AND TIMESTAMP 123 AND CONSISTENCY quorum;",
    );
    assert_eq!(p.bind_markers, vec![None, Some("b".into()), None]);
    assert_eq!(
        p.statement,
        Statement::Insert(Insert {
            table: table("t"),
            values: InsertValues::Values { columns: cols(&["a", "b"]), values: vec![bind(0), named(1, "b")] },
            if_not_exists: true,
            using: Using {
                ttl: Some(bind(2)),
                timestamp: Some(int("123")),
                consistency: Some(Consistency::Quorum)
            },
        })
    );
    let Statement::Insert(i) =
        parse("INSERT INTO t (a) VALUES (1) USING CONSISTENCY LOCAL_QUORUM AND TTL 86400")
    else {
        panic!()
    };
    assert_eq!(
        i.using,
        Using { ttl: Some(int("86400")), timestamp: None, consistency: Some(Consistency::LocalQuorum) }
    );
}

#[test]
fn insert_json() {
    assert_eq!(
        parse("INSERT INTO t JSON '{\"a\": 1, \"b\": \"it''s\"}'"),
        Statement::Insert(Insert {
            table: table("t"),
            values: InsertValues::Json { value: string("{\"a\": 1, \"b\": \"it's\"}"), default_unset: false },
            if_not_exists: false,
            using: Using::default(),
        })
    );
    let Statement::Insert(i) = parse("INSERT INTO t JSON ? DEFAULT UNSET IF NOT EXISTS USING TTL 5") else {
        panic!()
    };
    assert_eq!(i.values, InsertValues::Json { value: bind(0), default_unset: true });
    assert!(i.if_not_exists);
    let Statement::Insert(i) = parse("INSERT INTO t JSON :j DEFAULT NULL") else { panic!() };
    assert_eq!(i.values, InsertValues::Json { value: named(0, "j"), default_unset: false });
}

#[test]
fn update_assignment_forms() {
    let text = "UPDATE ks.t USING TTL 10 AND TIMESTAMP ? SET a = 1, m['k'] = ?, c = c + 1, l = [0] + l, \
                s = s - {'x'}, n = n + ?, cnt += 2, cnt2 -= 3, d = d - 5 WHERE k = ? AND c1 = 'v' IF EXISTS";
    let p = parsed(text);
    assert_eq!(p.bind_markers, vec![None; 4]);
    assert_eq!(
        p.statement,
        Statement::Update(Update {
            table: ks_table("ks", "t"),
            using: Using { ttl: Some(int("10")), timestamp: Some(bind(0)), consistency: None },
            assignments: vec![
                Assignment::Set { column: "a".into(), value: int("1") },
                Assignment::SetElement { column: "m".into(), key: string("k"), value: bind(1) },
                Assignment::Add { column: "c".into(), value: int("1") },
                Assignment::Prepend { column: "l".into(), value: Term::List(vec![int("0")]) },
                Assignment::Remove { column: "s".into(), value: Term::Set(vec![string("x")]) },
                Assignment::Add { column: "n".into(), value: bind(2) },
                Assignment::Add { column: "cnt".into(), value: int("2") },
                Assignment::Remove { column: "cnt2".into(), value: int("3") },
                Assignment::Remove { column: "d".into(), value: int("5") },
            ],
            where_clause: vec![eq("k", bind(3)), eq("c1", string("v"))],
            if_exists: true,
        })
    );
}

#[test]
fn update_with_consistency_and_list_index() {
    let Statement::Update(u) =
        parse("update T using consistency ONE set L[2] = 'z', v = null where K in (1, 2);")
    else {
        panic!()
    };
    assert_eq!(u.table, table("t"));
    assert_eq!(u.using.consistency, Some(Consistency::One));
    assert_eq!(
        u.assignments,
        vec![
            Assignment::SetElement { column: "l".into(), key: int("2"), value: string("z") },
            Assignment::Set { column: "v".into(), value: Term::Literal(crate::ast::Literal::Null) },
        ]
    );
    assert_eq!(
        u.where_clause,
        vec![Relation {
            lhs: RelationLhs::Column("k".into()),
            op: Operator::In,
            rhs: Term::List(vec![int("1"), int("2")])
        }]
    );
    assert!(!u.if_exists);
}

#[test]
fn delete_forms() {
    assert_eq!(
        parse("DELETE FROM t WHERE k = 1"),
        Statement::Delete(Delete {
            table: table("t"),
            targets: vec![],
            using: Using::default(),
            where_clause: vec![eq("k", int("1"))],
            if_exists: false,
        })
    );
    let p =
        parsed("DELETE a, m[?], l[0] FROM ks.t USING TIMESTAMP ? AND CONSISTENCY ALL WHERE k = ? IF EXISTS");
    assert_eq!(p.bind_markers.len(), 3);
    assert_eq!(
        p.statement,
        Statement::Delete(Delete {
            table: ks_table("ks", "t"),
            targets: vec![
                DeleteTarget::Column("a".into()),
                DeleteTarget::Element { column: "m".into(), key: bind(0) },
                DeleteTarget::Element { column: "l".into(), key: int("0") },
            ],
            using: Using { ttl: None, timestamp: Some(bind(1)), consistency: Some(Consistency::All) },
            where_clause: vec![eq("k", bind(2))],
            if_exists: true,
        })
    );
}

#[test]
fn batch_numbers_markers_across_statements() {
    let text = "BEGIN BATCH USING TIMESTAMP ?
          INSERT INTO t (k, v) VALUES (?, ?);
          UPDATE t SET v = :v WHERE k = ?;
          DELETE FROM t WHERE k = ?
        APPLY BATCH;";
    let p = parsed(text);
    assert_eq!(p.bind_markers, vec![None, None, None, Some("v".into()), None, None]);
    assert_eq!(
        p.statement,
        Statement::Batch(Batch {
            kind: BatchKind::Logged,
            using: Using { ttl: None, timestamp: Some(bind(0)), consistency: None },
            statements: vec![
                Statement::Insert(Insert {
                    table: table("t"),
                    values: InsertValues::Values {
                        columns: cols(&["k", "v"]),
                        values: vec![bind(1), bind(2)]
                    },
                    if_not_exists: false,
                    using: Using::default(),
                }),
                Statement::Update(Update {
                    table: table("t"),
                    using: Using::default(),
                    assignments: vec![Assignment::Set { column: "v".into(), value: named(3, "v") }],
                    where_clause: vec![eq("k", bind(4))],
                    if_exists: false,
                }),
                Statement::Delete(Delete {
                    table: table("t"),
                    targets: vec![],
                    using: Using::default(),
                    where_clause: vec![eq("k", bind(5))],
                    if_exists: false,
                }),
            ],
        })
    );
}

#[test]
fn batch_kinds_and_empty_batch() {
    let kind = |text: &str| match parse(text) {
        Statement::Batch(b) => (b.kind, b.statements.len(), b.using),
        other => panic!("not a batch: {other:?}"),
    };
    assert_eq!(kind("BEGIN BATCH APPLY BATCH"), (BatchKind::Logged, 0, Using::default()));
    assert_eq!(
        kind("begin unlogged batch insert into t (k) values (1) insert into t (k) values (2) apply batch"),
        (BatchKind::Unlogged, 2, Using::default())
    );
    assert_eq!(
        kind("BEGIN COUNTER BATCH USING CONSISTENCY QUORUM UPDATE c SET n = n + 1 WHERE k = 1; APPLY BATCH"),
        (BatchKind::Counter, 1, Using { consistency: Some(Consistency::Quorum), ..Using::default() })
    );
}
