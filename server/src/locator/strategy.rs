//! Replica placement, exactly as Cassandra places replicas (so that token-aware drivers route
//! to real replicas):
//!
//! - SimpleStrategy walks the ring clockwise from the key's token and takes the first RF
//!   distinct nodes.
//! - NetworkTopologyStrategy walks the same ring once for every datacenter at the same time;
//!   in each datacenter it takes nodes of racks it has not used yet, and a node of a rack it
//!   has used only while there are fewer racks than the datacenter's factor left to fill
//!   (Cassandra's `acceptableRackRepeats`). A factor above the datacenter's node count takes
//!   every node there; a datacenter with no nodes gets no replicas.
//! - LocalStrategy (the system keyspaces) is the node itself, and has no ring placement.

use super::ring::{Endpoint, Ring};
use crate::schema::Replication;
use std::collections::{BTreeMap, BTreeSet};
use storage::Token;

/// The replicas of `token`, in ring order from its primary replica. Empty for LocalStrategy.
pub fn replicas<'a>(ring: &'a Ring, replication: &Replication, token: Token) -> Vec<&'a Endpoint> {
    match replication {
        Replication::Simple { replication_factor } => simple(ring, *replication_factor as usize, token),
        Replication::NetworkTopology { datacenters } => network_topology(ring, datacenters, token),
        Replication::Local => Vec::new(),
    }
}

fn simple(ring: &Ring, rf: usize, token: Token) -> Vec<&Endpoint> {
    let mut out: Vec<&Endpoint> = Vec::with_capacity(rf);
    for e in ring.walk(token) {
        if out.len() >= rf {
            break;
        }
        if !out.iter().any(|x| x.host_id == e.host_id) {
            out.push(e);
        }
    }
    out
}

/// One datacenter's replicas being chosen.
struct DcFill<'a> {
    /// Replicas still to place (the factor, capped by the node count).
    left: usize,
    /// Nodes of an already used rack that may still be taken.
    rack_repeats: isize,
    racks: BTreeSet<&'a str>,
}

fn network_topology<'a>(ring: &'a Ring, factors: &BTreeMap<String, u32>, token: Token) -> Vec<&'a Endpoint> {
    let topology = ring.topology();
    let mut dcs: BTreeMap<&str, DcFill<'a>> = BTreeMap::new();
    for (dc, rf) in factors {
        let rf = *rf as usize;
        let nodes = ring.nodes_in(dc);
        let racks = topology.get(dc.as_str()).map_or(0, BTreeSet::len);
        if rf == 0 || nodes == 0 {
            continue;
        }
        dcs.insert(
            dc.as_str(),
            DcFill {
                left: rf.min(nodes),
                rack_repeats: rf as isize - racks as isize,
                racks: BTreeSet::new(),
            },
        );
    }
    let mut to_fill = dcs.len();
    let mut out: Vec<&Endpoint> = Vec::new();
    for e in ring.walk(token) {
        if to_fill == 0 {
            break;
        }
        let Some(fill) = dcs.get_mut(e.dc.as_str()) else { continue };
        if fill.left == 0 || out.iter().any(|x| x.host_id == e.host_id) {
            continue;
        }
        if fill.racks.insert(e.rack.as_str()) {
            // A new rack.
        } else if fill.rack_repeats > 0 {
            fill.rack_repeats -= 1;
        } else {
            continue;
        }
        out.push(e);
        fill.left -= 1;
        if fill.left == 0 {
            to_fill -= 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::ring::tests::ep;
    use super::*;

    fn ids(v: &[&Endpoint]) -> Vec<u8> {
        v.iter().map(|e| e.host_id.as_bytes()[0]).collect()
    }

    #[test]
    fn simple_strategy_takes_the_next_distinct_nodes() {
        let ring = Ring::new([
            (ep(1, "dc1", "r1"), vec![0, 300]),
            (ep(2, "dc1", "r1"), vec![100]),
            (ep(3, "dc1", "r1"), vec![200]),
        ]);
        let rf = |n| Replication::Simple { replication_factor: n };
        assert_eq!(ids(&replicas(&ring, &rf(2), 50)), [2, 3]);
        assert_eq!(ids(&replicas(&ring, &rf(3), 250)), [1, 2, 3], "node 1 twice on the walk, once here");
        assert_eq!(ids(&replicas(&ring, &rf(5), 250)), [1, 2, 3], "a factor above the node count takes all");
        assert_eq!(ids(&replicas(&ring, &rf(1), 301)), [1], "past the last token wraps");
        assert!(replicas(&Ring::default(), &rf(3), 0).is_empty());
    }

    #[test]
    fn network_topology_places_per_datacenter_preferring_new_racks() {
        // dc1: racks a, a, b (nodes 1, 2, 3); dc2: one node (4).
        let ring = Ring::new([
            (ep(1, "dc1", "a"), vec![0]),
            (ep(2, "dc1", "a"), vec![100]),
            (ep(3, "dc1", "b"), vec![200]),
            (ep(4, "dc2", "a"), vec![300]),
        ]);
        let nts = |f: &[(&str, u32)]| Replication::NetworkTopology {
            datacenters: f.iter().map(|(d, n)| (d.to_string(), *n)).collect(),
        };
        // From token 0: 1 (rack a), 2 (rack a again: skipped while rack b is unused), 3 (b).
        assert_eq!(ids(&replicas(&ring, &nts(&[("dc1", 2)]), 0)), [1, 3]);
        // Factor 3 with two racks: one repeat is allowed, and it is taken as met.
        assert_eq!(ids(&replicas(&ring, &nts(&[("dc1", 3)]), 0)), [1, 2, 3]);
        assert_eq!(ids(&replicas(&ring, &nts(&[("dc1", 2), ("dc2", 1)]), 150)), [3, 4, 1]);
        // A factor above the node count takes every node; an unknown datacenter takes none.
        assert_eq!(ids(&replicas(&ring, &nts(&[("dc2", 3), ("nowhere", 2)]), 0)), [4]);
    }

    #[test]
    fn network_topology_matches_simple_strategy_on_one_rack() {
        let ring = Ring::new(
            (1..=6u8).map(|n| (ep(n, "dc1", "r1"), vec![i64::from(n) * 1000, -i64::from(n) * 777])),
        );
        for t in (-10_000..10_000).step_by(97) {
            let s = replicas(&ring, &Replication::Simple { replication_factor: 3 }, t);
            let n = replicas(
                &ring,
                &Replication::NetworkTopology { datacenters: [("dc1".to_string(), 3)].into() },
                t,
            );
            assert_eq!(ids(&s), ids(&n), "token {t}");
        }
    }
}
