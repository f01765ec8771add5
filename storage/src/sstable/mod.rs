//! SSTables: immutable sorted files of partitions, written once and published atomically.
//!
//! One SSTable is a set of component files named `ta-<generation>-<Component>` (format `ta`,
//! version 1 of each component):
//!
//! | component | content |
//! |---|---|
//! | `Data.db` | partitions in (token, key) order as one uncompressed stream cut into chunks of `chunk_length` bytes (default 64 KiB); each chunk LZ4-compressed and followed by a u32 BE CRC32 of its compressed bytes. A partition = key (`bytes`) + the partition encoding of [`crate::partition_codec`] |
//! | `CompressionInfo.db` | magic `TSCI`, version, chunk length, uncompressed length, chunk count, each chunk's offset in Data.db (u64 BE), CRC32 |
//! | `Index.db` | one entry per partition (token, key, position and length in the uncompressed stream), then a u64 offset per entry for binary search, a footer and a CRC32 (see [`index`]) |
//! | `Filter.db` | bloom filter over partition keys ([`bloom`]) |
//! | `Statistics.db` | counts, timestamp/deletion/token bounds, repair state ([`stats`]) |
//! | `TOC.txt` | the list of components; written last: an SSTable exists once its TOC does |
//!
//! Writers create every component under a `tmp-` name, fsync them, rename them into place,
//! rename the TOC last and fsync the directory. On open, `tmp-` files and components without a
//! TOC are leftovers of a crash and are deleted.

pub mod bloom;
pub mod cache;
pub mod index;
pub mod reader;
pub mod scanner;
pub mod stats;
pub mod writer;

use crate::error::{IoContext, Result};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use reader::SSTableReader;
pub use scanner::{SSTableScanner, StoredScanner};
pub use stats::Statistics;
pub use writer::{SSTableWriter, WriterOptions};

/// The current SSTable format prefix.
pub const FORMAT: &str = "ta";
/// Prefix of files still being written.
pub const TMP_PREFIX: &str = "tmp-";

/// The files of one SSTable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Component {
    /// Partition data.
    Data,
    /// Chunk offsets of Data.db.
    CompressionInfo,
    /// Partition index.
    Index,
    /// Bloom filter.
    Filter,
    /// Statistics.
    Statistics,
    /// Table of contents; its presence publishes the SSTable.
    Toc,
}

impl Component {
    /// Every component, the TOC last.
    pub const ALL: [Component; 6] = [
        Component::Data,
        Component::CompressionInfo,
        Component::Index,
        Component::Filter,
        Component::Statistics,
        Component::Toc,
    ];

    /// The file name suffix.
    pub fn name(self) -> &'static str {
        match self {
            Component::Data => "Data.db",
            Component::CompressionInfo => "CompressionInfo.db",
            Component::Index => "Index.db",
            Component::Filter => "Filter.db",
            Component::Statistics => "Statistics.db",
            Component::Toc => "TOC.txt",
        }
    }

    fn from_name(s: &str) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// Where an SSTable lives: its table directory and generation number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Descriptor {
    /// The table's directory.
    pub dir: PathBuf,
    /// Unique, increasing per table.
    pub generation: u64,
}

impl Descriptor {
    /// A descriptor.
    pub fn new(dir: impl Into<PathBuf>, generation: u64) -> Self {
        Descriptor { dir: dir.into(), generation }
    }

    /// The final path of a component.
    pub fn path(&self, c: Component) -> PathBuf {
        self.dir.join(format!("{FORMAT}-{}-{}", self.generation, c.name()))
    }

    /// The temporary path of a component while it is written.
    pub fn tmp_path(&self, c: Component) -> PathBuf {
        self.dir.join(format!("{TMP_PREFIX}{FORMAT}-{}-{}", self.generation, c.name()))
    }

    /// Parses a component file name into (generation, component).
    pub fn parse_file_name(name: &str) -> Option<(u64, Component)> {
        let rest = name.strip_prefix(FORMAT)?.strip_prefix('-')?;
        let (gen_str, comp) = rest.split_once('-')?;
        Some((gen_str.parse().ok()?, Component::from_name(comp)?))
    }

    /// Total bytes of the published components.
    pub fn disk_size(&self) -> u64 {
        Component::ALL.iter().filter_map(|c| std::fs::metadata(self.path(*c)).ok()).map(|m| m.len()).sum()
    }

    /// Deletes every component (final and temporary), the TOC first so that a crash midway
    /// leaves an unpublished set that start-up cleans.
    pub fn delete(&self) -> Result<()> {
        let mut order = Component::ALL;
        order.reverse();
        for c in order {
            for p in [self.path(c), self.tmp_path(c)] {
                match std::fs::remove_file(&p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(crate::Error::io(p, e)),
                }
            }
        }
        Ok(())
    }
}

/// Fsyncs a directory so that renames and creations in it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).at(dir)?.sync_all().at(dir)
}

/// Writes `bytes` to `path` atomically: a temporary file, fsync, rename, directory fsync.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!("{TMP_PREFIX}{name}"));
    {
        let mut f = File::create(&tmp).at(&tmp)?;
        f.write_all(bytes).at(&tmp)?;
        f.sync_all().at(&tmp)?;
    }
    std::fs::rename(&tmp, path).at(path)?;
    sync_dir(dir)
}

/// Lists the published generations in a table directory and deletes crash leftovers:
/// temporary files and component sets without a TOC. Returns generations in ascending order.
pub fn scan_directory(dir: &Path) -> Result<Vec<u64>> {
    use std::collections::BTreeMap;
    let mut found: BTreeMap<u64, Vec<Component>> = BTreeMap::new();
    let mut leftovers = Vec::new();
    for entry in std::fs::read_dir(dir).at(dir)? {
        let entry = entry.at(dir)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(TMP_PREFIX) {
            leftovers.push(entry.path());
        } else if let Some((generation, c)) = Descriptor::parse_file_name(&name) {
            found.entry(generation).or_default().push(c);
        }
    }
    let mut published = Vec::new();
    for (generation, comps) in found {
        if comps.contains(&Component::Toc) {
            published.push(generation);
        } else {
            tracing::warn!(dir = %dir.display(), generation, "deleting unpublished SSTable components left by a crash");
            Descriptor::new(dir, generation).delete()?;
        }
    }
    for p in leftovers {
        tracing::warn!(file = %p.display(), "deleting temporary file left by a crash");
        // An unpublished generation's delete above may already have removed it.
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(crate::Error::io(p, e)),
        }
    }
    Ok(published)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip() {
        let d = Descriptor::new("/x", 42);
        let p = d.path(Component::Statistics);
        let name = p.file_name().unwrap().to_str().unwrap();
        assert_eq!(name, "ta-42-Statistics.db");
        assert_eq!(Descriptor::parse_file_name(name), Some((42, Component::Statistics)));
        assert_eq!(Descriptor::parse_file_name("tmp-ta-42-Data.db"), None);
        assert_eq!(Descriptor::parse_file_name("ta-x-Data.db"), None);
    }
}
