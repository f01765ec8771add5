//! `tools`: the operator's side of Tessera — the CQL shell, nodetool-like commands over the
//! admin API, the stress tool and the local-cluster launcher. It talks to nodes only over the
//! network and never links the server's internals.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod cluster;
pub mod nodetool;
pub mod shell;
pub mod sstable;
mod table;
