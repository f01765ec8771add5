//! `cql`: the CQL language and the native protocol wire format.
//!
//! - [`parser`] turns statement text into the typed tree of [`ast`] (nom), with errors that
//!   point at line and column.
//! - [`types`] and [`value`]: CQL types, their native-protocol serialization, display form and
//!   the byte-comparable encoding clustering keys are stored in.
//! - [`protocol`]: the native protocol v4 frame codec, requests and responses, both directions
//!   (the server decodes requests; `tess shell` encodes them).
//! - [`consistency`]: consistency levels.
//!
//! The crate depends on neither `storage` nor `server`.

pub mod ast;
pub mod consistency;
pub mod error;
pub mod parser;
pub mod protocol;
pub mod types;
pub mod value;

pub use consistency::Consistency;
pub use error::{Error, Result};
pub use types::CqlType;
