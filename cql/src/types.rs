//! CQL types: the type grammar's text form (`frozen<map<text, int>>`), what each type needs from
//! the rest of the system, and (in [`crate::value`]) their values.
//!
//! `Frozen` wraps a collection or tuple stored as one cell; a bare `List`, `Set` or `Map` is a
//! non-frozen collection, stored element by element. Tuples are always frozen, whether or not
//! the text says so. `frozen` never reaches the wire.

/// A CQL data type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CqlType {
    Ascii,
    Bigint,
    Blob,
    Boolean,
    Counter,
    Date,
    Decimal,
    Double,
    Duration,
    Float,
    Inet,
    Int,
    Smallint,
    Text,
    Time,
    Timestamp,
    Timeuuid,
    Tinyint,
    Uuid,
    Varint,
    List(Box<CqlType>),
    Set(Box<CqlType>),
    Map(Box<CqlType>, Box<CqlType>),
    Tuple(Vec<CqlType>),
    Frozen(Box<CqlType>),
}

impl CqlType {
    /// The type with any `Frozen` wrapper removed.
    pub fn unfrozen(&self) -> &CqlType {
        match self {
            CqlType::Frozen(t) => t.unfrozen(),
            t => t,
        }
    }

    /// True for a list, set or map that is not frozen: stored one cell per element.
    pub fn is_multi_cell(&self) -> bool {
        matches!(self, CqlType::List(_) | CqlType::Set(_) | CqlType::Map(..))
    }

    /// True for list, set and map, frozen or not.
    pub fn is_collection(&self) -> bool {
        matches!(self.unfrozen(), CqlType::List(_) | CqlType::Set(_) | CqlType::Map(..))
    }
}
