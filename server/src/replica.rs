//! The verbs a node serves to its peers (the replica side of the coordinator's requests).
//!
//! | verb | request | answer |
//! |---|---|---|
//! | Echo | any bytes | the same bytes |
//! | Mutation, Hint | flags `u8` (bit 0: durable) + a `storage::Mutation` | empty, once applied |
//! | Read | [`ReadRequest`] | `u8` 0 absent / 1 present, then the partition (or its 16-byte digest) |
//! | RangeRead | [`RangeRequest`] | [`RangeResponse`] |
//! | Truncate | table id (16 bytes) | empty, once the table is empty here |
//! | SchemaPull | empty | this node's schema (JSON) |
//! | SchemaPush | a schema (JSON) | empty, once merged into this node's |
//!
//! Work that touches the disk runs on the blocking pool.

use crate::net::{Handler, Reply, Verb};
use bytes::{Buf, BufMut, Bytes};
use std::ops::Bound;
use std::sync::Arc;
use storage::{ClusteringRange, DecoratedKey, KeyRange, Partition, TableId};
use uuid::Uuid;

/// A read of one partition's slices.
///
/// | bytes | field |
/// |---|---|
/// | 16 | table id |
/// | 8 + 4 + n | token, key length, key |
/// | 1 | 1: answer with a digest |
/// | 4 | slice count, `u32::MAX` for the whole partition |
/// | per slice | start (`u32` length + bytes), end present `u8`, end (`u32` length + bytes) |
#[derive(Debug, Clone, PartialEq)]
pub struct ReadRequest {
    pub table: TableId,
    pub key: DecoratedKey,
    pub digest: bool,
    pub slices: Option<Vec<ClusteringRange>>,
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.put_u32(b.len() as u32);
    out.put_slice(b);
}

fn get_bytes(b: &mut Bytes) -> Result<Bytes, String> {
    if b.remaining() < 4 {
        return Err("truncated message".into());
    }
    let n = b.get_u32() as usize;
    if b.remaining() < n {
        return Err("truncated message".into());
    }
    Ok(b.split_to(n))
}

fn get_u8(b: &mut Bytes) -> Result<u8, String> {
    if b.remaining() < 1 {
        return Err("truncated message".into());
    }
    Ok(b.get_u8())
}

fn get_key(b: &mut Bytes) -> Result<DecoratedKey, String> {
    if b.remaining() < 8 {
        return Err("truncated message".into());
    }
    let token = b.get_i64();
    Ok(DecoratedKey { token, key: get_bytes(b)? })
}

fn put_key(out: &mut Vec<u8>, k: &DecoratedKey) {
    out.put_i64(k.token);
    put_bytes(out, &k.key);
}

fn get_table(b: &mut Bytes) -> Result<TableId, String> {
    if b.remaining() < 16 {
        return Err("truncated message".into());
    }
    let mut id = [0u8; 16];
    b.copy_to_slice(&mut id);
    Ok(TableId(id))
}

impl ReadRequest {
    pub fn encode(&self) -> Bytes {
        let mut out = Vec::with_capacity(64 + self.key.key.len());
        out.put_slice(&self.table.0);
        put_key(&mut out, &self.key);
        out.put_u8(u8::from(self.digest));
        match &self.slices {
            None => out.put_u32(u32::MAX),
            Some(sl) => {
                out.put_u32(sl.len() as u32);
                for r in sl {
                    put_bytes(&mut out, &r.start);
                    match &r.end {
                        None => out.put_u8(0),
                        Some(e) => {
                            out.put_u8(1);
                            put_bytes(&mut out, e);
                        }
                    }
                }
            }
        }
        Bytes::from(out)
    }

    pub fn decode(mut b: Bytes) -> Result<ReadRequest, String> {
        let table = get_table(&mut b)?;
        let key = get_key(&mut b)?;
        let digest = get_u8(&mut b)? != 0;
        if b.remaining() < 4 {
            return Err("truncated message".into());
        }
        let n = b.get_u32();
        let slices = if n == u32::MAX {
            None
        } else {
            let mut v = Vec::with_capacity((n as usize).min(1024));
            for _ in 0..n {
                let start = get_bytes(&mut b)?;
                let end = if get_u8(&mut b)? != 0 { Some(get_bytes(&mut b)?) } else { None };
                v.push(ClusteringRange { start, end });
            }
            Some(v)
        };
        Ok(ReadRequest { table, key, digest, slices })
    }
}

