//! The native protocol codec (being written).
