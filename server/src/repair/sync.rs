//! Row-level sync of the sub-ranges whose Merkle trees differ, as the session's coordinator
//! drives it:
//!
//! 1. every replica lists the partitions of the sub-ranges with a hash each (RepairHashes, over
//!    the session's scope); keys whose hashes are not all the same differ;
//! 2. for those keys replicas hash each row and the partition's header (its deletion, static
//!    row and range tombstones) over all their data (RepairRowHashes): in a full repair one
//!    replica per distinct partition hash, in an incremental one every replica;
//! 3. each part that differs is fetched once per distinct version (RepairFetch with a
//!    selection), the versions are reconciled, and each replica is queued exactly the rows and
//!    header it lacks or holds in an older version;
//! 4. queues are streamed (RepairStream) once [`STREAM_BATCH_BYTES`] gather for a replica, or
//!    at the end of a table, so that each stream becomes one SSTable on its receiver.

use super::messages::{
    EMPTY_HEADER, PartitionHash, RepairRequest, RowHashes, Scope, Select, decode_hashes, decode_row_hashes,
    header_of, hex,
};
use super::session::{STEP_TIMEOUT, Session};
use crate::locator::Endpoint;
use crate::net::Verb;
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap};
use storage::{DecoratedKey, Partition, Token};
use uuid::Uuid as HostId;

/// Streams are sent once this many bytes of partitions are queued for a replica.
const STREAM_BATCH_BYTES: u64 = 8 << 20;

/// Differing keys are reconciled this many at a time...
const KEY_BATCH: usize = 256;
/// ...or fewer, once their partitions add up to this many bytes (on the largest replica), so
/// that row hashes and fetched versions stay well inside a frame.
const KEY_BATCH_BYTES: u64 = 16 << 20;
/// Partition hashes are listed for at most about this many partitions at a time (by the trees'
/// counts), about 4 MiB of hashes per replica.
const HASH_BATCH_PARTITIONS: u64 = 100_000;

/// The mismatched sub-ranges `differing` of the trees' range, grouped so that each group holds
/// at most [`HASH_BATCH_PARTITIONS`] partitions by the trees' counts: ranges too large alone are
/// cut at leaf boundaries (a single leaf is never cut).
pub(super) fn hash_batches(
    trees: &[storage::MerkleTree],
    differing: &[(Token, Token)],
) -> Vec<Vec<(Token, Token)>> {
    let estimate = |r: (Token, Token)| trees.iter().map(|t| t.estimate(&[r]).0).max().unwrap_or(0);
    let mut pieces: Vec<((Token, Token), u64)> = Vec::new();
    for &r in differing {
        let n = estimate(r);
        match trees.first() {
            Some(t) if n > HASH_BATCH_PARTITIONS && r.0 < r.1 => {
                let (Some(first), Some(last)) = (t.leaf_of(r.0.saturating_add(1)), t.leaf_of(r.1)) else {
                    pieces.push((r, n));
                    continue;
                };
                for i in first..=last {
                    let (a, b) = t.leaf_range(i);
                    let piece = (a.max(r.0), b.min(r.1));
                    if piece.0 < piece.1 {
                        pieces.push((piece, estimate(piece)));
                    }
                }
            }
            _ => pieces.push((r, n)),
        }
    }
    let mut out: Vec<Vec<(Token, Token)>> = Vec::new();
    let mut size = 0u64;
    for (r, n) in pieces {
        match out.last_mut() {
            Some(batch) if size.saturating_add(n) <= HASH_BATCH_PARTITIONS => {
                batch.push(r);
                size = size.saturating_add(n);
            }
            _ => {
                out.push(vec![r]);
                size = n;
            }
        }
    }
    out
}

/// Reconciled partitions waiting to be streamed to one replica, and their encoded size.
type Queue = (Endpoint, Vec<(DecoratedKey, Partition)>, u64);

/// Reconciled partitions waiting to be streamed, per replica.
#[derive(Default)]
pub(super) struct Outbox {
    queues: BTreeMap<HostId, Queue>,
}

