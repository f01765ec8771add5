//! Where data lives: the token ring ([`ring`]), replica placement by replication strategy
//! ([`strategy`]), and the choice of a joining node's tokens ([`tokens`]).

pub mod ring;
pub mod strategy;
pub mod tokens;

pub use ring::{Endpoint, Ring};
pub use strategy::replicas;
