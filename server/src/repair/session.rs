//! A repair session as this node drives it (see the module docs of [`super`]).

use super::messages::{RepairRequest, Scope};
use super::sync::Outbox;
use super::{Progress, RepairOptions, intersect, split_wrapping};
use crate::cluster::{Cluster, Topology};
use crate::locator::Endpoint;
use crate::metrics::Metrics;
use crate::net::Verb;
use crate::schema::{Replication, Schema};
use bytes::Bytes;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::Duration;
use storage::{TableId, Token};

/// Leaves of each Merkle tree: 2^DEPTH.
const DEPTH: u8 = 12;
/// How long a replica may take over one step (building a tree of a large range included); a
/// replica that dies fails the step at once, when its connection drops.
pub(super) const STEP_TIMEOUT: Duration = Duration::from_secs(3 * 3600);

/// One table's work: the ranges to repair and the replicas of each.
struct TableWork {
    keyspace: String,
    table: String,
    id: TableId,
    /// Non-wrapping ranges, each with its replicas (this node among them).
    ranges: Vec<((Token, Token), Vec<Endpoint>)>,
}

pub(super) struct Session {
    pub id: String,
    pub options: RepairOptions,
    pub cluster: Arc<Cluster>,
    pub engine: Arc<storage::Engine>,
    pub schema: Arc<crate::schema::SchemaStore>,
    pub metrics: Arc<Metrics>,
    pub progress: Arc<Mutex<Progress>>,
}

fn fail(msg: impl Into<String>) -> String {
    msg.into()
}

impl Session {
    /// Works out what to repair: keyspaces, tables, ranges and replicas.
    fn plan(&self, schema: &Schema, t: &Topology) -> Result<Vec<TableWork>, String> {
        let o = &self.options;
        let me = t.local.host_id;
        let keyspaces: Vec<&crate::schema::Keyspace> = match &o.keyspace {
            Some(ks) => vec![
                schema.keyspaces.get(ks).ok_or_else(|| fail(format!("keyspace '{ks}' does not exist")))?,
            ],
            None => schema.keyspaces.values().collect(),
        };
        let sub = match (&o.start_token, &o.end_token) {
            (Some(s), Some(e)) => {
                let s: Token = s.parse().map_err(|_| fail(format!("start token '{s}' is not a token")))?;
                let e: Token = e.parse().map_err(|_| fail(format!("end token '{e}' is not a token")))?;
                Some(split_wrapping(s, e))
            }
            (None, None) => None,
            _ => return Err(fail("a subrange needs both a start and an end token")),
        };
        let mut out = Vec::new();
        for k in keyspaces {
            if k.replication == Replication::Local {
                continue;
            }
            let tables: Vec<&Arc<crate::schema::Table>> = if o.tables.is_empty() {
                k.tables.values().collect()
            } else {
                o.tables
                    .iter()
                    .map(|n| {
                        k.tables.get(n).ok_or_else(|| fail(format!("table '{}.{n}' does not exist", k.name)))
                    })
                    .collect::<Result<_, _>>()?
            };
            let mut ranges = Vec::new();
            for (start, end) in t.ring.ranges() {
                let replicas: Vec<Endpoint> = t.replicas(&k.replication, end).into_iter().cloned().collect();
                if !replicas.iter().any(|e| e.host_id == me) {
                    continue;
                }
                // -pr: only where this node is the primary replica (with --local, the first
                // replica in this datacenter).
                let primary = replicas.iter().find(|e| !o.local || e.dc == t.local.dc).map(|e| e.host_id);
                if o.primary_range && primary != Some(me) {
                    continue;
                }
                let replicas: Vec<Endpoint> = replicas
                    .into_iter()
                    .filter(|e| match (&o.dc, o.local) {
                        (Some(dc), _) => &e.dc == dc || e.host_id == me,
                        (None, true) => e.dc == t.local.dc,
                        _ => true,
                    })
                    .collect();
                if replicas.len() < 2 {
                    continue;
                }
                for piece in split_wrapping(start, end) {
                    match &sub {
                        None => ranges.push((piece, replicas.clone())),
                        Some(sub) => {
                            for s in sub {
                                if let Some(r) = intersect(piece, *s) {
                                    ranges.push((r, replicas.clone()));
                                }
                            }
                        }
                    }
                }
            }
            for table in tables {
                out.push(TableWork {
                    keyspace: k.name.clone(),
                    table: table.name.clone(),
                    id: table.id,
                    ranges: ranges.clone(),
                });
            }
        }
        if o.dc.as_ref().is_some_and(|dc| !t.ring.topology().contains_key(dc.as_str())) {
            return Err(fail(format!("datacenter '{}' has no nodes", o.dc.as_deref().unwrap_or(""))));
        }
        Ok(out)
    }

