//! The table operations a node runs before it answers: `tess flush|compact|garbagecollect|
//! cleanup [KS [TABLE...]]` and `tess drain`. Each is one POST that may take long (a major
//! compaction of a big table), so the caller uses a client with a long timeout; each prints a
//! one-line summary.
//!
//! | request                                                 | answer |
//! |---------------------------------------------------------|--------|
//! | `POST /v1/flush?keyspace=KS&tables=t1,t2`               | `{"tables": u32}` |
//! | `POST /v1/compact?...`, `POST /v1/garbagecollect?...`   | `{"tables": u32, "compactions": u32}` |
//! | `POST /v1/cleanup?...`                                  | `{"tables": u32, "partitions_dropped": u64}` |
//! | `POST /v1/drain`                                        | `{}` |
//!
//! Without a keyspace every table is concerned; without tables, every table of the keyspace.
//! A missing or null count prints as `n/a`.

use super::format::count;
use serde::Deserialize;

/// An operation over a set of tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableOperation {
    Flush,
    Compact,
    GarbageCollect,
    Cleanup,
}

impl TableOperation {
    /// The admin API path.
    pub fn path(self) -> &'static str {
        match self {
            TableOperation::Flush => "/v1/flush",
            TableOperation::Compact => "/v1/compact",
            TableOperation::GarbageCollect => "/v1/garbagecollect",
            TableOperation::Cleanup => "/v1/cleanup",
        }
    }
}

/// The answer of any table operation (each fills the counts it has).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OperationReport {
    pub tables: Option<u64>,
    pub compactions: Option<u64>,
    pub partitions_dropped: Option<u64>,
}

/// The query selecting the tables: `keyspace=KS` and `tables=t1,t2` when given.
pub fn query(keyspace: Option<&str>, tables: &[String]) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(ks) = keyspace {
        q.push(("keyspace", ks.to_string()));
        if !tables.is_empty() {
            q.push(("tables", tables.join(",")));
        }
    }
    q
}

/// ` in ks`, ` in ks (t1, t2)`, or nothing for every keyspace.
fn scope(keyspace: Option<&str>, tables: &[String]) -> String {
    match keyspace {
        None => String::new(),
        Some(ks) if tables.is_empty() => format!(" in {ks}"),
        Some(ks) => format!(" in {ks} ({})", tables.join(", ")),
    }
}

/// The one-line summary of a finished operation.
pub fn render(op: TableOperation, r: &OperationReport, keyspace: Option<&str>, tables: &[String]) -> String {
    let n = count(r.tables, "table", "tables");
    let at = scope(keyspace, tables);
    match op {
        TableOperation::Flush => format!("Flushed {n}{at}\n"),
        TableOperation::Compact => {
            format!("Compacted {n}{at}: {}\n", count(r.compactions, "compaction", "compactions"))
        }
        TableOperation::GarbageCollect => {
            format!("Garbage-collected {n}{at}: {}\n", count(r.compactions, "compaction", "compactions"))
        }
        TableOperation::Cleanup => format!(
            "Cleaned up {n}{at}: {} dropped\n",
            count(r.partitions_dropped, "partition", "partitions")
        ),
    }
}

/// What `tess drain` prints once the node has drained.
pub const DRAINED: &str = "Drained: every memtable flushed\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn report(json: &str) -> OperationReport {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn the_query_names_the_keyspace_and_tables() {
        assert!(query(None, &[]).is_empty());
        assert_eq!(query(Some("ks"), &[]), vec![("keyspace", "ks".to_string())]);
        let tables = ["t1".to_string(), "t2".to_string()];
        assert_eq!(
            query(Some("ks"), &tables),
            vec![("keyspace", "ks".to_string()), ("tables", "t1,t2".to_string())]
        );
    }

    #[test]
    fn each_operation_prints_a_summary_line() {
        let t = ["t1".to_string(), "t2".to_string()];
        assert_eq!(
            render(TableOperation::Flush, &report(r#"{"tables": 12}"#), None, &[]),
            "Flushed 12 tables\n"
        );
        assert_eq!(
            render(TableOperation::Flush, &report(r#"{"tables": 1}"#), Some("ks"), &[]),
            "Flushed 1 table in ks\n"
        );
        assert_eq!(
            render(TableOperation::Compact, &report(r#"{"tables": 2, "compactions": 1}"#), Some("ks"), &t),
            "Compacted 2 tables in ks (t1, t2): 1 compaction\n"
        );
        assert_eq!(
            render(TableOperation::GarbageCollect, &report(r#"{"tables": 3, "compactions": 4}"#), None, &[]),
            "Garbage-collected 3 tables: 4 compactions\n"
        );
        assert_eq!(
            render(
                TableOperation::Cleanup,
                &report(r#"{"tables": 3, "partitions_dropped": 1200}"#),
                None,
                &[]
            ),
            "Cleaned up 3 tables: 1200 partitions dropped\n"
        );
    }

    #[test]
    fn missing_counts_print_na() {
        assert_eq!(render(TableOperation::Flush, &report("{}"), None, &[]), "Flushed n/a tables\n");
        assert_eq!(
            render(TableOperation::Compact, &report(r#"{"tables": null}"#), None, &[]),
            "Compacted n/a tables: n/a compactions\n"
        );
        assert_eq!(
            render(TableOperation::Cleanup, &report(r#"{"tables": 1}"#), None, &[]),
            "Cleaned up 1 table: n/a partitions dropped\n"
        );
    }

    #[test]
    fn each_operation_has_its_path() {
        assert_eq!(TableOperation::Flush.path(), "/v1/flush");
        assert_eq!(TableOperation::Compact.path(), "/v1/compact");
        assert_eq!(TableOperation::GarbageCollect.path(), "/v1/garbagecollect");
        assert_eq!(TableOperation::Cleanup.path(), "/v1/cleanup");
    }
}
