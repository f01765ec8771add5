//! The token ring: which node owns which token, and where each node lives (datacenter and
//! rack). A node owning token T owns the range (previous token, T]; the primary replica of a
//! key is the node with the smallest token >= the key's token, wrapping to the first.
//!
//! A [`Ring`] is an immutable snapshot, rebuilt when membership changes (gossip), so readers
//! never lock.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use storage::Token;
use uuid::Uuid;

/// A node of the ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host_id: Uuid,
    /// Internode (and CQL, on loopback clusters) address.
    pub address: IpAddr,
    pub dc: String,
    pub rack: String,
}

/// Tokens and the nodes that own them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ring {
    /// Every token, sorted, with its owner's index in `endpoints`.
    tokens: Vec<(Token, usize)>,
    endpoints: Vec<Endpoint>,
}

impl Ring {
    /// Builds the ring from each node and its tokens. A token claimed twice goes to the node
    /// with the smaller host id, so every node builds the same ring from the same input.
    pub fn new(nodes: impl IntoIterator<Item = (Endpoint, Vec<Token>)>) -> Ring {
        let mut nodes: Vec<(Endpoint, Vec<Token>)> = nodes.into_iter().collect();
        nodes.sort_by_key(|(e, _)| e.host_id);
        nodes.dedup_by_key(|(e, _)| e.host_id);
        let mut owner: BTreeMap<Token, usize> = BTreeMap::new();
        for (i, (_, tokens)) in nodes.iter().enumerate() {
            for t in tokens {
                owner.entry(*t).or_insert(i);
            }
        }
        Ring { tokens: owner.into_iter().collect(), endpoints: nodes.into_iter().map(|(e, _)| e).collect() }
    }

    /// Every node, by host id.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    pub fn endpoint(&self, host_id: Uuid) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.host_id == host_id)
    }

    /// Every token, sorted.
    pub fn tokens(&self) -> impl Iterator<Item = Token> + '_ {
        self.tokens.iter().map(|(t, _)| *t)
    }

    /// The tokens of `host_id`, sorted.
    pub fn tokens_of(&self, host_id: Uuid) -> Vec<Token> {
        self.tokens.iter().filter(|(_, i)| self.endpoints[*i].host_id == host_id).map(|(t, _)| *t).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The datacenters, sorted, with their racks.
    pub fn topology(&self) -> BTreeMap<&str, BTreeSet<&str>> {
        let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for e in &self.endpoints {
            out.entry(e.dc.as_str()).or_default().insert(e.rack.as_str());
        }
        out
    }

    /// Number of nodes in datacenter `dc`.
    pub fn nodes_in(&self, dc: &str) -> usize {
        self.endpoints.iter().filter(|e| e.dc == dc).count()
    }

    /// Index into the token list of the first token >= `token`, wrapping.
    fn first_at_or_after(&self, token: Token) -> usize {
        let i = self.tokens.partition_point(|(t, _)| *t < token);
        if i == self.tokens.len() { 0 } else { i }
    }

    /// The ring walked clockwise from the owner of `token`: each token's owner, once per
    /// token (a node with several tokens appears several times).
    pub fn walk(&self, token: Token) -> impl Iterator<Item = &Endpoint> + '_ {
        let n = self.tokens.len();
        let start = if n == 0 { 0 } else { self.first_at_or_after(token) };
        (0..n).map(move |k| &self.endpoints[self.tokens[(start + k) % n].1])
    }

    /// The ranges (start exclusive, end inclusive) the ring is cut into, one per token: the
    /// first one wraps from the last token. With one token, it is the whole ring.
    pub fn ranges(&self) -> Vec<(Token, Token)> {
        let n = self.tokens.len();
        (0..n).map(|i| (self.tokens[(i + n - 1) % n].0, self.tokens[i].0)).collect()
    }

    /// The token ending the range `token` falls in: the token of its primary replica.
    pub fn range_end(&self, token: Token) -> Option<Token> {
        (!self.tokens.is_empty()).then(|| self.tokens[self.first_at_or_after(token)].0)
    }
}

/// The width of the range (start, end] on the ring of 2^64 tokens; a range from a token to
/// itself is the whole ring.
pub fn width(start: Token, end: Token) -> u128 {
    let w = (end as i128 - start as i128).rem_euclid(1i128 << 64) as u128;
    if w == 0 { 1u128 << 64 } else { w }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn ep(n: u8, dc: &str, rack: &str) -> Endpoint {
        Endpoint {
            host_id: Uuid::from_bytes([n; 16]),
            address: IpAddr::from([127, 0, 0, n]),
            dc: dc.into(),
            rack: rack.into(),
        }
    }

    #[test]
    fn the_primary_replica_owns_the_next_token_and_the_ring_wraps() {
        let ring = Ring::new([(ep(1, "dc1", "r1"), vec![-100, 100]), (ep(2, "dc1", "r1"), vec![0])]);
        let first = |t: Token| ring.walk(t).next().unwrap().host_id;
        assert_eq!(first(-100), ep(1, "dc1", "r1").host_id);
        assert_eq!(first(-99), ep(2, "dc1", "r1").host_id);
        assert_eq!(first(0), ep(2, "dc1", "r1").host_id);
        assert_eq!(first(1), ep(1, "dc1", "r1").host_id);
        assert_eq!(first(i64::MAX), ep(1, "dc1", "r1").host_id, "past the last token wraps to the first");
        assert_eq!(ring.walk(5).count(), 3);
        assert_eq!(ring.ranges(), [(100, -100), (-100, 0), (0, 100)]);
        assert_eq!(ring.range_end(101), Some(-100));
        assert_eq!(ring.tokens_of(ep(1, "dc1", "r1").host_id), [-100, 100]);
    }

    #[test]
    fn a_token_claimed_twice_goes_to_the_smaller_host_id() {
        let ring = Ring::new([(ep(2, "dc1", "r1"), vec![7]), (ep(1, "dc1", "r1"), vec![7, 9])]);
        assert_eq!(ring.tokens().collect::<Vec<_>>(), [7, 9]);
        assert_eq!(ring.walk(7).next().unwrap().host_id, ep(1, "dc1", "r1").host_id);
    }

    #[test]
    fn widths_wrap_around_the_ring() {
        assert_eq!(width(0, 10), 10);
        assert_eq!(width(10, 0), (1u128 << 64) - 10);
        assert_eq!(width(5, 5), 1u128 << 64);
        assert_eq!(width(i64::MAX, i64::MIN), 1);
    }
}
