//! Offline SSTable tools (`tess sstable verify|stats PATH...`): read SSTable files directly,
//! without a running node and without changing anything on disk.
//!
//! A PATH is a table directory (every SSTable in it) or one component file of an SSTable.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use storage::KeyRange;
use storage::sstable::cache::ChunkCache;
use storage::sstable::{Component, Descriptor, SSTableReader};

/// The published SSTables a path names, without deleting anything.
pub fn descriptors(path: &Path) -> anyhow::Result<Vec<Descriptor>> {
    if path.is_dir() {
        let mut out = Vec::new();
        for e in std::fs::read_dir(path).with_context(|| format!("cannot list {}", path.display()))? {
            let name = e?.file_name().to_string_lossy().into_owned();
            if let Some((generation, Component::Toc)) = Descriptor::parse_file_name(&name) {
                out.push(Descriptor::new(path, generation));
            }
        }
        out.sort_by_key(|d| d.generation);
        return Ok(out);
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match Descriptor::parse_file_name(&name) {
        Some((generation, _)) => {
            Ok(vec![Descriptor::new(path.parent().unwrap_or(Path::new(".")), generation)])
        }
        None => bail!("{} is neither a table directory nor an SSTable component", path.display()),
    }
}

/// One SSTable's verification result.
#[derive(Debug)]
pub struct Verified {
    /// Which SSTable.
    pub sstable: PathBuf,
    /// Partitions read, or the problem found.
    pub outcome: Result<u64, String>,
}

/// Reads every chunk (checking its CRC) and decodes every partition of each SSTable.
pub fn verify(paths: &[PathBuf]) -> anyhow::Result<Vec<Verified>> {
    let cache = Arc::new(ChunkCache::new(0));
    let mut out = Vec::new();
    for p in paths {
        let descs = descriptors(p)?;
        if descs.is_empty() {
            bail!("no SSTables in {}", p.display());
        }
        for d in descs {
            let sstable = d.path(Component::Data);
            let outcome = SSTableReader::open(d, cache.clone()).map_err(|e| e.to_string()).and_then(|r| {
                let mut n = 0u64;
                for item in r.scan(&KeyRange::all(), false).map_err(|e| e.to_string())? {
                    item.map_err(|e| e.to_string())?;
                    n += 1;
                }
                if n != r.partition_count() as u64 {
                    return Err(format!("index lists {} partitions, {n} read", r.partition_count()));
                }
                Ok(n)
            });
            out.push(Verified { sstable, outcome });
        }
    }
    Ok(out)
}

/// Each SSTable's statistics as pretty JSON, headed by its Data.db path.
pub fn stats(paths: &[PathBuf]) -> anyhow::Result<String> {
    let cache = Arc::new(ChunkCache::new(0));
    let mut out = String::new();
    for p in paths {
        for d in descriptors(p)? {
            let data = d.path(Component::Data);
            let r = SSTableReader::open(d, cache.clone())
                .with_context(|| format!("cannot open {}", data.display()))?;
            out.push_str(&format!("{}\n{}\n", data.display(), serde_json::to_string_pretty(&r.stats())?));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use storage::{
        Cell, CellKey, DecoratedKey, Engine, EngineConfig, Mutation, Partition, Row, TableDescriptor, TableId,
    };

    fn table_dir(root: &Path) -> PathBuf {
        let ks = root.join("data").join("ks");
        std::fs::read_dir(ks).unwrap().next().unwrap().unwrap().path()
    }

    #[test]
    fn verify_passes_good_sstables_and_names_a_damaged_one() {
        let dir = tempfile::tempdir().unwrap();
        {
            let e = Engine::open(EngineConfig::new(dir.path())).unwrap();
            let t = TableId([5; 16]);
            e.create_table(TableDescriptor::new(t, "ks", "t")).unwrap();
            for i in 0..500u32 {
                let mut r = Row::default();
                r.cells.insert(CellKey::simple("v"), Cell::live(1, vec![7u8; 50]));
                let mut p = Partition::default();
                p.rows.insert(Bytes::new(), r);
                e.apply(Mutation::new(t, DecoratedKey::new(i.to_be_bytes().to_vec()), p), true).unwrap();
            }
            e.flush(t).unwrap();
        }
        let td = table_dir(dir.path());
        let report = verify(std::slice::from_ref(&td)).unwrap();
        assert_eq!(report.len(), 1);
        assert_eq!(report[0].outcome, Ok(500));
        assert!(stats(std::slice::from_ref(&td)).unwrap().contains("\"partitions\": 500"));

        let data = report[0].sstable.clone();
        let mut bytes = std::fs::read(&data).unwrap();
        bytes[3] ^= 1;
        std::fs::write(&data, bytes).unwrap();
        let report = verify(&[td]).unwrap();
        let err = report[0].outcome.as_ref().unwrap_err();
        assert!(err.contains("checksum") && err.contains("Data.db"), "{err}");
    }

    #[test]
    fn a_path_that_is_not_an_sstable_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("notes.txt");
        std::fs::write(&f, "x").unwrap();
        assert!(descriptors(&f).is_err());
        assert!(verify(&[dir.path().to_path_buf()]).is_err());
    }
}
