//! The node's configuration (placeholder until the node issue; see ARCHITECTURE.md).
