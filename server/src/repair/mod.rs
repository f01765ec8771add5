//! Repair: bringing the replicas of a token range into agreement, driven from the node whose
//! admin API was asked (`tess repair`).
//!
//! A session, for each keyspace, table and range this node shares with its replicas:
//!
//! 1. incremental only — *prepare*: every replica marks its unrepaired data in the ranges
//!    pending for the session (anti-compaction), so that writes arriving later stay out;
//! 2. *validate*: every replica builds a Merkle tree of the range over the data in scope (full:
//!    everything; incremental: what is pending for the session);
//! 3. the trees are compared; `--preview` stops here and counts the mismatched ranges;
//! 4. *sync*, row-level within the mismatched leaves: every replica lists its partitions'
//!    hashes there; a partition whose hashes differ is fetched from the replicas that have
//!    it, reconciled, and sent only to the replicas whose copy differs from the result;
//! 5. incremental only — *finalize*: pending data becomes repaired; on any failure the
//!    session is aborted instead and pending data becomes unrepaired again (a node that
//!    restarts does the same), so a failed session marks nothing.
//!
//! Replica verbs are in [`messages`]; the session driver in [`session`]; the admin API's
//! handlers in [`admin`].

pub mod admin;
pub mod local;
pub mod messages;
mod session;
mod sync;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use storage::Token;

/// What `tess repair` asks for.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RepairOptions {
    pub keyspace: Option<String>,
    #[serde(default)]
    pub tables: Vec<String>,
    #[serde(default)]
    pub full: bool,
    #[serde(default)]
    pub preview: bool,
    #[serde(default)]
    pub primary_range: bool,
    pub start_token: Option<String>,
    pub end_token: Option<String>,
    pub dc: Option<String>,
    #[serde(default)]
    pub local: bool,
}

/// A session's progress, as `GET /v1/repair/ID` shows it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Progress {
    pub id: String,
    /// running, done or failed.
    pub state: String,
    pub keyspaces: Vec<String>,
    pub ranges_total: u32,
    pub ranges_done: u32,
    pub mismatched_ranges: u32,
    /// Partitions and bytes the replicas' Merkle trees covered, summed over replicas: all data
    /// in a full repair, only data not yet repaired in an incremental one.
    pub partitions_validated: u64,
    pub bytes_validated: u64,
    pub bytes_streamed: u64,
    pub partitions_streamed: u64,
    /// Bytes of the rows (and deletions) replicas lacked or held in another version, encoded:
    /// what a perfect repair would send. `bytes_streamed / bytes_differing` is the
    /// overstreaming factor.
    pub bytes_differing: u64,
    /// Bytes of partition hash lists and fetched partitions the coordinator received to find
    /// and reconcile what differs (Merkle trees not included).
    pub bytes_fetched: u64,
    pub error: Option<String>,
    pub summary: Option<String>,
}

/// Every repair session this node coordinated since it started.
#[derive(Default)]
pub struct Repairs {
    sessions: Mutex<HashMap<String, Arc<Mutex<Progress>>>>,
}

impl Repairs {
    /// A new session's progress record.
    fn register(&self, id: &str) -> Arc<Mutex<Progress>> {
        let p = Arc::new(Mutex::new(Progress {
            id: id.to_string(),
            state: "running".into(),
            ..Default::default()
        }));
        self.sessions.lock().insert(id.to_string(), p.clone());
        p
    }

    /// The progress of session `id`.
    pub fn progress(&self, id: &str) -> Option<Progress> {
        self.sessions.lock().get(id).map(|p| p.lock().clone())
    }

    /// Sessions running, done and failed.
    pub fn counts(&self) -> (u32, u32, u32) {
        let mut c = (0, 0, 0);
        for p in self.sessions.lock().values() {
            match p.lock().state.as_str() {
                "running" => c.0 += 1,
                "done" => c.1 += 1,
                _ => c.2 += 1,
            }
        }
        c
    }
}

/// A ring range `(start, end]` as ranges that do not wrap around the ring (the whole ring
/// when `start == end`).
pub fn split_wrapping(start: Token, end: Token) -> Vec<(Token, Token)> {
    if start < end {
        vec![(start, end)]
    } else if end == i64::MIN {
        vec![(start, i64::MAX)]
    } else {
        let mut v = Vec::with_capacity(2);
        if start < i64::MAX {
            v.push((start, i64::MAX));
        }
        v.push((i64::MIN, end));
        v
    }
}

/// The part of `(a0, a1]` inside `(b0, b1]` (neither wrapping).
pub fn intersect(a: (Token, Token), b: (Token, Token)) -> Option<(Token, Token)> {
    let (s, e) = (a.0.max(b.0), a.1.min(b.1));
    (s < e).then_some((s, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_ranges_split_at_the_ring_ends() {
        assert_eq!(split_wrapping(-5, 10), [(-5, 10)]);
        assert_eq!(split_wrapping(10, -5), [(10, i64::MAX), (i64::MIN, -5)]);
        assert_eq!(split_wrapping(7, 7), [(7, i64::MAX), (i64::MIN, 7)]);
        assert_eq!(split_wrapping(i64::MAX, 3), [(i64::MIN, 3)]);
        assert_eq!(intersect((0, 10), (5, 20)), Some((5, 10)));
        assert_eq!(intersect((0, 10), (10, 20)), None);
    }
}
