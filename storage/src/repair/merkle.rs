//! Merkle trees over a token range, for repair validation (Cassandra's `MerkleTree`).
//!
//! A tree covers the ring range `(start, end]` (never wrapping) with `2^depth` leaves that split
//! it evenly by token: leaf `i` covers `(b(i), b(i+1)]` with `b(i) = start + ⌊i·(end−start)/2^depth⌋`,
//! so the leaves of depth `d−1` are exactly the pairs of depth `d` and trees of different depths
//! compare at the smaller one. A leaf's hash is the XOR of the entry hashes of its partitions
//! (order does not matter); an empty leaf hashes to zero on every replica. Inner nodes hash their
//! two children with Murmur3 x64_128, so the root covers the shape as well as the leaves. Only
//! non-empty leaves are stored: memory and encoding grow with the data, not with `2^depth`.
//!
//! Encoding (all integers big-endian):
//!
//! | field | bytes |
//! |---|---|
//! | magic | `TSMT` |
//! | version | u16 (= 1) |
//! | start, end | i64, i64 |
//! | depth | u8 (≤ [`MAX_DEPTH`]) |
//! | leaves | u32 n, then n × (uvarint index gap, 16 hash, uvarint partitions, uvarint bytes) |
//! | crc | u32 CRC32 of everything before |
//!
//! The index gap is the leaf index for the first entry and `index − previous − 1` after it, so
//! indices are strictly increasing by construction.

use crate::codec::{Reader, put_uvarint};
use crate::error::{Error, Result};
use crate::token::{DecoratedKey, Token, murmur3_x64_128};

/// Deepest tree accepted: 2^20 leaves, Cassandra's `repair_session_max_tree_depth`.
pub const MAX_DEPTH: u8 = 20;
const MAGIC: &[u8; 4] = b"TSMT";
const VERSION: u16 = 1;
/// Seed of the hashes combining inner nodes and entries (any constant; both sides share it).
const SEED: u64 = 0x7e55_e7a0_5eed;
/// Smallest encoded leaf: one-byte gap, hash, one-byte counts.
const MIN_LEAF_BYTES: usize = 1 + 16 + 1 + 1;

/// One non-empty leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Leaf {
    hash: [u8; 16],
    partitions: u64,
    bytes: u64,
}

/// A Merkle tree over `(start, end]`; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleTree {
    start: Token,
    end: Token,
    depth: u8,
    /// Non-empty leaves, by increasing index.
    leaves: Vec<(u32, Leaf)>,
    root: Option<[u8; 16]>,
}

fn hash_bytes(b: &[u8]) -> [u8; 16] {
    let (h1, h2) = murmur3_x64_128(b, SEED);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&h1.to_be_bytes());
    out[8..].copy_from_slice(&h2.to_be_bytes());
    out
}

fn combine(left: &[u8; 16], right: &[u8; 16]) -> [u8; 16] {
    let mut b = [0u8; 32];
    b[..16].copy_from_slice(left);
    b[16..].copy_from_slice(right);
    hash_bytes(&b)
}

fn xor(a: &mut [u8; 16], b: &[u8; 16]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}

/// The hash a partition contributes to its leaf: its key and its content hash together, so
/// two replicas that hold the same contents under different keys do not agree.
pub fn entry_hash(key: &[u8], partition_hash: &[u8; 16]) -> [u8; 16] {
    let mut b = Vec::with_capacity(4 + key.len() + 16);
    b.extend_from_slice(&(key.len() as u32).to_be_bytes());
    b.extend_from_slice(key);
    b.extend_from_slice(partition_hash);
    hash_bytes(&b)
}

/// The depth actually used for a range of `span` tokens: at most [`MAX_DEPTH`], and no more
/// leaves than tokens, so that every leaf covers at least one token.
fn effective_depth(span: u128, depth: u8) -> u8 {
    let most = (127 - span.leading_zeros()) as u8; // floor(log2(span)), span >= 1
    depth.min(MAX_DEPTH).min(most)
}

