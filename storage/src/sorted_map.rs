//! `SortedMap`: an ordered map that is a sorted `Vec` while small and a `BTreeMap` once it
//! passes [`SMALL`] entries.
//!
//! Most partitions hold one row and most rows a few cells; a `BTreeMap` allocates a node of
//! eleven slots for even one entry (kilobytes per single-cell partition), which made memtables
//! several times larger than their data. A small sorted vector costs one allocation sized to
//! its contents; wide partitions still get logarithmic inserts.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, btree_map};
use std::ops::{Bound, RangeBounds};

/// Entries kept in the vector form before switching to a B-tree.
pub const SMALL: usize = 16;

/// An ordered map; see the module docs.
#[derive(Debug, Clone)]
pub enum SortedMap<K, V> {
    /// Sorted by key, at most [`SMALL`] entries.
    Small(Vec<(K, V)>),
    /// Past [`SMALL`] entries.
    Large(BTreeMap<K, V>),
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap::Small(Vec::new())
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// An empty map (allocates nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `n` entries (a B-tree when `n` exceeds [`SMALL`]).
    pub fn with_capacity(n: usize) -> Self {
        if n > SMALL { SortedMap::Large(BTreeMap::new()) } else { SortedMap::Small(Vec::with_capacity(n)) }
    }

    /// Appends an entry whose key is greater than every key present (decoding sorted input);
    /// falls back to an ordinary insert otherwise.
    pub fn push_sorted(&mut self, key: K, value: V) {
        match self {
            SortedMap::Small(v) if v.len() < SMALL && v.last().is_none_or(|(k, _)| *k < key) => {
                v.push((key, value))
            }
            _ => {
                self.insert(key, value);
            }
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        match self {
            SortedMap::Small(v) => v.len(),
            SortedMap::Large(m) => m.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn search<Q: Ord + ?Sized>(v: &[(K, V)], key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        v.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// The value for `key`.
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        match self {
            SortedMap::Small(v) => Self::search(v, key).ok().map(|i| &v[i].1),
            SortedMap::Large(m) => m.get(key),
        }
    }

    /// The value for `key`, mutably.
    pub fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        match self {
            SortedMap::Small(v) => Self::search(v, key).ok().map(|i| &mut v[i].1),
            SortedMap::Large(m) => m.get_mut(key),
        }
    }

    /// True if `key` is present.
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.get(key).is_some()
    }

    fn grow_if_needed(&mut self) {
        if let SortedMap::Small(v) = self
            && v.len() > SMALL
        {
            let m: BTreeMap<K, V> = std::mem::take(v).into_iter().collect();
            *self = SortedMap::Large(m);
        }
    }

    /// Inserts, returning the value replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let old = match self {
            SortedMap::Small(v) => match Self::search(v, &key) {
                Ok(i) => Some(std::mem::replace(&mut v[i].1, value)),
                Err(i) => {
                    if v.capacity() == 0 {
                        // Most maps hold one entry: don't let Vec's growth reserve four.
                        v.reserve_exact(1);
                    }
                    v.insert(i, (key, value));
                    None
                }
            },
            SortedMap::Large(m) => m.insert(key, value),
        };
        self.grow_if_needed();
        old
    }

    /// Inserts `value` under `key`, or merges it into the present value with `merge`.
    pub fn merge_with(&mut self, key: K, value: V, merge: impl FnOnce(&mut V, V)) {
        match self {
            SortedMap::Small(v) => match Self::search(v, &key) {
                Ok(i) => merge(&mut v[i].1, value),
                Err(i) => {
                    if v.capacity() == 0 {
                        v.reserve_exact(1);
                    }
                    v.insert(i, (key, value));
                }
            },
            SortedMap::Large(m) => match m.entry(key) {
                btree_map::Entry::Vacant(e) => {
                    e.insert(value);
                }
                btree_map::Entry::Occupied(mut e) => merge(e.get_mut(), value),
            },
        }
        self.grow_if_needed();
    }

    /// Keeps the entries for which `f` is true.
    pub fn retain(&mut self, mut f: impl FnMut(&K, &mut V) -> bool) {
        match self {
            SortedMap::Small(v) => v.retain_mut(|(k, val)| f(k, val)),
            SortedMap::Large(m) => m.retain(|k, val| f(k, val)),
        }
    }

    /// Entries in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        match self {
            SortedMap::Small(v) => Iter::Small(v.iter()),
            SortedMap::Large(m) => Iter::Large(m.iter()),
        }
    }

    /// Entries in key order, values mutable.
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        match self {
            SortedMap::Small(v) => IterMut::Small(v.iter_mut()),
            SortedMap::Large(m) => IterMut::Large(m.iter_mut()),
        }
    }

    /// Keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }

    /// Values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }

    /// Values in key order, mutable.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> {
        self.iter_mut().map(|(_, v)| v)
    }

    /// Entries whose keys fall in `range`.
    pub fn range<Q: Ord + ?Sized, R: RangeBounds<Q>>(&self, range: R) -> Iter<'_, K, V>
    where
        K: Borrow<Q>,
    {
        match self {
            SortedMap::Small(v) => {
                let lo = match range.start_bound() {
                    Bound::Unbounded => 0,
                    Bound::Included(q) => v.partition_point(|(k, _)| k.borrow().cmp(q) == Ordering::Less),
                    Bound::Excluded(q) => v.partition_point(|(k, _)| k.borrow().cmp(q) != Ordering::Greater),
                };
                let hi = match range.end_bound() {
                    Bound::Unbounded => v.len(),
                    Bound::Included(q) => v.partition_point(|(k, _)| k.borrow().cmp(q) != Ordering::Greater),
                    Bound::Excluded(q) => v.partition_point(|(k, _)| k.borrow().cmp(q) == Ordering::Less),
                };
                Iter::Small(v[lo..hi.max(lo)].iter())
            }
            SortedMap::Large(m) => Iter::LargeRange(m.range(range)),
        }
    }
}

