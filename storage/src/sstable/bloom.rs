//! The bloom filter over partition keys (`Filter.db`).
//!
//! Bits are chosen by double hashing from the two halves of the key's Murmur3 x64_128 hash
//! (the same hash that gives the token, so a lookup hashes the key once for every SSTable):
//! bit_i = (h1 + i·h2) mod m for i in 0..k.
//!
//! | field | encoding |
//! |---|---|
//! | magic | `TSBF` |
//! | version | u16 BE (= 1) |
//! | hashes k | u32 BE |
//! | words | u64 BE count of 64-bit words |
//! | bits | words × u64 LE |
//! | crc | u32 BE CRC32 of everything before |

use crate::codec::Reader;
use crate::error::{Error, Result};
use std::path::Path;

const MAGIC: &[u8; 4] = b"TSBF";
const VERSION: u16 = 1;

/// A bloom filter sized for an expected key count and false-positive chance.
#[derive(Debug, Clone)]
pub struct BloomFilter {
    hashes: u32,
    bits: Vec<u64>,
}

impl BloomFilter {
    /// A filter for `keys` keys at false-positive chance `fp` (0 < fp < 1).
    pub fn new(keys: usize, fp: f64) -> Self {
        let fp = fp.clamp(1e-6, 0.999);
        let n = keys.max(1) as f64;
        let m = (-(n * fp.ln()) / (std::f64::consts::LN_2 * std::f64::consts::LN_2)).ceil();
        let words = ((m as usize).div_ceil(64)).max(1);
        let k = ((words * 64) as f64 / n * std::f64::consts::LN_2).round().clamp(1.0, 20.0) as u32;
        BloomFilter { hashes: k, bits: vec![0; words] }
    }

    #[inline]
    fn positions(&self, h1: u64, h2: u64) -> impl Iterator<Item = usize> + '_ {
        let m = (self.bits.len() * 64) as u64;
        (0..u64::from(self.hashes)).map(move |i| (h1.wrapping_add(i.wrapping_mul(h2)) % m) as usize)
    }

    /// Adds a key by its Murmur3 hash halves.
    pub fn insert(&mut self, h1: u64, h2: u64) {
        let m = (self.bits.len() * 64) as u64;
        for i in 0..u64::from(self.hashes) {
            let bit = (h1.wrapping_add(i.wrapping_mul(h2)) % m) as usize;
            self.bits[bit / 64] |= 1 << (bit % 64);
        }
    }

    /// False only if the key was certainly never added.
    #[inline]
    pub fn may_contain(&self, h1: u64, h2: u64) -> bool {
        self.positions(h1, h2).all(|bit| self.bits[bit / 64] & (1 << (bit % 64)) != 0)
    }

    /// Memory used by the bits.
    pub fn size_bytes(&self) -> usize {
        self.bits.len() * 8
    }

    /// The `Filter.db` encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(22 + self.bits.len() * 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&self.hashes.to_be_bytes());
        out.extend_from_slice(&(self.bits.len() as u64).to_be_bytes());
        for w in &self.bits {
            out.extend_from_slice(&w.to_le_bytes());
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    /// Decodes `Filter.db`, verifying its checksum.
    pub fn decode(buf: &[u8], path: &Path) -> Result<BloomFilter> {
        if buf.len() < 22 {
            return Err(Error::corruption(path, 0, "filter file too short"));
        }
        let (body, crc) = buf.split_at(buf.len() - 4);
        let want = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
        if crc32fast::hash(body) != want {
            return Err(Error::corruption(path, 0, "filter checksum mismatch"));
        }
        let mut r = Reader::new(body);
        if r.take(4)? != MAGIC {
            return Err(Error::corruption(path, 0, "bad filter magic"));
        }
        let version = r.u16()?;
        if version != VERSION {
            return Err(Error::UnsupportedVersion { path: path.into(), version: version.into() });
        }
        let hashes = r.u32()?;
        let words = r.u64()? as usize;
        if hashes == 0 || hashes > 64 || words == 0 || words.saturating_mul(8) != r.remaining() {
            return Err(Error::corruption(path, 14, "bad filter dimensions"));
        }
        let mut bits = Vec::with_capacity(words);
        for _ in 0..words {
            let b = r.take(8)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            bits.push(u64::from_le_bytes(a));
        }
        Ok(BloomFilter { hashes, bits })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::murmur3_x64_128;

    #[test]
    fn no_false_negatives_and_about_the_asked_false_positive_rate() {
        let mut f = BloomFilter::new(10_000, 0.01);
        for i in 0..10_000u32 {
            let (a, b) = murmur3_x64_128(&i.to_be_bytes(), 0);
            f.insert(a, b);
        }
        for i in 0..10_000u32 {
            let (a, b) = murmur3_x64_128(&i.to_be_bytes(), 0);
            assert!(f.may_contain(a, b));
        }
        let fps = (10_000..110_000u32)
            .filter(|i| {
                let (a, b) = murmur3_x64_128(&i.to_be_bytes(), 0);
                f.may_contain(a, b)
            })
            .count();
        assert!(fps < 2_000, "false positive rate {}% is far above 1%", fps as f64 / 1000.0);
    }

    #[test]
    fn encode_decode_and_detect_corruption() {
        let mut f = BloomFilter::new(100, 0.01);
        f.insert(1, 2);
        let enc = f.encode();
        let g = BloomFilter::decode(&enc, Path::new("f")).unwrap();
        assert!(g.may_contain(1, 2));
        let mut bad = enc.clone();
        bad[30] ^= 1;
        assert!(matches!(BloomFilter::decode(&bad, Path::new("f")), Err(Error::Corruption { .. })));
    }
}