/// The digest of a partition as a replica holds it: equal partitions, equal digests.
pub fn digest(p: &Partition) -> [u8; 16] {
    let mut buf = Vec::new();
    storage::partition_codec::encode_partition(&mut buf, p);
    *Uuid::new_v5(&Uuid::NAMESPACE_OID, &buf).as_bytes()
}

/// The answer to a data read: the partition, if the replica has any of it.
pub fn encode_data(p: Option<&Partition>) -> Bytes {
    let mut out = Vec::new();
    match p {
        None => out.put_u8(0),
        Some(p) => {
            out.put_u8(1);
            storage::partition_codec::encode_partition(&mut out, p);
        }
    }
    Bytes::from(out)
}

pub fn decode_data(b: &Bytes) -> Result<Option<Partition>, String> {
    match b.first() {
        Some(0) => Ok(None),
        Some(1) => {
            let body = b.slice(1..);
            let mut r = storage::codec::Reader::new(&body);
            storage::partition_codec::decode_partition(&mut r, &body)
                .map(Some)
                .map_err(|e| format!("bad partition: {e}"))
        }
        _ => Err("bad read answer".into()),
    }
}

/// A read of a token range's partitions, at most `limit` of them.
///
/// | bytes | field |
/// |---|---|
/// | 16 | table id |
/// | 1 + key | start bound: 0 unbounded, 1 included, 2 excluded; then the key as in [`ReadRequest`] |
/// | 1 + key | end bound, likewise |
/// | 4 | limit |
#[derive(Debug, Clone, PartialEq)]
pub struct RangeRequest {
    pub table: TableId,
    pub range: KeyRange,
    pub limit: u32,
}

fn put_bound(out: &mut Vec<u8>, b: &Bound<DecoratedKey>) {
    match b {
        Bound::Unbounded => out.put_u8(0),
        Bound::Included(k) => {
            out.put_u8(1);
            put_key(out, k);
        }
        Bound::Excluded(k) => {
            out.put_u8(2);
            put_key(out, k);
        }
    }
}

fn get_bound(b: &mut Bytes) -> Result<Bound<DecoratedKey>, String> {
    Ok(match get_u8(b)? {
        0 => Bound::Unbounded,
        1 => Bound::Included(get_key(b)?),
        2 => Bound::Excluded(get_key(b)?),
        t => return Err(format!("bad range bound {t}")),
    })
}

impl RangeRequest {
    pub fn encode(&self) -> Bytes {
        let mut out = Vec::with_capacity(64);
        out.put_slice(&self.table.0);
        put_bound(&mut out, &self.range.start);
        put_bound(&mut out, &self.range.end);
        out.put_u32(self.limit);
        Bytes::from(out)
    }

    pub fn decode(mut b: Bytes) -> Result<RangeRequest, String> {
        let table = get_table(&mut b)?;
        let start = get_bound(&mut b)?;
        let end = get_bound(&mut b)?;
        if b.remaining() < 4 {
            return Err("truncated message".into());
        }
        Ok(RangeRequest { table, range: KeyRange { start, end }, limit: b.get_u32() })
    }
}

/// A replica's partitions of a range, in ring order; `complete` when it sent the whole
/// range (it stopped for the limit otherwise).
#[derive(Debug, Clone, Default)]
pub struct RangeResponse {
    pub partitions: Vec<(DecoratedKey, Partition)>,
    pub complete: bool,
}

impl RangeResponse {
    pub fn encode(&self) -> Bytes {
        let mut out = Vec::new();
        out.put_u8(u8::from(self.complete));
        out.put_u32(self.partitions.len() as u32);
        for (k, p) in &self.partitions {
            put_key(&mut out, k);
            let mut enc = Vec::new();
            storage::partition_codec::encode_partition(&mut enc, p);
            put_bytes(&mut out, &enc);
        }
        Bytes::from(out)
    }

    pub fn decode(mut b: Bytes) -> Result<RangeResponse, String> {
        let complete = get_u8(&mut b)? != 0;
        if b.remaining() < 4 {
            return Err("truncated message".into());
        }
        let n = b.get_u32();
        let mut partitions = Vec::with_capacity((n as usize).min(4096));
        for _ in 0..n {
            let k = get_key(&mut b)?;
            let body = get_bytes(&mut b)?;
            let mut r = storage::codec::Reader::new(&body);
            let p = storage::partition_codec::decode_partition(&mut r, &body)
                .map_err(|e| format!("bad partition: {e}"))?;
            partitions.push((k, p));
        }
        Ok(RangeResponse { partitions, complete })
    }
}

