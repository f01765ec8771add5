//! Repair's replica verbs. Requests are JSON ([`RepairRequest`]); answers are raw bytes where
//! they carry data (a Merkle tree, partition hashes, partitions).
//!
//! | verb | does | answers |
//! |---|---|---|
//! | RepairPrepare | marks unrepaired data in `ranges` pending for `session` | `{}` |
//! | RepairValidate | builds the Merkle tree of `ranges[0]` over `scope` (flushing first for unrepaired) | the encoded tree |
//! | RepairHashes | lists partitions of every range in `ranges` within `scope` | `u32` count, then per partition: token `i64`, key (`u32` length + bytes), hash (16 bytes), size `u64` |
//! | RepairRowHashes | reads `keys` whole | per partition: token `i64`, key (`u32` length + bytes), header hash (16 bytes), `u32` row count, then per row: clustering (`u32` length + bytes), hash (16 bytes) |
//! | RepairFetch | reads `keys`, whole or the parts `select` names | as RangeRead answers ([`crate::replica::RangeResponse`]) |
//! | RepairFinalize / RepairAbort | pending data of `session` becomes repaired / unrepaired | `{}` |
//! | RepairStream | `u32` length + the JSON request, then partitions as in RangeRead answers: written to an SSTable, pending for `session` when `scope` is pending | `{}` |

use crate::net::Verb;
use bytes::{Buf, BufMut, Bytes};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use storage::repair::RepairScope;
use storage::{DecoratedKey, Partition, TableId, Token};

/// Which data a validation covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Everything (full repair).
    Full,
    /// What is pending for the session (incremental repair).
    Pending,
    /// What is not yet repaired (an incremental preview, which marks nothing).
    Unrepaired,
}

/// A repair request to a replica.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RepairRequest {
    pub session: String,
    /// The table id, as 32 hexadecimal digits.
    pub table: String,
    #[serde(default)]
    pub ranges: Vec<(Token, Token)>,
    #[serde(default)]
    pub scope: Option<Scope>,
    #[serde(default)]
    pub depth: u8,
    /// Keys to fetch: token and hexadecimal key bytes.
    #[serde(default)]
    pub keys: Vec<(Token, String)>,
    #[serde(default)]
    pub repaired_at: u64,
    /// With RepairFetch: which parts of each of `keys` to send (same order); empty: whole
    /// partitions.
    #[serde(default)]
    pub select: Vec<Select>,
}

/// The parts of a partition a fetch wants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Select {
    /// The partition deletion, static row and range tombstones.
    #[serde(default)]
    pub header: bool,
    /// Rows, by hexadecimal clustering.
    #[serde(default)]
    pub rows: Vec<String>,
}

impl RepairRequest {
    pub fn encode(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).unwrap_or_default())
    }

    fn table_id(&self) -> Result<TableId, String> {
        TableId::parse(&self.table).ok_or_else(|| format!("bad table id '{}'", self.table))
    }

    fn scope(&self) -> RepairScope {
        match self.scope {
            Some(Scope::Pending) => RepairScope::Pending(self.session.clone()),
            Some(Scope::Unrepaired) => RepairScope::Unrepaired,
            Some(Scope::Full) | None => RepairScope::Full,
        }
    }

    fn decoded_keys(&self) -> Result<Vec<DecoratedKey>, String> {
        self.keys
            .iter()
            .map(|(t, k)| unhex(k).map(|k| DecoratedKey { token: *t, key: Bytes::from(k) }))
            .collect()
    }

    fn range(&self) -> Result<(Token, Token), String> {
        self.ranges.first().copied().ok_or_else(|| "no range".to_string())
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or_else(|| "bad hex".to_string())
        })
        .collect()
}

/// A replica's hash of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionHash {
    pub key: DecoratedKey,
    pub hash: [u8; 16],
    /// Bytes of the partition's data on this replica.
    pub size: u64,
}

