//! USE, keyspace and table DDL, TRUNCATE: the exact tree for each form, including composite
//! keys, static columns, clustering order, option values of every kind, quoted names and
//! unreserved keywords used as column names, and the PRIMARY KEY count check.

use super::{boolean, int, ks_table, parse, string, table};
use crate::ast::{AlterTableOp, ColumnDef, CreateKeyspace, CreateTable, Order, Statement, Term};
use crate::parser::parse_statement;
use crate::types::CqlType;
use crate::{Error, ast::Literal};

fn col(name: &str, ty: CqlType) -> ColumnDef {
    ColumnDef { name: name.to_string(), ty, is_static: false }
}

fn names(ns: &[&str]) -> Vec<String> {
    ns.iter().map(|s| s.to_string()).collect()
}

fn simple_replication(rf: &str) -> (String, Term) {
    (
        "replication".to_string(),
        Term::Map(vec![(string("class"), string("SimpleStrategy")), (string("replication_factor"), int(rf))]),
    )
}

fn create_table(stmt: Statement) -> CreateTable {
    match stmt {
        Statement::CreateTable(t) => t,
        other => panic!("not CREATE TABLE: {other:?}"),
    }
}

#[test]
fn use_keyspace() {
    assert_eq!(parse("USE ks"), Statement::Use("ks".into()));
    assert_eq!(parse("use MyKs;"), Statement::Use("myks".into()));
    assert_eq!(parse("USE \"MyKs\""), Statement::Use("MyKs".into()));
}

#[test]
fn create_keyspace() {
    let text = "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = \
                {'class': 'SimpleStrategy', 'replication_factor': 3} AND durable_writes = false";
    assert_eq!(
        parse(text),
        Statement::CreateKeyspace(CreateKeyspace {
            name: "ks".into(),
            if_not_exists: true,
            options: vec![simple_replication("3"), ("durable_writes".into(), boolean(false))],
        })
    );
    let nts =
        "create keyspace Ks with REPLICATION = {'class' : 'NetworkTopologyStrategy', 'dc1' : 3, 'dc2': 2};";
    assert_eq!(
        parse(nts),
        Statement::CreateKeyspace(CreateKeyspace {
            name: "ks".into(),
            if_not_exists: false,
            options: vec![(
                "replication".into(),
                Term::Map(vec![
                    (string("class"), string("NetworkTopologyStrategy")),
                    (string("dc1"), int("3")),
                    (string("dc2"), int("2")),
                ]),
            )],
        })
    );
    // SCHEMA is Cassandra's synonym for KEYSPACE.
    assert!(matches!(parse("CREATE SCHEMA s WITH replication = {}"), Statement::CreateKeyspace(_)));
}

#[test]
fn alter_and_drop_keyspace() {
    assert_eq!(
        parse("ALTER KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"),
        Statement::AlterKeyspace { name: "ks".into(), options: vec![simple_replication("1")] }
    );
    assert_eq!(parse("DROP KEYSPACE ks"), Statement::DropKeyspace { name: "ks".into(), if_exists: false });
    assert_eq!(
        parse("drop keyspace if exists \"Ks\";"),
        Statement::DropKeyspace { name: "Ks".into(), if_exists: true }
    );
}

#[test]
fn create_table_with_inline_primary_key() {
    assert_eq!(
        parse("CREATE TABLE users (id uuid PRIMARY KEY, name text, age int)"),
        Statement::CreateTable(CreateTable {
            name: table("users"),
            if_not_exists: false,
            columns: vec![col("id", CqlType::Uuid), col("name", CqlType::Text), col("age", CqlType::Int)],
            partition_key: names(&["id"]),
            clustering: vec![],
            clustering_order: vec![],
            options: vec![],
        })
    );
}

