//! A statement's `WITH` options: keyspace replication and durable writes, table options
//! (compaction, compression, TTL, ...), checked and normalised with Cassandra's messages. Used
//! by `ddl.rs`; [`warnings`] tells the client which recorded options are not applied.

use super::{Keyspace, Replication, TableOptions};
use crate::error::{QueryError, QueryResult};
use cql::ast::{AlterTableOp, Literal, Statement, Term};
use std::collections::BTreeMap;

fn invalid(m: impl Into<String>) -> QueryError {
    QueryError::Invalid(m.into())
}

/// An option value as text: strings, numbers and booleans.
fn option_text(name: &str, t: &Term) -> QueryResult<String> {
    match t {
        Term::Literal(Literal::String(s) | Literal::Integer(s) | Literal::Float(s)) => Ok(s.clone()),
        Term::Literal(Literal::Boolean(b)) => Ok(b.to_string()),
        _ => Err(QueryError::Syntax(format!("invalid value for property '{name}': expected a constant"))),
    }
}

fn option_map(name: &str, t: &Term) -> QueryResult<BTreeMap<String, String>> {
    match t {
        Term::Map(entries) => {
            entries.iter().map(|(k, v)| Ok((option_text(name, k)?, option_text(name, v)?))).collect()
        }
        _ => Err(QueryError::Syntax(format!("invalid value for property '{name}': expected a map"))),
    }
}

fn option_bool(name: &str, t: &Term) -> QueryResult<bool> {
    match option_text(name, t)?.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(QueryError::Syntax(format!("invalid value '{other}' for boolean property '{name}'"))),
    }
}

fn option_int(name: &str, t: &Term) -> QueryResult<i32> {
    let s = option_text(name, t)?;
    s.parse::<i32>()
        .map_err(|_| QueryError::Syntax(format!("invalid value '{s}' for integer property '{name}'")))
}

fn replication(options: &BTreeMap<String, String>) -> QueryResult<Replication> {
    let class = options
        .get("class")
        .ok_or_else(|| QueryError::Config("Missing replication strategy class".into()))?;
    let short = class.rsplit('.').next().unwrap_or(class);
    let factor = |k: &str, v: &str| -> QueryResult<u32> {
        v.parse::<u32>().map_err(|_| {
            QueryError::Config(format!(
                "Replication factor must be a non-negative integer; found {v} for '{k}'"
            ))
        })
    };
    match short {
        "SimpleStrategy" => {
            let mut rf = None;
            for (k, v) in options {
                match k.as_str() {
                    "class" => {}
                    "replication_factor" => rf = Some(factor(k, v)?),
                    other => {
                        return Err(QueryError::Config(format!(
                            "Unrecognized strategy option {{{other}}} passed to SimpleStrategy"
                        )));
                    }
                }
            }
            let replication_factor = rf.ok_or_else(|| {
                QueryError::Config("SimpleStrategy requires a replication_factor strategy option.".into())
            })?;
            Ok(Replication::Simple { replication_factor })
        }
        "NetworkTopologyStrategy" => {
            let mut datacenters = BTreeMap::new();
            for (k, v) in options {
                if k != "class" {
                    if k == "replication_factor" {
                        return Err(QueryError::Config(
                            "replication_factor as a default for every datacenter is not supported; name each datacenter"
                                .into(),
                        ));
                    }
                    datacenters.insert(k.clone(), factor(k, v)?);
                }
            }
            Ok(Replication::NetworkTopology { datacenters })
        }
        "LocalStrategy" => Err(QueryError::Config("LocalStrategy is only for the system keyspaces".into())),
        other => Err(QueryError::Config(format!("Unable to find replication strategy class '{other}'"))),
    }
}

