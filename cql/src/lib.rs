//! `cql`: the CQL language and the native protocol wire format.
//!
//! Planned contents (see ARCHITECTURE.md): the nom parser, CQL types with their protocol
//! serialization and byte-comparable clustering encoding, and the protocol v4 frame codec.