/// Reads `req` from this node's storage.
pub fn read_local(engine: &storage::Engine, req: &ReadRequest) -> Result<Option<Partition>, String> {
    engine.read(req.table, &req.key, req.slices.as_deref()).map_err(|e| e.to_string())
}

/// Reads up to `req.limit` partitions of `req.range` from this node's storage.
pub fn range_local(engine: &storage::Engine, req: &RangeRequest) -> Result<RangeResponse, String> {
    let mut out = RangeResponse { partitions: Vec::new(), complete: true };
    for item in engine.scan(req.table, &req.range).map_err(|e| e.to_string())? {
        if out.partitions.len() >= req.limit as usize {
            out.complete = false;
            break;
        }
        let (k, p) = item.map_err(|e| e.to_string())?;
        out.partitions.push((k, p));
    }
    Ok(out)
}

/// Encodes a Mutation (or Hint) request.
pub fn encode_mutation(m: &storage::Mutation, durable: bool) -> Bytes {
    let mut out = Vec::with_capacity(64);
    out.put_u8(u8::from(durable));
    m.encode_into(&mut out);
    Bytes::from(out)
}

/// Decodes a Mutation (or Hint) request.
pub fn decode_mutation(payload: &Bytes) -> Result<(storage::Mutation, bool), String> {
    let Some(flags) = payload.first() else { return Err("empty mutation message".into()) };
    let m = storage::Mutation::decode(&payload.slice(1..)).map_err(|e| format!("bad mutation: {e}"))?;
    Ok((m, flags & 1 != 0))
}

/// Serves peers' requests against this node's storage engine and schema.
pub struct Replica {
    pub engine: Arc<storage::Engine>,
    pub processor: Arc<crate::query::QueryProcessor>,
}

impl Handler for Replica {
    fn handle(&self, _from: Uuid, verb: Verb, payload: Bytes) -> Reply {
        let engine = self.engine.clone();
        let processor = self.processor.clone();
        Box::pin(async move {
            match verb {
                Verb::Echo => Ok(payload),
                Verb::Mutation | Verb::Hint => {
                    let (m, durable) = decode_mutation(&payload)?;
                    tokio::task::spawn_blocking(move || engine.apply(m, durable))
                        .await
                        .map_err(|e| format!("write task failed: {e}"))?
                        .map_err(|e| e.to_string())?;
                    Ok(Bytes::new())
                }
                Verb::Read => {
                    let req = ReadRequest::decode(payload)?;
                    tokio::task::spawn_blocking(move || {
                        let p = read_local(&engine, &req)?;
                        Ok(if req.digest {
                            let mut out = vec![u8::from(p.is_some())];
                            out.extend_from_slice(&digest(&p.unwrap_or_default()));
                            Bytes::from(out)
                        } else {
                            encode_data(p.as_ref())
                        })
                    })
                    .await
                    .map_err(|e| format!("read task failed: {e}"))?
                }
                Verb::RangeRead => {
                    let req = RangeRequest::decode(payload)?;
                    tokio::task::spawn_blocking(move || range_local(&engine, &req).map(|r| r.encode()))
                        .await
                        .map_err(|e| format!("read task failed: {e}"))?
                }
                Verb::Truncate => {
                    let mut b = payload;
                    let id = get_table(&mut b)?;
                    tokio::task::spawn_blocking(move || engine.truncate(id))
                        .await
                        .map_err(|e| format!("truncate task failed: {e}"))?
                        .map_err(|e| e.to_string())?;
                    Ok(Bytes::new())
                }
                Verb::RepairPrepare
                | Verb::RepairValidate
                | Verb::RepairHashes
                | Verb::RepairFetch
                | Verb::RepairRowHashes
                | Verb::RepairFinalize
                | Verb::RepairAbort
                | Verb::RepairStream => crate::repair::messages::handle(engine, verb, payload).await,
                Verb::SchemaPull => processor.schema_json().map_err(|e| e.to_string()),
                Verb::SchemaPush => {
                    let remote: crate::schema::Schema =
                        serde_json::from_slice(&payload).map_err(|e| format!("bad schema: {e}"))?;
                    processor.merge_schema(&remote).await.map_err(|e| e.to_string())?;
                    Ok(Bytes::new())
                }
            }
        })
    }
}
