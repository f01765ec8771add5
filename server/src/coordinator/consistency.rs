//! What a consistency level asks of the replicas, as Cassandra's `ConsistencyLevel` computes
//! it: how many must answer (`block_for`, from the replication factors, not from the nodes
//! that exist), whether enough are alive to try (else Unavailable, with the level, the count
//! required and the count alive), and whether the answers so far are enough.
//!
//! | level | block for | counted |
//! |---|---|---|
//! | ANY, ONE, TWO, THREE | 1, 1, 2, 3 | any replica (ANY: a stored hint too) |
//! | QUORUM, SERIAL | sum of all factors / 2 + 1 | any replica |
//! | ALL | sum of all factors | any replica |
//! | LOCAL_ONE | 1 | replicas in the coordinator's datacenter |
//! | LOCAL_QUORUM, LOCAL_SERIAL | local factor / 2 + 1 | replicas in the coordinator's datacenter |
//! | EACH_QUORUM | a quorum of each datacenter's factor | per datacenter |

use crate::error::{QueryError, QueryResult};
use crate::locator::Endpoint;
use crate::schema::Replication;
use cql::Consistency;
use std::collections::BTreeMap;

fn quorum(rf: u32) -> usize {
    rf as usize / 2 + 1
}

/// The replicas a level waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockFor {
    /// That many answers from any replicas.
    Any(usize),
    /// That many answers from replicas in the coordinator's datacenter.
    Local(usize),
    /// That many answers from each datacenter.
    EachDc(BTreeMap<String, usize>),
}

impl BlockFor {
    /// The total answers waited for (what error bodies call `block_for`).
    pub fn total(&self) -> usize {
        match self {
            BlockFor::Any(n) | BlockFor::Local(n) => *n,
            BlockFor::EachDc(m) => m.values().sum(),
        }
    }

    /// How many of `answered` count (for an error body's `received`).
    pub fn counted(&self, local_dc: &str, answered: &[&Endpoint]) -> usize {
        match self {
            BlockFor::Any(_) => answered.len(),
            BlockFor::Local(_) => answered.iter().filter(|e| e.dc == local_dc).count(),
            BlockFor::EachDc(m) => {
                m.iter().map(|(dc, n)| answered.iter().filter(|e| &e.dc == dc).count().min(*n)).sum()
            }
        }
    }

    /// Whether `answered` is enough.
    pub fn met(&self, local_dc: &str, answered: &[&Endpoint]) -> bool {
        match self {
            BlockFor::Any(n) => answered.len() >= *n,
            BlockFor::Local(n) => answered.iter().filter(|e| e.dc == local_dc).count() >= *n,
            BlockFor::EachDc(m) => {
                m.iter().all(|(dc, n)| answered.iter().filter(|e| &e.dc == dc).count() >= *n)
            }
        }
    }
}

/// What `cl` waits for in a keyspace replicated as `r`, the coordinator being in `local_dc`.
/// Refuses ANY for reads and the serial levels for plain writes, as Cassandra does.
pub fn block_for(r: &Replication, local_dc: &str, cl: Consistency, write: bool) -> QueryResult<BlockFor> {
    let total = r.total_factor();
    let local = r.factor_in(local_dc);
    Ok(match cl {
        Consistency::Any if !write => {
            return Err(QueryError::Invalid("ANY ConsistencyLevel is only supported for writes".into()));
        }
        Consistency::Serial | Consistency::LocalSerial if write => {
            return Err(QueryError::Invalid(
                "You must use conditional updates for serializable writes".into(),
            ));
        }
        Consistency::Any | Consistency::One => BlockFor::Any(1),
        Consistency::Two => BlockFor::Any(2),
        Consistency::Three => BlockFor::Any(3),
        Consistency::Quorum | Consistency::Serial => BlockFor::Any(quorum(total)),
        Consistency::All => BlockFor::Any(total as usize),
        Consistency::LocalOne => BlockFor::Local(1),
        Consistency::LocalQuorum | Consistency::LocalSerial => BlockFor::Local(quorum(local)),
        Consistency::EachQuorum => match r {
            Replication::NetworkTopology { datacenters } => BlockFor::EachDc(
                datacenters.iter().filter(|(_, f)| **f > 0).map(|(d, f)| (d.clone(), quorum(*f))).collect(),
            ),
            // Without datacenters, EACH_QUORUM is QUORUM.
            _ => BlockFor::Any(quorum(total)),
        },
    })
}

