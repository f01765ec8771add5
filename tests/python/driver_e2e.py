"""End-to-end checks with the real Python cassandra-driver against one Tessera node.

Usage: driver_e2e.py HOST PORT [TEST ...]
Each test_* function runs in its own fresh keyspace; the script exits non-zero if any fails,
printing which and why.
"""

import datetime
import decimal
import ipaddress
import sys
import time
import traceback
import uuid

from cassandra import ConsistencyLevel, InvalidRequest, AlreadyExists, Unavailable
from cassandra.cluster import Cluster, NoHostAvailable
from cassandra.protocol import SyntaxException
from cassandra.policies import FallthroughRetryPolicy
from cassandra.query import BatchStatement, SimpleStatement, BatchType
from cassandra.util import Date, Time, OrderedMapSerializedKey, SortedSet

HOST, PORT = sys.argv[1], int(sys.argv[2])
ONLY = sys.argv[3:]


def connect():
    cluster = Cluster([HOST], port=PORT, connect_timeout=10, control_connection_timeout=10)
    return cluster, cluster.connect()


def fresh_keyspace(session, name):
    session.execute(f"DROP KEYSPACE IF EXISTS {name}")
    session.execute(
        f"CREATE KEYSPACE {name} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
    )
    session.set_keyspace(name)


def test_connect_reads_system_tables(session):
    row = session.execute("SELECT release_version, cluster_name, partitioner FROM system.local WHERE key='local'").one()
    assert row.release_version.startswith("4."), row.release_version
    assert row.partitioner.endswith("Murmur3Partitioner")
    meta = session.cluster.metadata
    assert "system_schema" in meta.keyspaces
    assert "local" in meta.keyspaces["system"].tables


def test_schema_metadata_follows_ddl(session):
    session.execute("CREATE TABLE t (pk int, ck text, v int, s text static, PRIMARY KEY (pk, ck)) WITH CLUSTERING ORDER BY (ck DESC)")
    meta = session.cluster.metadata.keyspaces["ks_schema_metadata_follows_ddl"]
    t = meta.tables["t"]
    assert [c.name for c in t.partition_key] == ["pk"]
    assert [c.name for c in t.clustering_key] == ["ck"]
    assert t.columns["s"].is_static
    assert t.clustering_key[0].is_reversed
    session.execute("ALTER TABLE t ADD extra bigint")
    assert "extra" in session.cluster.metadata.keyspaces["ks_schema_metadata_follows_ddl"].tables["t"].columns
    session.execute("DROP TABLE t")
    assert "t" not in session.cluster.metadata.keyspaces["ks_schema_metadata_follows_ddl"].tables


def test_every_type_round_trips(session):
    session.execute(
        """CREATE TABLE types (k int PRIMARY KEY, a ascii, b bigint, bl blob, bo boolean, d date, de decimal,
        do double, f float, i inet, it int, si smallint, ti tinyint, tm time, ts timestamp, tu timeuuid,
        u uuid, tx text, vi varint, vc varchar, tp frozen<tuple<int, text>>, l list<int>, s set<text>,
        m map<text, int>, fl frozen<list<int>>, fs frozen<set<int>>, fm frozen<map<int, text>>)"""
    )
    values = dict(
        k=1, a="ascii", b=-(2**62), bl=b"\x00\xff", bo=True, d=Date(datetime.date(2024, 2, 29)),
        de=decimal.Decimal("-12.345"), do=1.5, f=2.5, i=ipaddress.ip_address("10.1.2.3"), it=-7, si=300,
        ti=-5, tm=Time(datetime.time(12, 34, 56, 789000)),
        ts=datetime.datetime(2024, 1, 2, 3, 4, 5, 678000), tu=uuid.uuid1(), u=uuid.uuid4(), tx="héllo",
        vi=12345678901234567890123, vc="v", tp=(1, "x"), l=[3, 1, 2], s={"b", "a"}, m={"x": 1, "y": 2},
        fl=[1, 2], fs={5, 4}, fm={1: "a"},
    )
    cols = ", ".join(values)
    marks = ", ".join("%s" for _ in values)
    session.execute(f"INSERT INTO types ({cols}) VALUES ({marks})", list(values.values()))
    row = session.execute("SELECT * FROM types WHERE k = 1").one()._asdict()
    for name, want in values.items():
        got = row[name]
        if name == "i":
            got = ipaddress.ip_address(got)
        if name in ("s", "fs"):
            got, want = set(got), set(want)
        if name in ("m", "fm"):
            got = dict(got)
        if name in ("l", "fl"):
            got = list(got)
        assert got == want, f"{name}: wrote {want!r}, read {got!r}"
    # Literals in the statement text, too.
    session.execute(
        "INSERT INTO types (k, it, tx, l, m, u, bl) VALUES (2, 42, 'it''s', [1, 2], {'a': 1}, "
        "5b6962dd-3f90-4c93-8f61-eabfa4a803e2, 0xcafe)"
    )
    row = session.execute("SELECT it, tx, l, m, u, bl FROM types WHERE k = 2").one()
    assert (row.it, row.tx, list(row.l), dict(row.m), str(row.u), row.bl) == (
        42, "it's", [1, 2], {"a": 1}, "5b6962dd-3f90-4c93-8f61-eabfa4a803e2", b"\xca\xfe"
    ), row


def test_clustering_order_and_slices(session):
    session.execute("CREATE TABLE c (pk int, ck int, v text, PRIMARY KEY (pk, ck))")
    for i in range(10):
        session.execute("INSERT INTO c (pk, ck, v) VALUES (1, %s, %s)", (i, str(i)))
    got = [r.ck for r in session.execute("SELECT ck FROM c WHERE pk = 1 AND ck >= 3 AND ck < 7")]
    assert got == [3, 4, 5, 6], got
    got = [r.ck for r in session.execute("SELECT ck FROM c WHERE pk = 1 ORDER BY ck DESC LIMIT 3")]
    assert got == [9, 8, 7], got
    got = [r.ck for r in session.execute("SELECT ck FROM c WHERE pk = 1 AND ck IN (2, 5, 8)")]
    assert got == [2, 5, 8], got
    session.execute("CREATE TABLE d (pk int, ck int, v text, PRIMARY KEY (pk, ck)) WITH CLUSTERING ORDER BY (ck DESC)")
    for i in [-5, 0, 7, 100]:
        session.execute("INSERT INTO d (pk, ck, v) VALUES (1, %s, 'x')", (i,))
    got = [r.ck for r in session.execute("SELECT ck FROM d WHERE pk = 1")]
    assert got == [100, 7, 0, -5], got
    got = [r.ck for r in session.execute("SELECT ck FROM d WHERE pk = 1 AND ck > 0")]
    assert got == [100, 7], got


def test_updates_deletes_and_collections(session):
    session.execute("CREATE TABLE u (pk int, ck int, n int, l list<int>, s set<text>, m map<text, int>, PRIMARY KEY (pk, ck))")
    session.execute("UPDATE u SET n = 1, l = [1], s = {'a'}, m = {'k': 1} WHERE pk = 1 AND ck = 1")
    session.execute("UPDATE u SET l = l + [2], s = s + {'b'}, m['j'] = 2 WHERE pk = 1 AND ck = 1")
    session.execute("UPDATE u SET l = [0] + l, s = s - {'a'} WHERE pk = 1 AND ck = 1")
    row = session.execute("SELECT n, l, s, m FROM u WHERE pk = 1 AND ck = 1").one()
    assert list(row.l) == [0, 1, 2], row.l
    assert set(row.s) == {"b"}, row.s
    assert dict(row.m) == {"k": 1, "j": 2}, row.m
    session.execute("DELETE m['k'] FROM u WHERE pk = 1 AND ck = 1")
    session.execute("DELETE n FROM u WHERE pk = 1 AND ck = 1")
    row = session.execute("SELECT n, m FROM u WHERE pk = 1 AND ck = 1").one()
    assert row.n is None and dict(row.m) == {"j": 2}, row
    for ck in range(2, 6):
        session.execute("INSERT INTO u (pk, ck, n) VALUES (1, %s, %s)", (ck, ck))
    session.execute("DELETE FROM u WHERE pk = 1 AND ck > 3")
    assert [r.ck for r in session.execute("SELECT ck FROM u WHERE pk = 1")] == [1, 2, 3]
    session.execute("DELETE FROM u WHERE pk = 1 AND ck = 2")
    assert [r.ck for r in session.execute("SELECT ck FROM u WHERE pk = 1")] == [1, 3]
    session.execute("DELETE FROM u WHERE pk = 1")
    assert list(session.execute("SELECT * FROM u WHERE pk = 1")) == []


def test_prepared_statements_and_routing(session):
    session.execute("CREATE TABLE p (a int, b text, v int, PRIMARY KEY ((a, b)))")
    ins = session.prepare("INSERT INTO p (a, b, v) VALUES (?, ?, ?)")
    assert ins.routing_key_indexes == [0, 1], ins.routing_key_indexes
    for i in range(20):
        session.execute(ins, (i, str(i), i * 10))
    sel = session.prepare("SELECT v FROM p WHERE a = ? AND b = ?")
    assert session.execute(sel, (7, "7")).one().v == 70
    named = session.prepare("SELECT v FROM p WHERE a = :x AND b = :y")
    assert session.execute(named, {"x": 3, "y": "3"}).one().v == 30


