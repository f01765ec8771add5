//! Repair's replica verbs. Requests are JSON ([`RepairRequest`]); answers are raw bytes where
//! they carry data (a Merkle tree, partition hashes, partitions).
//!
//! | verb | does | answers |
//! |---|---|---|
//! | RepairPrepare | marks unrepaired data in `ranges` pending for `session` | `{}` |
//! | RepairValidate | builds the Merkle tree of `ranges[0]` over `scope` | the encoded tree |
//! | RepairHashes | lists partitions of every range in `ranges` within `scope` | `u32` count, then per partition: token `i64`, key (`u32` length + bytes), hash (16 bytes), size `u64` |
//! | RepairFetch | reads `keys` whole | as RangeRead answers ([`crate::replica::RangeResponse`]) |
//! | RepairFinalize / RepairAbort | pending data of `session` becomes repaired / unrepaired | `{}` |
//! | RepairStream | `u32` length + the JSON request, then partitions as in RangeRead answers: written to an SSTable, pending for `session` when `scope` is pending | `{}` |

use crate::net::Verb;
use bytes::{Buf, BufMut, Bytes};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use storage::repair::RepairScope;
use storage::{DecoratedKey, TableId, Token};

/// Which data a validation covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Everything (full repair).
    Full,
    /// What is pending for the session (incremental repair).
    Pending,
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
            _ => RepairScope::Full,
        }
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
    tokio::task::spawn_blocking(move || -> Result<Bytes, String> {
        let err = |e: storage::Error| e.to_string();
        match verb {
            Verb::RepairPrepare => {
                engine.anticompact(id, &req.ranges, &req.session).map_err(err)?;
                Ok(done())
            }
            Verb::RepairValidate => {
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
            Verb::RepairFetch => {
                let keys = req
                    .keys
                    .iter()
                    .map(|(t, k)| unhex(k).map(|k| DecoratedKey { token: *t, key: Bytes::from(k) }))
                    .collect::<Result<Vec<_>, _>>()?;
                let partitions = engine.read_partitions(id, &keys).map_err(err)?;
                Ok(crate::replica::RangeResponse { partitions, complete: true }.encode())
            }
            Verb::RepairFinalize => {
                engine.finalize_repair(id, &req.session, req.repaired_at).map_err(err)?;
                Ok(done())
            }
            Verb::RepairAbort => {
                engine.abort_repair(id, &req.session).map_err(err)?;
                Ok(done())
            }
            Verb::RepairStream => {
                let pending = (req.scope == Some(Scope::Pending)).then_some(req.session.as_str());
                engine.import(id, streamed.unwrap_or_default(), pending).map_err(err)?;
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
}