impl MerkleTree {
    /// An empty tree over `(range.0, range.1]` with `2^depth` leaves (depth capped at
    /// [`MAX_DEPTH`] and at log2 of the range's width). The range must not wrap.
    pub fn new(range: (Token, Token), depth: u8) -> Result<MerkleTree> {
        let (start, end) = range;
        if start >= end {
            return Err(Error::Invalid(format!(
                "a Merkle tree needs a non-wrapping range (start < end), got ({start}, {end}]"
            )));
        }
        let depth = effective_depth(Self::span_of(start, end), depth);
        Ok(MerkleTree { start, end, depth, leaves: Vec::new(), root: None })
    }

    fn span_of(start: Token, end: Token) -> u128 {
        (i128::from(end) - i128::from(start)) as u128
    }

    fn span(&self) -> u128 {
        Self::span_of(self.start, self.end)
    }

    /// The range `(start, end]`.
    pub fn range(&self) -> (Token, Token) {
        (self.start, self.end)
    }

    /// The depth in use (see [`MerkleTree::new`]).
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// Number of leaves, `2^depth`.
    pub fn leaf_count(&self) -> u32 {
        1u32 << self.depth
    }

    /// The leaf holding `token`, if the token is in range.
    pub fn leaf_of(&self, token: Token) -> Option<u32> {
        if token <= self.start || token > self.end {
            return None;
        }
        let offset = (i128::from(token) - i128::from(self.start)) as u128; // 1..=span
        // The last i with b(i) < token: i·span < offset·2^depth.
        Some((((offset << self.depth) - 1) / self.span()) as u32)
    }

    /// Lower bound (exclusive) of leaf `i`; `bound(2^depth)` is the range's end.
    fn bound(&self, i: u64) -> Token {
        let off = (self.span() * u128::from(i)) >> self.depth;
        (i128::from(self.start) + off as i128) as Token
    }

    /// The token range `(from, to]` of leaf `i`.
    pub fn leaf_range(&self, i: u32) -> (Token, Token) {
        (self.bound(u64::from(i)), self.bound(u64::from(i) + 1))
    }

    fn leaf_mut(&mut self, i: u32) -> &mut Leaf {
        let at = match self.leaves.last() {
            Some((last, _)) if *last < i => self.leaves.len(),
            None => 0,
            _ => match self.leaves.binary_search_by_key(&i, |(j, _)| *j) {
                Ok(at) => return &mut self.leaves[at].1,
                Err(at) => at,
            },
        };
        self.leaves.insert(at, (i, Leaf { hash: [0; 16], partitions: 0, bytes: 0 }));
        &mut self.leaves[at].1
    }

    /// Adds one partition's hash at `token`, counting it as one partition of unknown size.
    /// Partitions are normally added in token order (any order gives the same tree). A token
    /// outside the range is ignored.
    pub fn add(&mut self, token: Token, hash: [u8; 16]) {
        self.add_sized(token, hash, 0);
    }

    /// [`MerkleTree::add`], also counting `bytes` of data in the leaf (for stream estimates).
    pub fn add_sized(&mut self, token: Token, hash: [u8; 16], bytes: u64) {
        let Some(i) = self.leaf_of(token) else {
            tracing::debug!(token, start = self.start, end = self.end, "ignoring a token outside the tree");
            return;
        };
        self.root = None;
        let leaf = self.leaf_mut(i);
        xor(&mut leaf.hash, &hash);
        leaf.partitions = leaf.partitions.saturating_add(1);
        leaf.bytes = leaf.bytes.saturating_add(bytes);
    }

    /// Adds a partition by key and content hash (see [`entry_hash`]): what validation does.
    pub fn add_partition(&mut self, key: &DecoratedKey, partition_hash: &[u8; 16], bytes: u64) {
        self.add_sized(key.token, entry_hash(&key.key, partition_hash), bytes);
    }

    /// Computes the root; call once every partition has been added.
    pub fn finish(&mut self) {
        self.root = Some(self.compute_root());
    }

    /// The root hash (computed now if [`MerkleTree::finish`] was not called since the last add).
    pub fn root(&self) -> [u8; 16] {
        self.root.unwrap_or_else(|| self.compute_root())
    }