def test_batches(session):
    session.execute("CREATE TABLE b (pk int, ck int, v int, PRIMARY KEY (pk, ck))")
    ins = session.prepare("INSERT INTO b (pk, ck, v) VALUES (?, ?, ?)")
    batch = BatchStatement(batch_type=BatchType.LOGGED)
    for i in range(5):
        batch.add(ins, (1, i, i))
    batch.add(SimpleStatement("UPDATE b SET v = 99 WHERE pk = 2 AND ck = 0"))
    session.execute(batch)
    assert len(list(session.execute("SELECT * FROM b WHERE pk = 1"))) == 5
    assert session.execute("SELECT v FROM b WHERE pk = 2 AND ck = 0").one().v == 99
    session.execute(
        "BEGIN UNLOGGED BATCH INSERT INTO b (pk, ck, v) VALUES (3, 0, 1); "
        "INSERT INTO b (pk, ck, v) VALUES (3, 1, 2); APPLY BATCH"
    )
    assert len(list(session.execute("SELECT * FROM b WHERE pk = 3"))) == 2
    session.execute("BEGIN BATCH APPLY BATCH")


def test_paging_through_10000_rows(session):
    session.execute("CREATE TABLE pg (pk int, ck int, v int, PRIMARY KEY (pk, ck))")
    ins = session.prepare("INSERT INTO pg (pk, ck, v) VALUES (?, ?, ?)")
    for i in range(10000):
        session.execute_async(ins, (i % 7, i, i))
    time.sleep(0)
    # Wait for the writes (execute_async futures) by reading back with paging.
    deadline = time.time() + 60
    while True:
        stmt = SimpleStatement("SELECT ck FROM pg", fetch_size=333)
        cks = [r.ck for r in session.execute(stmt)]
        if len(cks) == 10000 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert sorted(cks) == list(range(10000)), len(cks)
    stmt = SimpleStatement("SELECT ck FROM pg WHERE pk = 3", fetch_size=100)
    rs = session.execute(stmt)
    assert rs.has_more_pages
    got = [r.ck for r in rs]
    assert got == [i for i in range(10000) if i % 7 == 3], len(got)


def test_ttl_and_timestamps(session):
    session.execute("CREATE TABLE tt (k int PRIMARY KEY, v text)")
    session.execute("INSERT INTO tt (k, v) VALUES (1, 'a') USING TTL 2")
    row = session.execute("SELECT v, ttl(v) FROM tt WHERE k = 1").one()
    assert row.v == "a" and 0 < row[1] <= 2, row
    time.sleep(3.1)
    assert session.execute("SELECT * FROM tt WHERE k = 1").one() is None
    session.execute("INSERT INTO tt (k, v) VALUES (2, 'new') USING TIMESTAMP 2000")
    session.execute("INSERT INTO tt (k, v) VALUES (2, 'old') USING TIMESTAMP 1000")
    row = session.execute("SELECT v, writetime(v) FROM tt WHERE k = 2").one()
    assert row.v == "new" and row[1] == 2000, row


def test_error_codes(session):
    session.execute("CREATE TABLE e (k int PRIMARY KEY, v int)")
    cases = [
        ("SELEKT * FROM e", SyntaxException),
        ("SELECT * FROM nope", InvalidRequest),
        ("INSERT INTO e (k, v) VALUES ('x', 1)", InvalidRequest),
        ("CREATE TABLE e (k int PRIMARY KEY)", AlreadyExists),
    ]
    for q, exc in cases:
        try:
            session.execute(q)
        except exc:
            continue
        except Exception as e:  # noqa: BLE001
            raise AssertionError(f"{q!r}: expected {exc.__name__}, got {type(e).__name__}: {e}")
        raise AssertionError(f"{q!r}: expected {exc.__name__}, got success")
    # The default retry policy tries the next host on Unavailable; fall through to see it.
    fall = FallthroughRetryPolicy()
    try:
        session.execute(SimpleStatement("SELECT * FROM e", consistency_level=ConsistencyLevel.TWO, retry_policy=fall))
        raise AssertionError("expected Unavailable")
    except Unavailable as e:
        assert e.required_replicas == 2 and e.alive_replicas == 1, e
    try:
        session.execute(SimpleStatement("INSERT INTO e (k, v) VALUES (1, 1) USING CONSISTENCY THREE", retry_policy=fall))
        raise AssertionError("expected Unavailable")
    except Unavailable as e:
        assert e.required_replicas == 3, e


def test_truncate_and_token_scans(session):
    session.execute("CREATE TABLE tk (k int PRIMARY KEY, v int)")
    for i in range(50):
        session.execute("INSERT INTO tk (k, v) VALUES (%s, %s)", (i, i))
    toks = [(r[0], r.k) for r in session.execute("SELECT token(k), k FROM tk")]
    assert len(toks) == 50 and [t for t, _ in toks] == sorted(t for t, _ in toks)
    mid = toks[25][0]
    low = [r.k for r in session.execute("SELECT k FROM tk WHERE token(k) <= %s", (mid,))]
    high = [r.k for r in session.execute("SELECT k FROM tk WHERE token(k) > %s", (mid,))]
    assert len(low) == 26 and len(high) == 24 and not set(low) & set(high)
    assert session.execute("SELECT count(*) FROM tk").one()[0] == 50
    session.execute("TRUNCATE tk")
    assert session.execute("SELECT count(*) FROM tk").one()[0] == 0


def test_conditional_writes(session):
    session.execute("CREATE TABLE lwt (k int PRIMARY KEY, v text)")
    rs = session.execute("INSERT INTO lwt (k, v) VALUES (1, 'a') IF NOT EXISTS")
    assert rs.was_applied
    rs = session.execute("INSERT INTO lwt (k, v) VALUES (1, 'b') IF NOT EXISTS")
    assert not rs.was_applied
    assert rs.one().v == "a", rs.one()
    assert session.execute("SELECT v FROM lwt WHERE k = 1").one().v == "a"
    assert not session.execute("UPDATE lwt SET v = 'z' WHERE k = 2 IF EXISTS").was_applied
    assert session.execute("SELECT * FROM lwt WHERE k = 2").one() is None
    assert session.execute("UPDATE lwt SET v = 'c' WHERE k = 1 IF EXISTS").was_applied
    assert session.execute("DELETE FROM lwt WHERE k = 1 IF EXISTS").was_applied
    assert session.execute("SELECT * FROM lwt WHERE k = 1").one() is None


def test_list_operations_by_index_and_value(session):
    session.execute("CREATE TABLE li (k int PRIMARY KEY, l list<text>)")
    session.execute("INSERT INTO li (k, l) VALUES (1, ['a', 'b', 'c', 'b'])")
    session.execute("UPDATE li SET l[1] = 'B' WHERE k = 1")
    assert list(session.execute("SELECT l FROM li WHERE k = 1").one().l) == ["a", "B", "c", "b"]
    session.execute("DELETE l[0] FROM li WHERE k = 1")
    assert list(session.execute("SELECT l FROM li WHERE k = 1").one().l) == ["B", "c", "b"]
    session.execute("UPDATE li SET l = l - ['b'] WHERE k = 1")
    assert list(session.execute("SELECT l FROM li WHERE k = 1").one().l) == ["B", "c"]
    try:
        session.execute("UPDATE li SET l[5] = 'x' WHERE k = 1")
        raise AssertionError("expected an out-of-bound error")
    except InvalidRequest as e:
        assert "out of bound" in str(e), e


def test_insert_json(session):
    session.execute("CREATE TABLE js (k int PRIMARY KEY, t text, l list<int>, m map<text, double>, u uuid, b blob)")
    doc = '{"k": 1, "t": "hi", "l": [1, 2], "m": {"a": 1.5}, "u": "5b6962dd-3f90-4c93-8f61-eabfa4a803e2", "b": "0x00ff"}'
    session.execute("INSERT INTO js JSON %s", (doc,))
    row = session.execute("SELECT * FROM js WHERE k = 1").one()
    got = (row.t, list(row.l), dict(row.m), str(row.u), row.b)
    assert got == ("hi", [1, 2], {"a": 1.5}, "5b6962dd-3f90-4c93-8f61-eabfa4a803e2", b"\x00\xff"), got
    session.execute("""INSERT INTO js JSON '{"k": 1, "t": "only"}'""")
    row = session.execute("SELECT * FROM js WHERE k = 1").one()
    assert row.t == "only" and row.l is None, row


