//! Choosing a new node's tokens so that ownership stays even within its datacenter (where
//! NetworkTopologyStrategy places replicas, and the whole ring when there is one datacenter):
//!
//! - the first node of a datacenter spreads its tokens evenly, offset by a hash of the
//!   datacenter's name so that datacenters interleave;
//! - a later node takes tokens inside the ranges of the nodes that own more than their share
//!   once it has joined, from each in proportion to that excess, so that every node ends
//!   near `1 / nodes` of the datacenter's ring.
//!
//! `initial_token` in the configuration bypasses this, as in Cassandra.

use super::ring::{Endpoint, Ring, width};
use std::collections::BTreeMap;
use storage::Token;
use uuid::Uuid;

const RING: f64 = 18_446_744_073_709_551_616.0; // 2^64

/// `num_tokens` tokens evenly spread over the ring for node `index` of `count` nodes placed
/// together (a launcher's layout), shifted by `offset`.
pub fn evenly_spaced(index: usize, count: usize, num_tokens: u32, offset: i64) -> Vec<Token> {
    let slots = (count.max(1) as u128) * u128::from(num_tokens.max(1));
    let mut out: Vec<Token> = (0..u128::from(num_tokens.max(1)))
        .map(|k| {
            let slot = k * count.max(1) as u128 + index as u128;
            let pos = (slot << 64) / slots; // in [0, 2^64)
            let t = (pos as u64 as i64).wrapping_add(i64::MIN).wrapping_add(offset);
            if t == i64::MIN { i64::MAX } else { t }
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A stable offset per datacenter name.
pub fn dc_offset(dc: &str) -> i64 {
    storage::token_of(dc.as_bytes()) / 1024
}

/// The share of the datacenter's ring each of its nodes owns (start exclusive, end inclusive).
pub fn dc_ownership(ring: &Ring, dc: &str) -> BTreeMap<Uuid, f64> {
    let local: Vec<(Token, Uuid)> = dc_tokens(ring, dc);
    let mut out = BTreeMap::new();
    for (i, (t, owner)) in local.iter().enumerate() {
        let prev = local[(i + local.len() - 1) % local.len()].0;
        *out.entry(*owner).or_insert(0.0) += width(prev, *t) as f64 / RING;
    }
    out
}

fn dc_tokens(ring: &Ring, dc: &str) -> Vec<(Token, Uuid)> {
    let owners: Vec<&Endpoint> = ring.endpoints().iter().filter(|e| e.dc == dc).collect();
    let mut local: Vec<(Token, Uuid)> =
        owners.iter().flat_map(|e| ring.tokens_of(e.host_id).into_iter().map(|t| (t, e.host_id))).collect();
    local.sort_unstable();
    local
}

/// Tokens for a node joining datacenter `dc` of `ring` (the node itself not in it).
pub fn allocate(ring: &Ring, dc: &str, num_tokens: u32) -> Vec<Token> {
    let num_tokens = num_tokens.max(1);
    let local = dc_tokens(ring, dc);
    if local.is_empty() {
        return unique(ring, evenly_spaced(0, 1, num_tokens, dc_offset(dc)));
    }
    let owned = dc_ownership(ring, dc);
    let target = 1.0 / (owned.len() + 1) as f64;
    // What each node gives up, and how many of the new tokens land in its ranges.
    let excess: Vec<(Uuid, f64)> =
        owned.iter().map(|(id, o)| (*id, (o - target).max(0.0))).filter(|(_, x)| *x > 0.0).collect();
    let total: f64 = excess.iter().map(|(_, x)| x).sum();
    let mut shares: Vec<(Uuid, f64, u32)> = excess
        .iter()
        .map(|(id, x)| (*id, *x, ((x / total) * f64::from(num_tokens)).floor() as u32))
        .collect();
    let given: u32 = shares.iter().map(|s| s.2).sum();
    // Largest remainders get the tokens left over.
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|a, b| {
        let r = |i: usize| (shares[i].1 / total) * f64::from(num_tokens) - f64::from(shares[i].2);
        r(*b).total_cmp(&r(*a))
    });
    for i in order.iter().cycle().take(num_tokens.saturating_sub(given) as usize) {
        shares[*i].2 += 1;
    }
    let mut out = Vec::with_capacity(num_tokens as usize);
    for (id, x, k) in shares.into_iter().filter(|s| s.2 > 0) {
        // The node's ranges in the datacenter's ring, widest first.
        let mut ranges: Vec<(Token, u128)> = local
            .iter()
            .enumerate()
            .filter(|(_, (_, owner))| *owner == id)
            .map(|(i, (t, _))| {
                let prev = local[(i + local.len() - 1) % local.len()].0;
                (prev, width(prev, *t))
            })
            .collect();
        ranges.sort_by_key(|r| std::cmp::Reverse(r.1));
        let take = x * RING / f64::from(k);
        for (start, w) in ranges.into_iter().cycle().take(k as usize) {
            let cut = (take as u128).clamp(1, w.saturating_sub(1).max(1));
            out.push(start.wrapping_add(cut as u64 as i64));
        }
    }
    unique(ring, out)
}

/// `tokens` made distinct from each other and from the ring's (bumped by one on a clash),
/// sorted, never `i64::MIN`.
fn unique(ring: &Ring, tokens: Vec<Token>) -> Vec<Token> {
    let mut taken: std::collections::BTreeSet<Token> = ring.tokens().collect();
    let mut out = Vec::with_capacity(tokens.len());
    for mut t in tokens {
        while t == i64::MIN || taken.contains(&t) {
            t = t.wrapping_add(1);
        }
        taken.insert(t);
        out.push(t);
    }
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::super::ring::tests::ep;
    use super::*;

    fn join(ring: &Ring, n: u8, dc: &str, num_tokens: u32) -> Ring {
        let tokens = allocate(ring, dc, num_tokens);
        assert_eq!(tokens.len(), num_tokens as usize);
        let mut nodes: Vec<(Endpoint, Vec<Token>)> =
            ring.endpoints().iter().map(|e| (e.clone(), ring.tokens_of(e.host_id))).collect();
        nodes.push((ep(n, dc, "r1"), tokens));
        Ring::new(nodes)
    }

    fn spread(ring: &Ring, dc: &str) -> (f64, f64) {
        let o = dc_ownership(ring, dc);
        let min = o.values().copied().fold(f64::MAX, f64::min);
        let max = o.values().copied().fold(0.0, f64::max);
        (min, max)
    }

    #[test]
    fn evenly_spaced_layouts_give_equal_ownership() {
        let nodes: Vec<(Endpoint, Vec<Token>)> =
            (0..5).map(|i| (ep(i as u8 + 1, "dc1", "r1"), evenly_spaced(i, 5, 16, 12345))).collect();
        let ring = Ring::new(nodes);
        let (min, max) = spread(&ring, "dc1");
        assert!((max - min) < 1e-9, "{min} {max}");
        assert_eq!(ring.tokens().count(), 80);
    }

    #[test]
    fn nodes_joining_one_by_one_stay_near_an_even_share() {
        for num_tokens in [1, 4, 16] {
            let mut ring = Ring::default();
            for n in 1..=8u8 {
                ring = join(&ring, n, "dc1", num_tokens);
                let (min, max) = spread(&ring, "dc1");
                let even = 1.0 / f64::from(n);
                // One token per node cannot rebalance the others; the default 16 come close.
                let slack = match num_tokens {
                    1 => 0.55,
                    4 => 0.25,
                    _ => 0.05,
                };
                assert!(
                    max <= even * (1.0 + slack) + 1e-9 && min >= even * (1.0 - slack) - 1e-9,
                    "{num_tokens} tokens, {n} nodes: min {min:.4} max {max:.4} (even {even:.4})"
                );
            }
        }
    }

    #[test]
    fn datacenters_are_balanced_on_their_own() {
        let mut ring = Ring::default();
        for n in 1..=3u8 {
            ring = join(&ring, n, "dc1", 16);
            ring = join(&ring, n + 10, "dc2", 16);
        }
        for dc in ["dc1", "dc2"] {
            let (min, max) = spread(&ring, dc);
            assert!(max / min < 1.3, "{dc}: {min} {max}");
        }
        // Tokens are unique across the ring.
        assert_eq!(ring.tokens().count(), 6 * 16);
    }
}
