//! The write path: Unavailable is decided for every mutation before anything is sent; then
//! each mutation goes to all its live replicas at once and the client waits for the level.
//! A replica that is down gets a hint at once; one that fails or does not answer before the
//! write timeout gets one when its answer is known to be missing, even if the level was met
//! without it (the send continues after the client is answered).

use super::Coordinator;
use super::consistency::{BlockFor, assure_live, block_for};
use crate::error::{QueryError, QueryResult, WriteType};
use crate::locator::Endpoint;
use crate::net::Verb;
use crate::schema::Replication;
use cql::Consistency;
use std::sync::Arc;
use storage::Mutation;
use tokio::sync::mpsc;

/// Mutations of one keyspace.
pub struct WriteGroup {
    pub replication: Replication,
    /// The keyspace's `durable_writes`.
    pub durable: bool,
    pub mutations: Vec<Mutation>,
}

/// One mutation and where it goes.
struct Plan {
    mutation: Mutation,
    durable: bool,
    need: BlockFor,
    live: Vec<Endpoint>,
    dead: Vec<Endpoint>,
}

impl Coordinator {
    /// Writes every group's mutations at `cl`: Unavailable, if any mutation cannot be written,
    /// before anything is sent.
    pub async fn write(
        &self,
        groups: Vec<WriteGroup>,
        cl: Consistency,
        write_type: WriteType,
    ) -> QueryResult<()> {
        let topology = self.cluster.topology();
        let local_dc = topology.local.dc.clone();
        let mut plans = Vec::new();
        for g in groups {
            let need = block_for(&g.replication, &local_dc, cl, true)?;
            for mutation in g.mutations {
                let replicas = topology.replicas(&g.replication, mutation.key.token);
                let (live, dead): (Vec<&Endpoint>, Vec<&Endpoint>) =
                    replicas.into_iter().partition(|e| topology.is_up(e.host_id));
                assure_live(cl, &need, &local_dc, &live)?;
                plans.push(Plan {
                    mutation,
                    durable: g.durable,
                    need: need.clone(),
                    live: live.into_iter().cloned().collect(),
                    dead: dead.into_iter().cloned().collect(),
                });
            }
        }
        if plans.is_empty() {
            return Ok(());
        }
        // This node alone holds everything: apply in place, in one blocking task.
        let local = topology.local.host_id;
        if plans.iter().all(|p| p.dead.is_empty() && p.live.len() == 1 && p.live[0].host_id == local) {
            let engine = self.engine.clone();
            return tokio::task::spawn_blocking(move || -> QueryResult<()> {
                for p in plans {
                    engine.apply(p.mutation, p.durable)?;
                }
                Ok(())
            })
            .await
            .map_err(|e| QueryError::Server(format!("write task failed: {e}")))?;
        }
        let writes = plans.into_iter().map(|p| self.write_one(p, &local_dc, cl, write_type));
        for r in futures::future::join_all(writes).await {
            r?;
        }
        Ok(())
    }

    /// Keeps a hint for `target`, unless hints are off or it has been down too long.
    pub(crate) fn hint(&self, target: &Endpoint, m: &Mutation, durable: bool) -> bool {
        self.hint_sink().keep(target, m, durable)
    }

    fn hint_sink(&self) -> HintSink {
        HintSink {
            hints: self.hints.clone(),
            cluster: self.cluster.clone(),
            config: self.config.clone(),
            metrics: self.metrics.clone(),
        }
    }

    async fn write_one(
        &self,
        plan: Plan,
        local_dc: &str,
        cl: Consistency,
        write_type: WriteType,
    ) -> QueryResult<()> {
        let Plan { mutation, durable, need, live, dead } = plan;
        let mut hinted = 0usize;
        for d in &dead {
            hinted += usize::from(self.hint(d, &mutation, durable));
        }
        if live.is_empty() {
            // Only ANY gets here (the others were Unavailable): a hint is enough.
            return if hinted > 0 {
                Ok(())
            } else {
                Err(QueryError::WriteTimeout { consistency: cl, received: 0, block_for: 1, write_type })
            };
        }
        let mutation = Arc::new(mutation);
        let payload = crate::replica::encode_mutation(&mutation, durable);
        let (tx, mut rx) = mpsc::channel::<(Endpoint, bool)>(live.len());
        let local = self.cluster.local.host_id;
        for target in live {
            let tx = tx.clone();
            let engine = self.engine.clone();
            let mutation = mutation.clone();
            let payload = payload.clone();
            let messaging = self.cluster.messaging.clone();
            let address = self.cluster.topology().address(target.host_id);
            let timeout = self.config.write_timeout;
            let sink = self.hint_sink();
            tokio::spawn(async move {
                let ok = if target.host_id == local {
                    let m = (*mutation).clone();
                    matches!(tokio::task::spawn_blocking(move || engine.apply(m, durable)).await, Ok(Ok(())))
                } else {
                    match address {
                        Some(addr) => match messaging.request(addr, Verb::Mutation, payload, timeout).await {
                            Ok(_) => true,
                            Err(e) => {
                                tracing::debug!(target = %target.host_id, error = %e, "write not acknowledged");
                                false
                            }
                        },
                        None => false,
                    }
                };
                if !ok {
                    sink.keep(&target, &mutation, durable);
                }
                let _ = tx.send((target, ok)).await;
            });
        }
        drop(tx);
        let deadline = tokio::time::Instant::now() + self.config.write_timeout;
        let mut acked: Vec<Endpoint> = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some((target, true))) => {
                    acked.push(target);
                    let answered: Vec<&Endpoint> = acked.iter().collect();
                    if need.met(local_dc, &answered) || (cl == Consistency::Any && !answered.is_empty()) {
                        return Ok(());
                    }
                }
                Ok(Some((_, false))) => {}
                Ok(None) | Err(_) => {
                    let answered: Vec<&Endpoint> = acked.iter().collect();
                    if cl == Consistency::Any && hinted > 0 {
                        return Ok(());
                    }
                    return Err(QueryError::WriteTimeout {
                        consistency: cl,
                        received: need.counted(local_dc, &answered) as i32,
                        block_for: need.total() as i32,
                        write_type,
                    });
                }
            }
        }
    }
}

/// Stores hints; cheap to clone into the send tasks, which outlive the client's request.
#[derive(Clone)]
struct HintSink {
    hints: Arc<crate::hints::Hints>,
    cluster: Arc<crate::cluster::Cluster>,
    config: super::CoordinatorConfig,
    metrics: Arc<crate::metrics::Metrics>,
}

impl HintSink {
    fn keep(&self, target: &Endpoint, m: &Mutation, durable: bool) -> bool {
        if !self.config.hinted_handoff_enabled {
            return false;
        }
        let down_for = self.cluster.topology().down_for(target.host_id);
        if down_for > self.config.max_hint_window {
            tracing::debug!(target = %target.host_id, ?down_for, "not hinting: down longer than max_hint_window_ms");
            return false;
        }
        match self.hints.store(target.host_id, m, durable) {
            Ok(()) => {
                self.metrics.hints_stored.inc();
                true
            }
            Err(e) => {
                tracing::warn!(target = %target.host_id, error = %e, "cannot store a hint");
                false
            }
        }
    }
}