def test_dropped_columns_stay_dropped(session):
    session.execute("CREATE TABLE dc (k int, c int, v int, w text, PRIMARY KEY (k, c))")
    session.execute("UPDATE dc SET v = 42 WHERE k = 1 AND c = 1")
    session.execute("INSERT INTO dc (k, c, v, w) VALUES (1, 2, 7, 'x')")
    session.execute("ALTER TABLE dc DROP v")
    assert [r.c for r in session.execute("SELECT c FROM dc WHERE k = 1")] == [2]
    session.execute("ALTER TABLE dc ADD v text")
    rows = list(session.execute("SELECT c, v FROM dc WHERE k = 1"))
    assert [(r.c, r.v) for r in rows] == [(2, None)], rows
    session.execute("UPDATE dc SET v = 'new' WHERE k = 1 AND c = 1")
    assert session.execute("SELECT v FROM dc WHERE k = 1 AND c = 1").one().v == "new"


def test_list_prepends_and_appends_in_order(session):
    session.execute("CREATE TABLE lp (k int PRIMARY KEY, l list<int>)")
    session.execute("UPDATE lp SET l = [1] + l WHERE k = 1")
    session.execute("UPDATE lp SET l = [2] + l WHERE k = 1")
    session.execute("UPDATE lp SET l = [3, 4] + l WHERE k = 1")
    session.execute("UPDATE lp SET l = l + [10, 11] WHERE k = 1")
    session.execute("UPDATE lp SET l = [5] + l WHERE k = 1")
    assert list(session.execute("SELECT l FROM lp WHERE k = 1").one().l) == [5, 3, 4, 2, 1, 10, 11]


def test_statement_semantics_edge_cases(session):
    session.execute("CREATE TABLE ec (k int, c int, v int, st set<text>, PRIMARY KEY (k, c))")
    for k in (1, 2):
        for c in range(4):
            session.execute("INSERT INTO ec (k, c, v, st) VALUES (%s, %s, %s, {'a'})", (k, c, c))
    # Duplicate IN values name each partition once.
    assert len(list(session.execute("SELECT * FROM ec WHERE k IN (1, 2, 1)"))) == 8
    # count(*) counts everything, LIMIT or not.
    assert session.execute("SELECT count(*) FROM ec LIMIT 5").one()[0] == 8
    assert session.execute("SELECT count(*) FROM ec PER PARTITION LIMIT 1").one()[0] == 8
    # IN with ORDER BY orders across partitions (unpaged, as Cassandra requires).
    stmt = SimpleStatement("SELECT c FROM ec WHERE k IN (1, 2) ORDER BY c DESC", fetch_size=None)
    assert [r.c for r in session.execute(stmt)] == [3, 3, 2, 2, 1, 1, 0, 0]
    # CONTAINS filters collections.
    assert len(list(session.execute("SELECT * FROM ec WHERE st CONTAINS 'a' ALLOW FILTERING"))) == 8
    assert list(session.execute("SELECT * FROM ec WHERE st CONTAINS 'b' ALLOW FILTERING")) == []
    # Contradictions and bad keys are errors, not silent results.
    for q in [
        "SELECT * FROM ec WHERE k = 1 AND c = 1 AND c > 2",
        "SELECT DISTINCT v FROM ec",
        "INSERT INTO ec (k, c, v) VALUES (1, 1, 1) USING TIMESTAMP -9223372036854775808",
    ]:
        try:
            session.execute(q)
            raise AssertionError(f"{q!r} should fail")
        except InvalidRequest:
            pass
    session.execute("CREATE TABLE tk2 (k text PRIMARY KEY, v int)")
    try:
        session.execute("INSERT INTO tk2 (k, v) VALUES ('', 1)")
        raise AssertionError("an empty partition key should be refused")
    except InvalidRequest as e:
        assert "empty" in str(e), e


def test_batch_statements_share_one_timestamp(session):
    session.execute("CREATE TABLE bt (k int PRIMARY KEY, v int)")
    session.execute("INSERT INTO bt (k, v) VALUES (2, 1)")
    batch = BatchStatement()
    batch.add(SimpleStatement("DELETE FROM bt WHERE k = 2"))
    batch.add(SimpleStatement("INSERT INTO bt (k, v) VALUES (2, 5)"))
    session.execute(batch)
    # Same timestamp: the deletion wins, as in Cassandra.
    assert session.execute("SELECT * FROM bt WHERE k = 2").one() is None
    session.execute("BEGIN BATCH INSERT INTO bt (k, v) VALUES (3, 1); INSERT INTO bt (k, v) VALUES (4, 1); APPLY BATCH")
    w = [session.execute("SELECT writetime(v) FROM bt WHERE k = %s", (k,)).one()[0] for k in (3, 4)]
    assert w[0] == w[1], w


def test_prepared_statements_keep_their_keyspace(session):
    session.execute("CREATE TABLE pk (k int PRIMARY KEY, v text)")
    session.execute("INSERT INTO pk (k, v) VALUES (1, 'from here')")
    ps = session.prepare("SELECT v FROM pk WHERE k = ?")
    other = "ks_prepared_other"
    session.execute(f"CREATE KEYSPACE IF NOT EXISTS {other} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}")
    session.execute(f"CREATE TABLE IF NOT EXISTS {other}.pk (k int PRIMARY KEY, v text)")
    session.execute(f"INSERT INTO {other}.pk (k, v) VALUES (1, 'from there')")
    session.set_keyspace(other)
    assert session.execute(ps, (1,)).one().v == "from here"


