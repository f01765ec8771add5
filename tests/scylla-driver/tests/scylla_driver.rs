//! The real Rust `scylla` driver (1.9) against a real node: it connects (its metadata reads are
//! prepared statements that type-check every column, and its Scylla-only schema queries must
//! fail with Invalid), sees the node's dc and rack, computes the same tokens as the server,
//! routes by the prepared `pk_index`, round-trips every type, pages through 10,000 rows, runs
//! batches, conditional writes, TTLs and client timestamps, gets each error as the right
//! `DbError`, and re-prepares after a restart (UNPREPARED).
#![allow(clippy::unwrap_used)]

#[path = "../../common/mod.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::TestNode;
use futures::TryStreamExt;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::cluster::metadata::{ColumnKind, Strategy};
use scylla::errors::{DbError, ExecutionError, PrepareError, RequestAttemptError};
use scylla::statement::Consistency;
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::unprepared::Statement;
use scylla::value::{CqlDate, CqlDecimal, CqlTime, CqlTimestamp, CqlTimeuuid, CqlVarint};
use uuid::Uuid;

async fn connect(node: &TestNode) -> Session {
    SessionBuilder::new()
        .known_node(format!("{}:{}", node.host, node.port))
        .build()
        .await
        .unwrap_or_else(|e| panic!("the scylla driver could not connect: {e}"))
}

/// Creates `ks` (SimpleStrategy, RF 1) afresh and makes it the session's keyspace.
async fn fresh_keyspace(session: &Session, ks: &str) {
    session.query_unpaged(format!("DROP KEYSPACE IF EXISTS {ks}"), ()).await.unwrap();
    session
        .query_unpaged(
            format!(
                "CREATE KEYSPACE {ks} WITH replication = \
                 {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
            ),
            (),
        )
        .await
        .unwrap();
    session.use_keyspace(ks, false).await.unwrap();
}

/// The server's error for a failed request, or a panic naming what came back instead.
fn db_error(e: &ExecutionError) -> (&DbError, &str) {
    match e {
        ExecutionError::LastAttemptError(RequestAttemptError::DbError(db, msg)) => (db, msg),
        ExecutionError::PrepareError(PrepareError::AllAttemptsFailed { first_attempt }) => {
            match first_attempt {
                RequestAttemptError::DbError(db, msg) => (db, msg),
                other => panic!("expected a server error, got {other:?}"),
            }
        }
        other => panic!("expected a server error, got {other:?}"),
    }
}