    fn compute_root(&self) -> [u8; 16] {
        let mut empty = vec![[0u8; 16]];
        for l in 0..usize::from(self.depth) {
            empty.push(combine(&empty[l], &empty[l]));
        }
        fn node(level: u8, lo: u64, leaves: &[(u32, Leaf)], empty: &[[u8; 16]]) -> [u8; 16] {
            if leaves.is_empty() {
                return empty[usize::from(level)];
            }
            if level == 0 {
                return leaves[0].1.hash;
            }
            let mid = lo + (1u64 << (level - 1));
            let split = leaves.partition_point(|(i, _)| u64::from(*i) < mid);
            let (l, r) = leaves.split_at(split);
            combine(&node(level - 1, lo, l, empty), &node(level - 1, mid, r, empty))
        }
        node(self.depth, 0, &self.leaves, &empty)
    }

    /// Partitions counted in the tree.
    pub fn partitions(&self) -> u64 {
        self.leaves.iter().map(|(_, l)| l.partitions).fold(0, u64::saturating_add)
    }

    /// Bytes counted in the tree.
    pub fn bytes(&self) -> u64 {
        self.leaves.iter().map(|(_, l)| l.bytes).fold(0, u64::saturating_add)
    }

    /// Partitions and bytes counted in the leaves that intersect `(from, to]`: what streaming
    /// those ranges would send, as leaf granularity makes it.
    pub fn estimate(&self, ranges: &[(Token, Token)]) -> (u64, u64) {
        let mut out = (0u64, 0u64);
        for (i, l) in &self.leaves {
            let (a, b) = self.leaf_range(*i);
            if ranges.iter().any(|(from, to)| a < *to && *from < b) {
                out.0 = out.0.saturating_add(l.partitions);
                out.1 = out.1.saturating_add(l.bytes);
            }
        }
        out
    }

    /// The leaves merged pairwise down to `depth` (≤ the current one).
    fn coarsened(&self, depth: u8) -> Vec<(u32, Leaf)> {
        let shift = self.depth - depth.min(self.depth);
        let mut out: Vec<(u32, Leaf)> = Vec::with_capacity(self.leaves.len());
        for (i, l) in &self.leaves {
            let j = i >> shift;
            match out.last_mut() {
                Some((k, acc)) if *k == j => {
                    xor(&mut acc.hash, &l.hash);
                    acc.partitions = acc.partitions.saturating_add(l.partitions);
                    acc.bytes = acc.bytes.saturating_add(l.bytes);
                }
                _ => out.push((j, *l)),
            }
        }
        out
    }

    /// The token ranges whose leaves differ between the two trees, adjacent ones coalesced, in
    /// token order. Trees of different depths compare at the smaller depth. Trees over
    /// different ranges cannot be compared: the whole of this tree's range is returned.
    pub fn differences(&self, other: &MerkleTree) -> Vec<(Token, Token)> {
        if self.range() != other.range() {
            return vec![self.range()];
        }
        let depth = self.depth.min(other.depth);
        let shape = MerkleTree { start: self.start, end: self.end, depth, leaves: Vec::new(), root: None };
        let (a, b) = (self.coarsened(depth), other.coarsened(depth));
        let mut differing: Vec<u32> = Vec::new();
        let (mut x, mut y) = (a.iter().peekable(), b.iter().peekable());
        const ZERO: [u8; 16] = [0; 16];
        loop {
            let (i, ha, hb) = match (x.peek(), y.peek()) {
                (None, None) => break,
                (Some((i, l)), None) => {
                    x.next();
                    (*i, l.hash, ZERO)
                }
                (None, Some((j, m))) => {
                    y.next();
                    (*j, ZERO, m.hash)
                }
                (Some((i, l)), Some((j, m))) => match i.cmp(j) {
                    std::cmp::Ordering::Less => {
                        x.next();
                        (*i, l.hash, ZERO)
                    }
                    std::cmp::Ordering::Greater => {
                        y.next();
                        (*j, ZERO, m.hash)
                    }
                    std::cmp::Ordering::Equal => {
                        x.next();
                        y.next();
                        (*i, l.hash, m.hash)
                    }
                },
            };
            if ha != hb {
                differing.push(i);
            }
        }
        let mut out: Vec<(Token, Token)> = Vec::new();
        let mut prev: Option<u32> = None;
        for i in differing {
            let (from, to) = shape.leaf_range(i);
            match out.last_mut() {
                Some(last) if prev.is_some_and(|p| p + 1 == i) => last.1 = to,
                _ => out.push((from, to)),
            }
            prev = Some(i);
        }
        out
    }

