//! Ranges of partitions in ring order, for scans, compaction and repair.
//!
//! Real partition keys are never empty, so the empty key of a token is a sentinel that sorts
//! before every key of that token: token bounds become ordinary [`DecoratedKey`] bounds.

use crate::token::{DecoratedKey, Token};
use bytes::Bytes;
use std::ops::Bound;

/// A range of partitions: `start` and `end` bounds over (token, key) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    /// Lower bound.
    pub start: Bound<DecoratedKey>,
    /// Upper bound.
    pub end: Bound<DecoratedKey>,
}

/// The sentinel that sorts before every key with token `t`.
pub fn min_key_of(t: Token) -> DecoratedKey {
    DecoratedKey { token: t, key: Bytes::new() }
}

fn after_token(t: Token) -> Bound<DecoratedKey> {
    if t == Token::MAX { Bound::Unbounded } else { Bound::Excluded(min_key_of(t + 1)) }
}

impl KeyRange {
    /// Every partition.
    pub fn all() -> Self {
        KeyRange { start: Bound::Unbounded, end: Bound::Unbounded }
    }

    /// The ring range `(left, right]` of tokens, which must not wrap (`left < right`).
    pub fn tokens(left: Token, right: Token) -> Self {
        let start = match after_token(left) {
            Bound::Excluded(k) => Bound::Included(k),
            other => other,
        };
        KeyRange { start, end: after_token(right) }
    }

    /// Partitions after `key` (exclusive), up to `end`: how a paged scan continues.
    pub fn after(key: DecoratedKey, end: Bound<DecoratedKey>) -> Self {
        KeyRange { start: Bound::Excluded(key), end }
    }

    /// Keys whose token satisfies CQL's `token(pk) > a` / `>= a` and `< b` / `<= b` (each
    /// bound optional, with its inclusivity).
    pub fn token_bounds(lower: Option<(Token, bool)>, upper: Option<(Token, bool)>) -> Self {
        let start = match lower {
            None => Bound::Unbounded,
            Some((t, true)) => Bound::Included(min_key_of(t)),
            Some((t, false)) => match after_token(t) {
                Bound::Excluded(k) => Bound::Included(k),
                // Nothing is above the largest token.
                _ => {
                    let k = min_key_of(Token::MAX);
                    return KeyRange { start: Bound::Included(k.clone()), end: Bound::Excluded(k) };
                }
            },
        };
        let end = match upper {
            None => Bound::Unbounded,
            Some((t, true)) => after_token(t),
            Some((t, false)) => Bound::Excluded(min_key_of(t)),
        };
        KeyRange { start, end }
    }

    /// Partitions from `key` (inclusive) up to the optional token bound: how a paged scan
    /// resumes inside the partition it stopped in.
    pub fn after_inclusive(key: DecoratedKey, upper: Option<(Token, bool)>) -> Self {
        let mut r = KeyRange::token_bounds(None, upper);
        r.start = Bound::Included(key);
        r
    }

    /// True if `key` falls inside.
    pub fn contains(&self, key: &DecoratedKey) -> bool {
        let lo = match &self.start {
            Bound::Unbounded => true,
            Bound::Included(s) => key >= s,
            Bound::Excluded(s) => key > s,
        };
        lo && self.before_end(key)
    }

    /// True if `key` is not past the end bound.
    pub fn before_end(&self, key: &DecoratedKey) -> bool {
        match &self.end {
            Bound::Unbounded => true,
            Bound::Included(e) => key <= e,
            Bound::Excluded(e) => key < e,
        }
    }

    /// True if some key with a token in `[min, max]` could fall inside.
    pub fn intersects_tokens(&self, min: Token, max: Token) -> bool {
        let lo_ok = match &self.start {
            Bound::Unbounded => true,
            Bound::Included(s) | Bound::Excluded(s) => s.token <= max,
        };
        let hi_ok = match &self.end {
            Bound::Unbounded => true,
            Bound::Included(e) => e.token >= min,
            Bound::Excluded(e) => e.token > min || (e.token == min && !e.key.is_empty()),
        };
        lo_ok && hi_ok
    }

    /// The bounds as a borrowed pair, for B-tree and skip-list ranges.
    pub fn as_bounds(&self) -> (Bound<&DecoratedKey>, Bound<&DecoratedKey>) {
        (self.start.as_ref(), self.end.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(t: Token, key: &'static [u8]) -> DecoratedKey {
        DecoratedKey { token: t, key: Bytes::from_static(key) }
    }

    #[test]
    fn cql_token_bounds() {
        let r = KeyRange::token_bounds(Some((10, false)), Some((20, true)));
        assert!(!r.contains(&k(10, b"a")) && r.contains(&k(11, b"a")) && r.contains(&k(20, b"z")));
        assert!(!r.contains(&k(21, b"a")));
        let r = KeyRange::token_bounds(Some((10, true)), Some((20, false)));
        assert!(r.contains(&k(10, b"a")) && !r.contains(&k(20, b"a")) && r.contains(&k(19, b"z")));
        let r = KeyRange::token_bounds(Some((Token::MAX, false)), None);
        assert!(!r.contains(&k(Token::MAX, b"a")));
        let r = KeyRange::after_inclusive(k(5, b"b"), None);
        assert!(r.contains(&k(5, b"b")) && !r.contains(&k(5, b"a")) && r.contains(&k(6, b"a")));
    }

    #[test]
    fn token_ranges_are_left_open_right_closed() {
        let r = KeyRange::tokens(10, 20);
        assert!(!r.contains(&k(10, b"a")));
        assert!(r.contains(&k(11, b"a")));
        assert!(r.contains(&k(20, b"zzz")));
        assert!(!r.contains(&k(21, b"a")));
        let full = KeyRange::tokens(Token::MIN, Token::MAX);
        assert!(full.contains(&k(Token::MAX, b"a")));
        assert!(full.contains(&k(Token::MIN + 1, b"a")));
    }

    #[test]
    fn continuation_after_a_key() {
        let r = KeyRange::after(k(5, b"b"), Bound::Unbounded);
        assert!(!r.contains(&k(5, b"b")));
        assert!(r.contains(&k(5, b"c")));
        assert!(!r.contains(&k(5, b"a")));
    }

    #[test]
    fn token_intersection() {
        let r = KeyRange::tokens(10, 20);
        assert!(r.intersects_tokens(15, 30));
        assert!(!r.intersects_tokens(21, 30));
        assert!(!r.intersects_tokens(0, 10));
    }
}
