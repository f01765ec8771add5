//! Table identity: a 16-byte id (a UUID, as Cassandra's table ids are) that names a table in the
//! commit log, in SSTable directories and in internode messages, independent of its CQL name.

use std::fmt;

/// The id of a table.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TableId(pub [u8; 16]);

impl TableId {
    /// Parses the 32-hex-digit form (hyphens allowed), as printed by `Display`.
    pub fn parse(s: &str) -> Option<TableId> {
        let hex: Vec<u8> = s.bytes().filter(|b| *b != b'-').collect();
        if hex.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (i, pair) in hex.chunks_exact(2).enumerate() {
            let s = std::str::from_utf8(pair).ok()?;
            out[i] = u8::from_str_radix(s, 16).ok()?;
        }
        Some(TableId(out))
    }

    /// The 32 lowercase hex digits without hyphens (used in directory names).
    pub fn simple(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for TableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.simple();
        write!(f, "{}-{}-{}-{}-{}", &s[0..8], &s[8..12], &s[12..16], &s[16..20], &s[20..32])
    }
}

impl fmt::Debug for TableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TableId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let id = TableId([0x12; 16]);
        let s = id.to_string();
        assert_eq!(s, "12121212-1212-1212-1212-121212121212");
        assert_eq!(TableId::parse(&s), Some(id));
        assert_eq!(TableId::parse(&id.simple()), Some(id));
        assert_eq!(TableId::parse("xyz"), None);
    }
}
