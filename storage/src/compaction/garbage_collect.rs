//! nodetool garbagecollect (placeholder while being implemented).

use super::CompactionSummary;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::table_id::TableId;

impl Engine {
    /// Compacts each SSTable alone, dropping what the purge rules allow.
    pub fn garbage_collect(&self, table: TableId) -> Result<Vec<CompactionSummary>> {
        let _ = table;
        Err(Error::Invalid("garbagecollect is not implemented yet".into()))
    }
}
