//! CQL values: [`CqlValue`], the decoded form of a cell payload, and everything that moves a
//! value between its forms. The executor converts literal terms ([`from_term`]) and checks bound
//! bytes ([`validate`]); the transport and storage use the native-protocol bytes
//! ([`CqlValue::serialize`], [`CqlValue::deserialize`]); clustering keys are stored in the
//! byte-comparable encoding ([`encode_comparable`]); cqlsh-style output and DESCRIBE use
//! [`CqlValue::display`] and [`CqlValue::to_cql_literal`].
//!
//! | file | owns |
//! |---|---|
//! | `serialize.rs` / `deserialize.rs` | native-protocol payloads, strict decoding, [`validate`] |
//! | `comparable.rs` | the memcmp-ordered key encoding (layout table there) |
//! | `display.rs` | cqlsh display form and CQL literal form |
//! | `literal.rs` | literal terms → values |
//! | `temporal.rs`, `duration.rs`, `numeric.rs` | dates and times, durations, number text |

mod comparable;
mod deserialize;
mod display;
mod duration;
mod literal;
mod numeric;
mod serialize;
mod temporal;
#[cfg(test)]
mod tests;

use bytes::Bytes;
use num_bigint::BigInt;

use crate::error::Error;
use crate::types::CqlType;

pub use comparable::{compare_serialized, decode_comparable, encode_comparable};
pub use deserialize::validate;
pub use literal::{Resolve, from_term, from_term_with};

/// The serialized `date` of 1970-01-01: dates count days from 2^31 so that unsigned byte order
/// is chronological.
pub const DATE_EPOCH: u32 = 1 << 31;

/// Nanoseconds in a day: a `time` value lies in `0..NANOS_PER_DAY`.
pub const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// A decoded CQL value.
#[derive(Debug, Clone, PartialEq)]
pub enum CqlValue {
    Ascii(String),
    Bigint(i64),
    Blob(Bytes),
    Boolean(bool),
    Counter(i64),
    /// Days with 1970-01-01 at 2^31 ([`DATE_EPOCH`]).
    Date(u32),
    /// `unscaled × 10^-scale`.
    Decimal {
        unscaled: BigInt,
        scale: i32,
    },
    Double(f64),
    /// All three components carry the same sign.
    Duration {
        months: i32,
        days: i32,
        nanos: i64,
    },
    Float(f32),
    Inet(std::net::IpAddr),
    Int(i32),
    Smallint(i16),
    Text(String),
    /// Nanoseconds since midnight, `0..NANOS_PER_DAY`.
    Time(i64),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    Timeuuid(uuid::Uuid),
    Tinyint(i8),
    Uuid(uuid::Uuid),
    Varint(BigInt),
    List(Vec<CqlValue>),
    Set(Vec<CqlValue>),
    Map(Vec<(CqlValue, CqlValue)>),
    /// One entry per field; `None` is a null field.
    Tuple(Vec<Option<CqlValue>>),
    /// The zero-length value most non-string types accept, distinct from null.
    Empty,
}

impl CqlValue {
    /// The CQL name of this value's kind (`int`, `list`, ...), for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            CqlValue::Ascii(_) => "ascii",
            CqlValue::Bigint(_) => "bigint",
            CqlValue::Blob(_) => "blob",
            CqlValue::Boolean(_) => "boolean",
            CqlValue::Counter(_) => "counter",
            CqlValue::Date(_) => "date",
            CqlValue::Decimal { .. } => "decimal",
            CqlValue::Double(_) => "double",
            CqlValue::Duration { .. } => "duration",
            CqlValue::Float(_) => "float",
            CqlValue::Inet(_) => "inet",
            CqlValue::Int(_) => "int",
            CqlValue::Smallint(_) => "smallint",
            CqlValue::Text(_) => "text",
            CqlValue::Time(_) => "time",
            CqlValue::Timestamp(_) => "timestamp",
            CqlValue::Timeuuid(_) => "timeuuid",
            CqlValue::Tinyint(_) => "tinyint",
            CqlValue::Uuid(_) => "uuid",
            CqlValue::Varint(_) => "varint",
            CqlValue::List(_) => "list",
            CqlValue::Set(_) => "set",
            CqlValue::Map(_) => "map",
            CqlValue::Tuple(_) => "tuple",
            CqlValue::Empty => "empty",
        }
    }

    /// Sorts set elements and map entries into the type's order and drops duplicates (for maps
    /// the last entry of a key wins), recursively, as Cassandra does for collection literals and
    /// frozen collections. Fails for element types that have no order (duration).
    pub fn normalize(&mut self, ty: &CqlType) -> crate::Result<()> {
        literal::normalize(self, ty)
    }
}

/// `Error::Invalid` with `message`.
fn invalid(message: impl Into<String>) -> Error {
    Error::Invalid(message.into())
}

/// "a" or "an" before a type name, for messages such as "expected 4 bytes for an int value".
fn article(name: &str) -> &'static str {
    match name.as_bytes().first() {
        // Not "u": "a uuid".
        Some(b'a' | b'e' | b'i' | b'o') => "an",
        _ => "a",
    }
}
