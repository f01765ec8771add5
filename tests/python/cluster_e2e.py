"""Steps of the cluster end-to-end tests, run with the real Python cassandra-driver.

Usage: cluster_e2e.py HOSTS PORT STEP [ARGS...]
HOSTS is every node's address, comma-separated; each step connects with the coordinator
pinned to one node (WhiteListRoundRobinPolicy) and no retries on another host, so that what
a consistency level does on that coordinator is what the step sees. Exits non-zero, saying
why, when a check fails.
"""

import sys
import time

from cassandra import ConsistencyLevel, Unavailable, WriteTimeout, ReadTimeout
from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT, NoHostAvailable
from cassandra.policies import FallthroughRetryPolicy, WhiteListRoundRobinPolicy
from cassandra.query import SimpleStatement

HOSTS = sys.argv[1].split(",")
PORT = int(sys.argv[2])
STEP = sys.argv[3]
ARGS = sys.argv[4:]

LEVELS = {name: getattr(ConsistencyLevel, name) for name in [
    "ANY", "ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_ONE", "LOCAL_QUORUM", "EACH_QUORUM", "SERIAL", "LOCAL_SERIAL"]}


def connect(host, timeout=20, pinned=True):
    """A session whose requests all go to `host` (or, not pinned, to any node the driver
    finds up, which also tracks the others' state)."""
    kw = {"load_balancing_policy": WhiteListRoundRobinPolicy([host])} if pinned else {}
    profile = ExecutionProfile(retry_policy=FallthroughRetryPolicy(), request_timeout=timeout, **kw)
    cluster = Cluster([host], port=PORT, execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                      connect_timeout=10, control_connection_timeout=10)
    return cluster, cluster.connect()


def unwrap(e):
    """The server's error inside a NoHostAvailable."""
    if isinstance(e, NoHostAvailable) and e.errors:
        return list(e.errors.values())[0]
    return e


def outcome(fn):
    """ok, unavailable, timeout, or the error's name."""
    try:
        fn()
        return "ok"
    except Exception as e:  # noqa: BLE001
        e = unwrap(e)
        if isinstance(e, Unavailable):
            return "unavailable"
        if isinstance(e, (WriteTimeout, ReadTimeout)):
            return "timeout"
        return f"{type(e).__name__}: {e}"


def step_discover():
    """ARGS: nodes datacenters — the driver finds every node and datacenter."""
    want_nodes, want_dcs = int(ARGS[0]), int(ARGS[1])
    cluster, session = connect(HOSTS[0], pinned=False)
    deadline = time.time() + 30
    while True:
        hosts = cluster.metadata.all_hosts()
        # Hosts of remote datacenters get no connections (DC-aware policy): their state stays unknown.
        if len(hosts) == want_nodes and all(h.is_up is not False for h in hosts):
            break
        assert time.time() < deadline, f"driver sees {[(str(h.address), h.is_up) for h in hosts]}"
        time.sleep(0.2)
    addrs = sorted(str(h.address) for h in hosts)
    assert addrs == sorted(HOSTS), addrs
    dcs = {h.datacenter for h in hosts}
    assert len(dcs) == want_dcs, dcs
    assert all(h.rack for h in hosts), [h.rack for h in hosts]
    tm = cluster.metadata.token_map
    assert tm is not None and len(tm.ring) > 0, "no token map"
    print("discovered", addrs, sorted(dcs))
    cluster.shutdown()


def step_ddl():
    """ARGS: contact-index statement... — then waits for schema agreement among the nodes the
    driver sees up."""
    cluster, session = connect(HOSTS[int(ARGS[0])], pinned=False)
    for stmt in ARGS[1:]:
        session.execute(stmt)
    assert cluster.control_connection.wait_for_schema_agreement(wait_time=30), "no schema agreement"
    cluster.shutdown()


def step_write():
    """ARGS: coordinator-index level table from to [value] — writes rows k in [from, to)."""
    i, cl, table, lo, hi = int(ARGS[0]), LEVELS[ARGS[1]], ARGS[2], int(ARGS[3]), int(ARGS[4])
    value = ARGS[5] if len(ARGS) > 5 else "v"
    cluster, session = connect(HOSTS[i])
    q = session.prepare(f"INSERT INTO {table} (k, v) VALUES (?, ?)")
    q.consistency_level = cl
    for k in range(lo, hi):
        session.execute(q, (k, f"{value}{k}"))
    cluster.shutdown()


def step_read():
    """ARGS: coordinator-index level table from to [value] — every row k in [from, to) reads back."""
    i, cl, table, lo, hi = int(ARGS[0]), LEVELS[ARGS[1]], ARGS[2], int(ARGS[3]), int(ARGS[4])
    value = ARGS[5] if len(ARGS) > 5 else "v"
    cluster, session = connect(HOSTS[i])
    q = session.prepare(f"SELECT v FROM {table} WHERE k = ?")
    q.consistency_level = cl
    missing = [k for k in range(lo, hi) if (r := session.execute(q, (k,)).one()) is None or r.v != f"{value}{k}"]
    assert not missing, f"{len(missing)} rows missing or stale through node {i} at {ARGS[1]}: {missing[:10]}"
    cluster.shutdown()


def step_count():
    """ARGS: coordinator-index level table expected — a paged full scan counts `expected` rows."""
    i, cl, table, want = int(ARGS[0]), LEVELS[ARGS[1]], ARGS[2], int(ARGS[3])
    cluster, session = connect(HOSTS[i])
    rows = list(session.execute(SimpleStatement(f"SELECT k FROM {table}", consistency_level=cl, fetch_size=97)))
    keys = [r.k for r in rows]
    assert len(keys) == len(set(keys)), "a key came back twice"
    assert len(keys) == want, f"{len(keys)} rows through node {i} at {ARGS[1]}, expected {want}"
    n = session.execute(SimpleStatement(f"SELECT count(*) FROM {table}", consistency_level=cl)).one()[0]
    assert n == want, f"count(*) {n}, expected {want}"
    cluster.shutdown()