def test_keyspace_ddl_and_options(session):
    session.execute(
        "CREATE KEYSPACE IF NOT EXISTS ks_nts WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1, 'dc2': 2} "
        "AND durable_writes = false"
    )
    ks = session.cluster.metadata.keyspaces["ks_nts"]
    assert ks.replication_strategy.dc_replication_factors == {"dc1": 1, "dc2": 2}, ks.replication_strategy
    assert ks.durable_writes is False
    session.execute("ALTER KEYSPACE ks_nts WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1} AND durable_writes = true")
    row = session.execute("SELECT replication, durable_writes FROM system_schema.keyspaces WHERE keyspace_name = 'ks_nts'").one()
    assert row.replication["class"].endswith("SimpleStrategy") and row.durable_writes, row
    session.execute(
        "CREATE TABLE ks_nts.t (k int PRIMARY KEY, v text) WITH gc_grace_seconds = 60 AND default_time_to_live = 100 "
        "AND comment = 'hello' AND compaction = {'class': 'SizeTieredCompactionStrategy', 'min_threshold': 6} "
        "AND speculative_retry = '95p'"
    )
    t = session.execute(
        "SELECT gc_grace_seconds, default_time_to_live, comment, compaction, speculative_retry FROM system_schema.tables "
        "WHERE keyspace_name = 'ks_nts' AND table_name = 't'"
    ).one()
    assert (t.gc_grace_seconds, t.default_time_to_live, t.comment, t.speculative_retry) == (60, 100, "hello", "95p"), t
    assert t.compaction["min_threshold"] == "6", t.compaction
    session.execute("INSERT INTO ks_nts.t (k, v) VALUES (1, 'x')")
    ttl = session.execute("SELECT ttl(v) FROM ks_nts.t WHERE k = 1").one()[0]
    assert 0 < ttl <= 100, ttl
    session.execute("ALTER TABLE ks_nts.t WITH gc_grace_seconds = 30")
    try:
        session.execute("CREATE KEYSPACE ks_nts WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
        raise AssertionError("expected AlreadyExists")
    except AlreadyExists:
        pass
    session.execute("DROP KEYSPACE ks_nts")
    assert "ks_nts" not in session.cluster.metadata.keyspaces
    try:
        session.execute("DROP KEYSPACE ks_nts")
        raise AssertionError("expected an error for a missing keyspace")
    except InvalidRequest:
        pass


def expect_invalid(fn, needle):
    """Runs fn and checks that it fails with InvalidRequest naming `needle`."""
    try:
        fn()
    except InvalidRequest as e:
        assert needle in str(e), f"expected {needle!r} in {e}"
        return
    raise AssertionError(f"expected InvalidRequest naming {needle!r}, got success")


def test_statements_are_checked_at_prepare(session):
    session.execute("CREATE TABLE pc (k int, c int, v text, l list<int>, PRIMARY KEY (k, c))")
    for q, needle in [
        ("SELECT * FROM pc WHERE v = ?", "ALLOW FILTERING"),
        ("SELECT * FROM pc WHERE c > ?", "ALLOW FILTERING"),
        ("SELECT nope FROM pc WHERE k = ?", "nope"),
        ("SELECT * FROM pc WHERE k = ? ORDER BY v DESC", "Order by"),
        ("INSERT INTO pc (k, c, nope) VALUES (?, ?, ?)", "nope"),
        ("INSERT INTO pc (k, v) VALUES (?, ?)", "c"),
        ("UPDATE pc SET v = ? WHERE c = ?", "k"),
        ("UPDATE pc SET k = ? WHERE k = ? AND c = ?", "PRIMARY KEY part k"),
        ("UPDATE pc USING TIMESTAMP ? SET v = ? WHERE k = ? AND c = ? IF EXISTS", "timestamp"),
        ("BEGIN BATCH USING TTL 10 INSERT INTO pc (k, c, v) VALUES (?, ?, ?) APPLY BATCH", "Global TTL"),
        ("BEGIN BATCH USING TIMESTAMP 10 INSERT INTO pc (k, c) VALUES (?, ?) USING TIMESTAMP 5 APPLY BATCH",
         "Timestamp must be set either on BATCH or individual statements"),
    ]:
        expect_invalid(lambda: session.prepare(q), needle)
    # What is valid prepares, including list operations by index that read before writing.
    for q in [
        "SELECT * FROM pc WHERE c > ? ALLOW FILTERING",
        "SELECT * FROM pc WHERE k IN ? AND c >= ? ORDER BY c DESC LIMIT ?",
        "UPDATE pc SET l[?] = ? WHERE k = ? AND c = ?",
        "DELETE l[?] FROM pc WHERE k = ? AND c = ?",
        "UPDATE pc USING TTL ? AND TIMESTAMP ? SET v = ? WHERE k = ? AND c = ?",
        "INSERT INTO pc JSON ?",
        "BEGIN UNLOGGED BATCH INSERT INTO pc (k, c) VALUES (?, ?) USING TIMESTAMP 5; APPLY BATCH",
    ]:
        session.prepare(q)


def test_batch_and_restriction_rules(session):
    session.execute("CREATE TABLE br (k int, c int, v text, PRIMARY KEY (k, c))")
    expect_invalid(
        lambda: session.execute("BEGIN BATCH USING TTL 100 INSERT INTO br (k, c, v) VALUES (1, 1, 'x') APPLY BATCH"),
        "Global TTL on the BATCH statement is not supported",
    )
    expect_invalid(
        lambda: session.execute(
            "BEGIN BATCH USING TIMESTAMP 5 INSERT INTO br (k, c, v) VALUES (1, 1, 'x') USING TIMESTAMP 7 APPLY BATCH"
        ),
        "Timestamp must be set either on BATCH or individual statements",
    )
    expect_invalid(
        lambda: session.execute("BEGIN COUNTER BATCH UPDATE br SET v = 'x' WHERE k = 1 AND c = 1 APPLY BATCH"),
        "Counter batches are not supported",
    )
    expect_invalid(
        lambda: session.execute(
            "BEGIN BATCH INSERT INTO br (k, c, v) VALUES (1, 1, 'x') USING CONSISTENCY ALL APPLY BATCH"
        ),
        "USING CONSISTENCY is not allowed",
    )
    assert session.execute("SELECT * FROM br").one() is None, "a refused batch wrote nothing"
    # Inner timestamps are fine without a batch-wide one.
    session.execute(
        "BEGIN UNLOGGED BATCH INSERT INTO br (k, c, v) VALUES (1, 1, 'x') USING TIMESTAMP 7; "
        "INSERT INTO br (k, c, v) VALUES (1, 2, 'y') USING TIMESTAMP 8; APPLY BATCH"
    )
    assert [r[0] for r in session.execute("SELECT writetime(v) FROM br WHERE k = 1")] == [7, 8]
    # Clustering restrictions without the partition key filter every partition.
    session.execute("INSERT INTO br (k, c, v) VALUES (2, 3, 'z')")
    expect_invalid(lambda: session.execute("SELECT * FROM br WHERE c > 1"), "ALLOW FILTERING")
    rows = sorted((r.k, r.c) for r in session.execute("SELECT k, c FROM br WHERE c > 1 ALLOW FILTERING"))
    assert rows == [(1, 2), (2, 3)], rows
    # token() and the partition key together: both must hold (Cassandra 3.0+).
    tok = session.execute("SELECT token(k) FROM br WHERE k = 1").one()[0]
    assert [r.c for r in session.execute(f"SELECT c FROM br WHERE token(k) >= {tok} AND k = 1")] == [1, 2]
    assert list(session.execute(f"SELECT c FROM br WHERE token(k) > {tok} AND k = 1")) == []
    # Unsupported CQL is refused as invalid, naming what is unsupported.
    expect_invalid(lambda: session.execute("CREATE INDEX ON br (v)"), "INDEX")


def test_system_keyspaces_described_not_written(session):
    from cassandra import Unauthorized
    rows = list(session.execute("DESCRIBE KEYSPACE system"))
    assert rows[0].create_statement.startswith("CREATE KEYSPACE system WITH replication"), rows[0]
    assert "LocalStrategy" in rows[0].create_statement, rows[0]
    assert {"local", "peers"} <= {r.name for r in rows if r.type == "table"}, rows
    row = session.execute("DESCRIBE TABLE system_schema.columns").one()
    assert "PRIMARY KEY (keyspace_name, table_name, column_name)" in row.create_statement, row
    full = {r.keyspace_name for r in session.execute("DESCRIBE FULL SCHEMA")}
    assert {"system", "system_schema"} <= full, full
    assert "system" not in {r.keyspace_name for r in session.execute("DESCRIBE SCHEMA")}
    for q in [
        "INSERT INTO system.local (key, cluster_name) VALUES ('local', 'x')",
        "DELETE FROM system.peers WHERE peer = '127.0.0.9'",
        "TRUNCATE system.local",
    ]:
        expect_invalid(lambda: session.execute(q), "cannot be modified")
    # Schema changes to the system keyspaces are not the client's to make (0x2100).
    for q in [
        "DROP TABLE system.local",
        "ALTER KEYSPACE system WITH durable_writes = false",
        "CREATE TABLE system_schema.mine (k int PRIMARY KEY)",
    ]:
        try:
            session.execute(q)
            raise AssertionError(f"{q!r}: expected Unauthorized")
        except Unauthorized as e:
            assert "not user-modifiable" in str(e), e
    assert session.execute("SELECT cluster_name FROM system.local").one().cluster_name != "x"


def test_count_serial_writes_and_key_limits(session):
    session.execute("CREATE TABLE cs (k int, c blob, v text, PRIMARY KEY (k, c))")
    for i in range(5):
        v = None if i % 2 else f"v{i}"
        session.execute("INSERT INTO cs (k, c, v) VALUES (1, %s, %s)", (bytes([i]), v))
    assert session.execute("SELECT count(*) FROM cs WHERE k = 1").one()[0] == 5
    assert session.execute("SELECT count(1) FROM cs WHERE k = 1").one()[0] == 5
    row = session.execute("SELECT count(v) FROM cs WHERE k = 1").one()
    assert row[0] == 3, row
    assert row._fields == ("system_count_v",), row._fields
    expect_invalid(lambda: session.execute("SELECT count(nope) FROM cs"), "nope")
    # Serializable consistency belongs to conditional writes.
    for cl in (ConsistencyLevel.SERIAL, ConsistencyLevel.LOCAL_SERIAL):
        expect_invalid(
            lambda: session.execute(SimpleStatement("INSERT INTO cs (k, c) VALUES (2, 0x00)", consistency_level=cl)),
            "You must use conditional updates for serializable writes",
        )
    assert list(session.execute(SimpleStatement("SELECT * FROM cs WHERE k = 1", consistency_level=ConsistencyLevel.SERIAL)))
    # Clustering values are limited to 65535 bytes, like partition keys.
    expect_invalid(
        lambda: session.execute("INSERT INTO cs (k, c) VALUES (3, %s)", (b"x" * 65536,)),
        "Key length of 65536 is longer than maximum of 65535",
    )
    session.execute("INSERT INTO cs (k, c) VALUES (3, %s)", (b"x" * 65535,))
    assert session.execute("SELECT count(*) FROM cs WHERE k = 3").one()[0] == 1

def _unavailable(session, stmt, frame_cl, required):
    """Runs `stmt` at `frame_cl` and checks it fails with Unavailable needing `required` replicas."""
    if isinstance(stmt, str):
        stmt = SimpleStatement(stmt)
    stmt.consistency_level = frame_cl
    stmt.retry_policy = FallthroughRetryPolicy()
    try:
        session.execute(stmt)
    except Unavailable as e:
        assert (e.required_replicas, e.alive_replicas) == (required, 1), (stmt, e)
        return e
    raise AssertionError(f"{stmt}: expected Unavailable")


def _poll(what, fn, timeout=30.0):
    """Calls `fn` until it returns a true value (which is returned), failing after `timeout` seconds."""
    deadline = time.time() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_select_column_aliases(session):
    session.execute("CREATE TABLE al (pk int, ck int, v int, PRIMARY KEY (pk, ck))")
    session.execute("INSERT INTO al (pk, ck, v) VALUES (1, 2, 3) USING TIMESTAMP 4000 AND TTL 600")
    rs = session.execute("SELECT pk AS p, ck AS c, v AS value, writetime(v) AS wt, ttl(v) AS remaining FROM al WHERE pk = 1")
    assert rs.column_names == ["p", "c", "value", "wt", "remaining"], rs.column_names
    row = rs.one()
    assert (row.p, row.c, row.value, row.wt) == (1, 2, 3, 4000), row
    assert 0 < row.remaining <= 600, row
    rs = session.execute('SELECT token(pk) AS tok, v AS "Mixed Case" FROM al WHERE pk = 1')
    assert rs.column_names == ["tok", "Mixed Case"], rs.column_names
    assert rs.one()[1] == 3
    rs = session.execute("SELECT count(*) AS total FROM al")
    assert rs.column_names == ["total"] and rs.one().total == 1, rs.column_names
    # Prepared statements report the aliases in their result metadata too.
    ps = session.prepare("SELECT v AS val FROM al WHERE pk = ?")
    rs = session.execute(ps, (1,))
    assert rs.column_names == ["val"] and rs.one().val == 3, rs.column_names
    # An alias names a result column only: WHERE still needs the real name.
    try:
        session.execute("SELECT pk AS p FROM al WHERE p = 1")
        raise AssertionError("an alias in WHERE should be refused")
    except InvalidRequest as e:
        assert "Undefined column name p" in str(e), e


def test_select_distinct_partition_keys_and_statics(session):
    session.execute("CREATE TABLE ds (pk int, ck int, v int, s text static, PRIMARY KEY (pk, ck))")
    for pk in range(6):
        for ck in range(4):
            session.execute("INSERT INTO ds (pk, ck, v) VALUES (%s, %s, %s)", (pk, ck, ck))
    session.execute("UPDATE ds SET s = 'one' WHERE pk = 1")
    session.execute("UPDATE ds SET s = 'only' WHERE pk = 9")  # static content, no rows
    got = [r.pk for r in session.execute("SELECT DISTINCT pk FROM ds")]
    assert sorted(got) == [0, 1, 2, 3, 4, 5, 9], got
    # One row per partition, in token order, across pages as in one.
    token = {r.pk: r[1] for r in session.execute("SELECT pk, token(pk) FROM ds")}
    assert got == sorted(token, key=token.get), (got, token)
    paged = [r.pk for r in session.execute(SimpleStatement("SELECT DISTINCT pk FROM ds", fetch_size=2))]
    assert paged == got, (paged, got)
    statics = {r.pk: r.s for r in session.execute("SELECT DISTINCT pk, s FROM ds")}
    assert statics == {0: None, 1: "one", 2: None, 3: None, 4: None, 5: None, 9: "only"}, statics
    rows = list(session.execute("SELECT DISTINCT pk AS key, s FROM ds WHERE pk IN (1, 9)"))
    assert sorted((r.key, r.s) for r in rows) == [(1, "one"), (9, "only")], rows
    assert len(list(session.execute("SELECT DISTINCT pk FROM ds LIMIT 3"))) == 3
    session.execute("CREATE TABLE dc (a int, b text, c int, PRIMARY KEY ((a, b), c))")
    for a in range(3):
        for c in range(3):
            session.execute("INSERT INTO dc (a, b, c) VALUES (%s, 'x', %s)", (a, c))
    got = sorted((r.a, r.b) for r in session.execute("SELECT DISTINCT a, b FROM dc"))
    assert got == [(0, "x"), (1, "x"), (2, "x")], got
    try:
        session.execute("SELECT DISTINCT pk, v FROM ds")
        raise AssertionError("DISTINCT on a regular column should be refused")
    except InvalidRequest as e:
        assert "(not v)" in str(e), e


def test_per_partition_limit_across_pages(session):
    session.execute("CREATE TABLE ppl (pk int, ck int, v int, PRIMARY KEY (pk, ck))")
    ins = session.prepare("INSERT INTO ppl (pk, ck, v) VALUES (?, ?, ?)")
    for pk in range(12):
        for ck in range(7):
            session.execute(ins, (pk, ck, ck))
    want = sorted((pk, ck) for pk in range(12) for ck in range(3))
    for fetch_size in (None, 1, 2, 5, 100):
        stmt = SimpleStatement("SELECT pk, ck FROM ppl PER PARTITION LIMIT 3", fetch_size=fetch_size)
        rows = [(r.pk, r.ck) for r in session.execute(stmt)]
        assert sorted(rows) == want, (fetch_size, rows)
        # Each partition's rows come together, in clustering order.
        pks = [pk for pk, _ in rows]
        assert all(pks[i:i + 3] == [pks[i]] * 3 for i in range(0, len(pks), 3)), (fetch_size, pks)
        stmt = SimpleStatement("SELECT pk, ck FROM ppl WHERE pk IN (4, 7) PER PARTITION LIMIT 2", fetch_size=fetch_size)
        rows = sorted((r.pk, r.ck) for r in session.execute(stmt))
        assert rows == [(4, 0), (4, 1), (7, 0), (7, 1)], (fetch_size, rows)
        stmt = SimpleStatement("SELECT pk, ck FROM ppl PER PARTITION LIMIT 2 LIMIT 9", fetch_size=fetch_size)
        rows = [(r.pk, r.ck) for r in session.execute(stmt)]
        assert len(rows) == 9 and all(ck < 2 for _, ck in rows), (fetch_size, rows)
        stmt = SimpleStatement("SELECT ck FROM ppl WHERE pk = 5 PER PARTITION LIMIT 4", fetch_size=fetch_size)
        assert [r.ck for r in session.execute(stmt)] == [0, 1, 2, 3], fetch_size
    rs = session.execute(SimpleStatement("SELECT pk, ck FROM ppl PER PARTITION LIMIT 3", fetch_size=4))
    assert rs.has_more_pages and len(rs.current_rows) == 4, rs.current_rows
    try:
        session.execute("SELECT * FROM ppl PER PARTITION LIMIT 0")
        raise AssertionError("PER PARTITION LIMIT 0 should be refused")
    except InvalidRequest as e:
        assert "PER PARTITION LIMIT" in str(e), e


def test_allow_filtering_on_regular_columns(session):
    session.execute("CREATE TABLE af (pk int, ck int, v int, t text, PRIMARY KEY (pk, ck))")
    for pk in range(4):
        for ck in range(5):
            session.execute("INSERT INTO af (pk, ck, v, t) VALUES (%s, %s, %s, %s)", (pk, ck, pk * 10 + ck, f"t{ck}"))

    def keys(q, fetch_size=None):
        return sorted((r.pk, r.ck) for r in session.execute(SimpleStatement(q, fetch_size=fetch_size)))

    assert keys("SELECT pk, ck FROM af WHERE v = 12 ALLOW FILTERING") == [(1, 2)]
    assert keys("SELECT pk, ck FROM af WHERE v < 3 ALLOW FILTERING") == [(0, 0), (0, 1), (0, 2)]
    assert keys("SELECT pk, ck FROM af WHERE v > 32 ALLOW FILTERING") == [(3, 3), (3, 4)]
    assert keys("SELECT pk, ck FROM af WHERE v >= 32 AND v <= 33 ALLOW FILTERING") == [(3, 2), (3, 3)]
    assert keys("SELECT pk, ck FROM af WHERE v IN (1, 22, 99) ALLOW FILTERING") == [(0, 1), (2, 2)]
    assert keys("SELECT pk, ck FROM af WHERE t = 't4' ALLOW FILTERING") == [(p, 4) for p in range(4)]
    assert keys("SELECT pk, ck FROM af WHERE t = 't4' AND v > 20 ALLOW FILTERING") == [(2, 4), (3, 4)]
    # With the partition key, and across pages.
    assert keys("SELECT pk, ck FROM af WHERE pk = 2 AND v > 22 ALLOW FILTERING") == [(2, 3), (2, 4)]
    assert keys("SELECT pk, ck FROM af WHERE v > 5 AND v < 25 ALLOW FILTERING", fetch_size=2) == [
        (p, c) for p in range(4) for c in range(5) if 5 < p * 10 + c < 25
    ]
    assert session.execute("SELECT count(*) FROM af WHERE v > 20 ALLOW FILTERING").one()[0] == 9
    assert len(list(session.execute("SELECT * FROM af WHERE v > 20 LIMIT 3 ALLOW FILTERING"))) == 3
    assert list(session.execute("SELECT * FROM af WHERE v = 1000 ALLOW FILTERING")) == []
    try:
        session.execute("SELECT * FROM af WHERE v = 12")
        raise AssertionError("filtering on a regular column without ALLOW FILTERING should be refused")
    except InvalidRequest as e:
        assert "ALLOW FILTERING" in str(e), e


def test_static_columns_read_back(session):
    session.execute("CREATE TABLE sc (pk int, ck int, v int, s text static, n int static, PRIMARY KEY (pk, ck))")
    # A partition with static content only reads back as one row, clustering and regular null.
    session.execute("INSERT INTO sc (pk, s, n) VALUES (1, 'alone', 7)")
    rows = list(session.execute("SELECT * FROM sc WHERE pk = 1"))
    assert [(r.pk, r.ck, r.v, r.s, r.n) for r in rows] == [(1, None, None, "alone", 7)], rows
    rows = list(session.execute("SELECT pk, ck, v FROM sc WHERE pk = 1"))
    assert [(r.pk, r.ck, r.v) for r in rows] == [(1, None, None)], rows
    assert session.execute("SELECT count(*) FROM sc WHERE pk = 1").one()[0] == 1
    # ... but not when specific rows are asked for.
    assert list(session.execute("SELECT * FROM sc WHERE pk = 1 AND ck = 0")) == []
    # With clustering rows, every row carries the partition's static values.
    for ck in range(3):
        session.execute("INSERT INTO sc (pk, ck, v) VALUES (2, %s, %s)", (ck, ck * 10))
    session.execute("UPDATE sc SET s = 'shared' WHERE pk = 2")
    rows = list(session.execute("SELECT ck, v, s, n FROM sc WHERE pk = 2"))
    assert [(r.ck, r.v, r.s, r.n) for r in rows] == [(0, 0, "shared", None), (1, 10, "shared", None), (2, 20, "shared", None)], rows
    assert [r.s for r in session.execute("SELECT s FROM sc WHERE pk = 2 AND ck = 1")] == ["shared"]
    session.execute("INSERT INTO sc (pk, ck, v, s) VALUES (2, 3, 30, 'changed')")
    assert {r.s for r in session.execute("SELECT s FROM sc WHERE pk = 2")} == {"changed"}
    w = session.execute("SELECT writetime(s) FROM sc WHERE pk = 2 LIMIT 1").one()[0]
    assert w > 0, w
    session.execute("DELETE s FROM sc WHERE pk = 2")
    assert [r.s for r in session.execute("SELECT s FROM sc WHERE pk = 2")] == [None] * 4
    # Deleting every row leaves the static content, still readable.
    session.execute("UPDATE sc SET n = 5 WHERE pk = 2")
    session.execute("DELETE FROM sc WHERE pk = 2 AND ck >= 0")
    rows = list(session.execute("SELECT * FROM sc WHERE pk = 2"))
    assert [(r.ck, r.v, r.n) for r in rows] == [(None, None, 5)], rows
    # Rows without any static value read it as null; a partition delete removes it.
    session.execute("INSERT INTO sc (pk, ck, v) VALUES (3, 0, 0)")
    assert session.execute("SELECT s, n FROM sc WHERE pk = 3").one() == (None, None)
    session.execute("DELETE FROM sc WHERE pk = 1")
    assert list(session.execute("SELECT * FROM sc WHERE pk = 1")) == []


def test_delete_using_timestamp(session):
    session.execute("CREATE TABLE dt (k int, c int, v int, w text, PRIMARY KEY (k, c))")
    session.execute("INSERT INTO dt (k, c, v, w) VALUES (1, 1, 1, 'a') USING TIMESTAMP 2000")
    # An older delete does not shadow a newer write; a newer one does, and shadows older writes after it.
    session.execute("DELETE FROM dt USING TIMESTAMP 1000 WHERE k = 1 AND c = 1")
    assert session.execute("SELECT v, w FROM dt WHERE k = 1 AND c = 1").one() == (1, "a")
    session.execute("DELETE v FROM dt USING TIMESTAMP 1999 WHERE k = 1 AND c = 1")
    session.execute("DELETE w FROM dt USING TIMESTAMP 2001 WHERE k = 1 AND c = 1")
    assert session.execute("SELECT v, w FROM dt WHERE k = 1 AND c = 1").one() == (1, None)
    session.execute("DELETE FROM dt USING TIMESTAMP 3000 WHERE k = 1 AND c = 1")
    assert session.execute("SELECT * FROM dt WHERE k = 1").one() is None
    session.execute("INSERT INTO dt (k, c, v) VALUES (1, 1, 5) USING TIMESTAMP 2500")
    assert session.execute("SELECT * FROM dt WHERE k = 1").one() is None
    session.execute("INSERT INTO dt (k, c, v) VALUES (1, 1, 6) USING TIMESTAMP 3001")
    assert session.execute("SELECT v, w FROM dt WHERE k = 1 AND c = 1").one() == (6, None)
    # Range and partition deletes obey their timestamps the same way.
    for c in range(5):
        session.execute("INSERT INTO dt (k, c, v) VALUES (2, %s, %s) USING TIMESTAMP 5000", (c, c))
    session.execute("DELETE FROM dt USING TIMESTAMP 4000 WHERE k = 2")
    assert [r.c for r in session.execute("SELECT c FROM dt WHERE k = 2")] == [0, 1, 2, 3, 4]
    session.execute("DELETE FROM dt USING TIMESTAMP 6000 WHERE k = 2 AND c >= 3")
    session.execute("DELETE FROM dt USING TIMESTAMP 4999 WHERE k = 2 AND c < 2")
    assert [r.c for r in session.execute("SELECT c FROM dt WHERE k = 2")] == [0, 1, 2]
    session.execute("DELETE FROM dt USING TIMESTAMP 5001 WHERE k = 2")
    assert list(session.execute("SELECT c FROM dt WHERE k = 2")) == []
    # A prepared DELETE takes its timestamp from a marker.
    session.execute("INSERT INTO dt (k, c, v) VALUES (3, 0, 0) USING TIMESTAMP 100")
    ps = session.prepare("DELETE FROM dt USING TIMESTAMP ? WHERE k = ? AND c = ?")
    session.execute(ps, (99, 3, 0))
    assert session.execute("SELECT v FROM dt WHERE k = 3 AND c = 0").one().v == 0
    session.execute(ps, (101, 3, 0))
    assert session.execute("SELECT v FROM dt WHERE k = 3 AND c = 0").one() is None
    try:
        session.execute("DELETE FROM dt USING TTL 5 WHERE k = 2")
        raise AssertionError("DELETE ... USING TTL should be refused")
    except SyntaxException as e:
        assert "TTL" in str(e), e


def test_batch_using_timestamp(session):
    session.execute("CREATE TABLE bt1 (k int, c int, v int, s set<int>, PRIMARY KEY (k, c))")
    session.execute("CREATE TABLE bt2 (k int PRIMARY KEY, v text, w text)")
    session.execute(
        "BEGIN BATCH USING TIMESTAMP 123456 "
        "INSERT INTO bt1 (k, c, v) VALUES (1, 1, 1); "
        "UPDATE bt1 SET v = 2, s = {1, 2} WHERE k = 2 AND c = 1; "
        "INSERT INTO bt2 (k, v, w) VALUES (1, 'x', 'y'); "
        "UPDATE bt2 SET v = 'z' WHERE k = 2; "
        "APPLY BATCH"
    )
    got = sorted(tuple(r) for r in session.execute("SELECT k, c, writetime(v) FROM bt1"))
    assert got == [(1, 1, 123456), (2, 1, 123456)], got
    got = sorted(tuple(r) for r in session.execute("SELECT k, writetime(v) FROM bt2"))
    assert got == [(1, 123456), (2, 123456)], got
    assert session.execute("SELECT writetime(w) FROM bt2 WHERE k = 1").one()[0] == 123456
    # Later writes with lower timestamps lose to the batch; higher ones win.
    session.execute("INSERT INTO bt2 (k, v) VALUES (1, 'older') USING TIMESTAMP 123455")
    session.execute("UPDATE bt2 USING TIMESTAMP 123457 SET w = 'newer' WHERE k = 1")
    assert session.execute("SELECT v, w FROM bt2 WHERE k = 1").one() == ("x", "newer")
    # An unlogged batch, and a batch delete, take the batch timestamp too.
    session.execute(
        "BEGIN UNLOGGED BATCH USING TIMESTAMP 100 INSERT INTO bt2 (k, v) VALUES (2, 'loses'); "
        "INSERT INTO bt2 (k, v) VALUES (3, 'wins'); APPLY BATCH"
    )
    got = sorted(tuple(r) for r in session.execute("SELECT k, v, writetime(v) FROM bt2 WHERE k IN (2, 3)"))
    assert got == [(2, "z", 123456), (3, "wins", 100)], got
    session.execute(
        "BEGIN BATCH USING TIMESTAMP 123456 DELETE FROM bt2 WHERE k = 3; DELETE FROM bt2 WHERE k = 1; APPLY BATCH"
    )
    got = sorted(r.k for r in session.execute("SELECT k FROM bt2"))
    assert got == [1, 2], got  # k = 1 keeps w, written at 123457
    assert session.execute("SELECT v, w FROM bt2 WHERE k = 1").one() == (None, "newer")


def test_update_using_ttl_counts_down_and_expires(session):
    session.execute("CREATE TABLE ut (k int PRIMARY KEY, v text, w text)")
    # Long TTL: watch it count down.
    session.execute("UPDATE ut USING TTL 600 SET v = 'long' WHERE k = 1")
    first = session.execute("SELECT ttl(v) FROM ut WHERE k = 1").one()[0]
    assert 0 < first <= 600, first
    _poll("ttl(v) to count down", lambda: session.execute("SELECT ttl(v) FROM ut WHERE k = 1").one()[0] < first)
    # Short TTL: the value expires; an UPDATE writes no row marker, so the row goes with it.
    session.execute("UPDATE ut USING TTL 2 SET v = 'short' WHERE k = 2")
    row = session.execute("SELECT v, ttl(v) FROM ut WHERE k = 2").one()
    assert row is None or (row[0] == "short" and 0 < row[1] <= 2), row
    _poll("k = 2 to expire", lambda: session.execute("SELECT * FROM ut WHERE k = 2").one() is None)
    # Only the cells written with the TTL expire.
    session.execute("UPDATE ut USING TTL 2 SET v = 'short' WHERE k = 3")
    session.execute("UPDATE ut SET w = 'keep' WHERE k = 3")
    _poll("v of k = 3 to expire", lambda: session.execute("SELECT v FROM ut WHERE k = 3").one().v is None)
    assert session.execute("SELECT v, w, ttl(w) FROM ut WHERE k = 3").one() == (None, "keep", None)
    # TTL with TIMESTAMP, and TTL 0 meaning none.
    session.execute("UPDATE ut USING TTL 100 AND TIMESTAMP 777 SET v = 'y' WHERE k = 4")
    row = session.execute("SELECT v, ttl(v), writetime(v) FROM ut WHERE k = 4").one()
    assert row[0] == "y" and 0 < row[1] <= 100 and row[2] == 777, row
    session.execute("UPDATE ut USING TTL 0 SET v = 'z' WHERE k = 5")
    assert session.execute("SELECT v, ttl(v) FROM ut WHERE k = 5").one() == ("z", None)
    # A prepared UPDATE takes its TTL from a marker.
    ps = session.prepare("UPDATE ut USING TTL ? SET w = ? WHERE k = ?")
    session.execute(ps, (300, "p", 6))
    ttl = session.execute("SELECT ttl(w) FROM ut WHERE k = 6").one()[0]
    assert 0 < ttl <= 300, ttl


def test_set_and_map_element_deletes(session):
    session.execute("CREATE TABLE el (k int PRIMARY KEY, s set<text>, m map<text, int>, fs frozen<set<int>>)")
    session.execute("INSERT INTO el (k, s, m, fs) VALUES (1, {'a', 'b', 'c'}, {'x': 1, 'y': 2, 'z': 3}, {1})")
    session.execute("DELETE s['a'] FROM el WHERE k = 1")
    session.execute("DELETE m['x'] FROM el WHERE k = 1")
    row = session.execute("SELECT s, m FROM el WHERE k = 1").one()
    assert (set(row.s), dict(row.m)) == ({"b", "c"}, {"y": 2, "z": 3}), row
    # Removing by value (set) and by key set (map); absent elements are no error.
    session.execute("UPDATE el SET s = s - {'b', 'absent'}, m = m - {'y', 'absent'} WHERE k = 1")
    session.execute("DELETE m['absent'], s['absent'] FROM el WHERE k = 1")
    row = session.execute("SELECT s, m FROM el WHERE k = 1").one()
    assert (set(row.s), dict(row.m)) == ({"c"}, {"z": 3}), row
    # Deleting the last element leaves a null collection; the row stays (INSERT wrote its marker).
    session.execute("DELETE s['c'], m['z'] FROM el WHERE k = 1")
    assert session.execute("SELECT k, s, m FROM el WHERE k = 1").one() == (1, None, None)
    # Element deletes carry timestamps like any cell.
    session.execute("INSERT INTO el (k, s, m) VALUES (2, {'a', 'b'}, {'x': 1, 'y': 2}) USING TIMESTAMP 2000")
    session.execute("DELETE s['a'], m['x'] FROM el USING TIMESTAMP 1000 WHERE k = 2")
    row = session.execute("SELECT s, m FROM el WHERE k = 2").one()
    assert (set(row.s), dict(row.m)) == ({"a", "b"}, {"x": 1, "y": 2}), row
    session.execute("DELETE s['a'], m['x'] FROM el USING TIMESTAMP 3000 WHERE k = 2")
    session.execute("UPDATE el USING TIMESTAMP 2500 SET s = s + {'a'}, m['x'] = 5 WHERE k = 2")
    row = session.execute("SELECT s, m FROM el WHERE k = 2").one()
    assert (set(row.s), dict(row.m)) == ({"b"}, {"y": 2}), row
    ps = session.prepare("DELETE m[?] FROM el WHERE k = ?")
    session.execute(ps, ("y", 2))
    assert session.execute("SELECT m FROM el WHERE k = 2").one().m is None
    # Frozen collections have no elements to delete; a key of the wrong type is refused.
    for q in ["DELETE fs[1] FROM el WHERE k = 1", "DELETE m[1] FROM el WHERE k = 1"]:
        try:
            session.execute(q)
            raise AssertionError(f"{q!r} should be refused")
        except InvalidRequest:
            pass


def test_using_consistency_overrides_the_frame(session):
    session.execute("CREATE TABLE uc (k int PRIMARY KEY, v int)")
    session.execute("INSERT INTO uc (k, v) VALUES (1, 1)")
    one, three = ConsistencyLevel.ONE, ConsistencyLevel.THREE
    # Sent at ONE, asking for THREE on RF 1: Unavailable, 3 required, 1 alive.
    for q in [
        "SELECT * FROM uc WHERE k = 1 USING CONSISTENCY THREE",
        "SELECT * FROM uc WHERE v = 1 ALLOW FILTERING USING CONSISTENCY THREE",
        "UPDATE uc USING CONSISTENCY THREE SET v = 2 WHERE k = 1",
        "UPDATE uc USING TTL 10 AND CONSISTENCY THREE SET v = 2 WHERE k = 1",
        "DELETE FROM uc USING CONSISTENCY THREE WHERE k = 1",
        "DELETE v FROM uc USING TIMESTAMP 5 AND CONSISTENCY THREE WHERE k = 1",
        "INSERT INTO uc (k, v) VALUES (1, 2) USING CONSISTENCY THREE",
        "BEGIN BATCH USING CONSISTENCY THREE INSERT INTO uc (k, v) VALUES (1, 2); APPLY BATCH",
    ]:
        e = _unavailable(session, q, one, 3)
        assert e.consistency == three, (q, e.consistency)
    e = _unavailable(session, "SELECT * FROM uc USING CONSISTENCY TWO", one, 2)
    assert e.consistency == ConsistencyLevel.TWO, e.consistency
    # Nothing was written by the refused statements.
    assert session.execute("SELECT v FROM uc WHERE k = 1").one().v == 1
    # Sent at THREE (which alone fails), asking for ONE: succeeds.
    _unavailable(session, "SELECT * FROM uc WHERE k = 1", three, 3)
    fall = FallthroughRetryPolicy()

    def run(q, *args):
        return session.execute(SimpleStatement(q, consistency_level=three, retry_policy=fall), *args)

    assert run("SELECT v FROM uc WHERE k = 1 USING CONSISTENCY ONE").one().v == 1
    run("UPDATE uc USING CONSISTENCY ONE SET v = 7 WHERE k = 1")
    run("INSERT INTO uc (k, v) VALUES (2, 2) USING CONSISTENCY LOCAL_ONE")
    run("BEGIN BATCH USING CONSISTENCY QUORUM INSERT INTO uc (k, v) VALUES (3, 3); UPDATE uc SET v = 4 WHERE k = 4; APPLY BATCH")
    run("DELETE FROM uc USING CONSISTENCY ONE WHERE k = 2")
    got = sorted(tuple(r) for r in run("SELECT k, v FROM uc USING CONSISTENCY ALL"))
    assert got == [(1, 7), (3, 3), (4, 4)], got
    # Prepared statements keep their USING CONSISTENCY.
    ps = session.prepare("UPDATE uc USING CONSISTENCY ONE SET v = ? WHERE k = ?")
    bound = ps.bind((8, 1))
    bound.consistency_level, bound.retry_policy = three, fall
    session.execute(bound)
    assert session.execute("SELECT v FROM uc WHERE k = 1").one().v == 8
    ps = session.prepare("SELECT v FROM uc WHERE k = ? USING CONSISTENCY THREE")
    _unavailable(session, ps.bind((1,)), one, 3)
    try:
        session.execute("SELECT * FROM uc USING CONSISTENCY BOGUS")
        raise AssertionError("an unknown level should be refused")
    except SyntaxException as e:
        assert "BOGUS" in str(e), e


def test_compression_option_round_trips(session):
    ks = session.keyspace
    lz4 = "org.apache.cassandra.io.compress.LZ4Compressor"

    def stored(table):
        row = session.execute(
            "SELECT compression FROM system_schema.tables WHERE keyspace_name = %s AND table_name = %s", (ks, table)
        ).one()
        return dict(row.compression)

    def described(table):
        return session.execute(f"DESCRIBE TABLE {ks}.{table}").one().create_statement

    session.execute("CREATE TABLE plain (k int PRIMARY KEY, v text)")
    assert stored("plain") == {"chunk_length_in_kb": "64", "class": lz4}, stored("plain")
    session.execute(
        f"CREATE TABLE cz (k int PRIMARY KEY, v text) WITH compression = {{'class': '{lz4}', 'chunk_length_in_kb': '16'}}"
    )
    assert stored("cz") == {"chunk_length_in_kb": "16", "class": lz4}, stored("cz")
    assert f"compression = {{'chunk_length_in_kb': '16', 'class': '{lz4}'}}" in described("cz"), described("cz")
    meta = session.cluster.metadata.keyspaces[ks].tables["cz"]
    assert meta.options["compression"] == {"chunk_length_in_kb": "16", "class": lz4}, meta.options
    assert "'chunk_length_in_kb': '16'" in meta.export_as_string()
    session.execute(f"ALTER TABLE cz WITH compression = {{'class': '{lz4}', 'chunk_length_in_kb': '4'}}")
    assert stored("cz") == {"chunk_length_in_kb": "4", "class": lz4}, stored("cz")
    assert "'chunk_length_in_kb': '4'" in described("cz"), described("cz")
    # Short class names and the pre-3.0 option names are normalised, as Cassandra does.
    session.execute("ALTER TABLE cz WITH compression = {'sstable_compression': 'LZ4Compressor', 'chunk_length_kb': '032'}")
    assert stored("cz") == {"chunk_length_in_kb": "32", "class": lz4}, stored("cz")
    # The statement DESCRIBE prints re-creates the same options.
    session.execute(described("cz").replace(f"{ks}.cz", f"{ks}.cz2"))
    assert stored("cz2") == {"chunk_length_in_kb": "32", "class": lz4}, stored("cz2")
    # Other Cassandra settings are recorded (a schema dump replays) and the client is warned.
    for opts, want in [
        ("{'class': 'SnappyCompressor'}", {"chunk_length_in_kb": "64", "class": "org.apache.cassandra.io.compress.SnappyCompressor"}),
        ("{'enabled': 'false'}", {"enabled": "false"}),
        ("{'sstable_compression': ''}", {"enabled": "false"}),
    ]:
        rs = session.execute(f"CREATE TABLE IF NOT EXISTS w{len(want)}{abs(hash(opts)) % 1000} (k int PRIMARY KEY) WITH compression = {opts}")
        warnings = rs.response_future.warnings or []
        assert any("recorded but not applied" in w for w in warnings), (opts, warnings)
    plain = session.execute(f"ALTER TABLE cz WITH compression = {{'class': '{lz4}'}}")
    assert not plain.response_future.warnings, plain.response_future.warnings
    session.execute(f"ALTER TABLE cz WITH compression = {{'class': '{lz4}', 'chunk_length_in_kb': 32}}")
    # What is not valid is refused by name (0x2300), never stored.
    from cassandra.protocol import ConfigurationException
    for opts, needle in [
        ("{'class': 'NoSuchCompressor'}", "NoSuchCompressor"),
        ("{'chunk_length_in_kb': 16}", "Missing sub-option 'class'"),
        ("{'class': 'LZ4Compressor', 'chunk_length_in_kb': 3}", "power of 2"),
        ("{'class': 'LZ4Compressor', 'colour': 'blue'}", "colour"),
    ]:
        try:
            session.execute(f"ALTER TABLE cz WITH compression = {opts}")
            raise AssertionError(f"{opts}: expected ConfigurationException")
        except ConfigurationException as e:
            assert needle in str(e), e
    assert stored("cz") == {"chunk_length_in_kb": "32", "class": lz4}, stored("cz")
    session.execute("INSERT INTO cz (k, v) VALUES (1, 'x')")
    assert session.execute("SELECT v FROM cz WHERE k = 1").one().v == "x"
    try:
        session.execute("CREATE TABLE bad (k int PRIMARY KEY) WITH compression = 'LZ4Compressor'")
        raise AssertionError("a non-map compression option should be refused")
    except SyntaxException as e:
        assert "compression" in str(e), e


def test_distinct_static_only_and_frozen_rules(session):
    session.execute("CREATE TABLE dr (a int, b text, x int, s text static, v int, fs frozen<set<int>>, "
                    "fm frozen<map<int, text>>, PRIMARY KEY ((a, b), x))")
    session.execute("INSERT INTO dr (a, b, x, s) VALUES (0, 'x', 1, 'sx')")
    session.execute("INSERT INTO dr (a, b, x, s) VALUES (0, 'y', 1, 'sy')")
    expect_invalid(lambda: session.execute("SELECT DISTINCT a FROM dr"),
                   "SELECT DISTINCT queries must request all the partition key columns (missing b)")
    expect_invalid(lambda: session.execute("SELECT DISTINCT s FROM dr"), "missing a, b")
    # With the partition named, or through token(), the key need not be selected.
    assert session.execute("SELECT DISTINCT s FROM dr WHERE a = 0 AND b = 'y'").one().s == "sy"
    assert len(list(session.execute("SELECT DISTINCT token(a, b) FROM dr"))) == 2
    assert sorted((r.a, r.b, r.s) for r in session.execute("SELECT DISTINCT a, b, s FROM dr")) == [
        (0, "x", "sx"), (0, "y", "sy")]
    # A statement changing only static columns names no row.
    for q, what in [
        ("UPDATE dr SET s = 'z' WHERE a = 0 AND b = 'x' AND x = 1", "UPDATE"),
        ("DELETE s FROM dr WHERE a = 0 AND b = 'x' AND x = 1", "DELETE"),
    ]:
        expect_invalid(lambda: session.execute(q),
                       f"Invalid restrictions on clustering columns since the {what} statement modifies only static columns")
    session.execute("UPDATE dr SET s = 'z' WHERE a = 0 AND b = 'x'")
    assert session.execute("SELECT s FROM dr WHERE a = 0 AND b = 'x'").one().s == "z"
    # A frozen collection is one value: element operations name it as such.
    for q in [
        "UPDATE dr SET fs = fs - {1} WHERE a = 0 AND b = 'x' AND x = 1",
        "UPDATE dr SET fs = fs + {1} WHERE a = 0 AND b = 'x' AND x = 1",
        "UPDATE dr SET fm[1] = 'a' WHERE a = 0 AND b = 'x' AND x = 1",
    ]:
        expect_invalid(lambda: session.execute(q), "for frozen collection column")
    expect_invalid(lambda: session.execute("DELETE fs[1] FROM dr WHERE a = 0 AND b = 'x' AND x = 1"),
                   "Invalid deletion operation for frozen collection column fs")
    expect_invalid(lambda: session.execute("UPDATE dr SET v = v - {1} WHERE a = 0 AND b = 'x' AND x = 1"),
                   "for non collection column v")


def test_markers_inside_collection_and_tuple_literals(session):
    session.execute("CREATE TABLE ml (k int PRIMARY KEY, l list<int>, s set<text>, m map<text, int>, "
                    "fm frozen<map<text, int>>, tp frozen<tuple<int, text>>, u list<timeuuid>)")
    ins = session.prepare("INSERT INTO ml (k, l, s, m, fm, tp) VALUES (?, [?, ?], {?, ?}, {?: ?}, {'a': ?}, (?, ?))")
    assert [c.type.typename for c in ins.column_metadata][:3] == ["int", "int", "int"], ins.column_metadata
    session.execute(ins, (1, 10, 20, "x", "y", "key", 5, 6, 7, "seven"))
    row = session.execute("SELECT l, s, m, fm, tp FROM ml WHERE k = 1").one()
    assert (list(row.l), set(row.s), dict(row.m), dict(row.fm), tuple(row.tp)) == (
        [10, 20], {"x", "y"}, {"key": 5}, {"a": 6}, (7, "seven")), row
    upd = session.prepare("UPDATE ml SET s = s + {?}, l = l + [?], m = m + {?: ?}, u = [now()] WHERE k = ?")
    session.execute(upd, ("z", 30, "other", 9, 1))
    row = session.execute("SELECT l, s, m, u FROM ml WHERE k = 1").one()
    assert (list(row.l), set(row.s), dict(row.m), len(row.u)) == (
        [10, 20, 30], {"x", "y", "z"}, {"key": 5, "other": 9}, 1), row
    # Null is not an element.
    expect_invalid(lambda: session.execute(ins, (2, None, 20, "x", "y", "key", 5, 6, 7, "seven")),
                   "null is not supported inside collections")


def test_unknown_datacenter_is_accepted_with_a_warning(session):
    rs = session.execute("CREATE KEYSPACE ks_nowhere WITH replication = "
                         "{'class': 'NetworkTopologyStrategy', 'dc1': 1, 'nowhere': 2}")
    warnings = rs.response_future.warnings or []
    assert any("'nowhere'" in w for w in warnings), warnings
    assert not any("'dc1'" in w for w in warnings), warnings
    session.execute("CREATE TABLE ks_nowhere.t (k int PRIMARY KEY)")
    session.execute("INSERT INTO ks_nowhere.t (k) VALUES (1)")
    assert session.execute("SELECT k FROM ks_nowhere.t WHERE k = 1").one().k == 1
    session.execute("DROP KEYSPACE ks_nowhere")


def main():
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)]
    if ONLY:
        tests = [(n, f) for n, f in tests if n in ONLY]
    cluster, session = connect()
    failed = []
    for name, fn in tests:
        try:
            fresh_keyspace(session, "ks_" + name[len("test_"):])
            fn(session)
            print(f"ok   {name}")
        except Exception:  # noqa: BLE001
            failed.append(name)
            print(f"FAIL {name}\n{traceback.format_exc()}")
    cluster.shutdown()
    if failed:
        print(f"{len(failed)} of {len(tests)} failed: {', '.join(failed)}")
        sys.exit(1)
    print(f"all {len(tests)} passed")


if __name__ == "__main__":
    main()
