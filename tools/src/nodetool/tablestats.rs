//! `tess tablestats [KS[.TABLE]]`: the admin API's `/v1/tablestats` answer, printed in
//! `nodetool tablestats -H`'s layout: a table count, then per keyspace its request counts and
//! latencies and, indented under it, one block per table; sizes in human units.
//!
//! The JSON (`GET /v1/tablestats[?keyspace=KS[&table=T]]`); any field may be missing or null,
//! and prints as `n/a`:
//!
//! ```json
//! {"keyspaces": [{"name": "ks", "read_count": 10, "write_count": 20,
//!   "read_latency_ms": 0.12, "write_latency_ms": null,
//!   "tables": [{"name": "t", "sstable_count": 2, "space_used_live": 1024, "space_used_total": 2048,
//!     "partitions": 100, "memtable_bytes": 512, "memtable_partitions": 3, "tombstones": 7,
//!     "droppable_tombstones": 1, "percent_repaired": 97.5, "pending_repair_bytes": 0,
//!     "read_count": 10, "write_count": 20, "read_latency_ms": 0.12, "write_latency_ms": null,
//!     "compactions_pending": 0}]}]}
//! ```

use super::format::{NA, bytes_or_na, latency_ms, or_na};
use serde::Deserialize;

/// The `/v1/tablestats` answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TableStatsReport {
    pub keyspaces: Vec<KeyspaceStats>,
}

/// One keyspace: totals over its tables, then each table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct KeyspaceStats {
    pub name: Option<String>,
    pub read_count: Option<u64>,
    pub write_count: Option<u64>,
    pub read_latency_ms: Option<f64>,
    pub write_latency_ms: Option<f64>,
    pub tables: Vec<TableStats>,
}

/// One table on the answering node.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TableStats {
    pub name: Option<String>,
    pub sstable_count: Option<u32>,
    pub space_used_live: Option<u64>,
    pub space_used_total: Option<u64>,
    pub partitions: Option<u64>,
    pub memtable_bytes: Option<u64>,
    pub memtable_partitions: Option<u64>,
    pub tombstones: Option<u64>,
    pub droppable_tombstones: Option<u64>,
    /// 0..=100.
    pub percent_repaired: Option<f64>,
    pub pending_repair_bytes: Option<u64>,
    pub read_count: Option<u64>,
    pub write_count: Option<u64>,
    pub read_latency_ms: Option<f64>,
    pub write_latency_ms: Option<f64>,
    pub compactions_pending: Option<u32>,
}

/// The selection `KS[.TABLE]` as (keyspace, table): split at the first dot, as nodetool does.
pub fn parse_selection(arg: &str) -> Result<(String, Option<String>), String> {
    let (ks, table) = match arg.split_once('.') {
        Some((ks, table)) => (ks, Some(table)),
        None => (arg, None),
    };
    if ks.is_empty() || table.is_some_and(str::is_empty) {
        return Err(format!("'{arg}' is not KEYSPACE or KEYSPACE.TABLE"));
    }
    Ok((ks.to_string(), table.map(str::to_string)))
}

/// The query for a selection.
pub fn query(selection: Option<&(String, Option<String>)>) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some((ks, table)) = selection {
        q.push(("keyspace", ks.clone()));
        if let Some(t) = table {
            q.push(("table", t.clone()));
        }
    }
    q
}

/// A percentage as Java prints a double rounded to two places: `97.25`, `100.0`, `0.0`.
fn percent(p: Option<f64>) -> String {
    match p {
        Some(p) if p.is_finite() => {
            let s = format!("{p:.2}");
            let s = s.trim_end_matches('0');
            if s.ends_with('.') { format!("{s}0") } else { s.to_string() }
        }
        _ => NA.to_string(),
    }
}