def step_levels():
    """ARGS: coordinator-index table LEVEL=write/read ... — what each level does on this
    coordinator: ok, unavailable or timeout, for a write and for a read."""
    i, table = int(ARGS[0]), ARGS[1]
    cluster, session = connect(HOSTS[i])
    bad = []
    for spec in ARGS[2:]:
        name, want = spec.split("=")
        want_w, want_r = want.split("/")
        cl = LEVELS[name]
        got_w = outcome(lambda: session.execute(
            SimpleStatement(f"INSERT INTO {table} (k, v) VALUES (1, '{name}')", consistency_level=cl)))
        got_r = outcome(lambda: session.execute(
            SimpleStatement(f"SELECT v FROM {table} WHERE k = 1", consistency_level=cl)))
        # ANY is not a read level, and the serial levels are not plain-write levels.
        if want_w != "-" and got_w != want_w:
            bad.append(f"{name} write: {got_w}, expected {want_w}")
        if want_r != "-" and got_r != want_r:
            bad.append(f"{name} read: {got_r}, expected {want_r}")
        print(f"{name}: write {got_w}, read {got_r}")
    cluster.shutdown()
    assert not bad, "\n".join(bad)


def step_expect_timeout():
    """ARGS: coordinator-index level table — a write and a read at `level` time out (in bounded
    time) because a replica does not answer."""
    i, cl, table = int(ARGS[0]), LEVELS[ARGS[1]], ARGS[2]
    cluster, session = connect(HOSTS[i], timeout=30)
    t0 = time.time()
    w = outcome(lambda: session.execute(SimpleStatement(f"INSERT INTO {table} (k, v) VALUES (7, 'x')", consistency_level=cl)))
    r = outcome(lambda: session.execute(SimpleStatement(f"SELECT v FROM {table} WHERE k = 7", consistency_level=cl)))
    took = time.time() - t0
    cluster.shutdown()
    assert (w, r) == ("timeout", "timeout"), f"write {w}, read {r}"
    print(f"timed out as expected in {took:.1f}s")


def step_delete():
    """ARGS: coordinator-index level table from to — deletes rows k in [from, to)."""
    i, cl, table, lo, hi = int(ARGS[0]), LEVELS[ARGS[1]], ARGS[2], int(ARGS[3]), int(ARGS[4])
    cluster, session = connect(HOSTS[i])
    q = session.prepare(f"DELETE FROM {table} WHERE k = ?")
    q.consistency_level = cl
    for k in range(lo, hi):
        session.execute(q, (k,))
    cluster.shutdown()


def step_absent():
    """ARGS: coordinator-index level table from to — no row k in [from, to) reads back."""
    i, cl, table, lo, hi = int(ARGS[0]), LEVELS[ARGS[1]], ARGS[2], int(ARGS[3]), int(ARGS[4])
    cluster, session = connect(HOSTS[i])
    q = session.prepare(f"SELECT v FROM {table} WHERE k = ?")
    q.consistency_level = cl
    present = [k for k in range(lo, hi) if session.execute(q, (k,)).one() is not None]
    assert not present, f"{len(present)} deleted rows read back through node {i} at {ARGS[1]}: {present[:10]}"
    cluster.shutdown()


def step_tokens():
    """ARGS: coordinator-index level table — prints the JSON list of [k, token] of the rows a
    full scan returns."""
    import json
    i, cl, table = int(ARGS[0]), LEVELS[ARGS[1]], ARGS[2]
    cluster, session = connect(HOSTS[i])
    rows = session.execute(SimpleStatement(f"SELECT k, token(k) FROM {table}", consistency_level=cl, fetch_size=500))
    print("TOKENS " + json.dumps([[r[0], r[1]] for r in rows]))
    cluster.shutdown()


def step_lwt():
    """ARGS: coordinator-index table key expected-applied — INSERT ... IF NOT EXISTS."""
    i, table, k, want = int(ARGS[0]), ARGS[1], int(ARGS[2]), ARGS[3] == "true"
    cluster, session = connect(HOSTS[i])
    r = session.execute(SimpleStatement(f"INSERT INTO {table} (k, v) VALUES (%s, 'lwt{i}') IF NOT EXISTS",
                                        consistency_level=ConsistencyLevel.QUORUM), (k,)).one()
    assert r[0] == want, f"[applied] {r[0]} through node {i}, expected {want}: {r}"
    cluster.shutdown()


def step_has_table():
    """ARGS: coordinator-index keyspace table — the node's schema has the table and serves it."""
    i, ks, table = int(ARGS[0]), ARGS[1], ARGS[2]
    cluster, session = connect(HOSTS[i])
    deadline = time.time() + 30
    while True:
        row = session.execute(
            "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s AND table_name = %s", (ks, table)).one()
        if row is not None:
            break
        assert time.time() < deadline, f"node {i} never got {ks}.{table}"
        time.sleep(0.2)
    session.execute(SimpleStatement(f"SELECT * FROM {ks}.{table} LIMIT 1", consistency_level=ConsistencyLevel.ONE))
    cluster.shutdown()


def main():
    fn = globals().get(f"step_{STEP}")
    if fn is None:
        sys.exit(f"unknown step {STEP}")
    fn()
    print(f"ok   {STEP}")


if __name__ == "__main__":
    main()