    /// Sends `req` as `verb` to `e` (or serves it here).
    pub(super) async fn ask(&self, e: &Endpoint, verb: Verb, req: &RepairRequest) -> Result<Bytes, String> {
        let t = self.cluster.topology();
        if e.host_id == t.local.host_id {
            return super::messages::handle(self.engine.clone(), verb, req.encode()).await;
        }
        if !t.is_up(e.host_id) {
            return Err(format!("replica {} ({}) is down", e.address, e.host_id));
        }
        let addr = t.address(e.host_id).ok_or_else(|| format!("no address for replica {}", e.address))?;
        self.cluster
            .messaging
            .request(addr, verb, req.encode(), STEP_TIMEOUT)
            .await
            .map_err(|err| format!("replica {} failed {verb:?}: {err}", e.address))
    }

    /// Asks every replica in `on` at once.
    pub(super) async fn ask_all(
        &self,
        on: &[Endpoint],
        verb: Verb,
        req: &RepairRequest,
    ) -> Result<Vec<Bytes>, String> {
        let asks = on.iter().map(|e| self.ask(e, verb, req));
        futures::future::join_all(asks).await.into_iter().collect()
    }

    /// Runs the session to its end, recording progress.
    pub async fn run(self) {
        use futures::FutureExt;
        // A panic fails the session rather than leaving it "running" forever; replicas left
        // pending abort it when it goes idle.
        let outcome = match std::panic::AssertUnwindSafe(self.run_inner()).catch_unwind().await {
            Ok(outcome) => outcome,
            Err(_) => Err("the repair session failed unexpectedly (see the node's log)".to_string()),
        };
        let mut p = self.progress.lock();
        match outcome {
            Ok(summary) => {
                p.state = "done".into();
                p.summary = Some(summary);
                self.metrics.repair_sessions.get_or_create(&vec![("state".into(), "completed".into())]).inc();
            }
            Err(e) => {
                tracing::warn!(session = %self.id, error = %e, "repair failed");
                p.state = "failed".into();
                p.error = Some(e);
                self.metrics.repair_sessions.get_or_create(&vec![("state".into(), "failed".into())]).inc();
            }
        }
    }

