//! `server`: a Tessera node — configuration, schema, ring, gossip, messaging, coordinator,
//! replica verbs, hints, repair, native transport and the admin API.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod admin;
pub mod cluster;
pub mod config;
pub mod coordinator;
pub mod error;
pub mod gossip;
pub mod hints;
pub mod locator;
pub mod metrics;
pub mod net;
pub mod node;
pub mod query;
pub mod repair;
pub mod replica;
pub mod schema;
pub mod system;
pub mod transport;
