//! The read path.
//!
//! One partition ([`Coordinator::read_partition`]): the live replicas are ordered by
//! proximity (this node, its datacenter, the others); the first is asked for the data and as
//! many others as the level needs for digests. A replica slower than the table's
//! `speculative_retry` threshold is backed up by a data read to the next live replica. When
//! a digest differs from the data, every contacted replica is asked for its data, the
//! versions are reconciled cell by cell (last write wins), and the stale replicas are sent
//! the reconciled partition before the client is answered (blocking read repair).
//!
//! A token range ([`Coordinator::read_range`]): the ring's ranges inside it, in order; for
//! each, the level's replicas are asked for a page of partitions, merged by key, and what
//! every replica has fully answered is handed on.

use super::Coordinator;
use super::consistency::{BlockFor, assure_live, block_for};
use crate::error::{QueryError, QueryResult};
use crate::locator::Endpoint;
use crate::net::Verb;
use crate::replica::{RangeRequest, RangeResponse, ReadRequest, decode_data, digest, read_local};
use crate::schema::Replication;
use cql::Consistency;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::time::Duration;
use storage::{DecoratedKey, KeyRange, Mutation, Partition};
use tokio::sync::mpsc;

/// What a replica answered.
enum Answer {
    Data(Option<Partition>),
    /// Presence and digest.
    Digest(bool, [u8; 16]),
}

fn fingerprint(p: &Option<Partition>) -> (bool, [u8; 16]) {
    (p.is_some(), digest(&p.clone().unwrap_or_default()))
}

/// Orders `live` by proximity to this node: itself, its datacenter, then the rest (each in
/// ring order).
fn by_proximity<'a>(live: Vec<&'a Endpoint>, local: &Endpoint) -> Vec<&'a Endpoint> {
    let mut v = live;
    v.sort_by_key(|e| {
        if e.host_id == local.host_id {
            0
        } else if e.dc == local.dc {
            1
        } else {
            2
        }
    });
    v
}

/// The replicas to contact for `need`, nearest first.
fn contacts<'a>(need: &BlockFor, ordered: &[&'a Endpoint], local_dc: &str) -> Vec<&'a Endpoint> {
    match need {
        BlockFor::Any(n) => ordered.iter().take(*n).copied().collect(),
        BlockFor::Local(n) => ordered.iter().filter(|e| e.dc == local_dc).take(*n).copied().collect(),
        BlockFor::EachDc(m) => {
            let mut out: Vec<&Endpoint> = Vec::new();
            for (dc, n) in m {
                out.extend(ordered.iter().filter(|e| &e.dc == dc).take(*n).copied());
            }
            // The data read goes to the nearest.
            out.sort_by_key(|e| ordered.iter().position(|x| x.host_id == e.host_id));
            out
        }
    }
}

impl Coordinator {
    /// Sends `req` to `target` (or reads this node's storage).
    async fn ask(&self, target: &Endpoint, req: ReadRequest, timeout: Duration) -> Result<Answer, String> {
        if target.host_id == self.cluster.local.host_id {
            let engine = self.engine.clone();
            let p = tokio::task::spawn_blocking(move || {
                let p = read_local(&engine, &req)?;
                Ok::<_, String>(if req.digest {
                    let (present, d) = fingerprint(&p);
                    Answer::Digest(present, d)
                } else {
                    Answer::Data(p)
                })
            })
            .await
            .map_err(|e| format!("read task failed: {e}"))??;
            return Ok(p);
        }
        let addr = self.cluster.topology().address(target.host_id).ok_or("no address")?;
        let is_digest = req.digest;
        let b = self
            .cluster
            .messaging
            .request(addr, Verb::Read, req.encode(), timeout)
            .await
            .map_err(|e| e.to_string())?;
        if is_digest {
            if b.len() != 17 {
                return Err("bad digest answer".into());
            }
            let mut d = [0u8; 16];
            d.copy_from_slice(&b[1..]);
            Ok(Answer::Digest(b[0] != 0, d))
        } else {
            decode_data(&b).map(Answer::Data)
        }
    }