/// The report in nodetool tablestats' layout.
pub fn render(r: &TableStatsReport) -> String {
    let tables: usize = r.keyspaces.iter().map(|k| k.tables.len()).sum();
    let mut out = format!("Total number of tables: {tables}\n----------------\n");
    for ks in &r.keyspaces {
        out.push_str(&format!("Keyspace : {}\n", or_na(ks.name.as_ref())));
        for (label, value) in [
            ("Read Count", or_na(ks.read_count)),
            ("Read Latency", latency_ms(ks.read_latency_ms)),
            ("Write Count", or_na(ks.write_count)),
            ("Write Latency", latency_ms(ks.write_latency_ms)),
        ] {
            out.push_str(&format!("\t{label}: {value}\n"));
        }
        for t in &ks.tables {
            for (label, value) in [
                ("Table", or_na(t.name.as_ref())),
                ("SSTable count", or_na(t.sstable_count)),
                ("Space used (live)", bytes_or_na(t.space_used_live)),
                ("Space used (total)", bytes_or_na(t.space_used_total)),
                ("Number of partitions (estimate)", or_na(t.partitions)),
                ("Memtable partition count", or_na(t.memtable_partitions)),
                ("Memtable data size", bytes_or_na(t.memtable_bytes)),
                ("Local read count", or_na(t.read_count)),
                ("Local read latency", latency_ms(t.read_latency_ms)),
                ("Local write count", or_na(t.write_count)),
                ("Local write latency", latency_ms(t.write_latency_ms)),
                ("Pending compactions", or_na(t.compactions_pending)),
                ("Percent repaired", percent(t.percent_repaired)),
                ("Bytes pending repair", bytes_or_na(t.pending_repair_bytes)),
                ("Tombstones (estimate)", or_na(t.tombstones)),
                ("Droppable tombstones (estimate)", or_na(t.droppable_tombstones)),
            ] {
                out.push_str(&format!("\t\t{label}: {value}\n"));
            }
            out.push('\n');
        }
        out.push_str("----------------\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_keyspaces_and_tables_like_nodetool() {
        let r: TableStatsReport = serde_json::from_str(
            r#"{"keyspaces": [{"name": "ks", "read_count": 10, "write_count": 20,
                "read_latency_ms": 0.1234, "write_latency_ms": null,
                "tables": [{"name": "t", "sstable_count": 2, "space_used_live": 1289748,
                  "space_used_total": 2048, "partitions": 100, "memtable_bytes": 512,
                  "memtable_partitions": 3, "tombstones": 7, "droppable_tombstones": 1,
                  "percent_repaired": 97.256, "pending_repair_bytes": 0, "read_count": 10,
                  "write_count": 20, "read_latency_ms": 0.1, "write_latency_ms": 0.02,
                  "compactions_pending": 1}]},
               {"name": "empty", "tables": []}]}"#,
        )
        .unwrap();
        let expected = "\
Total number of tables: 1
----------------
Keyspace : ks
\tRead Count: 10
\tRead Latency: 0.123 ms
\tWrite Count: 20
\tWrite Latency: n/a
\t\tTable: t
\t\tSSTable count: 2
\t\tSpace used (live): 1.23 MiB
\t\tSpace used (total): 2 KiB
\t\tNumber of partitions (estimate): 100
\t\tMemtable partition count: 3
\t\tMemtable data size: 512 bytes
\t\tLocal read count: 10
\t\tLocal read latency: 0.100 ms
\t\tLocal write count: 20
\t\tLocal write latency: 0.020 ms
\t\tPending compactions: 1
\t\tPercent repaired: 97.26
\t\tBytes pending repair: 0 bytes
\t\tTombstones (estimate): 7
\t\tDroppable tombstones (estimate): 1

----------------
Keyspace : empty
\tRead Count: n/a
\tRead Latency: n/a
\tWrite Count: n/a
\tWrite Latency: n/a
----------------
";
        assert_eq!(render(&r), expected, "\n{}", render(&r));
    }

    #[test]
    fn missing_table_fields_print_na() {
        let r: TableStatsReport = serde_json::from_str(
            r#"{"keyspaces": [{"name": "ks", "tables": [{"name": "t", "percent_repaired": null}]}]}"#,
        )
        .unwrap();
        let text = render(&r);
        let table_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("\t\t")).collect();
        assert_eq!(table_lines.len(), 16);
        assert_eq!(table_lines[0], "\t\tTable: t");
        assert!(table_lines[1..].iter().all(|l| l.ends_with(": n/a")), "{text}");
        assert_eq!(render(&TableStatsReport::default()), "Total number of tables: 0\n----------------\n");
    }

    #[test]
    fn percentages_print_like_java_doubles() {
        assert_eq!(percent(Some(100.0)), "100.0");
        assert_eq!(percent(Some(0.0)), "0.0");
        assert_eq!(percent(Some(97.5)), "97.5");
        assert_eq!(percent(Some(f64::INFINITY)), "n/a");
    }

    #[test]
    fn the_selection_is_a_keyspace_and_maybe_a_table() {
        assert_eq!(parse_selection("ks"), Ok(("ks".to_string(), None)));
        assert_eq!(parse_selection("ks.t"), Ok(("ks".to_string(), Some("t".to_string()))));
        assert_eq!(parse_selection("ks.t.x"), Ok(("ks".to_string(), Some("t.x".to_string()))));
        for bad in ["", ".t", "ks.", "."] {
            assert!(parse_selection(bad).is_err(), "{bad}");
        }
        assert!(query(None).is_empty());
        let sel = parse_selection("ks.t").unwrap();
        assert_eq!(query(Some(&sel)), vec![("keyspace", "ks".to_string()), ("table", "t".to_string())]);
    }
}