    /// The encoding described in the module docs.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(27 + self.leaves.len() * 24 + 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&self.start.to_be_bytes());
        out.extend_from_slice(&self.end.to_be_bytes());
        out.push(self.depth);
        out.extend_from_slice(&(self.leaves.len() as u32).to_be_bytes());
        let mut prev: Option<u32> = None;
        for (i, l) in &self.leaves {
            put_uvarint(&mut out, u64::from(prev.map_or(*i, |p| i - p - 1)));
            out.extend_from_slice(&l.hash);
            put_uvarint(&mut out, l.partitions);
            put_uvarint(&mut out, l.bytes);
            prev = Some(*i);
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    /// Decodes [`MerkleTree::encode`]'s output, checking the checksum, the version and every
    /// bound. Never panics.
    pub fn decode(buf: &[u8]) -> Result<MerkleTree> {
        let bad = |what: &str| Error::Malformed(format!("Merkle tree: {what}"));
        let Some((body, crc)) = buf.split_last_chunk::<4>() else {
            return Err(bad("too short"));
        };
        if crc32fast::hash(body) != u32::from_be_bytes(*crc) {
            return Err(bad("checksum mismatch"));
        }
        let mut r = Reader::new(body);
        if r.take(4)? != MAGIC {
            return Err(bad("bad magic"));
        }
        let version = r.u16()?;
        if version != VERSION {
            return Err(bad(&format!("unsupported version {version}")));
        }
        let start = r.i64()?;
        let end = r.i64()?;
        let depth = r.u8()?;
        if start >= end {
            return Err(bad(&format!("wrapping or empty range ({start}, {end}]")));
        }
        if depth != effective_depth(Self::span_of(start, end), depth) {
            return Err(bad(&format!("depth {depth} too deep for its range")));
        }
        let mut tree = MerkleTree { start, end, depth, leaves: Vec::new(), root: None };
        let n = r.u32()? as usize;
        if n > tree.leaf_count() as usize || n.saturating_mul(MIN_LEAF_BYTES) > r.remaining() {
            return Err(bad(&format!("{n} leaves do not fit")));
        }
        tree.leaves.reserve_exact(n);
        let mut next: u64 = 0;
        for _ in 0..n {
            let i = next.checked_add(r.uvarint()?).filter(|i| *i < u64::from(tree.leaf_count()));
            let Some(i) = i else { return Err(bad("leaf index out of range")) };
            let mut hash = [0u8; 16];
            hash.copy_from_slice(r.take(16)?);
            let partitions = r.uvarint()?;
            let bytes = r.uvarint()?;
            tree.leaves.push((i as u32, Leaf { hash, partitions, bytes }));
            next = i + 1;
        }
        if !r.is_empty() {
            return Err(bad("trailing bytes"));
        }
        tree.finish();
        Ok(tree)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn counts_from_a_peer_saturate_instead_of_overflowing() {
        let mut t = MerkleTree::new((-1000, 1000), 4).unwrap();
        t.add(-500, h(1));
        t.add(500, h(2));
        for (_, l) in &mut t.leaves {
            (l.partitions, l.bytes) = (u64::MAX, u64::MAX);
        }
        let back = MerkleTree::decode(&t.encode()).unwrap();
        assert_eq!((back.partitions(), back.bytes()), (u64::MAX, u64::MAX));
        assert_eq!(back.estimate(&[(-1000, 1000)]), (u64::MAX, u64::MAX));
        let shallow = MerkleTree::new((-1000, 1000), 1).unwrap();
        assert!(!back.differences(&shallow).is_empty());
    }

    fn h(x: u64) -> [u8; 16] {
        hash_bytes(&x.to_be_bytes())
    }

    #[test]
    fn leaves_split_the_range_evenly_and_cover_it() {
        let t = MerkleTree::new((-100, 100), 3).unwrap();
        assert_eq!(t.leaf_count(), 8);
        assert_eq!(t.leaf_range(0), (-100, -75));
        assert_eq!(t.leaf_range(7), (75, 100));
        for tok in -99..=100 {
            let i = t.leaf_of(tok).unwrap();
            let (a, b) = t.leaf_range(i);
            assert!(a < tok && tok <= b, "token {tok} in leaf {i} = ({a}, {b}]");
        }
        assert_eq!(t.leaf_of(-100), None);
        assert_eq!(t.leaf_of(101), None);
    }

    #[test]
    fn the_whole_ring_and_tiny_ranges() {
        let t = MerkleTree::new((Token::MIN, Token::MAX), 20).unwrap();
        assert_eq!(t.depth(), 20);
        assert_eq!(t.leaf_of(Token::MAX), Some((1 << 20) - 1));
        assert_eq!(t.leaf_of(Token::MIN + 1), Some(0));
        assert_eq!(t.leaf_range((1 << 20) - 1).1, Token::MAX);
        // Three tokens: at most two leaves, each non-empty.
        let t = MerkleTree::new((0, 3), 10).unwrap();
        assert_eq!(t.depth(), 1);
        assert!(MerkleTree::new((5, 5), 3).is_err());
        assert!(MerkleTree::new((6, 5), 3).is_err());
        assert_eq!(MerkleTree::new((0, 1 << 40), 30).unwrap().depth(), MAX_DEPTH);
    }

    #[test]
    fn empty_trees_agree_and_the_root_sees_every_leaf() {
        let a = MerkleTree::new((0, 1000), 4).unwrap();
        let mut b = MerkleTree::new((0, 1000), 4).unwrap();
        assert_eq!(a.root(), b.root());
        assert!(a.differences(&b).is_empty());
        b.add(500, h(1));
        b.finish();
        assert_ne!(a.root(), b.root());
        let mut c = MerkleTree::new((0, 1000), 4).unwrap();
        c.add(499, h(1)); // same leaf as 500 and same hash: the leaf hash ignores the token
        assert_eq!(b.root(), c.root());
    }

    #[test]
    fn differences_are_leaf_ranges_coalesced() {
        let mut a = MerkleTree::new((0, 800), 3).unwrap(); // leaves of 100 tokens
        let mut b = a.clone();
        for t in [50, 150, 250, 350, 650] {
            a.add(t, h(t as u64));
            b.add(t, h(t as u64));
        }
        b.add(120, h(9)); // leaf 1
        b.add(280, h(9)); // leaf 2
        a.add(720, h(9)); // leaf 7
        assert_eq!(a.differences(&b), vec![(100, 300), (700, 800)]);
        assert_eq!(b.differences(&a), vec![(100, 300), (700, 800)]);
    }

    #[test]
    fn trees_of_different_depths_compare_at_the_smaller() {
        let mut deep = MerkleTree::new((0, 800), 3).unwrap();
        let mut shallow = MerkleTree::new((0, 800), 1).unwrap();
        for t in [10, 390, 410] {
            deep.add(t, h(t as u64));
            shallow.add(t, h(t as u64));
        }
        assert!(deep.differences(&shallow).is_empty());
        deep.add(420, h(1));
        assert_eq!(deep.differences(&shallow), vec![(400, 800)]);
        let other = MerkleTree::new((0, 900), 1).unwrap();
        assert_eq!(deep.differences(&other), vec![(0, 800)]);
    }

    #[test]
    fn encoding_round_trips_and_damage_is_detected() {
        let mut t = MerkleTree::new((-5000, 5000), 6).unwrap();
        for tok in (-4990..5000).step_by(37) {
            t.add_sized(tok, h(tok as u64), 10);
        }
        t.finish();
        let enc = t.encode();
        let back = MerkleTree::decode(&enc).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.root(), t.root());
        assert_eq!(back.partitions(), t.partitions());
        for i in 0..enc.len() {
            let mut bad = enc.clone();
            bad[i] ^= 0x10;
            assert!(MerkleTree::decode(&bad).is_err(), "flip at {i}");
            assert!(MerkleTree::decode(&enc[..i]).is_err(), "cut at {i}");
        }
    }

    /// Re-seals a body with a valid CRC, so that decoding gets past the checksum.
    fn seal(mut body: Vec<u8>) -> Vec<u8> {
        let crc = crc32fast::hash(&body);
        body.extend_from_slice(&crc.to_be_bytes());
        body
    }

    #[test]
    fn well_sealed_nonsense_is_rejected() {
        let mut head = MAGIC.to_vec();
        head.extend_from_slice(&VERSION.to_be_bytes());
        head.extend_from_slice(&0i64.to_be_bytes());
        head.extend_from_slice(&1000i64.to_be_bytes());
        // Depth too deep for 1000 tokens.
        let mut b = head.clone();
        b.push(12);
        b.extend_from_slice(&0u32.to_be_bytes());
        assert!(MerkleTree::decode(&seal(b)).is_err());
        // More leaves claimed than bytes present.
        let mut b = head.clone();
        b.push(3);
        b.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(MerkleTree::decode(&seal(b)).is_err());
        // A leaf index past the end.
        let mut b = head.clone();
        b.push(3);
        b.extend_from_slice(&1u32.to_be_bytes());
        b.push(8);
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&[1, 0]);
        assert!(MerkleTree::decode(&seal(b)).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any bytes, sealed or not, decode to a tree or an error; never a panic.
        #[test]
        fn random_input_never_panics(body in proptest::collection::vec(any::<u8>(), 0..200), seal_it in any::<bool>(), header in any::<bool>()) {
            let mut b = Vec::new();
            if header {
                b.extend_from_slice(MAGIC);
                b.extend_from_slice(&VERSION.to_be_bytes());
            }
            b.extend_from_slice(&body);
            let b = if seal_it { seal(b) } else { b };
            if let Ok(t) = MerkleTree::decode(&b) {
                let _ = t.root();
                let _ = t.differences(&t);
                prop_assert_eq!(MerkleTree::decode(&t.encode()).unwrap(), t);
            }
        }

        /// Two trees built from sets of (token, hash) differ exactly in the leaves where the sets
        /// differ, in whatever order the entries were added.
        #[test]
        fn differences_match_the_sets(
            common in proptest::collection::btree_map(1i64..10_000, any::<u64>(), 0..60),
            only_a in proptest::collection::btree_map(1i64..10_000, any::<u64>(), 0..5),
            only_b in proptest::collection::btree_map(1i64..10_000, any::<u64>(), 0..5),
            depth in 0u8..8,
        ) {
            let mut a = MerkleTree::new((0, 10_000), depth).unwrap();
            let mut b = a.clone();
            for (t, v) in &common {
                a.add(*t, h(*v));
            }
            for (t, v) in common.iter().rev() {
                b.add(*t, h(*v));
            }
            for (t, v) in &only_a {
                a.add(*t, h(v ^ 1));
            }
            for (t, v) in &only_b {
                b.add(*t, h(v ^ 2));
            }
            let diffs = a.differences(&b);
            let in_diffs = |t: i64| diffs.iter().any(|(x, y)| *x < t && t <= *y);
            for t in only_a.keys().chain(only_b.keys()) {
                prop_assert!(in_diffs(*t), "token {} not reported", t);
            }
            // Every reported range holds a real difference in every one of its leaves.
            for (x, y) in &diffs {
                let mut lo = *x;
                while lo < *y {
                    let leaf = a.leaf_of(lo + 1).unwrap();
                    let (_, hi) = a.leaf_range(leaf);
                    prop_assert!(only_a.keys().chain(only_b.keys()).any(|t| lo < *t && *t <= hi));
                    lo = hi;
                }
            }
            prop_assert_eq!(diffs.is_empty(), a.root() == b.root());
        }
    }
}
