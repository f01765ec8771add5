//! Merging the schemas of two nodes, and the changes between two schemas. Gossip carries each
//! node's schema version; a node that sees a different one fetches the peer's schema and calls
//! [`merge`] (through `SchemaStore::merge_remote`), then [`diff`] tells it which storage to
//! create, alter or drop and which events to send to clients.
//!
//! The rules, per keyspace `ks` and per table `ks.t` (timestamps from `Schema::updated` and
//! `Schema::dropped`, a missing drop being older than everything):
//!
//! | what                  | rule                                                            |
//! |-----------------------|-----------------------------------------------------------------|
//! | drop timestamps       | the later of the two                                            |
//! | keyspace definition   | the later `updated` wins; a tie, the greater serialized form    |
//! | table definition      | likewise, per name, whichever keyspace definition won            |
//! | keyspace present      | iff its `updated` > its drop                                    |
//! | table present         | iff its `updated` > the drop of the table and of its keyspace   |
//!
//! A table change also stamps its keyspace, so a keyspace is never older than its tables and a
//! present table always has a present keyspace. So a table created on one node while another
//! drops its keyspace brings the keyspace back (holding just that table), as in Cassandra,
//! whose table mutations carry the keyspace row. A definition wins whole: a column added on one
//! node is lost if another node alters the same table later without having seen it.
//!
//! `merge` is commutative, associative and idempotent (property-tested below), so nodes that
//! exchange schemas in any order and any grouping end with equal schemas and equal versions.

use super::ddl::check_name;
use super::{Keyspace, SYSTEM_KEYSPACES, Schema, SchemaChangeKind, Table, table_key};
use crate::error::{QueryError, QueryResult};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The later of two stamped definitions; on equal timestamps, the one whose `form` is greater
/// (so every node picks the same one).
fn later<'a, T>(
    a: Option<(i64, &'a T)>,
    b: Option<(i64, &'a T)>,
    form: impl Fn(&T) -> Vec<u8>,
) -> Option<(i64, &'a T)> {
    match (a, b) {
        (Some(x), Some(y)) => {
            let y_wins = y.0 > x.0 || (y.0 == x.0 && form(y.1) > form(x.1));
            Some(if y_wins { y } else { x })
        }
        (x, None) => x,
        (None, y) => y,
    }
}

/// A keyspace's own definition (without its tables), for breaking ties.
fn keyspace_form(k: &Keyspace) -> Vec<u8> {
    serde_json::to_vec(&(&k.name, &k.replication, k.durable_writes)).unwrap_or_default()
}

fn table_form(t: &Table) -> Vec<u8> {
    serde_json::to_vec(t).unwrap_or_default()
}

/// When keyspace `k` of `s` last changed: its own stamp, or a later one of its tables (for a
/// schema that was not built by DDL and so lacks the keyspace stamp).
fn keyspace_stamp(s: &Schema, k: &Keyspace) -> i64 {
    k.tables.keys().map(|t| s.table_updated(&k.name, t)).fold(s.keyspace_updated(&k.name), i64::max)
}

/// Table `name` of a side's keyspace, with its stamp.
fn table_candidate<'a>(side: Option<(&Schema, &'a Keyspace)>, name: &str) -> Option<(i64, &'a Arc<Table>)> {
    let (s, k) = side?;
    k.tables.get(name).map(|t| (s.table_updated(&k.name, name), t))
}