    /// Reads one partition's slices at `cl`. `speculate_after` is when a slow replica is backed
    /// up by another.
    pub async fn read_partition(
        &self,
        replication: &Replication,
        req: ReadRequest,
        cl: Consistency,
        speculate_after: Option<Duration>,
    ) -> QueryResult<Option<Partition>> {
        let topology = self.cluster.topology();
        let local = topology.local.clone();
        let need = block_for(replication, &local.dc, cl, false)?;
        let replicas = topology.replicas(replication, req.key.token);
        let live: Vec<&Endpoint> = replicas.into_iter().filter(|e| topology.is_up(e.host_id)).collect();
        assure_live(cl, &need, &local.dc, &live)?;
        let ordered = by_proximity(live, &local);
        let chosen: Vec<Endpoint> = contacts(&need, &ordered, &local.dc).into_iter().cloned().collect();
        let spare: Vec<Endpoint> = ordered
            .iter()
            .filter(|e| !chosen.iter().any(|c| c.host_id == e.host_id))
            .map(|e| (*e).clone())
            .collect();
        let timeout = self.config.read_timeout;
        let deadline = tokio::time::Instant::now() + timeout;

        // This node alone: no digests, no network.
        if chosen.len() == 1 && chosen[0].host_id == local.host_id && need.met(&local.dc, &[&local]) {
            return match self.ask(&local, ReadRequest { digest: false, ..req }, timeout).await {
                Ok(Answer::Data(p)) => Ok(p),
                Ok(Answer::Digest(..)) => Err(QueryError::Server("digest where data was asked".into())),
                Err(e) => Err(QueryError::Server(e)),
            };
        }

        let (tx, mut rx) = mpsc::channel::<(Endpoint, Result<Answer, String>)>(chosen.len() + spare.len());
        let send = |target: Endpoint, digest: bool| {
            let tx = tx.clone();
            let req = ReadRequest { digest, ..req.clone() };
            let this = self.clone_for_task();
            tokio::spawn(async move {
                let r = this.ask(&target, req, timeout).await;
                let _ = tx.send((target, r)).await;
            });
        };
        for (i, e) in chosen.iter().enumerate() {
            send(e.clone(), i > 0);
        }
        let mut spare = spare.into_iter();
        let mut data: Option<(Endpoint, Option<Partition>)> = None;
        let mut digests: Vec<(Endpoint, (bool, [u8; 16]))> = Vec::new();
        let mut answered: Vec<Endpoint> = Vec::new();
        let mut speculated = false;
        let spec_at = speculate_after.map(|d| tokio::time::Instant::now() + d);
        loop {
            let enough = data.is_some() && {
                let refs: Vec<&Endpoint> = answered.iter().collect();
                need.met(&local.dc, &refs)
            };
            if enough {
                break;
            }
            let wake = match spec_at {
                Some(t) if !speculated && t < deadline => t,
                _ => deadline,
            };
            match tokio::time::timeout_at(wake, rx.recv()).await {
                Ok(Some((e, Ok(Answer::Data(p))))) => {
                    answered.push(e.clone());
                    match &data {
                        None => data = Some((e, p)),
                        // A speculative data read: keep it as a digest.
                        Some(_) => digests.push((e, fingerprint(&p))),
                    }
                }
                Ok(Some((e, Ok(Answer::Digest(present, d))))) => {
                    answered.push(e.clone());
                    digests.push((e, (present, d)));
                }
                Ok(Some((e, Err(why)))) => {
                    tracing::debug!(replica = %e.host_id, %why, "read not answered");
                    // Another replica may stand in.
                    if let Some(next) = spare.next() {
                        send(next, data.is_some());
                    }
                }
                Ok(None) => break,
                Err(_) if wake < deadline => {
                    speculated = true;
                    if let Some(next) = spare.next() {
                        tracing::debug!(replica = %next.host_id, "speculative read");
                        send(next, data.is_some());
                    }
                }
                Err(_) => break,
            }
        }
        let refs: Vec<&Endpoint> = answered.iter().collect();
        let data_present = data.is_some();
        let Some((data_from, p)) = data.filter(|_| need.met(&local.dc, &refs)) else {
            return Err(QueryError::ReadTimeout {
                consistency: cl,
                received: need.counted(&local.dc, &refs) as i32,
                block_for: need.total() as i32,
                data_present,
            });
        };
        self.stats.record_read(
            req.table,
            timeout.saturating_sub(deadline.saturating_duration_since(tokio::time::Instant::now())),
        );
        let mine = fingerprint(&p);
        if digests.iter().all(|(_, d)| *d == mine) {
            return Ok(p);
        }
        // Digests differ: every contacted replica's data, reconciled, and the stale repaired.
        self.reconcile(
            replication,
            req,
            cl,
            &need,
            &local,
            data_from,
            p,
            digests.into_iter().map(|(e, _)| e).collect(),
            deadline,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn reconcile(
        &self,
        replication: &Replication,
        req: ReadRequest,
        cl: Consistency,
        need: &BlockFor,
        local: &Endpoint,
        data_from: Endpoint,
        data: Option<Partition>,
        others: Vec<Endpoint>,
        deadline: tokio::time::Instant,
    ) -> QueryResult<Option<Partition>> {
        let mut versions: Vec<(Endpoint, Option<Partition>)> = vec![(data_from, data)];
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let asks = others.into_iter().map(|e| {
            let req = ReadRequest { digest: false, ..req.clone() };
            async move {
                let r = self.ask(&e, req, left).await;
                (e, r)
            }
        });
        for (e, r) in futures::future::join_all(asks).await {
            match r {
                Ok(Answer::Data(p)) => versions.push((e, p)),
                _ => {
                    let refs: Vec<&Endpoint> = versions.iter().map(|(e, _)| e).collect();
                    return Err(QueryError::ReadTimeout {
                        consistency: cl,
                        received: need.counted(&local.dc, &refs) as i32,
                        block_for: need.total() as i32,
                        data_present: true,
                    });
                }
            }
        }
        let mut merged: Option<Partition> = None;
        for (_, p) in &versions {
            if let Some(p) = p {
                match &mut merged {
                    None => merged = Some(p.clone()),
                    Some(m) => m.merge(p.clone()),
                }
            }
        }
        if let Some(m) = &mut merged {
            m.purge_shadowed();
        }
        let want = fingerprint(&merged);
        let stale: Vec<Endpoint> =
            versions.into_iter().filter(|(_, p)| fingerprint(p) != want).map(|(e, _)| e).collect();
        if let Some(m) = &merged
            && !stale.is_empty()
        {
            self.repair(replication, &req, m, stale).await;
        }
        Ok(merged)
    }

    /// Writes the reconciled `merged` partition to the `stale` replicas and waits for them
    /// (up to the write timeout).
    async fn repair(
        &self,
        _replication: &Replication,
        req: &ReadRequest,
        merged: &Partition,
        stale: Vec<Endpoint>,
    ) {
        let m = Mutation::new(req.table, req.key.clone(), merged.clone());
        let payload = crate::replica::encode_mutation(&m, true);
        let local = self.cluster.local.host_id;
        let timeout = self.config.write_timeout;
        let writes = stale.into_iter().map(|e| {
            let payload = payload.clone();
            let m = m.clone();
            async move {
                let r = if e.host_id == local {
                    let engine = self.engine.clone();
                    tokio::task::spawn_blocking(move || engine.apply(m, true))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r.map_err(|e| e.to_string()))
                } else {
                    match self.cluster.topology().address(e.host_id) {
                        Some(addr) => self
                            .cluster
                            .messaging
                            .request(addr, Verb::Mutation, payload, timeout)
                            .await
                            .map(|_| ())
                            .map_err(|e| e.to_string()),
                        None => Err("no address".into()),
                    }
                };
                match r {
                    Ok(()) => tracing::debug!(replica = %e.host_id, "read repair applied"),
                    Err(why) => tracing::debug!(replica = %e.host_id, %why, "read repair not applied"),
                }
            }
        });
        futures::future::join_all(writes).await;
        self.stats.read_repairs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.metrics.read_repairs.inc();
    }

    /// A handle for tasks that outlive a borrow of `self`.
    fn clone_for_task(&self) -> Coordinator {
        Coordinator {
            engine: self.engine.clone(),
            cluster: self.cluster.clone(),
            hints: self.hints.clone(),
            config: self.config.clone(),
            stats: self.stats.clone(),
            metrics: self.metrics.clone(),
        }
    }

    /// Reads up to `limit` partitions of `range` at `cl`, in ring order; `complete` when the
    /// range is exhausted.
    pub async fn read_range(
        &self,
        replication: &Replication,
        table: storage::TableId,
        range: &KeyRange,
        limit: u32,
        cl: Consistency,
    ) -> QueryResult<RangeResponse> {
        let topology = self.cluster.topology();
        let local = topology.local.clone();
        let need = block_for(replication, &local.dc, cl, false)?;
        let mut out = RangeResponse { partitions: Vec::new(), complete: true };
        // The ring's ranges (start exclusive, end inclusive), in token order, as key ranges.
        let mut pieces: Vec<(KeyRange, storage::Token)> = Vec::new();
        let tokens: Vec<storage::Token> = topology.ring.tokens().collect();
        if tokens.is_empty() {
            return Ok(out);
        }
        let mut prev: Option<storage::Token> = None;
        for &t in &tokens {
            let piece = match prev {
                None => KeyRange { start: Bound::Unbounded, end: range_end_at(t) },
                Some(p) => KeyRange::tokens(p, t),
            };
            pieces.push((piece, t));
            prev = Some(t);
        }
        // After the last token: owned by the first token's replicas.
        if let Some(&last) = tokens.last().filter(|t| **t != i64::MAX) {
            let start = match KeyRange::tokens(last, i64::MAX).start {
                b @ Bound::Included(_) => b,
                _ => Bound::Excluded(storage::range::min_key_of(i64::MAX)),
            };
            pieces.push((KeyRange { start, end: Bound::Unbounded }, tokens[0]));
        }
        for (piece, owner_token) in pieces {
            let Some(sub) = intersect(range, &piece) else { continue };
            let replicas = topology.replicas(replication, owner_token);
            let live: Vec<&Endpoint> = replicas.into_iter().filter(|e| topology.is_up(e.host_id)).collect();
            assure_live(cl, &need, &local.dc, &live)?;
            let ordered = by_proximity(live, &local);
            let chosen: Vec<Endpoint> = contacts(&need, &ordered, &local.dc).into_iter().cloned().collect();
            let wanted = limit.saturating_sub(out.partitions.len() as u32);
            let page = self.range_page(table, &sub, wanted, &chosen, cl, &need, &local).await?;
            let done = page.complete;
            out.partitions.extend(page.partitions);
            if !done || out.partitions.len() as u32 >= limit {
                out.complete = false;
                return Ok(out);
            }
        }
        Ok(out)
    }

    /// One page of `range` from `chosen`, merged; only keys every replica has fully answered.
    #[allow(clippy::too_many_arguments)]
    async fn range_page(
        &self,
        table: storage::TableId,
        range: &KeyRange,
        limit: u32,
        chosen: &[Endpoint],
        cl: Consistency,
        need: &BlockFor,
        local: &Endpoint,
    ) -> QueryResult<RangeResponse> {
        let req = RangeRequest { table, range: range.clone(), limit: limit.max(1) };
        let timeout = self.config.read_timeout;
        let asks = chosen.iter().map(|e| {
            let req = req.clone();
            async move {
                let r: Result<RangeResponse, String> = if e.host_id == local.host_id {
                    let engine = self.engine.clone();
                    tokio::task::spawn_blocking(move || crate::replica::range_local(&engine, &req))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r)
                } else {
                    match self.cluster.topology().address(e.host_id) {
                        Some(addr) => match self
                            .cluster
                            .messaging
                            .request(addr, Verb::RangeRead, req.encode(), timeout)
                            .await
                        {
                            Ok(b) => RangeResponse::decode(b),
                            Err(e) => Err(e.to_string()),
                        },
                        None => Err("no address".into()),
                    }
                };
                (e.clone(), r)
            }
        });
        let mut answers: Vec<(Endpoint, RangeResponse)> = Vec::new();
        for (e, r) in futures::future::join_all(asks).await {
            match r {
                Ok(a) => answers.push((e, a)),
                Err(why) => tracing::debug!(replica = %e.host_id, %why, "range read not answered"),
            }
        }
        let refs: Vec<&Endpoint> = answers.iter().map(|(e, _)| e).collect();
        if !need.met(&local.dc, &refs) {
            return Err(QueryError::ReadTimeout {
                consistency: cl,
                received: need.counted(&local.dc, &refs) as i32,
                block_for: need.total() as i32,
                data_present: !answers.is_empty(),
            });
        }
        // Keys up to the smallest last key of a replica that stopped early are complete.
        let horizon: Option<DecoratedKey> = answers
            .iter()
            .filter(|(_, a)| !a.complete)
            .filter_map(|(_, a)| a.partitions.last().map(|(k, _)| k.clone()))
            .min();
        let complete = answers.iter().all(|(_, a)| a.complete);
        let mut merged: BTreeMap<DecoratedKey, Partition> = BTreeMap::new();
        for (_, a) in answers {
            for (k, p) in a.partitions {
                if horizon.as_ref().is_some_and(|h| k > *h) {
                    continue;
                }
                match merged.get_mut(&k) {
                    Some(m) => m.merge(p),
                    None => {
                        merged.insert(k, p);
                    }
                }
            }
        }
        let partitions = merged
            .into_iter()
            .map(|(k, mut p)| {
                p.purge_shadowed();
                (k, p)
            })
            .collect();
        Ok(RangeResponse { partitions, complete })
    }
}

