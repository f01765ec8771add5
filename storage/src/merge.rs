//! The merging iterator: several ordered partition sources (memtable and SSTable scanners)
//! become one ordered stream in which each key appears once, its versions reconciled and
//! shadowed data removed. Scans and compaction both stand on it.
//!
//! Iterated directly it yields decoded [`Partition`]s. [`MergeIterator::data`] yields
//! [`PartitionData`] instead: a key only one SSTable holds stays in its stored encoding, so
//! a reader walking live rows ([`PartitionData::for_each_live_row`]) never builds it.

use crate::error::Result;
use crate::live::PartitionData;
use crate::partition::Partition;
use crate::sstable::StoredScanner;
use crate::token::DecoratedKey;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A boxed source of ordered partitions.
pub type PartitionSource = Box<dyn Iterator<Item = Result<(DecoratedKey, PartitionData)>> + Send>;

/// Wraps an iterator of decoded partitions as a [`PartitionSource`].
pub fn decoded_source<I>(it: I) -> PartitionSource
where
    I: Iterator<Item = Result<(DecoratedKey, Partition)>> + Send + 'static,
{
    Box::new(it.map(|r| r.map(|(k, p)| (k, PartitionData::Decoded(Box::new(p))))))
}

/// Merges ordered sources; see the module docs.
pub struct MergeIterator {
    sources: Vec<PartitionSource>,
    heap: BinaryHeap<Reverse<(DecoratedKey, usize)>>,
    pending: Vec<Option<PartitionData>>,
    failed: bool,
}

impl MergeIterator {
    /// Merges `sources`; each must yield strictly increasing keys.
    pub fn new(sources: Vec<PartitionSource>) -> Result<Self> {
        let n = sources.len();
        let mut it = MergeIterator {
            sources,
            heap: BinaryHeap::with_capacity(n),
            pending: vec![None; n],
            failed: false,
        };
        if n > 1 {
            for i in 0..n {
                it.advance(i)?;
            }
        }
        Ok(it)
    }

    /// The same merge, yielding [`PartitionData`].
    pub fn data(self) -> DataIterator {
        DataIterator(Data::Merge(self))
    }

    fn advance(&mut self, i: usize) -> Result<()> {
        if let Some(item) = self.sources[i].next() {
            let (k, p) = item?;
            self.pending[i] = Some(p);
            self.heap.push(Reverse((k, i)));
        }
        Ok(())
    }

    /// The next key and its data; a lone stored version is returned as it is.
    fn next_data(&mut self) -> Result<Option<(DecoratedKey, PartitionData)>> {
        if self.sources.len() == 1 {
            // One source holds each key once: nothing to merge, only shadowing to apply.
            return match self.sources[0].next().transpose()? {
                None => Ok(None),
                Some((k, PartitionData::Decoded(mut p))) => {
                    p.purge_shadowed();
                    Ok(Some((k, PartitionData::Decoded(p))))
                }
                Some(stored) => Ok(Some(stored)),
            };
        }
        let Some(Reverse((key, i))) = self.heap.pop() else { return Ok(None) };
        let first = self.pending[i].take();
        self.advance(i)?;
        let lone = self.heap.peek().is_none_or(|Reverse((k, _))| *k != key);
        if lone && let Some(d @ PartitionData::Stored(_)) = first {
            return Ok(Some((key, d)));
        }
        let mut merged = match first {
            Some(d) => d.into_partition()?,
            None => Partition::default(),
        };
        while let Some(Reverse((k, _))) = self.heap.peek() {
            if *k != key {
                break;
            }
            let Some(Reverse((_, j))) = self.heap.pop() else { break };
            if let Some(p) = self.pending[j].take() {
                merged.merge(p.into_partition()?);
            }
            self.advance(j)?;
        }
        merged.purge_shadowed();
        Ok(Some((key, PartitionData::Decoded(Box::new(merged)))))
    }

    fn next_merged(&mut self) -> Result<Option<(DecoratedKey, Partition)>> {
        match self.next_data()? {
            None => Ok(None),
            Some((k, d)) => Ok(Some((k, d.into_partition()?))),
        }
    }

    fn guard<T>(&mut self, r: Result<Option<T>>) -> Option<Result<T>> {
        if self.failed {
            return None;
        }
        match r {
            Ok(Some(x)) => Some(Ok(x)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl Iterator for MergeIterator {
    type Item = Result<(DecoratedKey, Partition)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let r = self.next_merged();
        self.guard(r)
    }
}

/// [`MergeIterator`] yielding [`PartitionData`].
pub struct DataIterator(Data);

enum Data {
    Merge(MergeIterator),
    /// A single SSTable's scan: nothing to merge, and its partitions need no purge, so they
    /// pass through as they are (see [`crate::table::Table::scan_data`]).
    Single(StoredScanner),
}

impl DataIterator {
    /// The partitions of one SSTable's scan, unmerged.
    pub(crate) fn single(scan: StoredScanner) -> Self {
        DataIterator(Data::Single(scan))
    }
}

impl Iterator for DataIterator {
    type Item = Result<(DecoratedKey, PartitionData)>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            // The scan ends itself after an error.
            Data::Single(s) => s.next(),
            Data::Merge(m) => {
                if m.failed {
                    return None;
                }
                let r = m.next_data();
                m.guard(r)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::Cell;
    use crate::row::{CellKey, Row};
    use bytes::Bytes;

    fn src(items: Vec<(u32, i64)>) -> PartitionSource {
        let mut v: Vec<(DecoratedKey, Partition)> = items
            .into_iter()
            .map(|(k, ts)| {
                let mut p = Partition::default();
                let mut r = Row::default();
                r.cells.insert(CellKey::simple("v"), Cell::live(ts, ts.to_string()));
                p.rows.insert(Bytes::new(), r);
                (DecoratedKey::new(k.to_be_bytes().to_vec()), p)
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        decoded_source(v.into_iter().map(Ok))
    }

    #[test]
    fn each_key_once_newest_wins() {
        let m = MergeIterator::new(vec![src(vec![(1, 1), (2, 1)]), src(vec![(2, 5), (3, 1)]), src(vec![])])
            .unwrap();
        let out: Vec<_> = m.map(|r| r.unwrap()).collect();
        assert_eq!(out.len(), 3);
        for (k, p) in out {
            let ts = p.rows[&Bytes::new()].cells[&CellKey::simple("v")].timestamp;
            if k == DecoratedKey::new(2u32.to_be_bytes().to_vec()) {
                assert_eq!(ts, 5);
            }
        }
    }
}
