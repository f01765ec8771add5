//! Incremental repair state across a crash.
//!
//! Pending SSTables belong to a session that lives in a coordinator's memory; after a restart
//! nobody will finalize it, so start-up returns every pending SSTable to unrepaired (the
//! session marks nothing). The one exception is a finalize that had started: the coordinator
//! had decided, so finishing it is right. Finalize therefore first writes a log in the table
//! directory, then rewrites each SSTable's statistics, then deletes the log; start-up finishes
//! the SSTables a log names before reverting the rest.
//!
//! | file | content |
//! |---|---|
//! | `repair-finalize-<16 hex digits of a hash of the session>.json` | JSON `{"session": ..., "repaired_at": ...}`, written atomically |

use crate::error::{IoContext, Result};
use crate::sstable::{SSTableReader, sync_dir, write_atomic};
use crate::token::murmur3_x64_128;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const FINALIZE_PREFIX: &str = "repair-finalize-";

#[derive(Debug, Serialize, Deserialize)]
struct FinalizeLog {
    session: String,
    repaired_at: u64,
}

fn finalize_log(dir: &Path, session: &str) -> PathBuf {
    let h = murmur3_x64_128(session.as_bytes(), 0).0;
    dir.join(format!("{FINALIZE_PREFIX}{h:016x}.json"))
}

/// Records that `session` is being finalized at `repaired_at`, before any SSTable changes.
pub(crate) fn begin_finalize(dir: &Path, session: &str, repaired_at: u64) -> Result<()> {
    let log = FinalizeLog { session: session.to_string(), repaired_at };
    let bytes = serde_json::to_vec(&log).map_err(|e| crate::Error::Invalid(e.to_string()))?;
    write_atomic(&finalize_log(dir, session), &bytes)
}

/// Removes the log once every SSTable of the session is marked.
pub(crate) fn end_finalize(dir: &Path, session: &str) -> Result<()> {
    let p = finalize_log(dir, session);
    match std::fs::remove_file(&p) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(crate::Error::io(p, e)),
    }
}

/// At start-up: finishes interrupted finalizes, then returns every other pending SSTable to
/// unrepaired.
pub(crate) fn recover(dir: &Path, sstables: &[Arc<SSTableReader>]) -> Result<()> {
    for entry in std::fs::read_dir(dir).at(dir)? {
        let path = entry.at(dir)?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !name.starts_with(FINALIZE_PREFIX) {
            continue;
        }
        let text = std::fs::read(&path).at(&path)?;
        match serde_json::from_slice::<FinalizeLog>(&text) {
            Ok(log) => {
                let mut n = 0;
                for s in sstables.iter().filter(|s| s.stats().pending_repair.as_deref() == Some(&log.session))
                {
                    s.set_repair_state(log.repaired_at, None)?;
                    n += 1;
                }
                tracing::warn!(dir = %dir.display(), session = %log.session, sstables = n, "finished a repair finalize that a restart interrupted");
            }
            // Written atomically, so this is damage, not a torn write: the session's SSTables
            // go back to unrepaired below, which is always safe.
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "ignoring an unreadable repair finalize log")
            }
        }
        std::fs::remove_file(&path).at(&path)?;
        sync_dir(dir)?;
    }
    let mut reverted = 0;
    for s in sstables {
        if let Some(session) = s.stats().pending_repair {
            s.set_repair_state(0, None)?;
            reverted += 1;
            tracing::warn!(dir = %dir.display(), generation = s.generation(), %session, "returned a pending SSTable to unrepaired: its repair session did not finish before the restart");
        }
    }
    if reverted > 0 {
        tracing::warn!(dir = %dir.display(), sstables = reverted, "pending repair data returned to unrepaired at start-up");
    }
    Ok(())
}