/// Unavailable unless enough of the replicas are `live` to meet `need` (ANY writes always
/// can: a hint will do).
pub fn assure_live(cl: Consistency, need: &BlockFor, local_dc: &str, live: &[&Endpoint]) -> QueryResult<()> {
    let unavailable = |required: usize, alive: usize| QueryError::Unavailable {
        consistency: cl,
        required: required as i32,
        alive: alive as i32,
    };
    if cl == Consistency::Any {
        return Ok(());
    }
    match need {
        BlockFor::Any(n) if live.len() < *n => Err(unavailable(*n, live.len())),
        BlockFor::Local(n) => {
            let alive = live.iter().filter(|e| e.dc == local_dc).count();
            if alive < *n { Err(unavailable(*n, alive)) } else { Ok(()) }
        }
        BlockFor::EachDc(m) => {
            for (dc, n) in m {
                let alive = live.iter().filter(|e| &e.dc == dc).count();
                if alive < *n {
                    return Err(unavailable(*n, alive));
                }
            }
            Ok(())
        }
        BlockFor::Any(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locator::ring::tests::ep;

    fn nts(f: &[(&str, u32)]) -> Replication {
        Replication::NetworkTopology { datacenters: f.iter().map(|(d, n)| (d.to_string(), *n)).collect() }
    }

    #[test]
    fn levels_wait_for_what_cassandra_waits_for() {
        let r = nts(&[("dc1", 3), ("dc2", 2)]);
        let bf = |cl| block_for(&r, "dc1", cl, true).unwrap();
        assert_eq!(bf(Consistency::One), BlockFor::Any(1));
        assert_eq!(bf(Consistency::Quorum), BlockFor::Any(3), "a majority of 5");
        assert_eq!(bf(Consistency::All), BlockFor::Any(5));
        assert_eq!(bf(Consistency::LocalQuorum), BlockFor::Local(2));
        assert_eq!(bf(Consistency::EachQuorum).total(), 4);
        assert!(block_for(&r, "dc1", Consistency::Any, false).is_err());
        assert!(block_for(&r, "dc1", Consistency::Serial, true).is_err());
        assert_eq!(block_for(&r, "dc1", Consistency::Serial, false).unwrap(), BlockFor::Any(3));
    }

    #[test]
    fn unavailable_counts_the_live_replicas_that_matter() {
        let r = nts(&[("dc1", 2), ("dc2", 2)]);
        let (a, b, c) = (ep(1, "dc1", "r"), ep(2, "dc2", "r"), ep(3, "dc2", "r"));
        let live = [&a, &b, &c];
        let check = |cl| assure_live(cl, &block_for(&r, "dc1", cl, true).unwrap(), "dc1", &live);
        assert!(check(Consistency::Quorum).is_ok());
        assert_eq!(
            check(Consistency::LocalQuorum).unwrap_err(),
            QueryError::Unavailable { consistency: Consistency::LocalQuorum, required: 2, alive: 1 }
        );
        assert_eq!(
            check(Consistency::EachQuorum).unwrap_err(),
            QueryError::Unavailable { consistency: Consistency::EachQuorum, required: 2, alive: 1 }
        );
        assert_eq!(
            check(Consistency::All).unwrap_err(),
            QueryError::Unavailable { consistency: Consistency::All, required: 4, alive: 3 }
        );
        assert!(check(Consistency::Any).is_ok());
        assert!(assure_live(Consistency::Any, &BlockFor::Any(1), "dc1", &[]).is_ok());
    }

    #[test]
    fn answers_are_counted_per_datacenter_where_the_level_says() {
        let (a, b) = (ep(1, "dc1", "r"), ep(2, "dc2", "r"));
        assert!(BlockFor::Any(2).met("dc1", &[&a, &b]));
        assert!(!BlockFor::Local(2).met("dc1", &[&a, &b]));
        assert_eq!(BlockFor::Local(2).counted("dc1", &[&a, &b]), 1);
        let each = BlockFor::EachDc([("dc1".to_string(), 1), ("dc2".to_string(), 1)].into());
        assert!(each.met("dc1", &[&a, &b]));
        assert!(!each.met("dc1", &[&b]));
    }
}