fn prepare_db_error(e: &PrepareError) -> (&DbError, &str) {
    match e {
        PrepareError::AllAttemptsFailed { first_attempt: RequestAttemptError::DbError(db, msg) } => (db, msg),
        other => panic!("expected a server error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connects_and_reads_cluster_and_schema_metadata() {
    let node = TestNode::start();
    let session = connect(&node).await;

    let state = session.get_cluster_state();
    let nodes = state.get_nodes_info();
    assert_eq!(nodes.len(), 1, "{nodes:?}");
    assert_eq!(nodes[0].datacenter.as_deref(), Some("dc1"));
    assert_eq!(nodes[0].rack.as_deref(), Some("rack1"));
    assert_eq!(nodes[0].address.ip().to_string(), node.host);

    let (release,): (String,) = session
        .query_unpaged("SELECT release_version FROM system.local WHERE key = 'local'", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .single_row()
        .unwrap();
    assert!(release.starts_with("4.") || release.starts_with("5."), "{release}");

    fresh_keyspace(&session, "ks_meta").await;
    session
        .query_unpaged(
            "CREATE TABLE t (a int, b text, ck timestamp, s text static, v map<text, int>, \
             PRIMARY KEY ((a, b), ck)) WITH CLUSTERING ORDER BY (ck DESC)",
            (),
        )
        .await
        .unwrap();
    session
        .query_unpaged(
            "CREATE KEYSPACE ks_nts WITH replication = \
             {'class': 'NetworkTopologyStrategy', 'dc1': 1} AND durable_writes = false",
            (),
        )
        .await
        .unwrap();
    session.await_schema_agreement().await.unwrap();
    session.refresh_metadata().await.unwrap();

    let state = session.get_cluster_state();
    let ks = state.get_keyspace("ks_meta").expect("ks_meta in the driver's metadata");
    assert!(matches!(ks.strategy, Strategy::SimpleStrategy { replication_factor: 1 }), "{:?}", ks.strategy);
    assert!(ks.durable_writes);
    let t = ks.tables.get("t").expect("table t in the driver's metadata");
    assert_eq!(t.partition_key, ["a", "b"]);
    assert_eq!(t.clustering_key, ["ck"]);
    assert_eq!(t.columns["s"].kind, ColumnKind::Static);
    assert_eq!(t.columns["v"].kind, ColumnKind::Regular);
    assert_eq!(t.columns["ck"].kind, ColumnKind::Clustering);

    let nts = state.get_keyspace("ks_nts").expect("ks_nts in the driver's metadata");
    match &nts.strategy {
        Strategy::NetworkTopologyStrategy { datacenter_repfactors } => {
            assert_eq!(datacenter_repfactors.get("dc1"), Some(&1), "{datacenter_repfactors:?}")
        }
        other => panic!("ks_nts has strategy {other:?}"),
    }
    assert!(!nts.durable_writes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_routing_match_the_server() {
    let node = TestNode::start();
    let session = connect(&node).await;
    fresh_keyspace(&session, "ks_tokens").await;
    session.query_unpaged("CREATE TABLE single (k int PRIMARY KEY, v text)", ()).await.unwrap();
    session
        .query_unpaged("CREATE TABLE composite (a int, b text, v int, PRIMARY KEY ((a, b)))", ())
        .await
        .unwrap();
    session.await_schema_agreement().await.unwrap();
    session.refresh_metadata().await.unwrap();

    // Bind markers in another order than the partition key: pk_index must map them back.
    let insert = session.prepare("INSERT INTO composite (v, b, a) VALUES (?, ?, ?)").await.unwrap();
    // The driver keeps them sorted by marker, each with its place in the key.
    let mut pk: Vec<(u16, u16)> =
        insert.get_variable_pk_indexes().iter().map(|i| (i.sequence, i.index)).collect();
    pk.sort();
    assert_eq!(pk, [(0, 2), (1, 1)], "pk_index of (v, b, a) for key (a, b)");
    let single = session.prepare("INSERT INTO single (k, v) VALUES (?, ?)").await.unwrap();

    let state = session.get_cluster_state();
    for (i, key) in [1i32, 2, 128, -1, 0, i32::MAX, i32::MIN].into_iter().enumerate() {
        let name = format!("key-{i}-é");
        session.execute_unpaged(&insert, (i as i32, name.as_str(), key)).await.unwrap();
        session.execute_unpaged(&single, (key, name.as_str())).await.unwrap();

        let (server,): (i64,) = session
            .query_unpaged("SELECT token(a, b) FROM composite WHERE a = ? AND b = ?", (key, &name))
            .await
            .unwrap()
            .into_rows_result()
            .unwrap()
            .single_row()
            .unwrap();
        let driver = state.compute_token("ks_tokens", "composite", &(key, name.as_str())).unwrap();
        assert_eq!(driver.value(), server, "token of ({key}, {name:?})");
        let routed = insert.calculate_token(&(i as i32, name.as_str(), key)).unwrap().unwrap();
        assert_eq!(routed.value(), server, "routing token of ({key}, {name:?})");

        let (server,): (i64,) = session
            .query_unpaged("SELECT token(k) FROM single WHERE k = ?", (key,))
            .await
            .unwrap()
            .into_rows_result()
            .unwrap()
            .single_row()
            .unwrap();
        let driver = state.compute_token("ks_tokens", "single", &(key,)).unwrap();
        assert_eq!(driver.value(), server, "token of {key}");
    }
    // Cassandra's value for int 1 (the signed-tail Murmur3).
    let one = state.compute_token("ks_tokens", "single", &(1i32,)).unwrap();
    assert_eq!(one.value(), -4069959284402364209);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_round_trips() {
    let node = TestNode::start();
    let session = connect(&node).await;
    fresh_keyspace(&session, "ks_types").await;
    session
        .query_unpaged(
            "CREATE TABLE types (k int PRIMARY KEY, a ascii, b bigint, bl blob, bo boolean, \
             d date, de decimal, do double, f float, i inet, it int, si smallint, ti tinyint, \
             tm time, ts timestamp, tu timeuuid, u uuid, tx text, vi varint, vc varchar, \
             tp frozen<tuple<int, text>>, l list<int>, s set<text>, m map<text, int>, \
             fl frozen<list<int>>, fs frozen<set<int>>, fm frozen<map<int, text>>)",
            (),
        )
        .await
        .unwrap();

    let tu = CqlTimeuuid::from(Uuid::parse_str("e4b0a3c0-8a2b-11ee-b9d1-0242ac120002").unwrap());
    let u = Uuid::parse_str("5b6962dd-3f90-4c93-8f61-eabfa4a803e2").unwrap();
    let date = CqlDate((1u32 << 31) + 19782); // 2024-02-29
    let decimal = CqlDecimal::from_signed_be_bytes_and_exponent(vec![0xcf, 0xc7], 3); // -12.345
    let varint =
        CqlVarint::from_signed_bytes_be(vec![0x02, 0x9d, 0x42, 0xb6, 0x4e, 0x76, 0x71, 0x4a, 0xd6, 0xcb]);
    let time = CqlTime(45_296_789_000_000); // 12:34:56.789
    let ts = CqlTimestamp(1_704_164_645_678);
    let ip: IpAddr = "10.1.2.3".parse().unwrap();
    let ip6: IpAddr = "2001:db8::1".parse().unwrap();
    let list = vec![3i32, 1, 2];
    let set: BTreeSet<String> = ["b".to_string(), "a".to_string()].into();
    let map: BTreeMap<String, i32> = [("x".to_string(), 1), ("y".to_string(), 2)].into();
    let fset: BTreeSet<i32> = [5, 4].into();
    let fmap: BTreeMap<i32, String> = [(1, "a".to_string())].into();

    let insert = session
        .prepare(
            "INSERT INTO types (k, a, b, bl, bo, d, de, do, f, i, it, si, ti, tm, ts, tu) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .await
        .unwrap();
    session
        .execute_unpaged(
            &insert,
            (
                1i32,
                "ascii",
                -(1i64 << 62),
                vec![0x00u8, 0xff],
                true,
                date,
                decimal.clone(),
                1.5f64,
                2.5f32,
                ip,
                -7i32,
                300i16,
                -5i8,
                time,
                ts,
                tu,
            ),
        )
        .await
        .unwrap();
    let update = session
        .prepare(
            "UPDATE types SET u = ?, tx = ?, vi = ?, vc = ?, tp = ?, l = ?, s = ?, m = ?, \
             fl = ?, fs = ?, fm = ? WHERE k = ?",
        )
        .await
        .unwrap();
    session
        .execute_unpaged(
            &update,
            (
                u,
                "héllo",
                varint.clone(),
                "v",
                (1i32, "x"),
                &list,
                &set,
                &map,
                vec![1i32, 2],
                &fset,
                &fmap,
                1i32,
            ),
        )
        .await
        .unwrap();

    // Tuples past 12 elements have no `PartialEq`: read the first sixteen columns in two halves.
    type Numbers = (String, i64, Vec<u8>, bool, CqlDate, CqlDecimal, f64, f32);
    let got: Numbers = session
        .query_unpaged("SELECT a, b, bl, bo, d, de, do, f FROM types WHERE k = 1", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .single_row()
        .unwrap();
    assert_eq!(got, ("ascii".into(), -(1i64 << 62), vec![0x00, 0xff], true, date, decimal, 1.5, 2.5));
    type Others = (IpAddr, i32, i16, i8, CqlTime, CqlTimestamp, CqlTimeuuid);
    let got: Others = session
        .query_unpaged("SELECT i, it, si, ti, tm, ts, tu FROM types WHERE k = 1", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .single_row()
        .unwrap();
    assert_eq!(got, (ip, -7, 300, -5, time, ts, tu));

    type Second = (
        Uuid,
        String,
        CqlVarint,
        String,
        (i32, String),
        Vec<i32>,
        BTreeSet<String>,
        BTreeMap<String, i32>,
        Vec<i32>,
        BTreeSet<i32>,
        BTreeMap<i32, String>,
    );
    let got: Second = session
        .query_unpaged("SELECT u, tx, vi, vc, tp, l, s, m, fl, fs, fm FROM types WHERE k = 1", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .single_row()
        .unwrap();
    let want: Second =
        (u, "héllo".into(), varint, "v".into(), (1, "x".into()), list, set, map, vec![1, 2], fset, fmap);
    assert_eq!(got, want);

    // An IPv6 address and nulls (unset columns read back as None).
    session.query_unpaged("INSERT INTO types (k, i) VALUES (?, ?)", (2i32, ip6)).await.unwrap();
    let (i, b, l): (Option<IpAddr>, Option<i64>, Option<Vec<i32>>) = session
        .query_unpaged("SELECT i, b, l FROM types WHERE k = 2", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .single_row()
        .unwrap();
    assert_eq!((i, b, l), (Some(ip6), None, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collections_update_element_by_element() {
    let node = TestNode::start();
    let session = connect(&node).await;
    fresh_keyspace(&session, "ks_coll").await;
    session
        .query_unpaged("CREATE TABLE c (k int PRIMARY KEY, l list<int>, s set<text>, m map<text, int>)", ())
        .await
        .unwrap();
    session
        .query_unpaged("INSERT INTO c (k, l, s, m) VALUES (1, [1, 2], {'a', 'b'}, {'x': 1})", ())
        .await
        .unwrap();
    session.query_unpaged("UPDATE c SET l = l + ? WHERE k = 1", (vec![3i32],)).await.unwrap();
    session.query_unpaged("UPDATE c SET l = ? + l WHERE k = 1", (vec![0i32],)).await.unwrap();
    session.query_unpaged("UPDATE c SET s = s - {'a'}, s = s + {'c'} WHERE k = 1", ()).await.unwrap();
    session.query_unpaged("UPDATE c SET m[?] = ? WHERE k = 1", ("y", 2i32)).await.unwrap();
    session.query_unpaged("DELETE m['x'] FROM c WHERE k = 1", ()).await.unwrap();
    let got: (Vec<i32>, BTreeSet<String>, BTreeMap<String, i32>) = session
        .query_unpaged("SELECT l, s, m FROM c WHERE k = 1", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .single_row()
        .unwrap();
    assert_eq!(
        got,
        (vec![0, 1, 2, 3], ["b".to_string(), "c".to_string()].into(), [("y".to_string(), 2)].into())
    );
    // Overwriting a collection replaces it whole (collection tombstone).
    session.query_unpaged("UPDATE c SET m = {'z': 9} WHERE k = 1", ()).await.unwrap();
    let (m,): (BTreeMap<String, i32>,) = session
        .query_unpaged("SELECT m FROM c WHERE k = 1", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .single_row()
        .unwrap();
    assert_eq!(m, [("z".to_string(), 9)].into());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_through_10000_rows() {
    let node = TestNode::start_with("commitlog_sync: periodic\n");
    let session = connect(&node).await;
    fresh_keyspace(&session, "ks_paging").await;
    session.query_unpaged("CREATE TABLE p (pk int, ck int, v text, PRIMARY KEY (pk, ck))", ()).await.unwrap();
    let insert = session.prepare("INSERT INTO p (pk, ck, v) VALUES (?, ?, ?)").await.unwrap();
    // 10,000 rows: 5,000 in one wide partition, 5,000 spread over 100 partitions.
    let rows: Vec<(i32, i32)> =
        (0..5000).map(|ck| (0, ck)).chain((0..5000).map(|i| (1 + i % 100, i))).collect();
    for chunk in rows.chunks(200) {
        let writes = chunk.iter().map(|&(pk, ck)| {
            let insert = &insert;
            let session = &session;
            async move { session.execute_unpaged(insert, (pk, ck, format!("v{ck}"))).await }
        });
        for r in futures::future::join_all(writes).await {
            r.unwrap();
        }
    }

    // One partition, in clustering order, 333 rows a page.
    let mut select = session.prepare("SELECT ck, v FROM p WHERE pk = ?").await.unwrap();
    select.set_page_size(333);
    let got: Vec<(i32, String)> = session
        .execute_iter(select, (0i32,))
        .await
        .unwrap()
        .rows_stream::<(i32, String)>()
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got.len(), 5000);
    assert!(got.iter().enumerate().all(|(i, (ck, v))| *ck == i as i32 && *v == format!("v{i}")));

    // The whole table, page by page with the paging state handed back by hand.
    let mut scan = Statement::new("SELECT pk, ck FROM p");
    scan.set_page_size(1000);
    let mut state = scylla::response::PagingState::start();
    let mut seen = BTreeSet::new();
    let mut pages = 0;
    loop {
        let (result, next) = session.query_single_page(scan.clone(), (), state).await.unwrap();
        pages += 1;
        for row in result.into_rows_result().unwrap().rows::<(i32, i32)>().unwrap() {
            let row = row.unwrap();
            assert!(seen.insert(row), "row {row:?} came back twice");
        }
        match next.into_paging_control_flow() {
            std::ops::ControlFlow::Continue(s) => state = s,
            std::ops::ControlFlow::Break(()) => break,
        }
        assert!(pages < 100, "paging does not end");
    }
    assert_eq!(seen.len(), 10_000);
    assert!(pages >= 10, "10,000 rows in {pages} pages of 1,000");
    assert_eq!(seen, rows.into_iter().collect::<BTreeSet<_>>());

    let (count,): (i64,) = session
        .query_unpaged("SELECT count(*) FROM p", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .single_row()
        .unwrap();
    assert_eq!(count, 10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_conditional_writes_and_timestamps() {
    let node = TestNode::start();
    let session = connect(&node).await;
    fresh_keyspace(&session, "ks_batch").await;
    session.query_unpaged("CREATE TABLE b (pk int, ck int, v text, PRIMARY KEY (pk, ck))", ()).await.unwrap();

    // A logged batch mixing a simple and a prepared statement, at a client timestamp.
    let prepared = session.prepare("INSERT INTO b (pk, ck, v) VALUES (?, ?, ?)").await.unwrap();
    let mut batch = Batch::new(BatchType::Logged);
    batch.append_statement("INSERT INTO b (pk, ck, v) VALUES (1, 1, 'simple')");
    batch.append_statement(prepared.clone());
    batch.set_timestamp(Some(1_000_000));
    session.batch(&batch, ((), (1i32, 2i32, "prepared"))).await.unwrap();
    let rows: Vec<(i32, String, i64)> = session
        .query_unpaged("SELECT ck, v, writetime(v) FROM b WHERE pk = 1", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .rows()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, [(1, "simple".into(), 1_000_000), (2, "prepared".into(), 1_000_000)]);

    // An unlogged batch with USING TIMESTAMP in its text; an older write loses to it.
    let mut unlogged = Batch::new(BatchType::Unlogged);
    unlogged.append_statement("UPDATE b USING TIMESTAMP 5000000 SET v = 'newer' WHERE pk = 1 AND ck = 1");
    unlogged.append_statement("UPDATE b USING TIMESTAMP 4000000 SET v = 'older' WHERE pk = 1 AND ck = 2");
    session.batch(&unlogged, ((), ())).await.unwrap();
    let mut stale = Statement::new("UPDATE b SET v = 'stale' WHERE pk = 1 AND ck = 1");
    stale.set_timestamp(Some(4_999_999));
    session.query_unpaged(stale, ()).await.unwrap();
    let rows: Vec<(i32, String, i64)> = session
        .query_unpaged("SELECT ck, v, writetime(v) FROM b WHERE pk = 1", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .rows()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, [(1, "newer".into(), 5_000_000), (2, "older".into(), 4_000_000)]);

    // Conditional writes answer with [applied].
    let (applied,): (bool,) = session
        .query_unpaged("INSERT INTO b (pk, ck, v) VALUES (2, 1, 'first') IF NOT EXISTS", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .first_row::<(bool,)>()
        .unwrap();
    assert!(applied);
    let result = session
        .query_unpaged("INSERT INTO b (pk, ck, v) VALUES (2, 1, 'second') IF NOT EXISTS", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap();
    let cols: Vec<&str> = result.column_specs().iter().map(|c| c.name()).collect();
    assert_eq!(cols.first(), Some(&"[applied]"), "{cols:?}");
    let (applied,): (bool,) = result
        .first_row::<scylla::value::Row>()
        .map(|r| match &r.columns[0] {
            Some(scylla::value::CqlValue::Boolean(b)) => (*b,),
            other => panic!("[applied] is {other:?}"),
        })
        .unwrap();
    assert!(!applied);
    let (applied,): (bool,) = session
        .query_unpaged("UPDATE b SET v = 'x' WHERE pk = 3 AND ck = 1 IF EXISTS", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .first_row::<(bool,)>()
        .unwrap();
    assert!(!applied);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_counts_down_and_expires() {
    let node = TestNode::start();
    let session = connect(&node).await;
    fresh_keyspace(&session, "ks_ttl").await;
    session.query_unpaged("CREATE TABLE t (k int PRIMARY KEY, v text)", ()).await.unwrap();
    let insert = session.prepare("INSERT INTO t (k, v) VALUES (?, ?) USING TTL ?").await.unwrap();
    session.execute_unpaged(&insert, (1i32, "long", 3600i32)).await.unwrap();
    session.execute_unpaged(&insert, (2i32, "short", 1i32)).await.unwrap();
    let (ttl,): (Option<i32>,) = session
        .query_unpaged("SELECT ttl(v) FROM t WHERE k = 1", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .single_row()
        .unwrap();
    let ttl = ttl.unwrap();
    assert!((3500..=3600).contains(&ttl), "ttl {ttl}");

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n = session
            .query_unpaged("SELECT v FROM t WHERE k = 2", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap()
            .rows_num();
        if n == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "a row with TTL 1 is still there after 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rows = session
        .query_unpaged("SELECT v FROM t WHERE k = 1", ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .rows_num();
    assert_eq!(rows, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_come_back_as_the_right_db_error() {
    let node = TestNode::start();
    let session = connect(&node).await;
    fresh_keyspace(&session, "ks_errors").await;
    session.query_unpaged("CREATE TABLE t (k int PRIMARY KEY, v text)", ()).await.unwrap();

    let e = session.query_unpaged("SELEC * FROM t", ()).await.unwrap_err();
    let (db, msg) = db_error(&e);
    assert_eq!(*db, DbError::SyntaxError, "{msg}");

    let e = session.query_unpaged("SELECT * FROM nope", ()).await.unwrap_err();
    let (db, msg) = db_error(&e);
    assert_eq!(*db, DbError::Invalid, "{msg}");
    assert!(msg.contains("nope"), "{msg}");

    let e = session.prepare("SELECT * FROM t WHERE v = ?").await.unwrap_err();
    let (db, msg) = prepare_db_error(&e);
    assert_eq!(*db, DbError::Invalid, "{msg}");
    assert!(msg.contains("ALLOW FILTERING"), "{msg}");

    let e = session.query_unpaged("CREATE TABLE t (k int PRIMARY KEY)", ()).await.unwrap_err();
    let (db, msg) = db_error(&e);
    assert_eq!(*db, DbError::AlreadyExists { keyspace: "ks_errors".into(), table: "t".into() }, "{msg}");
    let e = session
        .query_unpaged(
            "CREATE KEYSPACE ks_errors WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await
        .unwrap_err();
    let (db, msg) = db_error(&e);
    assert_eq!(*db, DbError::AlreadyExists { keyspace: "ks_errors".into(), table: String::new() }, "{msg}");

    // One node cannot meet TWO, nor ALL of RF 3.
    let mut two = Statement::new("INSERT INTO t (k, v) VALUES (1, 'x')");
    two.set_consistency(Consistency::Two);
    let e = session.query_unpaged(two, ()).await.unwrap_err();
    let (db, msg) = db_error(&e);
    assert_eq!(*db, DbError::Unavailable { consistency: Consistency::Two, required: 2, alive: 1 }, "{msg}");
    let e =
        session.query_unpaged("SELECT * FROM t WHERE k = 1 USING CONSISTENCY THREE", ()).await.unwrap_err();
    let (db, msg) = db_error(&e);
    assert_eq!(*db, DbError::Unavailable { consistency: Consistency::Three, required: 3, alive: 1 }, "{msg}");

    // A wrongly typed bind value is refused by the driver before it is sent; a wrongly typed
    // literal by the server.
    let e = session.query_unpaged("INSERT INTO t (k, v) VALUES ('one', 'x')", ()).await.unwrap_err();
    let (db, msg) = db_error(&e);
    assert_eq!(*db, DbError::Invalid, "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepared_statements_are_reprepared_after_a_restart() {
    let mut node = TestNode::start();
    let session = connect(&node).await;
    fresh_keyspace(&session, "ks_reprepare").await;
    session.query_unpaged("CREATE TABLE t (k int PRIMARY KEY, v text)", ()).await.unwrap();
    let insert = session.prepare("INSERT INTO t (k, v) VALUES (?, ?)").await.unwrap();
    let select = session.prepare("SELECT v FROM t WHERE k = ?").await.unwrap();
    session.execute_unpaged(&insert, (1i32, "before")).await.unwrap();

    // A restarted node has an empty statement cache: its first answer to the old id is
    // UNPREPARED, the driver prepares again and retries.
    node.restart_after_kill9();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match session.execute_unpaged(&insert, (2i32, "after")).await {
            Ok(_) => break,
            Err(e) => {
                assert!(Instant::now() < deadline, "no write after the restart: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    for (k, want) in [(1i32, "before"), (2, "after")] {
        let (v,): (String,) = session
            .execute_unpaged(&select, (k,))
            .await
            .unwrap()
            .into_rows_result()
            .unwrap()
            .single_row()
            .unwrap();
        assert_eq!(v, want);
    }
}