/// Merges two nodes' schemas by the rules in the module docs. The result does not depend on
/// the order or grouping of merges, nor on how often a schema is merged in.
pub fn merge(local: &Schema, remote: &Schema) -> Schema {
    let mut dropped = local.dropped.clone();
    for (k, &at) in &remote.dropped {
        let e = dropped.entry(k.clone()).or_insert(at);
        *e = (*e).max(at);
    }
    // A table's drop at or before its keyspace's says nothing more: forget it.
    let covered: Vec<String> = dropped
        .iter()
        .filter(|(k, at)| {
            k.split_once('.').and_then(|(ks, _)| dropped.get(ks)).is_some_and(|ks_at| ks_at >= at)
        })
        .map(|(k, _)| k.clone())
        .collect();
    for k in covered {
        dropped.remove(&k);
    }
    let dropped_at = |key: &str| dropped.get(key).copied().unwrap_or(i64::MIN);

    let mut out = Schema::default();
    let names: BTreeSet<&String> = local.keyspaces.keys().chain(remote.keyspaces.keys()).collect();
    for name in names {
        let [l, r] = [local, remote].map(|s| s.keyspaces.get(name).map(|k| (keyspace_stamp(s, k), k)));
        let Some((at, winner)) = later(l, r, keyspace_form) else {
            continue;
        };
        let ks_dropped = dropped_at(name);
        if at <= ks_dropped {
            // Every table of either side is no newer than `at`, so none survives either.
            continue;
        }
        let mut tables = BTreeMap::new();
        let sides = [local, remote].map(|s| s.keyspaces.get(name).map(|k| (s, k)));
        let table_names: BTreeSet<&String> =
            sides.iter().flatten().flat_map(|(_, k)| k.tables.keys()).collect();
        for t in table_names {
            let [l, r] = sides.map(|side| table_candidate(side, t));
            let Some((t_at, table)) = later(l, r, |t| table_form(t)) else {
                continue;
            };
            let key = table_key(name, t);
            if t_at > ks_dropped.max(dropped_at(&key)) {
                tables.insert(t.clone(), table.clone());
                if t_at != 0 {
                    out.updated.insert(key, t_at);
                }
            }
        }
        if at != 0 {
            out.updated.insert(name.clone(), at);
        }
        out.keyspaces.insert(
            name.clone(),
            Keyspace {
                name: winner.name.clone(),
                replication: winner.replication.clone(),
                durable_writes: winner.durable_writes,
                tables,
            },
        );
    }
    out.dropped = dropped;
    out
}

/// The changes that turn `old` into `new`, keyspace by keyspace in name order; within a
/// keyspace, drops come before creates. A table is known by its id: the same name with another
/// id is the old table dropped and the new one created.
pub fn diff(old: &Schema, new: &Schema) -> Vec<SchemaChangeKind> {
    use SchemaChangeKind as C;
    let mut out = Vec::new();
    let names: BTreeSet<&String> = old.keyspaces.keys().chain(new.keyspaces.keys()).collect();
    for name in names {
        match (old.keyspaces.get(name), new.keyspaces.get(name)) {
            (Some(o), None) => {
                out.push(C::KeyspaceDropped(name.clone(), o.tables.values().cloned().collect()))
            }
            (None, Some(n)) => {
                out.push(C::KeyspaceCreated(name.clone()));
                out.extend(n.tables.values().cloned().map(C::TableCreated));
            }
            (Some(o), Some(n)) => {
                if o.replication != n.replication || o.durable_writes != n.durable_writes {
                    out.push(C::KeyspaceUpdated(name.clone()));
                }
                let mut created = Vec::new();
                for t in o.tables.keys().chain(n.tables.keys()).collect::<BTreeSet<_>>() {
                    match (o.tables.get(t), n.tables.get(t)) {
                        (Some(a), None) => out.push(C::TableDropped(a.clone())),
                        (None, Some(b)) => created.push(C::TableCreated(b.clone())),
                        (Some(a), Some(b)) if a.id != b.id => {
                            out.push(C::TableDropped(a.clone()));
                            created.push(C::TableCreated(b.clone()));
                        }
                        (Some(a), Some(b)) if a != b => created.push(C::TableUpdated(b.clone())),
                        _ => {}
                    }
                }
                out.extend(created);
            }
            (None, None) => {}
        }
    }
    out
}

