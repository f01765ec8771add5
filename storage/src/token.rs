//! Partition keys and tokens: Cassandra's Murmur3Partitioner, bit for bit.
//!
//! The token of a partition key is the first 64-bit half of MurmurHash3 x64_128 (seed 0) of the
//! serialized key, with Cassandra's quirk: the 1–15 tail bytes are read as *signed* bytes and
//! sign-extended before mixing, so stock murmur3 crates give other tokens for most keys.
//! `i64::MIN` is reserved as the ring's minimum and maps to `i64::MAX`.
//! Partitions are ordered by (token, key bytes): see [`DecoratedKey`].

use bytes::Bytes;
use std::cmp::Ordering;

/// A position on the token ring.
pub type Token = i64;

/// The ring's minimum token; never the token of a key.
pub const MIN_TOKEN: Token = i64::MIN;

#[inline]
fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// Cassandra's `MurmurHash.hash3_x64_128(key, 0, len, seed)`, returning `(h1, h2)`.
pub fn murmur3_x64_128(key: &[u8], seed: u64) -> (u64, u64) {
    const C1: u64 = 0x87c3_7b91_1142_53d5;
    const C2: u64 = 0x4cf5_ad43_2745_937f;
    let len = key.len();
    let mut h1 = seed;
    let mut h2 = seed;
    let mut chunks = key.chunks_exact(16);
    for block in &mut chunks {
        let mut a = [0u8; 8];
        a.copy_from_slice(&block[..8]);
        let mut k1 = u64::from_le_bytes(a);
        a.copy_from_slice(&block[8..]);
        let mut k2 = u64::from_le_bytes(a);

        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1.rotate_left(27).wrapping_add(h2).wrapping_mul(5).wrapping_add(0x52dc_e729);
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
        h2 = h2.rotate_left(31).wrapping_add(h1).wrapping_mul(5).wrapping_add(0x3849_5ab5);
    }
    let tail = chunks.remainder();
    // Signed-byte tail: `(long) key.get(i)` sign-extends in Java.
    let t = |i: usize| tail[i] as i8 as i64 as u64;
    let mut k1: u64 = 0;
    let mut k2: u64 = 0;
    let n = tail.len();
    for i in (8..n).rev() {
        k2 ^= t(i) << ((i - 8) * 8);
    }
    if n > 8 {
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
    }
    for i in (0..n.min(8)).rev() {
        k1 ^= t(i) << (i * 8);
    }
    if n > 0 {
        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
    }
    h1 ^= len as u64;
    h2 ^= len as u64;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1, h2)
}

/// The Murmur3Partitioner token of a serialized partition key.
///
/// An empty key maps to the minimum token, as in Cassandra.
pub fn token_of(key: &[u8]) -> Token {
    if key.is_empty() {
        return MIN_TOKEN;
    }
    let h1 = murmur3_x64_128(key, 0).0 as i64;
    if h1 == i64::MIN { i64::MAX } else { h1 }
}

/// A partition key with its token: the unit of placement and of on-disk order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DecoratedKey {
    /// The key's token.
    pub token: Token,
    /// The serialized partition key.
    pub key: Bytes,
}

impl DecoratedKey {
    /// Decorates `key` with its Murmur3 token.
    pub fn new(key: impl Into<Bytes>) -> Self {
        let key = key.into();
        DecoratedKey { token: token_of(&key), key }
    }
}

impl Ord for DecoratedKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.token.cmp(&other.token).then_with(|| self.key.cmp(&other.key))
    }
}

impl PartialOrd for DecoratedKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cassandra_token_vectors() {
        // Vectors checked against Cassandra's Murmur3Partitioner and the drivers.
        assert_eq!(token_of(&1i32.to_be_bytes()), -4069959284402364209);
        assert_eq!(token_of(&2i32.to_be_bytes()), -3248873570005575792);
        assert_eq!(token_of(&128i32.to_be_bytes()), -9081975895656599623);
        assert_eq!(token_of(&(-1i32).to_be_bytes()), 7297452126230313552);
        assert_eq!(token_of(&1i64.to_be_bytes()), 6292367497774912474);
        assert_eq!(token_of(b"hello"), -3758069500696749310);
        assert_eq!(token_of(&[0xff]), -4442228696663692417);
        let bytes: Vec<u8> = (0x80u8..=0x93).collect();
        assert_eq!(token_of(&bytes), 4445046086399922156);
    }

    #[test]
    fn empty_key_is_the_minimum_token() {
        assert_eq!(token_of(b""), MIN_TOKEN);
    }

    #[test]
    fn keys_order_by_token_then_bytes() {
        let a = DecoratedKey { token: 5, key: Bytes::from_static(b"b") };
        let b = DecoratedKey { token: 5, key: Bytes::from_static(b"c") };
        let c = DecoratedKey { token: 6, key: Bytes::from_static(b"a") };
        assert!(a < b && b < c);
    }
}