pub fn encode_hashes(v: &[(DecoratedKey, [u8; 16], u64)]) -> Bytes {
    let mut out = Vec::with_capacity(4 + v.len() * 48);
    out.put_u32(v.len() as u32);
    for (k, h, size) in v {
        out.put_i64(k.token);
        out.put_u32(k.key.len() as u32);
        out.put_slice(&k.key);
        out.put_slice(h);
        out.put_u64(*size);
    }
    Bytes::from(out)
}

pub fn decode_hashes(mut b: Bytes) -> Result<Vec<PartitionHash>, String> {
    let short = || "truncated partition hashes".to_string();
    if b.remaining() < 4 {
        return Err(short());
    }
    let n = b.get_u32() as usize;
    let mut out = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        if b.remaining() < 12 {
            return Err(short());
        }
        let token = b.get_i64();
        let len = b.get_u32() as usize;
        if b.remaining() < len + 16 + 8 {
            return Err(short());
        }
        let key = b.split_to(len);
        let mut hash = [0u8; 16];
        b.copy_to_slice(&mut hash);
        let size = b.get_u64();
        out.push(PartitionHash { key: DecoratedKey { token, key }, hash, size });
    }
    Ok(out)
}

/// The header hash of a partition with no deletion, static row or range tombstone (and of one a
/// replica lacks).
pub const EMPTY_HEADER: [u8; 16] = [0; 16];

/// A replica's hashes of one partition's parts, over all its data: what row-level sync compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowHashes {
    pub key: DecoratedKey,
    /// The partition deletion, static row and range tombstones ([`EMPTY_HEADER`] when none).
    pub header: [u8; 16],
    /// Each row's hash, by clustering.
    pub rows: Vec<(Bytes, [u8; 16])>,
}

fn hash_of(p: &Partition) -> [u8; 16] {
    let mut buf = Vec::new();
    storage::partition_codec::encode_partition(&mut buf, p);
    let (a, b) = storage::token::murmur3_x64_128(&buf, 0);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&a.to_be_bytes());
    out[8..].copy_from_slice(&b.to_be_bytes());
    out
}

/// `p` without its rows.
pub fn header_of(p: &Partition) -> Partition {
    Partition {
        deletion: p.deletion,
        static_row: p.static_row.clone(),
        range_tombstones: p.range_tombstones.clone(),
        rows: Default::default(),
    }
}

/// The hashes of `p`'s header and rows.
pub fn row_hashes(key: DecoratedKey, p: &Partition) -> RowHashes {
    let header = header_of(p);
    let header = if header.is_empty() { EMPTY_HEADER } else { hash_of(&header) };
    let rows = p
        .rows
        .iter()
        .map(|(c, row)| {
            let mut one = Partition::default();
            one.rows.insert(c.clone(), row.clone());
            (c.clone(), hash_of(&one))
        })
        .collect();
    RowHashes { key, header, rows }
}

pub fn encode_row_hashes(v: &[RowHashes]) -> Bytes {
    let mut out = Vec::new();
    out.put_u32(v.len() as u32);
    for h in v {
        out.put_i64(h.key.token);
        out.put_u32(h.key.key.len() as u32);
        out.put_slice(&h.key.key);
        out.put_slice(&h.header);
        out.put_u32(h.rows.len() as u32);
        for (c, hash) in &h.rows {
            out.put_u32(c.len() as u32);
            out.put_slice(c);
            out.put_slice(hash);
        }
    }
    Bytes::from(out)
}

pub fn decode_row_hashes(mut b: Bytes) -> Result<Vec<RowHashes>, String> {
    fn need(b: &Bytes, n: usize) -> Result<(), String> {
        if b.remaining() < n { Err("truncated row hashes".to_string()) } else { Ok(()) }
    }
    need(&b, 4)?;
    let n = b.get_u32() as usize;
    let mut out = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        need(&b, 12)?;
        let token = b.get_i64();
        let len = b.get_u32() as usize;
        need(&b, len + 16 + 4)?;
        let key = b.split_to(len);
        let mut header = [0u8; 16];
        b.copy_to_slice(&mut header);
        let rows_n = b.get_u32() as usize;
        let mut rows = Vec::with_capacity(rows_n.min(1 << 16));
        for _ in 0..rows_n {
            need(&b, 4)?;
            let len = b.get_u32() as usize;
            need(&b, len + 16)?;
            let c = b.split_to(len);
            let mut hash = [0u8; 16];
            b.copy_to_slice(&mut hash);
            rows.push((c, hash));
        }
        out.push(RowHashes { key: DecoratedKey { token, key }, header, rows });
    }
    Ok(out)
}