/// One distinct version of a part (header or row) per hash: the replica to fetch it from.
fn representatives(hashes: &[Option<[u8; 16]>]) -> Vec<Option<usize>> {
    hashes.iter().map(|h| h.and_then(|h| hashes.iter().position(|x| *x == Some(h)))).collect()
}

impl Session {
    /// Syncs the mismatched sub-ranges `ranges` of one range among `replicas`.
    pub(super) async fn sync(
        &self,
        ranges: Vec<(Token, Token)>,
        replicas: &[Endpoint],
        scope: Scope,
        base: &RepairRequest,
        outbox: &mut Outbox,
    ) -> Result<(), String> {
        let req = RepairRequest { ranges, scope: Some(scope), ..base.clone() };
        let lists = self.ask_all(replicas, Verb::RepairHashes, &req).await?;
        self.progress.lock().bytes_fetched += lists.iter().map(|b| b.len() as u64).sum::<u64>();
        let lists: Vec<Vec<PartitionHash>> =
            lists.into_iter().map(decode_hashes).collect::<Result<_, _>>()?;
        let mut keys: BTreeMap<DecoratedKey, Vec<Option<[u8; 16]>>> = BTreeMap::new();
        let mut sizes: HashMap<DecoratedKey, u64> = HashMap::new();
        for (i, list) in lists.iter().enumerate() {
            for h in list {
                keys.entry(h.key.clone()).or_insert_with(|| vec![None; replicas.len()])[i] = Some(h.hash);
                let size = sizes.entry(h.key.clone()).or_default();
                *size = (*size).max(h.size);
            }
        }
        // Over all data (full repair) equal partition hashes mean equal partitions, so one
        // replica per distinct hash is asked for row hashes; pending-only hashes say nothing of
        // the rest, so then every replica is.
        let differing: Vec<(DecoratedKey, Vec<Option<usize>>)> = keys
            .into_iter()
            .filter(|(_, hs)| hs.iter().any(|h| *h != hs[0]))
            .map(|(k, hs)| {
                let src = match scope {
                    Scope::Full => representatives(&hs),
                    Scope::Pending | Scope::Unrepaired => (0..hs.len()).map(Some).collect(),
                };
                (k, src)
            })
            .collect();
        let mut rest = differing.as_slice();
        while !rest.is_empty() {
            let mut bytes = 0u64;
            let n = rest
                .iter()
                .take(KEY_BATCH)
                .take_while(|(k, _)| {
                    let fits = bytes == 0 || bytes < KEY_BATCH_BYTES;
                    bytes = bytes.saturating_add(sizes.get(k).copied().unwrap_or(0));
                    fits
                })
                .count()
                .max(1);
            let (batch, after) = rest.split_at(n.min(rest.len()));
            self.sync_keys(batch, replicas, scope, base, outbox).await?;
            rest = after;
        }
        Ok(())
    }

