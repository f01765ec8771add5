//! Whether a consistency level can be met: how many replicas it needs, against how many are
//! alive. Until the node joins a cluster it is the only live replica of every keyspace, in
//! its own datacenter; a level that needs more gets Unavailable with both counts, as
//! Cassandra answers when replicas are down.

use crate::error::{QueryError, QueryResult};
use crate::schema::Replication;
use cql::Consistency;

fn quorum(rf: u32) -> u32 {
    rf / 2 + 1
}

/// Checks `cl` for a keyspace replicated as `r`, this node being in datacenter `dc`.
pub fn check(r: &Replication, dc: &str, cl: Consistency, write: bool) -> QueryResult<()> {
    let total = r.total_factor();
    let local = r.factor_in(dc);
    // Live replicas: this node, when its datacenter holds replicas.
    let alive_local = local.min(1);
    let alive_total = alive_local;
    let unavailable = |required: u32, alive: u32| QueryError::Unavailable {
        consistency: cl,
        required: required as i32,
        alive: alive as i32,
    };
    let need =
        |required: u32, alive: u32| if required > alive { Err(unavailable(required, alive)) } else { Ok(()) };
    match cl {
        Consistency::Any if write => Ok(()),
        Consistency::Any => {
            Err(QueryError::Invalid("ANY ConsistencyLevel is only supported for writes".into()))
        }
        Consistency::Serial | Consistency::LocalSerial if write => {
            Err(QueryError::Invalid("You must use conditional updates for serializable writes".into()))
        }
        Consistency::One => need(1, alive_total),
        Consistency::Two => need(2, alive_total),
        Consistency::Three => need(3, alive_total),
        Consistency::Quorum | Consistency::Serial => need(quorum(total), alive_total),
        Consistency::All => need(total.max(1), alive_total),
        Consistency::LocalOne => need(1, alive_local),
        Consistency::LocalQuorum | Consistency::LocalSerial => need(quorum(local), alive_local),
        Consistency::EachQuorum => match r {
            Replication::NetworkTopology { datacenters } => {
                for (d, rf) in datacenters {
                    let alive = if d == dc { (*rf).min(1) } else { 0 };
                    need(quorum(*rf), alive)?;
                }
                Ok(())
            }
            _ => need(quorum(total), alive_total),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn one_node_meets_levels_that_need_one_replica() {
        let rf1 = Replication::Simple { replication_factor: 1 };
        for cl in [
            Consistency::One,
            Consistency::Quorum,
            Consistency::All,
            Consistency::LocalOne,
            Consistency::LocalQuorum,
        ] {
            assert!(check(&rf1, "dc1", cl, false).is_ok(), "{cl}");
        }
        assert_eq!(
            check(&rf1, "dc1", Consistency::Two, true),
            Err(QueryError::Unavailable { consistency: Consistency::Two, required: 2, alive: 1 })
        );
        let rf3 = Replication::Simple { replication_factor: 3 };
        assert!(check(&rf3, "dc1", Consistency::One, true).is_ok());
        assert_eq!(
            check(&rf3, "dc1", Consistency::Quorum, true),
            Err(QueryError::Unavailable { consistency: Consistency::Quorum, required: 2, alive: 1 })
        );
        let nts = Replication::NetworkTopology { datacenters: BTreeMap::from([("dc2".to_string(), 1)]) };
        assert_eq!(
            check(&nts, "dc1", Consistency::LocalOne, false),
            Err(QueryError::Unavailable { consistency: Consistency::LocalOne, required: 1, alive: 0 })
        );
        assert!(check(&rf1, "dc1", Consistency::Any, false).is_err());
    }
}
