//! Token assignment for a local cluster: each node gets `num_tokens` Murmur3 tokens, written
//! to its `initial_token`, so that every datacenter's ring is evenly split among its nodes.
//!
//! Within dc `d` (0-based, of `dcs`) holding `n` nodes, node `j` (0-based) gets, for k in
//! 0..num_tokens:
//!
//! ```text
//! token = i64::MIN + (k*n + j) * step + offset(d)     step = 2^64 / (n * num_tokens)
//!                                                     offset(d) = step * (2d + 1) / (2 * dcs)
//! ```
//!
//! The dc's tokens are exactly `step` apart; offsets put the dcs' tokens between each other (when
//! every dc has the same node count, the whole ring is evenly spaced too). Each offset lies in
//! (0, step), so no token is i64::MIN and none wraps past i64::MAX.

/// Most tokens per node Cassandra accepts.
pub const MAX_NUM_TOKENS: u32 = 1536;

/// The distance between consecutive tokens of a dc of `n` nodes.
fn step(n: u32, num_tokens: u32) -> u128 {
    (1u128 << 64) / (u128::from(n) * u128::from(num_tokens))
}

/// How far dc `d`'s tokens sit past the multiples of `step`: distinct per dc, in (0, step).
fn dc_offset(step: u128, d: u32, dcs: u32) -> u128 {
    step * (2 * u128::from(d) + 1) / (2 * u128::from(dcs))
}

/// The tokens, ascending, of node `j` of the `n` nodes of dc `d` (of `dcs`). The caller keeps
/// `j < n`, `d < dcs`, and `num_tokens` in 1..=[`MAX_NUM_TOKENS`].
pub fn node_tokens(num_tokens: u32, n: u32, j: u32, d: u32, dcs: u32) -> Vec<i64> {
    debug_assert!(j < n && d < dcs && (1..=MAX_NUM_TOKENS).contains(&num_tokens));
    let step = step(n, num_tokens);
    let offset = dc_offset(step, d, dcs);
    (0..num_tokens)
        .map(|k| {
            // At most (n*num_tokens - 1) * step + offset < n*num_tokens*step <= 2^64: fits in u64.
            let from_min = (u128::from(k) * u128::from(n) + u128::from(j)) * step + offset;
            (i64::MIN as u64).wrapping_add(from_min as u64) as i64
        })
        .collect()
}

/// `initial_token`'s value: the tokens, comma-separated.
pub fn initial_token(tokens: &[i64]) -> String {
    tokens.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The tokens of every node of a cluster whose dcs hold `sizes[d]` nodes.
    fn cluster(sizes: &[u32], num_tokens: u32) -> Vec<Vec<Vec<i64>>> {
        let dcs = sizes.len() as u32;
        sizes
            .iter()
            .enumerate()
            .map(|(d, &n)| (0..n).map(|j| node_tokens(num_tokens, n, j, d as u32, dcs)).collect())
            .collect()
    }

    /// Dc sizes as `tess cluster up` makes them: round-robin, as equal as possible.
    fn sizes(nodes: u32, dcs: u32) -> Vec<u32> {
        (0..dcs).map(|d| nodes / dcs + u32::from(d < nodes % dcs)).collect()
    }

    #[test]
    fn a_single_node_splits_the_ring_evenly_and_never_takes_the_minimum() {
        let t = node_tokens(4, 1, 0, 0, 1);
        // step 2^62, offset 2^61.
        assert_eq!(
            t,
            vec![i64::MIN + (1 << 61), i64::MIN + (1 << 62) + (1 << 61), (1 << 61), (1 << 62) + (1 << 61),]
        );
        assert_eq!(initial_token(&t[..2]), "-6917529027641081856,-2305843009213693952");
        assert_eq!(node_tokens(1, 1, 0, 0, 1), vec![0]);
    }

    #[test]
    fn each_dc_ring_is_equally_spaced_and_nodes_alternate() {
        for (nodes, dcs, num_tokens) in
            [(1, 1, 16), (3, 1, 16), (5, 2, 16), (7, 3, 4), (6, 2, 1), (10, 3, 256)]
        {
            for (d, dc) in cluster(&sizes(nodes, dcs), num_tokens).iter().enumerate() {
                let n = dc.len() as u32;
                let step = step(n, num_tokens) as i128;
                let mut ring: Vec<(i64, usize)> =
                    dc.iter().enumerate().flat_map(|(j, ts)| ts.iter().map(move |&t| (t, j))).collect();
                ring.sort_unstable();
                assert_eq!(ring.len() as u32, n * num_tokens);
                for (i, w) in ring.windows(2).enumerate() {
                    assert_eq!(w[1].0 as i128 - w[0].0 as i128, step, "dc {d} of {nodes}/{dcs}/{num_tokens}");
                    // Ring order visits the dc's nodes in turn.
                    assert_eq!(w[0].1, i % n as usize);
                }
                // The wrap-around gap is the same step, plus what integer division left over.
                let wrap = (1i128 << 64) - (ring[ring.len() - 1].0 as i128 - ring[0].0 as i128);
                assert!(wrap >= step && wrap < step + i128::from(n * num_tokens), "{wrap} vs {step}");
            }
        }
    }

    #[test]
    fn tokens_are_unique_across_the_cluster_and_never_the_minimum() {
        let mut shapes = vec![(254, 1, 16), (254, 5, 16), (100, 7, 256), (3, 3, MAX_NUM_TOKENS)];
        for nodes in 1..=16 {
            for dcs in 1..=nodes.min(5) {
                for num_tokens in [1, 2, 3, 16, 256] {
                    shapes.push((nodes, dcs, num_tokens));
                }
            }
        }
        for (nodes, dcs, num_tokens) in shapes {
            let all: Vec<i64> =
                cluster(&sizes(nodes, dcs), num_tokens).into_iter().flatten().flatten().collect();
            assert_eq!(all.len() as u32, nodes * num_tokens);
            let unique: HashSet<i64> = all.iter().copied().collect();
            assert_eq!(
                unique.len(),
                all.len(),
                "duplicate token with {nodes} nodes, {dcs} dcs, {num_tokens} tokens"
            );
            assert!(!unique.contains(&i64::MIN));
        }
    }

    #[test]
    fn equal_dcs_interleave_into_one_evenly_spaced_ring() {
        let (dcs, num_tokens) = (3u32, 16u32);
        let mut all: Vec<i64> = cluster(&sizes(6, dcs), num_tokens).into_iter().flatten().flatten().collect();
        all.sort_unstable();
        let gap = step(2, num_tokens) as i128 / i128::from(dcs);
        for w in all.windows(2) {
            let d = w[1] as i128 - w[0] as i128;
            assert!((d - gap).abs() <= 1, "{d} vs {gap}");
        }
    }
}