    async fn run_inner(&self) -> Result<String, String> {
        let t = self.cluster.topology();
        let schema = self.schema_snapshot();
        let work = self.plan(&schema, &t)?;
        {
            let mut p = self.progress.lock();
            let mut ks: Vec<String> = work.iter().map(|w| w.keyspace.clone()).collect();
            ks.dedup();
            p.keyspaces = ks;
            p.ranges_total = work.iter().map(|w| w.ranges.len() as u32).sum();
        }
        // Every replica must be up before anything starts.
        for w in &work {
            for (_, replicas) in &w.ranges {
                if let Some(down) = replicas.iter().find(|e| !t.is_up(e.host_id)) {
                    return Err(format!(
                        "replica {} ({}) is down: repair needs every replica of its ranges",
                        down.address, down.host_id
                    ));
                }
            }
        }
        let incremental = !self.options.full && !self.options.preview;
        let validate_scope = match (self.options.full, self.options.preview) {
            (true, _) => Scope::Full,
            (false, true) => Scope::Unrepaired,
            (false, false) => Scope::Pending,
        };
        tracing::info!(session = %self.id, tables = work.len(), incremental, preview = self.options.preview, "repair started");
        for w in &work {
            let participants = participants(&w.ranges);
            let base = RepairRequest { session: self.id.clone(), table: w.id.simple(), ..Default::default() };
            if incremental && !w.ranges.is_empty() {
                // Each participant marks pending only the ranges it replicates: what it holds
                // elsewhere (before a cleanup) is compared in no range of this session.
                let prepares = participants.iter().map(|e| {
                    let ranges = w
                        .ranges
                        .iter()
                        .filter(|(_, rs)| rs.iter().any(|r| r.host_id == e.host_id))
                        .map(|(r, _)| *r)
                        .collect();
                    let prepare = RepairRequest { ranges, ..base.clone() };
                    async move { self.ask(e, Verb::RepairPrepare, &prepare).await }
                });
                let prepared: Result<Vec<Bytes>, String> =
                    futures::future::join_all(prepares).await.into_iter().collect();
                if let Err(e) = prepared {
                    self.abort(&participants, &base).await;
                    return Err(e);
                }
            }
            let mut outbox = Outbox::default();
            for (range, replicas) in &w.ranges {
                let r = self.repair_range(*range, replicas, validate_scope, &base, &mut outbox).await;
                if let Err(e) = r {
                    if incremental {
                        self.abort(&participants, &base).await;
                    }
                    return Err(format!("{}.{} range ({}, {}]: {e}", w.keyspace, w.table, range.0, range.1));
                }
                self.progress.lock().ranges_done += 1;
            }
            if let Err(e) = self.flush_all(&mut outbox, validate_scope, &base).await {
                if incremental {
                    self.abort(&participants, &base).await;
                }
                return Err(format!("{}.{}: {e}", w.keyspace, w.table));
            }
            if incremental {
                let repaired_at = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis() as u64)
                    .unwrap_or(1);
                let finalize = RepairRequest { repaired_at, ..base.clone() };
                if let Err(e) = self.ask_all(&participants, Verb::RepairFinalize, &finalize).await {
                    // Replicas that finalized keep their data repaired (it was compared); the
                    // others return theirs to unrepaired rather than holding it pending.
                    self.abort(&participants, &base).await;
                    return Err(format!("{}.{}: {e}", w.keyspace, w.table));
                }
            }
        }
        let p = self.progress.lock().clone();
        Ok(if self.options.preview {
            format!("{} mismatched ranges", p.mismatched_ranges)
        } else if p.ranges_total == 0 {
            "nothing to repair: this node shares no range of the selected tables with another replica \
             (replication factor 1, no tables, or options that leave no range)"
                .to_string()
        } else {
            format!(
                "repaired {} ranges of {}: {} partitions ({} bytes) validated, {} mismatched ranges, \
                 {} partitions ({} bytes) streamed",
                p.ranges_done,
                p.keyspaces.join(", "),
                p.partitions_validated,
                p.bytes_validated,
                p.mismatched_ranges,
                p.partitions_streamed,
                p.bytes_streamed
            )
        })
    }

    fn schema_snapshot(&self) -> Arc<Schema> {
        self.schema.snapshot()
    }

    pub(super) async fn abort(&self, participants: &[Endpoint], base: &RepairRequest) {
        for e in participants {
            if let Err(err) = self.ask(e, Verb::RepairAbort, base).await {
                tracing::warn!(session = %self.id, replica = %e.address, error = %err, "cannot abort the session there; it reverts on restart");
            }
        }
    }

    /// Validates, compares and syncs one range.
    async fn repair_range(
        &self,
        range: (Token, Token),
        replicas: &[Endpoint],
        scope: Scope,
        base: &RepairRequest,
        outbox: &mut Outbox,
    ) -> Result<(), String> {
        let req = RepairRequest { ranges: vec![range], scope: Some(scope), depth: DEPTH, ..base.clone() };
        let trees = self.ask_all(replicas, Verb::RepairValidate, &req).await?;
        let trees: Vec<storage::repair::MerkleTree> = trees
            .iter()
            .map(|b| storage::repair::MerkleTree::decode(b).map_err(|e| format!("bad Merkle tree: {e}")))
            .collect::<Result<_, _>>()?;
        {
            let mut p = self.progress.lock();
            // Counts come from peers: saturate rather than trust them not to overflow.
            let partitions = trees.iter().map(|t| t.partitions()).fold(0, u64::saturating_add);
            let bytes = trees.iter().map(|t| t.bytes()).fold(0, u64::saturating_add);
            p.partitions_validated = p.partitions_validated.saturating_add(partitions);
            p.bytes_validated = p.bytes_validated.saturating_add(bytes);
        }
        let mut differing: Vec<(Token, Token)> = Vec::new();
        for other in &trees[1..] {
            differing.extend(trees[0].differences(other));
        }
        let differing = coalesce(differing);
        self.progress.lock().mismatched_ranges += differing.len() as u32;
        if self.options.preview || differing.is_empty() {
            return Ok(());
        }
        for batch in super::sync::hash_batches(&trees, &differing) {
            self.sync(batch, replicas, scope, base, outbox).await?;
        }
        Ok(())
    }
}

/// Every replica taking part in some range.
fn participants(ranges: &[((Token, Token), Vec<Endpoint>)]) -> Vec<Endpoint> {
    let mut out: Vec<Endpoint> = Vec::new();
    for (_, rs) in ranges {
        for e in rs {
            if !out.iter().any(|x| x.host_id == e.host_id) {
                out.push(e.clone());
            }
        }
    }
    out
}

/// Sorted, with overlapping or adjacent ranges joined.
fn coalesce(mut v: Vec<(Token, Token)>) -> Vec<(Token, Token)> {
    v.sort_unstable();
    let mut out: Vec<(Token, Token)> = Vec::new();
    for r in v {
        match out.last_mut() {
            Some(last) if r.0 <= last.1 => last.1 = last.1.max(r.1),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatched_ranges_are_joined() {
        assert_eq!(coalesce(vec![(5, 10), (0, 5), (20, 30), (25, 40)]), [(0, 10), (20, 40)]);
    }
}