#[test]
fn create_table_with_composite_key_static_and_options() {
    let text = "CREATE TABLE IF NOT EXISTS ks.events (
            tenant text, day date, ts timeuuid, seq int, owner text STATIC, payload blob,
            PRIMARY KEY ((tenant, day), ts, seq)
        ) WITH CLUSTERING ORDER BY (ts DESC, seq ASC)
          AND gc_grace_seconds = 10
          AND compaction = {'class': 'SizeTieredCompactionStrategy', 'min_threshold': 4}
          AND comment = 'x'
          AND default_time_to_live = 0
          AND compression = {'class': 'LZ4Compressor'}
          AND speculative_retry = '99p'
          AND bloom_filter_fp_chance = 0.01
          AND caching = {'keys': 'ALL', 'rows_per_partition': 'NONE'};";
    let t = create_table(parse(text));
    assert_eq!(t.name, ks_table("ks", "events"));
    assert!(t.if_not_exists);
    assert_eq!(
        t.columns,
        vec![
            col("tenant", CqlType::Text),
            col("day", CqlType::Date),
            col("ts", CqlType::Timeuuid),
            col("seq", CqlType::Int),
            ColumnDef { name: "owner".into(), ty: CqlType::Text, is_static: true },
            col("payload", CqlType::Blob),
        ]
    );
    assert_eq!(t.partition_key, names(&["tenant", "day"]));
    assert_eq!(t.clustering, names(&["ts", "seq"]));
    assert_eq!(t.clustering_order, vec![("ts".into(), Order::Desc), ("seq".into(), Order::Asc)]);
    assert_eq!(
        t.options,
        vec![
            ("gc_grace_seconds".into(), int("10")),
            (
                "compaction".into(),
                Term::Map(vec![
                    (string("class"), string("SizeTieredCompactionStrategy")),
                    (string("min_threshold"), int("4")),
                ])
            ),
            ("comment".into(), string("x")),
            ("default_time_to_live".into(), int("0")),
            ("compression".into(), Term::Map(vec![(string("class"), string("LZ4Compressor"))])),
            ("speculative_retry".into(), string("99p")),
            ("bloom_filter_fp_chance".into(), Term::Literal(Literal::Float("0.01".into()))),
            (
                "caching".into(),
                Term::Map(vec![
                    (string("keys"), string("ALL")),
                    (string("rows_per_partition"), string("NONE"))
                ])
            ),
        ]
    );
}

#[test]
fn option_values_are_constants_words_or_maps() {
    let t = create_table(parse(
        "CREATE TABLE t (k int PRIMARY KEY) WITH gc_grace_seconds = -1 AND caching = ALL \
         AND \"Quoted\" = 1.5 AND cdc = true AND extensions = {}",
    ));
    assert_eq!(
        t.options,
        vec![
            ("gc_grace_seconds".into(), int("-1")),
            ("caching".into(), string("ALL")),
            ("Quoted".into(), Term::Literal(Literal::Float("1.5".into()))),
            ("cdc".into(), boolean(true)),
            ("extensions".into(), Term::Map(vec![])),
        ]
    );
}

#[test]
fn create_table_key_forms() {
    let t = create_table(parse("CREATE TABLE t (a int, b int, c int, PRIMARY KEY (a, b, c))"));
    assert_eq!((t.partition_key, t.clustering), (names(&["a"]), names(&["b", "c"])));
    let t = create_table(parse("CREATE TABLE t (a int, b int, PRIMARY KEY ((a, b)))"));
    assert_eq!((t.partition_key, t.clustering), (names(&["a", "b"]), vec![]));
    let t = create_table(parse("CREATE TABLE t (a int, PRIMARY KEY (a),)"));
    assert_eq!(t.partition_key, names(&["a"]));
    // COLUMNFAMILY, quoted names, and unreserved keywords as column names.
    let t = create_table(parse(
        "CREATE COLUMNFAMILY \"Ks\".\"Tab\" (key text, \"Value\" text, type int, ttl int, timestamp timestamp, \
         values int, count int, json int, distinct int, filtering int, options int, keyspaces int, \
         tables int, replication int, static int, PRIMARY KEY (key))",
    ));
    assert_eq!(t.name, ks_table("Ks", "Tab"));
    let column_names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        column_names,
        [
            "key",
            "Value",
            "type",
            "ttl",
            "timestamp",
            "values",
            "count",
            "json",
            "distinct",
            "filtering",
            "options",
            "keyspaces",
            "tables",
            "replication",
            "static"
        ]
    );
}