    /// Reconciles `keys` row by row and queues what each replica lacks. With each key comes,
    /// per replica, the replica whose row hashes stand for its own (None: it lacks the key).
    async fn sync_keys(
        &self,
        batch: &[(DecoratedKey, Vec<Option<usize>>)],
        replicas: &[Endpoint],
        scope: Scope,
        base: &RepairRequest,
        outbox: &mut Outbox,
    ) -> Result<(), String> {
        let keys: Vec<DecoratedKey> = batch.iter().map(|(k, _)| k.clone()).collect();
        let keys = keys.as_slice();
        let hex_keys: Vec<(Token, String)> = keys.iter().map(|k| (k.token, hex(&k.key))).collect();
        let asks = replicas.iter().enumerate().map(|(i, e)| {
            let asked: Vec<(Token, String)> = batch
                .iter()
                .zip(&hex_keys)
                .filter(|((_, src), _)| src[i] == Some(i))
                .map(|(_, k)| k.clone())
                .collect();
            async move {
                if asked.is_empty() {
                    return Ok(HashMap::new());
                }
                let req = RepairRequest { keys: asked, ..base.clone() };
                let b = self.ask(e, Verb::RepairRowHashes, &req).await?;
                self.progress.lock().bytes_fetched += b.len() as u64;
                Ok::<_, String>(decode_row_hashes(b)?.into_iter().map(|h| (h.key.clone(), h)).collect())
            }
        });
        let held: Vec<HashMap<DecoratedKey, RowHashes>> =
            futures::future::join_all(asks).await.into_iter().collect::<Result<_, _>>()?;

        // Per key: each replica's header hash and, per differing row, each replica's row hash,
        // with the replica standing for each distinct version.
        struct Plan {
            headers: Vec<Option<[u8; 16]>>,
            header_reps: Vec<Option<usize>>,
            rows: BTreeMap<Bytes, Vec<Option<usize>>>,
        }
        let mut plans = Vec::with_capacity(keys.len());
        let mut wants: Vec<Vec<Select>> = vec![vec![Select::default(); keys.len()]; replicas.len()];
        for (ki, (key, src)) in batch.iter().enumerate() {
            let of = |i: usize| src[i].and_then(|j| held[j].get(key));
            let headers: Vec<Option<[u8; 16]>> = (0..replicas.len())
                .map(|i| Some(of(i).map_or(EMPTY_HEADER, |h| h.header)).filter(|h| *h != EMPTY_HEADER))
                .collect();
            let header_reps = if headers.iter().all(|h| *h == headers[0]) {
                vec![None; headers.len()]
            } else {
                representatives(&headers)
            };
            for (i, rep) in header_reps.iter().enumerate() {
                if *rep == Some(i) {
                    wants[i][ki].header = true;
                }
            }
            let mut by_row: BTreeMap<&Bytes, Vec<Option<[u8; 16]>>> = BTreeMap::new();
            for i in 0..replicas.len() {
                for (c, h) in of(i).map(|h| h.rows.as_slice()).unwrap_or_default() {
                    by_row.entry(c).or_insert_with(|| vec![None; replicas.len()])[i] = Some(*h);
                }
            }
            let mut rows = BTreeMap::new();
            for (c, hashes) in by_row {
                if hashes.iter().all(|h| *h == hashes[0]) {
                    continue;
                }
                let reps = representatives(&hashes);
                for (i, rep) in reps.iter().enumerate() {
                    if *rep == Some(i) {
                        wants[i][ki].rows.push(hex(c));
                    }
                }
                rows.insert(c.clone(), reps);
            }
            plans.push(Plan { headers, header_reps, rows });
        }

        // Fetch each distinct version of each differing part once.
        let index: HashMap<&DecoratedKey, usize> = keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
        let mut got: HashMap<(usize, usize), Partition> = HashMap::new();
        for (i, e) in replicas.iter().enumerate() {
            let (fetch_keys, select): (Vec<(Token, String)>, Vec<Select>) = hex_keys
                .iter()
                .zip(&wants[i])
                .filter(|(_, s)| s.header || !s.rows.is_empty())
                .map(|(k, s)| (k.clone(), s.clone()))
                .unzip();
            if fetch_keys.is_empty() {
                continue;
            }
            let fetch = RepairRequest { keys: fetch_keys, select, ..base.clone() };
            let b = self.ask(e, Verb::RepairFetch, &fetch).await?;
            self.progress.lock().bytes_fetched += b.len() as u64;
            for (k, p) in crate::replica::RangeResponse::decode(b)?.partitions {
                if let Some(ki) = index.get(&k) {
                    got.insert((*ki, i), p);
                }
            }
        }

        // Reconcile, and queue for each replica what it lacks of the result.
        let empty = Partition::default();
        for (ki, (key, plan)) in keys.iter().zip(&plans).enumerate() {
            let mut merged = Partition::default();
            for i in 0..replicas.len() {
                if let Some(p) = got.get(&(ki, i)) {
                    merged.merge(p.clone());
                }
            }
            merged.purge_shadowed();
            if merged.is_empty() {
                continue;
            }
            for (i, e) in replicas.iter().enumerate() {
                // This replica's version of the differing parts, from the replicas standing for it.
                let mut theirs = match (plan.headers[i], plan.header_reps[i]) {
                    (Some(_), Some(rep)) => header_of(got.get(&(ki, rep)).unwrap_or(&empty)),
                    _ => Partition::default(),
                };
                for (c, reps) in &plan.rows {
                    if let Some(row) = reps[i].and_then(|rep| got.get(&(ki, rep))).and_then(|p| p.rows.get(c))
                    {
                        theirs.rows.insert(c.clone(), row.clone());
                    }
                }
                let lacking = merged.missing_from(&theirs);
                if lacking.is_empty() {
                    continue;
                }
                let mut encoded = Vec::new();
                storage::partition_codec::encode_partition(&mut encoded, &lacking);
                let size = encoded.len() as u64;
                {
                    let mut p = self.progress.lock();
                    p.bytes_differing += size;
                    p.partitions_streamed += 1;
                }
                let q = outbox.queues.entry(e.host_id).or_insert_with(|| (e.clone(), Vec::new(), 0));
                q.1.push((key.clone(), lacking));
                q.2 += size;
                if q.2 >= STREAM_BATCH_BYTES {
                    self.flush_to(outbox, e.host_id, scope, base).await?;
                }
            }
        }
        Ok(())
    }

