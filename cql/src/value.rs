//! CQL values (being written).