#[test]
fn create_table_collection_and_frozen_columns() {
    let t = create_table(parse(
        "CREATE TABLE t (k int PRIMARY KEY, l list<text>, s set<int>, m map<text, int>, \
         f frozen<map<text, list<int>>>, tu tuple<int, text>, v varchar, c counter)",
    ));
    let types: Vec<CqlType> = t.columns.into_iter().map(|c| c.ty).collect();
    let frozen = |t: CqlType| CqlType::Frozen(Box::new(t));
    assert_eq!(
        types,
        vec![
            CqlType::Int,
            CqlType::List(Box::new(CqlType::Text)),
            CqlType::Set(Box::new(CqlType::Int)),
            CqlType::Map(Box::new(CqlType::Text), Box::new(CqlType::Int)),
            frozen(CqlType::Map(
                Box::new(CqlType::Text),
                Box::new(frozen(CqlType::List(Box::new(CqlType::Int))))
            )),
            CqlType::Tuple(vec![CqlType::Int, CqlType::Text]),
            CqlType::Text,
            CqlType::Counter,
        ]
    );
}

#[test]
fn create_table_needs_exactly_one_primary_key() {
    assert_eq!(
        parse_statement("CREATE TABLE t (a int, b int)"),
        Err(Error::Invalid("No PRIMARY KEY specified for table 't' (exactly one required)".into()))
    );
    assert_eq!(
        parse_statement("CREATE TABLE t (a int PRIMARY KEY, b int, PRIMARY KEY (b))"),
        Err(Error::Invalid("Multiple PRIMARY KEYs specified (exactly one required)".into()))
    );
}

#[test]
fn alter_table() {
    let alter = |text: &str| match parse(text) {
        Statement::AlterTable { table: t, op } => (t, op),
        other => panic!("not ALTER TABLE: {other:?}"),
    };
    assert_eq!(
        alter("ALTER TABLE ks.t ADD c int"),
        (ks_table("ks", "t"), AlterTableOp::Add(vec![col("c", CqlType::Int)]))
    );
    assert_eq!(
        alter("ALTER TABLE t ADD (c int, d set<text> , s text static)").1,
        AlterTableOp::Add(vec![
            col("c", CqlType::Int),
            col("d", CqlType::Set(Box::new(CqlType::Text))),
            ColumnDef { name: "s".into(), ty: CqlType::Text, is_static: true },
        ])
    );
    assert_eq!(alter("ALTER TABLE t DROP c").1, AlterTableOp::Drop(names(&["c"])));
    assert_eq!(alter("alter columnfamily t drop (c, \"D\")").1, AlterTableOp::Drop(names(&["c", "D"])));
    assert_eq!(
        alter("ALTER TABLE t WITH comment = 'hi' AND gc_grace_seconds = 0").1,
        AlterTableOp::With(vec![("comment".into(), string("hi")), ("gc_grace_seconds".into(), int("0"))])
    );
    assert_eq!(
        alter("ALTER TABLE t RENAME a TO b AND c TO d").1,
        AlterTableOp::Rename(vec![("a".into(), "b".into()), ("c".into(), "d".into())])
    );
}

#[test]
fn drop_table_and_truncate() {
    assert_eq!(parse("DROP TABLE t"), Statement::DropTable { table: table("t"), if_exists: false });
    assert_eq!(
        parse("DROP COLUMNFAMILY IF EXISTS ks.t;"),
        Statement::DropTable { table: ks_table("ks", "t"), if_exists: true }
    );
    assert_eq!(parse("TRUNCATE t"), Statement::Truncate(table("t")));
    assert_eq!(parse("truncate table ks.\"T\""), Statement::Truncate(ks_table("ks", "T")));
}
