"""Writes or checks rows for the restart test.

Usage: restart.py HOST PORT write|check FROM TO
"""

import sys

from cassandra.cluster import Cluster

host, port, mode, lo, hi = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
cluster = Cluster([host], port=port, connect_timeout=10)
s = cluster.connect()
if mode == "write":
    s.execute("CREATE KEYSPACE IF NOT EXISTS r WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    s.execute("CREATE TABLE IF NOT EXISTS r.t (k int, c int, v text, PRIMARY KEY (k, c))")
    ins = s.prepare("INSERT INTO r.t (k, c, v) VALUES (?, ?, ?)")
    for i in range(lo, hi):
        s.execute(ins, (i % 10, i, f"v{i}"))
else:
    rows = {r.c: r.v for r in s.execute("SELECT c, v FROM r.t")}
    missing = [i for i in range(lo, hi) if rows.get(i) != f"v{i}"]
    assert not missing, f"{len(missing)} acknowledged rows lost, first {missing[:5]}"
    print(f"all {hi - lo} rows present")
cluster.shutdown()
