//! `Mutation`: the changes to one partition of one table — the unit of a write, of a commit log
//! entry, of an internode message and of a hint. Its encoding is versioned so it can evolve.
//!
//! | field | encoding |
//! |---|---|
//! | version | u8 (= 1) |
//! | table id | 16 bytes |
//! | partition key | uvarint length + bytes |
//! | update | the partition encoding of [`crate::partition_codec`] |

use crate::codec::{Reader, put_bytes};
use crate::error::{Error, Result};
use crate::partition::Partition;
use crate::partition_codec::{decode_partition, encode_partition};
use crate::table_id::TableId;
use crate::token::DecoratedKey;
use bytes::Bytes;

/// Current mutation encoding version.
pub const MUTATION_VERSION: u8 = 1;

/// Changes to one partition of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    /// The table.
    pub table: TableId,
    /// The partition key with its token.
    pub key: DecoratedKey,
    /// The changes.
    pub update: Partition,
}

impl Mutation {
    /// A mutation of `key` in `table`.
    pub fn new(table: TableId, key: DecoratedKey, update: Partition) -> Self {
        Mutation { table, key, update }
    }

    /// Appends the versioned encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(MUTATION_VERSION);
        out.extend_from_slice(&self.table.0);
        put_bytes(out, &self.key.key);
        encode_partition(out, &self.update);
    }

    /// The versioned encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.update.data_size());
        self.encode_into(&mut out);
        out
    }

    /// Decodes a mutation; values are zero-copy slices of `buf`.
    pub fn decode(buf: &Bytes) -> Result<Mutation> {
        let mut r = Reader::new(buf);
        let version = r.u8()?;
        if version != MUTATION_VERSION {
            return Err(Error::Malformed(format!("unknown mutation version {version}")));
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(r.take(16)?);
        let key = Bytes::copy_from_slice(r.bytes()?);
        let update = decode_partition(&mut r, buf)?;
        if !r.is_empty() {
            return Err(Error::Malformed(format!("{} trailing bytes after mutation", r.remaining())));
        }
        Ok(Mutation { table: TableId(id), key: DecoratedKey::new(key), update })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::Cell;
    use crate::row::{CellKey, Row};

    #[test]
    fn round_trip_and_rejects_bad_version() {
        let mut p = Partition::default();
        let mut row = Row::default();
        row.cells.insert(CellKey::simple("v"), Cell::live(1, "x"));
        p.rows.insert(Bytes::from_static(b"c"), row);
        let m = Mutation::new(TableId([7; 16]), DecoratedKey::new(&b"k"[..]), p);
        let enc = Bytes::from(m.encode());
        assert_eq!(Mutation::decode(&enc).unwrap(), m);
        let mut bad = enc.to_vec();
        bad[0] = 99;
        assert!(Mutation::decode(&Bytes::from(bad)).is_err());
        let mut trailing = enc.to_vec();
        trailing.push(0);
        assert!(Mutation::decode(&Bytes::from(trailing)).is_err());
    }
}