/// The end bound of a ring piece ending at token `t` (inclusive of `t`).
fn range_end_at(t: storage::Token) -> Bound<DecoratedKey> {
    KeyRange::tokens(t.saturating_sub(1), t).end
}

/// The keys in both ranges, if any can be.
fn intersect(a: &KeyRange, b: &KeyRange) -> Option<KeyRange> {
    use std::cmp::Ordering;
    fn lower(x: &Bound<DecoratedKey>, y: &Bound<DecoratedKey>) -> Bound<DecoratedKey> {
        match (x, y) {
            (Bound::Unbounded, o) | (o, Bound::Unbounded) => o.clone(),
            (Bound::Included(p) | Bound::Excluded(p), Bound::Included(q) | Bound::Excluded(q)) => {
                match p.cmp(q) {
                    Ordering::Greater => x.clone(),
                    Ordering::Less => y.clone(),
                    Ordering::Equal => {
                        if matches!(x, Bound::Excluded(_)) {
                            x.clone()
                        } else {
                            y.clone()
                        }
                    }
                }
            }
        }
    }
    fn upper(x: &Bound<DecoratedKey>, y: &Bound<DecoratedKey>) -> Bound<DecoratedKey> {
        match (x, y) {
            (Bound::Unbounded, o) | (o, Bound::Unbounded) => o.clone(),
            (Bound::Included(p) | Bound::Excluded(p), Bound::Included(q) | Bound::Excluded(q)) => {
                match p.cmp(q) {
                    Ordering::Less => x.clone(),
                    Ordering::Greater => y.clone(),
                    Ordering::Equal => {
                        if matches!(x, Bound::Excluded(_)) {
                            x.clone()
                        } else {
                            y.clone()
                        }
                    }
                }
            }
        }
    }
    let r = KeyRange { start: lower(&a.start, &b.start), end: upper(&a.end, &b.end) };
    let empty = match (&r.start, &r.end) {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s) | Bound::Excluded(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e)) => s >= e,
        _ => false,
    };
    (!empty).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn key(t: i64, k: &str) -> DecoratedKey {
        DecoratedKey { token: t, key: Bytes::from(k.to_string()) }
    }

    #[test]
    fn ranges_intersect_on_their_bounds() {
        let all = KeyRange::all();
        let piece = KeyRange::tokens(10, 20);
        assert_eq!(intersect(&all, &piece), Some(piece.clone()));
        let resume = KeyRange::after(key(15, "m"), Bound::Unbounded);
        let r = intersect(&resume, &piece).unwrap();
        assert!(!r.contains(&key(15, "m")) && r.contains(&key(15, "n")) && r.contains(&key(20, "a")));
        assert!(!r.contains(&key(21, "a")));
        assert_eq!(intersect(&KeyRange::after(key(25, "a"), Bound::Unbounded), &piece), None);
        let first = KeyRange { start: Bound::Unbounded, end: range_end_at(10) };
        assert!(
            first.contains(&key(10, "z"))
                && !first.contains(&key(11, "a"))
                && first.contains(&key(i64::MIN + 1, "a"))
        );
    }
}
