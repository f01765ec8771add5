//! Clustering ranges: half-open intervals over the byte-comparable clustering encoding.
//!
//! Clustering keys reach storage already encoded by `cql` so that byte order is clustering
//! order (ASC/DESC applied) and each component's encoding is prefix-free. A CQL bound on a
//! clustering *prefix* therefore becomes a byte interval: "all rows whose key starts with P"
//! is exactly `[P, successor(P))`. Range tombstones and read slices are stored as such
//! intervals, which makes containment, overlap and B-tree ranges plain byte comparisons.

use bytes::Bytes;
use std::ops::Bound;

/// The smallest byte string greater than every string that starts with `prefix`, or `None`
/// when there is none (empty prefix or all `0xff`): +infinity.
pub fn prefix_successor(prefix: &[u8]) -> Option<Bytes> {
    let mut v = prefix.to_vec();
    while let Some(last) = v.last_mut() {
        if *last == 0xff {
            v.pop();
        } else {
            *last += 1;
            return Some(Bytes::from(v));
        }
    }
    None
}

/// `[start, end)` over encoded clustering keys; `end == None` means +infinity and an empty
/// `start` means -infinity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusteringRange {
    /// Inclusive lower bound.
    pub start: Bytes,
    /// Exclusive upper bound; `None` is unbounded.
    pub end: Option<Bytes>,
}

impl ClusteringRange {
    /// Every clustering key.
    pub fn all() -> Self {
        ClusteringRange { start: Bytes::new(), end: None }
    }

    /// Exactly the rows whose key starts with `prefix` (a whole key selects one row).
    pub fn prefix(prefix: impl Into<Bytes>) -> Self {
        let start = prefix.into();
        let end = prefix_successor(&start);
        ClusteringRange { start, end }
    }

    /// Builds a range from CQL-style prefix bounds: `start`/`end` are encoded clustering
    /// prefixes (`None` = unbounded) with their inclusivity. Returns `None` for an empty range.
    pub fn from_prefix_bounds(start: Option<(&[u8], bool)>, end: Option<(&[u8], bool)>) -> Option<Self> {
        let lo = match start {
            None => Bytes::new(),
            Some((p, true)) => Bytes::copy_from_slice(p),
            Some((p, false)) => prefix_successor(p)?,
        };
        let hi = match end {
            None => None,
            Some((p, true)) => prefix_successor(p),
            Some((p, false)) => Some(Bytes::copy_from_slice(p)),
        };
        let r = ClusteringRange { start: lo, end: hi };
        if r.is_empty() { None } else { Some(r) }
    }

    /// True when no key can fall inside.
    pub fn is_empty(&self) -> bool {
        matches!(&self.end, Some(e) if e.as_ref() <= self.start.as_ref())
    }

    /// True if `clustering` falls inside.
    #[inline]
    pub fn contains(&self, clustering: &[u8]) -> bool {
        clustering >= self.start.as_ref()
            && match &self.end {
                None => true,
                Some(e) => clustering < e.as_ref(),
            }
    }

    /// True if the two ranges share at least one key.
    pub fn overlaps(&self, other: &ClusteringRange) -> bool {
        let a_before_other_end = match &other.end {
            None => true,
            Some(e) => self.start.as_ref() < e.as_ref(),
        };
        let b_before_self_end = match &self.end {
            None => true,
            Some(e) => other.start.as_ref() < e.as_ref(),
        };
        a_before_other_end && b_before_self_end
    }

    /// True if `other` lies entirely inside `self`.
    pub fn covers(&self, other: &ClusteringRange) -> bool {
        self.start <= other.start
            && match (&self.end, &other.end) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(a), Some(b)) => b <= a,
            }
    }

    /// The range as B-tree bounds.
    pub fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        let end = match &self.end {
            None => Bound::Unbounded,
            Some(e) => Bound::Excluded(e.as_ref()),
        };
        (Bound::Included(self.start.as_ref()), end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn successor_of_prefixes() {
        assert_eq!(prefix_successor(b"ab"), Some(Bytes::from_static(b"ac")));
        assert_eq!(prefix_successor(&[1, 0xff]), Some(Bytes::from_static(&[2])));
        assert_eq!(prefix_successor(&[0xff, 0xff]), None);
        assert_eq!(prefix_successor(b""), None);
    }

    #[test]
    fn prefix_bounds_follow_cql_semantics() {
        // Keys: "a", "a\x01", "b". Prefix "a" inclusive start admits all three.
        let r = ClusteringRange::from_prefix_bounds(Some((b"a", true)), None).unwrap();
        assert!(r.contains(b"a") && r.contains(b"a\x01") && r.contains(b"b"));
        // Exclusive start on prefix "a" skips every key that starts with "a".
        let r = ClusteringRange::from_prefix_bounds(Some((b"a", false)), None).unwrap();
        assert!(!r.contains(b"a") && !r.contains(b"a\x01") && r.contains(b"b"));
        // Inclusive end on prefix "a" admits longer keys starting with "a".
        let r = ClusteringRange::from_prefix_bounds(None, Some((b"a", true))).unwrap();
        assert!(r.contains(b"a\x01") && !r.contains(b"b"));
        // Exclusive end on prefix "a" admits nothing starting with "a".
        let r = ClusteringRange::from_prefix_bounds(None, Some((b"a", false))).unwrap();
        assert!(!r.contains(b"a") && r.contains(b"\x00"));
        // An empty range is refused.
        assert!(ClusteringRange::from_prefix_bounds(Some((b"b", true)), Some((b"a", true))).is_none());
    }

    #[test]
    fn overlap_and_cover() {
        let ab = ClusteringRange { start: Bytes::from_static(b"a"), end: Some(Bytes::from_static(b"b")) };
        let bc = ClusteringRange { start: Bytes::from_static(b"b"), end: Some(Bytes::from_static(b"c")) };
        assert!(!ab.overlaps(&bc) && !bc.overlaps(&ab));
        assert!(ClusteringRange::all().overlaps(&ab));
        assert!(ClusteringRange::all().covers(&ab));
        assert!(!ab.covers(&ClusteringRange::all()));
    }
}