pub(super) fn keyspace_options(
    options: &[(String, Term)],
    current: Option<&Keyspace>,
) -> QueryResult<(Replication, bool)> {
    let mut repl = current.map(|k| k.replication.clone());
    let mut durable = current.is_none_or(|k| k.durable_writes);
    for (name, value) in options {
        match name.as_str() {
            "replication" => repl = Some(replication(&option_map(name, value)?)?),
            "durable_writes" => durable = option_bool(name, value)?,
            other => return Err(QueryError::Syntax(format!("Unknown property '{other}'"))),
        }
    }
    let repl = repl.ok_or_else(|| QueryError::Config("Missing mandatory option 'replication'".into()))?;
    Ok((repl, durable))
}

/// Options Cassandra accepts on tables that Tessera keeps no state for.
const IGNORED_TABLE_OPTIONS: [&str; 9] = [
    "crc_check_chance",
    "memtable_flush_period_in_ms",
    "read_repair",
    "additional_write_policy",
    "min_index_interval",
    "max_index_interval",
    "cdc",
    "extensions",
    "memtable",
];

pub(super) fn table_options(options: &[(String, Term)], mut o: TableOptions) -> QueryResult<TableOptions> {
    for (name, value) in options {
        match name.as_str() {
            "comment" => o.comment = option_text(name, value)?,
            "default_time_to_live" => {
                let v = option_int(name, value)?;
                if !(0..=630_720_000).contains(&v) {
                    return Err(invalid(format!(
                        "default_time_to_live must be between 0 and 630720000 (20 years), got {v}"
                    )));
                }
                o.default_time_to_live = v;
            }
            "gc_grace_seconds" => {
                let v = option_int(name, value)?;
                if v < 0 {
                    return Err(invalid(format!("gc_grace_seconds must be non-negative, got {v}")));
                }
                o.gc_grace_seconds = v;
            }
            "speculative_retry" => o.speculative_retry = option_text(name, value)?,
            "bloom_filter_fp_chance" => {
                let s = option_text(name, value)?;
                let v: f64 =
                    s.parse().map_err(|_| invalid(format!("invalid bloom_filter_fp_chance '{s}'")))?;
                if !(v > 0.0 && v <= 1.0) {
                    return Err(invalid(format!("bloom_filter_fp_chance must be in (0, 1], got {v}")));
                }
                o.bloom_filter_fp_chance = v;
            }
            "compaction" => {
                let m = option_map(name, value)?;
                let class = m.get("class").ok_or_else(|| {
                    QueryError::Config("Missing sub-option 'class' for the 'compaction' option".into())
                })?;
                let short = class.rsplit('.').next().unwrap_or(class);
                if short != "SizeTieredCompactionStrategy" {
                    return Err(QueryError::Config(format!(
                        "compaction class {class} is not supported; use SizeTieredCompactionStrategy"
                    )));
                }
                let mut m = m;
                m.insert(
                    "class".into(),
                    "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy".into(),
                );
                m.entry("min_threshold".into()).or_insert_with(|| "4".into());
                m.entry("max_threshold".into()).or_insert_with(|| "32".into());
                o.compaction = m;
            }
            "compression" => o.compression = compression_options(option_map(name, value)?)?,
            "caching" => o.caching = option_map(name, value)?,
            other if IGNORED_TABLE_OPTIONS.contains(&other) => {}
            other => return Err(QueryError::Syntax(format!("Unknown property '{other}'"))),
        }
    }
    Ok(o)
}

/// The compressors Cassandra ships, by short name.
const COMPRESSORS: [&str; 5] =
    ["LZ4Compressor", "SnappyCompressor", "DeflateCompressor", "ZstdCompressor", "NoopCompressor"];
const COMPRESSOR_PACKAGE: &str = "org.apache.cassandra.io.compress.";
/// Sub-options a compressor may take besides `class` and `chunk_length_in_kb`.
const COMPRESSION_SUB_OPTIONS: [&str; 5] = [
    "crc_check_chance",
    "min_compress_ratio",
    "lz4_compressor_type",
    "lz4_high_compressor_level",
    "compression_level",
];