/// Refuses a schema from a peer that no node could have written: system keyspaces, bad names,
/// definitions filed under another name, malformed drop keys.
pub(super) fn check_remote(remote: &Schema) -> QueryResult<()> {
    let bad = |m: String| QueryError::Invalid(format!("schema from a peer refused: {m}"));
    let user_keyspace = |ks: &str| -> QueryResult<()> {
        check_name("Keyspace", ks).map_err(|e| bad(e.to_string()))?;
        if SYSTEM_KEYSPACES.contains(&ks) {
            return Err(bad(format!("it defines the system keyspace {ks}")));
        }
        Ok(())
    };
    for (name, k) in &remote.keyspaces {
        user_keyspace(name)?;
        if k.name != *name {
            return Err(bad(format!("keyspace {} filed as {name}", k.name)));
        }
        for (t_name, t) in &k.tables {
            check_name("Table", t_name).map_err(|e| bad(e.to_string()))?;
            if t.name != *t_name || t.keyspace != *name {
                return Err(bad(format!("table {}.{} filed as {name}.{t_name}", t.keyspace, t.name)));
            }
        }
    }
    for key in remote.dropped.keys() {
        match key.split_once('.') {
            None => user_keyspace(key)?,
            Some((ks, t)) => {
                user_keyspace(ks)?;
                check_name("Table", t).map_err(|e| bad(e.to_string()))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{SchemaStore, apply_ddl};

    fn ddl(s: &mut Schema, text: &str) -> SchemaChangeKind {
        let p = cql::parser::parse_statement(text).unwrap();
        apply_ddl(s, &p.statement, None).unwrap()
    }

    fn with_table() -> Schema {
        let mut s = Schema::default();
        ddl(
            &mut s,
            "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
        );
        ddl(&mut s, "CREATE TABLE ks.t (k int PRIMARY KEY, v int)");
        s
    }

    fn both_ways(a: &Schema, b: &Schema) -> Schema {
        let ab = merge(a, b);
        assert_eq!(ab, merge(b, a));
        assert_eq!(ab.version(), merge(b, a).version());
        ab
    }

    #[test]
    fn ddl_stamps_every_change_later_than_the_last() {
        let mut s = with_table();
        let ks = s.keyspace_updated("ks");
        let t = s.table_updated("ks", "t");
        assert!(t > 0 && ks == t, "creating a table stamps its keyspace too");
        ddl(&mut s, "ALTER TABLE ks.t ADD w text");
        assert!(s.table_updated("ks", "t") > t);
        ddl(&mut s, "DROP TABLE ks.t");
        assert!(!s.updated.contains_key("ks.t"));
        assert!(s.dropped["ks.t"] > s.keyspace_updated("ks"));
        // A peer whose clock runs ahead: the next change is still later than everything seen.
        s.dropped.insert("ks.x".into(), i64::MAX / 2);
        ddl(
            &mut s,
            "ALTER KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}",
        );
        assert!(s.keyspace_updated("ks") > i64::MAX / 2);
        ddl(&mut s, "DROP KEYSPACE ks");
        assert!(s.updated.is_empty());
        assert_eq!(s.dropped.keys().collect::<Vec<_>>(), ["ks"], "the keyspace drop covers its tables'");
    }

    #[test]
    fn concurrent_creates_of_one_table_name_converge() {
        let mut s = Schema::default();
        ddl(
            &mut s,
            "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
        );
        let (mut a, mut b) = (s.clone(), s);
        ddl(&mut a, "CREATE TABLE ks.t (k int PRIMARY KEY, v int)");
        ddl(&mut b, "CREATE TABLE ks.t (k int PRIMARY KEY, w text)");
        let m = both_ways(&a, &b);
        let (ta, tb) = (a.table("ks", "t").unwrap(), b.table("ks", "t").unwrap());
        assert_eq!(m.table("ks", "t").unwrap().id, tb.id, "the later create wins");
        assert_eq!(diff(&b, &m), []);
        assert_eq!(
            diff(&a, &m),
            [SchemaChangeKind::TableDropped(ta.clone()), SchemaChangeKind::TableCreated(tb.clone())]
        );
    }

    #[test]
    fn equal_timestamps_pick_the_same_definition_everywhere() {
        let a = with_table();
        let mut b = a.clone();
        let mut t = (**b.table("ks", "t").unwrap()).clone();
        t.options.comment = "other".into();
        b.keyspaces.get_mut("ks").unwrap().tables.insert("t".into(), Arc::new(t));
        let m = both_ways(&a, &b);
        assert_eq!(m.table("ks", "t").unwrap().options.comment, "other");
    }

    #[test]
    fn a_recreated_table_replaces_the_dropped_one() {
        let base = with_table();
        let mut a = base.clone();
        ddl(&mut a, "DROP TABLE ks.t");
        assert!(both_ways(&base, &a).table("ks", "t").is_none(), "the drop is newer than the table");
        ddl(&mut a, "CREATE TABLE ks.t (k int PRIMARY KEY, x blob)");
        let m = both_ways(&base, &a);
        assert_eq!(m, a);
        let (old, new) = (base.table("ks", "t").unwrap(), a.table("ks", "t").unwrap());
        assert_eq!(
            diff(&base, &m),
            [SchemaChangeKind::TableDropped(old.clone()), SchemaChangeKind::TableCreated(new.clone())]
        );
    }

    #[test]
    fn drop_on_one_node_while_another_alters() {
        let base = with_table();
        // The alter is later: the table stays, as altered.
        let (mut a, mut b) = (base.clone(), base.clone());
        ddl(&mut a, "DROP TABLE ks.t");
        ddl(&mut b, "ALTER TABLE ks.t ADD w text");
        let m = both_ways(&a, &b);
        assert_eq!(m.table("ks", "t"), b.table("ks", "t"));
        assert_eq!(diff(&a, &m), [SchemaChangeKind::TableCreated(b.table("ks", "t").unwrap().clone())]);
        // The drop is later: the table goes.
        let (mut a, mut b) = (base.clone(), base);
        ddl(&mut b, "ALTER TABLE ks.t ADD w text");
        ddl(&mut a, "DROP TABLE ks.t");
        let m = both_ways(&a, &b);
        assert!(m.table("ks", "t").is_none());
        assert_eq!(diff(&b, &m), [SchemaChangeKind::TableDropped(b.table("ks", "t").unwrap().clone())]);
    }

    #[test]
    fn a_table_created_after_its_keyspace_was_dropped_brings_the_keyspace_back() {
        let base = with_table();
        let (mut a, mut b) = (base.clone(), base.clone());
        ddl(&mut a, "DROP KEYSPACE ks");
        ddl(&mut b, "CREATE TABLE ks.u (k int PRIMARY KEY)");
        let m = both_ways(&a, &b);
        let names: Vec<&String> = m.keyspaces["ks"].tables.keys().collect();
        assert_eq!(names, ["u"], "t is older than the keyspace's drop");
        // The other way round the keyspace goes, tables and all.
        let (mut a, mut b) = (base.clone(), base);
        ddl(&mut b, "CREATE TABLE ks.u (k int PRIMARY KEY)");
        ddl(&mut a, "DROP KEYSPACE ks");
        let m = both_ways(&a, &b);
        assert!(m.keyspaces.is_empty());
        assert!(
            matches!(&diff(&b, &m)[..], [SchemaChangeKind::KeyspaceDropped(k, t)] if k == "ks" && t.len() == 2)
        );
    }

    #[test]
    fn a_recreated_keyspace_does_not_bring_back_the_old_tables() {
        let base = with_table();
        let mut a = base.clone();
        ddl(&mut a, "DROP KEYSPACE ks");
        ddl(
            &mut a,
            "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
        );
        let m = both_ways(&base, &a);
        assert_eq!(m, a);
        assert_eq!(
            diff(&base, &m),
            [
                SchemaChangeKind::KeyspaceUpdated("ks".into()),
                SchemaChangeKind::TableDropped(base.table("ks", "t").unwrap().clone())
            ]
        );
    }

    #[test]
    fn schema_files_without_timestamps_load_and_merge() {
        let dir = tempfile::tempdir().unwrap();
        let mut current = with_table();
        current.updated.clear();
        current.dropped.clear();
        let mut json: serde_json::Value = serde_json::to_value(&current).unwrap();
        let obj = json.as_object_mut().unwrap();
        obj.remove("updated");
        obj.remove("dropped");
        std::fs::write(dir.path().join(crate::schema::SCHEMA_FILE), json.to_string()).unwrap();
        let old = Schema::load(dir.path()).unwrap();
        assert_eq!(old, current);
        assert_eq!(old.table_updated("ks", "t"), 0);
        assert_eq!(merge(&old, &old), old);
        assert_eq!(merge(&old, &Schema::default()), old);
        // Any change made since wins over the unstamped definitions.
        let mut newer = old.clone();
        ddl(&mut newer, "DROP TABLE ks.t");
        assert_eq!(both_ways(&old, &newer), newer);
    }

    #[test]
    fn merge_remote_saves_publishes_and_reports() {
        let dir = tempfile::tempdir().unwrap();
        let store = SchemaStore::open(dir.path()).unwrap();
        let remote = with_table();
        let mut seen = Vec::new();
        let (s, changes) = store
            .merge_remote_with(&remote, |c| {
                seen.push(c.clone());
                Ok(())
            })
            .unwrap();
        assert_eq!(*s, remote);
        assert_eq!(seen, changes);
        assert!(matches!(
            &changes[..],
            [SchemaChangeKind::KeyspaceCreated(_), SchemaChangeKind::TableCreated(_)]
        ));
        assert_eq!(store.snapshot().version(), remote.version());
        assert_eq!(Schema::load(dir.path()).unwrap(), remote);
        let (_, again) = store.merge_remote(&remote).unwrap();
        assert_eq!(again, []);
        // A failing side effect leaves the schema as it was.
        let mut newer = remote.clone();
        ddl(&mut newer, "DROP TABLE ks.t");
        let err = store.merge_remote_with(&newer, |_| Err(QueryError::Server("disk full".into())));
        assert!(err.is_err());
        assert_eq!(*store.snapshot(), remote);
        assert_eq!(Schema::load(dir.path()).unwrap(), remote);
    }

    #[test]
    fn merge_remote_refuses_what_no_node_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SchemaStore::open(dir.path()).unwrap();
        let mut s = with_table();
        let ks = s.keyspaces.remove("ks").unwrap();
        s.keyspaces.insert("system".into(), Keyspace { name: "system".into(), ..ks.clone() });
        assert!(store.merge_remote(&s).is_err());
        let mut s = Schema::default();
        s.keyspaces.insert("other".into(), ks);
        assert!(store.merge_remote(&s).is_err());
        let mut s = Schema::default();
        s.dropped.insert("ks.t.x".into(), 1);
        assert!(store.merge_remote(&s).is_err());
        assert_eq!(*store.snapshot(), Schema::default());
    }

    mod properties {
        use super::*;
        use crate::schema::{Column, ColumnKind, Replication, TableOptions};
        use proptest::prelude::*;

        const KEYSPACES: [&str; 2] = ["a", "b"];
        const TABLES: [&str; 2] = ["t", "u"];

        fn table(ks: &str, name: &str, id: u8, comment: bool) -> Table {
            Table {
                keyspace: ks.into(),
                name: name.into(),
                id: storage::TableId([id; 16]),
                columns: vec![Column {
                    name: "k".into(),
                    ty: cql::CqlType::Int,
                    kind: ColumnKind::PartitionKey,
                    position: 0,
                    order: cql::ast::Order::Asc,
                }],
                options: TableOptions {
                    comment: if comment { "c".into() } else { String::new() },
                    ..Default::default()
                },
                dropped: BTreeMap::new(),
            }
        }

        /// Small timestamps, so that ties and drops racing creates are common.
        fn stamp() -> impl Strategy<Value = i64> {
            0i64..5
        }

        type Parts = (Option<(u32, i64)>, Vec<Option<(u8, bool, i64)>>);

        /// A schema as one node could hold it: random parts, made consistent by a merge.
        fn schema() -> impl Strategy<Value = Schema> {
            let keyspace: BoxedStrategy<Parts> = (
                proptest::option::of((1u32..3, stamp())),
                proptest::collection::vec(proptest::option::of((0u8..3, any::<bool>(), stamp())), 2),
            )
                .boxed();
            let drops = proptest::collection::vec(proptest::option::of(stamp()), 6);
            (proptest::collection::vec(keyspace, 2), drops).prop_map(|(keyspaces, drops)| {
                let mut s = Schema::default();
                for (ks, (def, tables)) in KEYSPACES.iter().zip(keyspaces) {
                    let Some((rf, at)) = def else { continue };
                    let mut k = Keyspace {
                        name: ks.to_string(),
                        replication: Replication::Simple { replication_factor: rf },
                        durable_writes: true,
                        tables: BTreeMap::new(),
                    };
                    s.updated.insert(ks.to_string(), at);
                    for (t, def) in TABLES.iter().zip(tables) {
                        if let Some((id, comment, t_at)) = def {
                            k.tables.insert(t.to_string(), Arc::new(table(ks, t, id, comment)));
                            s.updated.insert(table_key(ks, t), t_at);
                        }
                    }
                    s.keyspaces.insert(ks.to_string(), k);
                }
                let keys = KEYSPACES
                    .iter()
                    .map(|k| k.to_string())
                    .chain(KEYSPACES.iter().flat_map(|k| TABLES.iter().map(move |t| table_key(k, t))));
                for (key, at) in keys.zip(drops) {
                    if let Some(at) = at {
                        s.dropped.insert(key, at);
                    }
                }
                merge(&s, &Schema::default())
            })
        }

        proptest! {
            #[test]
            fn merge_is_idempotent(a in schema()) {
                prop_assert_eq!(merge(&a, &a), a);
            }

            #[test]
            fn merge_is_commutative(a in schema(), b in schema()) {
                let (ab, ba) = (merge(&a, &b), merge(&b, &a));
                prop_assert_eq!(ab.version(), ba.version());
                prop_assert_eq!(ab, ba);
            }

            #[test]
            fn merge_is_associative(a in schema(), b in schema(), c in schema()) {
                prop_assert_eq!(merge(&merge(&a, &b), &c), merge(&a, &merge(&b, &c)));
            }

            #[test]
            fn a_merged_schema_absorbs_both_sides(a in schema(), b in schema()) {
                let m = merge(&a, &b);
                prop_assert_eq!(merge(&m, &a), m.clone());
                prop_assert_eq!(merge(&m, &b), m.clone());
                prop_assert!(diff(&m, &m).is_empty());
                prop_assert_eq!(diff(&a, &m).is_empty(), a.keyspaces == m.keyspaces);
            }
        }
    }
}