    /// Streams what is queued for replica `host`.
    async fn flush_to(
        &self,
        outbox: &mut Outbox,
        host: HostId,
        scope: Scope,
        base: &RepairRequest,
    ) -> Result<(), String> {
        let Some((e, parts, _)) = outbox.queues.remove(&host) else { return Ok(()) };
        if parts.is_empty() {
            return Ok(());
        }
        let stream = RepairRequest { scope: Some(scope), ..base.clone() };
        let payload = super::messages::encode_stream(&stream, parts);
        let sent = payload.len() as u64;
        self.stream(&e, payload).await?;
        self.progress.lock().bytes_streamed += sent;
        self.metrics.repair_bytes_streamed.inc_by(sent);
        Ok(())
    }

    /// Streams everything still queued.
    pub(super) async fn flush_all(
        &self,
        outbox: &mut Outbox,
        scope: Scope,
        base: &RepairRequest,
    ) -> Result<(), String> {
        let hosts: Vec<HostId> = outbox.queues.keys().copied().collect();
        for h in hosts {
            self.flush_to(outbox, h, scope, base).await?;
        }
        Ok(())
    }

    /// Sends a RepairStream message to replica `e` (or serves it here).
    async fn stream(&self, e: &Endpoint, payload: Bytes) -> Result<(), String> {
        let t = self.cluster.topology();
        if e.host_id == t.local.host_id {
            return super::messages::handle(self.engine.clone(), Verb::RepairStream, payload)
                .await
                .map(|_| ());
        }
        let addr = t.address(e.host_id).ok_or_else(|| format!("no address for replica {}", e.address))?;
        self.cluster
            .messaging
            .request(addr, Verb::RepairStream, payload, STEP_TIMEOUT)
            .await
            .map(|_| ())
            .map_err(|err| format!("replica {} failed a repair stream: {err}", e.address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_mismatched_ranges_are_listed_in_batches_of_leaves() {
        let mut t = storage::MerkleTree::new((0, 1 << 20), 4).unwrap();
        // 300,000 partitions spread over the 16 leaves.
        for i in 0..300_000i64 {
            t.add(1 + (i * 3) % (1 << 20), [1; 16]);
        }
        let batches = hash_batches(std::slice::from_ref(&t), &[(0, 1 << 20)]);
        assert!(batches.len() >= 3, "{batches:?}");
        for b in &batches {
            assert!(t.estimate(b).0 <= HASH_BATCH_PARTITIONS, "{b:?}");
        }
        // Together they cover the range exactly once.
        let mut all: Vec<(i64, i64)> = batches.concat();
        all.sort_unstable();
        assert_eq!(all.first().map(|r| r.0), Some(0));
        assert_eq!(all.last().map(|r| r.1), Some(1 << 20));
        assert!(all.windows(2).all(|w| w[0].1 == w[1].0), "{all:?}");
        // Small differences stay one batch.
        assert_eq!(hash_batches(std::slice::from_ref(&t), &[(0, 10), (20, 30)]), [vec![(0, 10), (20, 30)]]);
    }

    #[test]
    fn one_replica_stands_for_each_distinct_version() {
        let (a, b) = (Some([1u8; 16]), Some([2u8; 16]));
        assert_eq!(representatives(&[a, None, a, b]), [Some(0), None, Some(0), Some(3)]);
    }
}