/// The `compression` option, checked and normalised as Cassandra does: full class names, the
/// pre-3.0 names `sstable_compression` and `chunk_length_kb`, `enabled: false` (or an empty
/// class) stored as `{'enabled': 'false'}`. SSTables are always LZ4-compressed in chunks of 4
/// to 1024 KiB; other settings are recorded (so a Cassandra schema dump replays) and the
/// client is warned ([`warnings`]).
fn compression_options(m: BTreeMap<String, String>) -> QueryResult<BTreeMap<String, String>> {
    let config = |m: String| QueryError::Config(m);
    let mut out = BTreeMap::new();
    let mut class = None;
    let mut chunk = None;
    let mut enabled = true;
    for (k, v) in &m {
        match k.as_str() {
            "class" | "sstable_compression" => {
                if class.replace(v).is_some() {
                    return Err(config(
                        "The 'sstable_compression' option must not be used if the compression algorithm is already specified by the 'class' option".into(),
                    ));
                }
            }
            "chunk_length_in_kb" | "chunk_length_kb" => {
                if chunk.replace(v).is_some() {
                    return Err(config(
                        "The 'chunk_length_kb' option must not be used if the chunk length is already specified by the 'chunk_length_in_kb' option".into(),
                    ));
                }
            }
            "enabled" => match v.to_ascii_lowercase().as_str() {
                "true" => {}
                "false" => enabled = false,
                _ => return Err(config(format!("Invalid value '{v}' for the compression option 'enabled'"))),
            },
            k if COMPRESSION_SUB_OPTIONS.contains(&k) => {
                out.insert(k.to_string(), v.clone());
            }
            other => return Err(config(format!("Unknown compression options: ({other})"))),
        }
    }
    if !enabled || class.is_some_and(|c| c.is_empty()) {
        return Ok(BTreeMap::from([("enabled".to_string(), "false".to_string())]));
    }
    let class =
        class.ok_or_else(|| config("Missing sub-option 'class' for the 'compression' option.".into()))?;
    let short = class.strip_prefix(COMPRESSOR_PACKAGE).unwrap_or(class);
    if !COMPRESSORS.contains(&short) {
        return Err(config(format!("Could not create Compression for type {class}")));
    }
    out.insert("class".into(), format!("{COMPRESSOR_PACKAGE}{short}"));
    let kb = match chunk {
        None => 64,
        Some(c) => match c.trim().parse::<u32>() {
            Ok(0) => return Err(config("Invalid negative or null chunk_length_in_kb".into())),
            Ok(kb) if kb.is_power_of_two() => kb,
            _ => return Err(config(format!("chunk_length_in_kb must be a power of 2, got '{c}'"))),
        },
    };
    out.insert("chunk_length_in_kb".into(), kb.to_string());
    Ok(out)
}

/// What the node tells the client about a DDL statement that succeeded (sent as protocol
/// warnings): table options it records but does not apply.
pub fn warnings(stmt: &Statement) -> Vec<String> {
    let options = match stmt {
        Statement::CreateTable(c) => &c.options,
        Statement::AlterTable { op: AlterTableOp::With(options), .. } => options,
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for (name, value) in options.iter().filter(|(n, _)| n == "compression") {
        let Ok(c) = option_map(name, value).and_then(compression_options) else { continue };
        let lz4 = c.get("class").is_some_and(|x| x.ends_with(".LZ4Compressor"));
        let kb: Option<u32> = c.get("chunk_length_in_kb").and_then(|k| k.parse().ok());
        if !lz4 || kb.is_some_and(|k| !(4..=1024).contains(&k)) {
            let c: Vec<String> = c.iter().map(|(k, v)| format!("'{k}': '{v}'")).collect();
            let c = format!("{{{}}}", c.join(", "));
            out.push(format!(
                "SSTables are always compressed with LZ4Compressor in chunks of 4 to 1024 KiB; compression = {c:?} is recorded but not applied"
            ));
        }
    }
    out
}
