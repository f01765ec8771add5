//! The CQL parser (being written).