impl<K: Ord, V: PartialEq> PartialEq for SortedMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl<K: Ord, V: Eq> Eq for SortedMap<K, V> {}

impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> std::ops::Index<&Q> for SortedMap<K, V> {
    type Output = V;

    /// Panics when the key is absent, like `BTreeMap`'s index (tests only).
    #[allow(clippy::panic)]
    fn index(&self, key: &Q) -> &V {
        match self.get(key) {
            Some(v) => v,
            None => panic!("key not in SortedMap"),
        }
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = SortedMap::new();
        for (k, v) in iter {
            // Sorted input appends at the end of the vector, O(1) each.
            m.insert(k, v);
        }
        m
    }
}

impl<K: Ord, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V>;

    fn into_iter(self) -> IntoIter<K, V> {
        match self {
            SortedMap::Small(v) => IntoIter::Small(v.into_iter()),
            SortedMap::Large(m) => IntoIter::Large(m.into_iter()),
        }
    }
}

impl<'a, K: Ord, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

/// Borrowing iterator.
pub enum Iter<'a, K, V> {
    /// Vector form.
    Small(std::slice::Iter<'a, (K, V)>),
    /// B-tree form, whole map.
    Large(btree_map::Iter<'a, K, V>),
    /// B-tree form, a range.
    LargeRange(btree_map::Range<'a, K, V>),
}

impl<'a, K, V> From<btree_map::Range<'a, K, V>> for Iter<'a, K, V> {
    fn from(r: btree_map::Range<'a, K, V>) -> Self {
        Iter::LargeRange(r)
    }
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Small(i) => i.next().map(|(k, v)| (k, v)),
            Iter::Large(i) => i.next(),
            Iter::LargeRange(i) => i.next(),
        }
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Small(i) => i.next_back().map(|(k, v)| (k, v)),
            Iter::Large(i) => i.next_back(),
            Iter::LargeRange(i) => i.next_back(),
        }
    }
}

/// Mutable iterator.
pub enum IterMut<'a, K, V> {
    /// Vector form.
    Small(std::slice::IterMut<'a, (K, V)>),
    /// B-tree form.
    Large(btree_map::IterMut<'a, K, V>),
}

impl<'a, K, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            IterMut::Small(i) => i.next().map(|(k, v)| (&*k, v)),
            IterMut::Large(i) => i.next(),
        }
    }
}

impl<K, V> DoubleEndedIterator for IterMut<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            IterMut::Small(i) => i.next_back().map(|(k, v)| (&*k, v)),
            IterMut::Large(i) => i.next_back(),
        }
    }
}

/// Owning iterator.
pub enum IntoIter<K, V> {
    /// Vector form.
    Small(std::vec::IntoIter<(K, V)>),
    /// B-tree form.
    Large(btree_map::IntoIter<K, V>),
}

impl<K, V> Iterator for IntoIter<K, V> {
    type Item = (K, V);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            IntoIter::Small(i) => i.next(),
            IntoIter::Large(i) => i.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn behaves_like_a_btreemap(ops in prop::collection::vec((0u16..64, any::<u8>(), 0u8..4), 0..200), lo in 0u16..70, hi in 0u16..70) {
            let mut a: SortedMap<u16, u8> = SortedMap::new();
            let mut b: BTreeMap<u16, u8> = BTreeMap::new();
            for (k, v, op) in ops {
                match op {
                    0 => { prop_assert_eq!(a.insert(k, v), b.insert(k, v)); }
                    1 => {
                        a.merge_with(k, v, |x, y| *x = x.wrapping_add(y));
                        let e = b.entry(k).or_insert(0);
                        *e = if *e == 0 && !a.contains_key(&k) { v } else { e.wrapping_add(v) };
                        b.insert(k, *a.get(&k).unwrap());
                    }
                    2 => { a.retain(|k2, _| *k2 != k); b.retain(|k2, _| *k2 != k); }
                    _ => { prop_assert_eq!(a.get(&k), b.get(&k)); }
                }
                prop_assert_eq!(a.len(), b.len());
            }
            let av: Vec<_> = a.iter().map(|(k, v)| (*k, *v)).collect();
            let bv: Vec<_> = b.iter().map(|(k, v)| (*k, *v)).collect();
            prop_assert_eq!(av, bv);
            let (lo, hi) = (lo.min(hi), lo.max(hi));
            let ar: Vec<_> = a.range(lo..hi).map(|(k, _)| *k).collect();
            let br: Vec<_> = b.range(lo..hi).map(|(k, _)| *k).collect();
            prop_assert_eq!(ar, br);
            let ar: Vec<_> = a.range((Bound::Excluded(lo), Bound::Included(hi))).map(|(k, _)| *k).collect();
            let br: Vec<_> = b.range((Bound::Excluded(lo), Bound::Included(hi))).map(|(k, _)| *k).collect();
            prop_assert_eq!(ar, br);
            let rev: Vec<_> = a.iter().rev().map(|(k, _)| *k).collect();
            let brev: Vec<_> = b.iter().rev().map(|(k, _)| *k).collect();
            prop_assert_eq!(rev, brev);
        }
    }
}
