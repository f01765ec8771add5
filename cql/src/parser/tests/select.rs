//! SELECT and DESCRIBE: selectors (special functions, nested calls, literals, markers), the
//! JSON / DISTINCT flags versus columns of those names, every relation form, the trailing
//! clauses, case-insensitivity, comments, quoted names and each DESCRIBE form.

use super::{bind, int, ks_table, named, parse, parsed, string, table};
use crate::Consistency;
use crate::ast::{
    Describe, Operator, Order, Relation, RelationLhs, Select, Selector, SelectorExpr, Statement, Term,
};

fn select(text: &str) -> Select {
    match parse(text) {
        Statement::Select(s) => s,
        other => panic!("not a SELECT: {other:?}"),
    }
}

fn column(c: &str) -> Selector {
    Selector { expr: SelectorExpr::Column(c.to_string()), alias: None }
}

fn rel(lhs: RelationLhs, op: Operator, rhs: Term) -> Relation {
    Relation { lhs, op, rhs }
}

fn c(name: &str) -> RelationLhs {
    RelationLhs::Column(name.to_string())
}

fn names(ns: &[&str]) -> Vec<String> {
    ns.iter().map(|s| s.to_string()).collect()
}

#[test]
fn select_star() {
    assert_eq!(
        parse("SELECT * FROM t"),
        Statement::Select(Select {
            table: table("t"),
            json: false,
            distinct: false,
            selectors: vec![],
            where_clause: vec![],
            order_by: vec![],
            per_partition_limit: None,
            limit: None,
            allow_filtering: false,
            consistency: None,
        })
    );
}

#[test]
fn selectors() {
    let s = select(
        "SELECT a, b AS bee, writetime(c), TTL(\"D\") AS t, token(k1, k2), count(*), COUNT(1) AS n, count(a), \
         totimestamp(now()), blobAsText(intAsBlob(?)), max(a), concat(a, 'x', 1), :m FROM ks.t",
    );
    assert_eq!(s.table, ks_table("ks", "t"));
    assert_eq!(
        s.selectors,
        vec![
            column("a"),
            Selector { expr: SelectorExpr::Column("b".into()), alias: Some("bee".into()) },
            Selector { expr: SelectorExpr::WriteTime("c".into()), alias: None },
            Selector { expr: SelectorExpr::Ttl("D".into()), alias: Some("t".into()) },
            Selector { expr: SelectorExpr::Token(names(&["k1", "k2"])), alias: None },
            Selector { expr: SelectorExpr::CountStar, alias: None },
            Selector { expr: SelectorExpr::CountStar, alias: Some("n".into()) },
            Selector {
                expr: SelectorExpr::Function {
                    name: "count".into(),
                    args: vec![SelectorExpr::Column("a".into())]
                },
                alias: None
            },
            Selector {
                expr: SelectorExpr::Function {
                    name: "totimestamp".into(),
                    args: vec![SelectorExpr::Function { name: "now".into(), args: vec![] }]
                },
                alias: None
            },
            Selector {
                expr: SelectorExpr::Function {
                    name: "blobastext".into(),
                    args: vec![SelectorExpr::Function {
                        name: "intasblob".into(),
                        args: vec![SelectorExpr::Term(bind(0))]
                    }]
                },
                alias: None
            },
            Selector {
                expr: SelectorExpr::Function {
                    name: "max".into(),
                    args: vec![SelectorExpr::Column("a".into())]
                },
                alias: None
            },
            Selector {
                expr: SelectorExpr::Function {
                    name: "concat".into(),
                    args: vec![
                        SelectorExpr::Column("a".into()),
                        SelectorExpr::Term(string("x")),
                        SelectorExpr::Term(int("1")),
                    ]
                },
                alias: None
            },
            Selector { expr: SelectorExpr::Term(named(1, "m")), alias: None },
        ]
    );
}

#[test]
fn json_and_distinct_are_flags_or_columns() {
    let s = select("SELECT JSON DISTINCT k FROM t");
    assert!(s.json && s.distinct);
    assert_eq!(s.selectors, vec![column("k")]);
    let s = select("SELECT json * FROM t");
    assert!(s.json && !s.distinct && s.selectors.is_empty());
    let s = select("SELECT json FROM t");
    assert!(!s.json);
    assert_eq!(s.selectors, vec![column("json")]);
    let s = select("SELECT distinct, json AS j FROM t");
    assert!(!s.json && !s.distinct);
    assert_eq!(
        s.selectors,
        vec![
            column("distinct"),
            Selector { expr: SelectorExpr::Column("json".into()), alias: Some("j".into()) }
        ]
    );
    let s = select("SELECT key, ttl, writetime, count, type, values FROM t");
    assert_eq!(s.selectors, ["key", "ttl", "writetime", "count", "type", "values"].map(column).to_vec());
}