/// The parts of `p` that `s` names.
fn select(p: Partition, s: &Select) -> Result<Partition, String> {
    let rows: std::collections::BTreeSet<Vec<u8>> =
        s.rows.iter().map(|r| unhex(r)).collect::<Result<_, _>>()?;
    let mut out = if s.header { header_of(&p) } else { Partition::default() };
    for (c, row) in p.rows {
        if rows.contains(c.as_ref()) {
            out.rows.push_sorted(c, row);
        }
    }
    Ok(out)
}

/// A RepairStream message: the request, then the partitions.
pub fn encode_stream(req: &RepairRequest, partitions: Vec<(DecoratedKey, storage::Partition)>) -> Bytes {
    let json = req.encode();
    let data = crate::replica::RangeResponse { partitions, complete: true }.encode();
    let mut out = Vec::with_capacity(4 + json.len() + data.len());
    out.put_u32(json.len() as u32);
    out.put_slice(&json);
    out.put_slice(&data);
    Bytes::from(out)
}

/// Serves a repair verb against this node's storage.
pub async fn handle(engine: Arc<storage::Engine>, verb: Verb, mut payload: Bytes) -> Result<Bytes, String> {
    let mut streamed = None;
    if verb == Verb::RepairStream {
        if payload.remaining() < 4 {
            return Err("truncated repair stream".into());
        }
        let n = payload.get_u32() as usize;
        if payload.remaining() < n {
            return Err("truncated repair stream".into());
        }
        let json = payload.split_to(n);
        streamed = Some(crate::replica::RangeResponse::decode(payload)?.partitions);
        payload = json;
    }
    let req: RepairRequest =
        serde_json::from_slice(&payload).map_err(|e| format!("bad repair request: {e}"))?;
    let id = req.table_id()?;
    let done = || Bytes::from_static(b"{}");
    match verb {
        Verb::RepairAbort => super::local::end(&req.session, super::local::State::Aborted),
        Verb::RepairFinalize => {
            if super::local::state(&req.session) == Some(super::local::State::Aborted) {
                return Err(format!("repair session {} was aborted on this node", req.session));
            }
        }
        _ => super::local::touch(&req.session)?,
    }
    // A Prepare or Stream that was still running when the session was aborted here leaves
    // pending data behind: abort it again once it is done.
    let aborted_meanwhile = move |engine: &storage::Engine, session: &str| {
        if super::local::state(session) == Some(super::local::State::Aborted)
            && let Err(e) = engine.abort_repair(id, session)
        {
            tracing::warn!(%session, error = %e, "cannot abort the repair session");
        }
    };
    tokio::task::spawn_blocking(move || -> Result<Bytes, String> {
        let err = |e: storage::Error| e.to_string();
        match verb {
            Verb::RepairPrepare => {
                engine.anticompact(id, &req.ranges, &req.session).map_err(err)?;
                aborted_meanwhile(&engine, &req.session);
                Ok(done())
            }
            Verb::RepairValidate => {
                // Memtables hold unrepaired data that only a flush puts where the scope reads.
                if req.scope == Some(Scope::Unrepaired) {
                    engine.flush(id).map_err(err)?;
                }
                let tree = engine.validate(id, req.range()?, &req.scope(), req.depth).map_err(err)?;
                Ok(Bytes::from(tree.encode()))
            }
            Verb::RepairHashes => {
                let mut hashes = Vec::new();
                for r in &req.ranges {
                    hashes.extend(engine.partition_hashes(id, *r, &req.scope()).map_err(err)?);
                }
                Ok(encode_hashes(&hashes))
            }
            Verb::RepairRowHashes => {
                let partitions = engine.read_partitions(id, &req.decoded_keys()?).map_err(err)?;
                let hashes: Vec<RowHashes> = partitions.into_iter().map(|(k, p)| row_hashes(k, &p)).collect();
                Ok(encode_row_hashes(&hashes))
            }
            Verb::RepairFetch => {
                let keys = req.decoded_keys()?;
                let mut partitions = engine.read_partitions(id, &keys).map_err(err)?;
                if !req.select.is_empty() {
                    if req.select.len() != keys.len() {
                        return Err(format!("{} keys but {} selections", keys.len(), req.select.len()));
                    }
                    let wanted: std::collections::HashMap<&DecoratedKey, &Select> =
                        keys.iter().zip(&req.select).collect();
                    partitions = partitions
                        .into_iter()
                        .map(|(k, p)| {
                            let s = wanted.get(&k).copied().cloned().unwrap_or_default();
                            select(p, &s).map(|p| (k, p))
                        })
                        .collect::<Result<_, _>>()?;
                }
                Ok(crate::replica::RangeResponse { partitions, complete: true }.encode())
            }
            Verb::RepairFinalize => {
                engine.finalize_repair(id, &req.session, req.repaired_at).map_err(err)?;
                super::local::end(&req.session, super::local::State::Finalized);
                Ok(done())
            }
            Verb::RepairAbort => {
                engine.abort_repair(id, &req.session).map_err(err)?;
                Ok(done())
            }
            Verb::RepairStream => {
                let pending = (req.scope == Some(Scope::Pending)).then_some(req.session.as_str());
                engine.import(id, streamed.unwrap_or_default(), pending).map_err(err)?;
                aborted_meanwhile(&engine, &req.session);
                Ok(done())
            }
            other => Err(format!("{other:?} is not a repair verb")),
        }
    })
    .await
    .map_err(|e| format!("repair task failed: {e}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip_and_truncation_is_an_error() {
        let v = vec![
            (DecoratedKey { token: -5, key: Bytes::from_static(b"a") }, [1u8; 16], 10),
            (DecoratedKey { token: 7, key: Bytes::from_static(b"bcd") }, [2u8; 16], 99),
        ];
        let b = encode_hashes(&v);
        let back = decode_hashes(b.clone()).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].key.key, Bytes::from_static(b"bcd"));
        assert_eq!(back[1].size, 99);
        for cut in 0..b.len() {
            assert!(decode_hashes(b.slice(..cut)).is_err(), "cut at {cut}");
        }
        assert_eq!(unhex(&hex(b"\x00\xffz")).unwrap(), b"\x00\xffz");
    }
    #[test]
    fn row_hashes_round_trip_and_select_keeps_only_what_is_named() {
        use storage::{Cell, CellKey, Row};
        let mut p = Partition::default();
        for c in [b"a", b"b"] {
            let mut r = Row::default();
            r.cells.insert(CellKey::simple("v"), Cell::live(1, "x"));
            p.rows.insert(Bytes::from_static(c), r);
        }
        let key = DecoratedKey { token: 3, key: Bytes::from_static(b"k") };
        let h = row_hashes(key.clone(), &p);
        assert_eq!(h.header, EMPTY_HEADER);
        assert_eq!(h.rows.len(), 2);
        assert_ne!(h.rows[0].1, h.rows[1].1, "a row's clustering is part of its hash");
        let b = encode_row_hashes(std::slice::from_ref(&h));
        assert_eq!(decode_row_hashes(b.clone()).unwrap(), vec![h]);
        for cut in 0..b.len() {
            assert!(decode_row_hashes(b.slice(..cut)).is_err(), "cut at {cut}");
        }
        p.deletion = storage::DeletionTime::new(0, 1);
        assert_ne!(row_hashes(key, &p).header, EMPTY_HEADER);
        let only_b = select(p.clone(), &Select { header: false, rows: vec![hex(b"b")] }).unwrap();
        assert_eq!(only_b.rows.len(), 1);
        assert!(only_b.deletion.is_live());
        let header = select(p, &Select { header: true, rows: vec![] }).unwrap();
        assert!(header.rows.is_empty() && !header.deletion.is_live());
    }
}