#[test]
fn where_relations() {
    let s = select(
        "SELECT * FROM t WHERE a = 1 AND b < 2 AND c <= 3 AND d > 4 AND e >= 5 AND f != 6 AND g IN (7, 8) \
         AND h IN ? AND i IN () AND l CONTAINS 'x' AND m CONTAINS KEY :k AND token(a, b) > token(?, ?) \
         AND (c1, c2) >= (1, 2) AND (c1, c2) IN ((1, 2), (3, 4)) AND (c1) < ? AND (c1, c2) IN ? \
         AND (c1, c2) IN (?, ?) AND (z = 0)",
    );
    let tuple = |ns: &[&str]| RelationLhs::Tuple(names(ns));
    assert_eq!(
        s.where_clause,
        vec![
            rel(c("a"), Operator::Eq, int("1")),
            rel(c("b"), Operator::Lt, int("2")),
            rel(c("c"), Operator::Lte, int("3")),
            rel(c("d"), Operator::Gt, int("4")),
            rel(c("e"), Operator::Gte, int("5")),
            rel(c("f"), Operator::Neq, int("6")),
            rel(c("g"), Operator::In, Term::List(vec![int("7"), int("8")])),
            rel(c("h"), Operator::In, bind(0)),
            rel(c("i"), Operator::In, Term::List(vec![])),
            rel(c("l"), Operator::Contains, string("x")),
            rel(c("m"), Operator::ContainsKey, named(1, "k")),
            rel(
                RelationLhs::Token(names(&["a", "b"])),
                Operator::Gt,
                Term::Function { name: "token".into(), args: vec![bind(2), bind(3)] }
            ),
            rel(tuple(&["c1", "c2"]), Operator::Gte, Term::Tuple(vec![int("1"), int("2")])),
            rel(
                tuple(&["c1", "c2"]),
                Operator::In,
                Term::List(vec![
                    Term::Tuple(vec![int("1"), int("2")]),
                    Term::Tuple(vec![int("3"), int("4")])
                ])
            ),
            rel(tuple(&["c1"]), Operator::Lt, bind(4)),
            rel(tuple(&["c1", "c2"]), Operator::In, bind(5)),
            rel(tuple(&["c1", "c2"]), Operator::In, Term::List(vec![bind(6), bind(7)])),
            rel(c("z"), Operator::Eq, int("0")),
        ]
    );
}

#[test]
fn trailing_clauses() {
    let p = parsed(
        "SELECT a FROM t WHERE k = ? ORDER BY c DESC, d, e ASC PER PARTITION LIMIT ? LIMIT 10 ALLOW FILTERING \
         USING CONSISTENCY LOCAL_ONE;",
    );
    assert_eq!(p.bind_markers, vec![None, None]);
    let Statement::Select(s) = p.statement else { panic!() };
    assert_eq!(
        s.order_by,
        vec![("c".into(), Order::Desc), ("d".into(), Order::Asc), ("e".into(), Order::Asc)]
    );
    assert_eq!(s.per_partition_limit, Some(bind(1)));
    assert_eq!(s.limit, Some(int("10")));
    assert!(s.allow_filtering);
    assert_eq!(s.consistency, Some(Consistency::LocalOne));
    let s = select("select * from t limit :n using consistency serial");
    assert_eq!(s.limit, Some(named(0, "n")));
    assert_eq!(s.consistency, Some(Consistency::Serial));
}

#[test]
fn case_comments_and_quoted_names() {
    let text = "/* leading */ sElEcT \"MixedCase\", LowerMe -- trailing\n FrOm \"Ks\".Tab // more\n wHeRe \
                \"Key\" = 'A' ; /* after */";
    let s = select(text);
    assert_eq!(s.selectors, vec![column("MixedCase"), column("lowerme")]);
    assert_eq!(s.table, ks_table("Ks", "tab"));
    assert_eq!(s.where_clause, vec![rel(c("Key"), Operator::Eq, string("A"))]);
    let s = select("SELECT \"a\"\"b\" FROM t");
    assert_eq!(s.selectors, vec![column("a\"b")]);
}

#[test]
fn describe_forms() {
    let d = |text: &str| match parse(text) {
        Statement::Describe(d) => d,
        other => panic!("not DESCRIBE: {other:?}"),
    };
    assert_eq!(d("DESCRIBE KEYSPACES"), Describe::Keyspaces);
    assert_eq!(d("DESC TABLES;"), Describe::Tables);
    assert_eq!(d("describe types"), Describe::Types);
    assert_eq!(d("DESCRIBE FUNCTIONS"), Describe::Functions);
    assert_eq!(d("DESCRIBE AGGREGATES"), Describe::Aggregates);
    assert_eq!(d("DESCRIBE CLUSTER"), Describe::Cluster);
    assert_eq!(d("DESCRIBE SCHEMA"), Describe::Schema { full: false });
    assert_eq!(d("DESCRIBE FULL SCHEMA"), Describe::Schema { full: true });
    assert_eq!(d("DESCRIBE KEYSPACE"), Describe::Keyspace { name: None, only: false });
    assert_eq!(d("DESCRIBE KEYSPACE Ks"), Describe::Keyspace { name: Some("ks".into()), only: false });
    assert_eq!(d("DESC ONLY KEYSPACE \"Ks\""), Describe::Keyspace { name: Some("Ks".into()), only: true });
    assert_eq!(d("DESCRIBE TABLE ks.t"), Describe::Table(ks_table("ks", "t")));
    assert_eq!(d("DESCRIBE COLUMNFAMILY t"), Describe::Table(table("t")));
    assert_eq!(d("DESCRIBE TYPE ks.address"), Describe::Type(ks_table("ks", "address")));
    assert_eq!(d("DESCRIBE t"), Describe::Name(table("t")));
    assert_eq!(d("DESCRIBE ks.t"), Describe::Name(ks_table("ks", "t")));
    assert_eq!(d("DESCRIBE only"), Describe::Name(table("only")));
    // A keyspace may be called "type": `type.t` is a name, not DESCRIBE TYPE.
    assert_eq!(d("DESCRIBE type.t"), Describe::Name(ks_table("type", "t")));
    assert_eq!(d("DESC function.f"), Describe::Name(ks_table("function", "f")));
}
