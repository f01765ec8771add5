//! EVENT bodies (spec §4.2.6, pushed on stream -1) and the schema-change triple they share with
//! the Schema_change RESULT kind.
//!
//! | event             | body after `[string] type`                                     |
//! |-------------------|----------------------------------------------------------------|
//! | `TOPOLOGY_CHANGE` | `[string] NEW_NODE/REMOVED_NODE/MOVED_NODE` `[inet]`            |
//! | `STATUS_CHANGE`   | `[string] UP/DOWN` `[inet]`                                     |
//! | `SCHEMA_CHANGE`   | `[string] CREATED/UPDATED/DROPPED` `[string] target` + target body |
//!
//! Target bodies: KEYSPACE `[string] ks`; TABLE, TYPE `[string] ks [string] name`;
//! FUNCTION, AGGREGATE `[string] ks [string] name [string list] argument types`.

use std::net::SocketAddr;

use bytes::BytesMut;

use super::notation::{Reader, put_inet, put_string, put_string_list};
use crate::error::Result;

/// What a schema change touched.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemaChangeTarget {
    Keyspace(String),
    Table { keyspace: String, table: String },
    Type { keyspace: String, name: String },
    Function { keyspace: String, name: String, args: Vec<String> },
    Aggregate { keyspace: String, name: String, args: Vec<String> },
}

/// A schema change, as a RESULT kind or an EVENT.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaChange {
    /// `CREATED`, `UPDATED` or `DROPPED`.
    pub change: String,
    pub target: SchemaChangeTarget,
}

impl SchemaChange {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<SchemaChange> {
        let change = r.read_string()?;
        let target = r.read_string()?;
        let target = match target.as_str() {
            "KEYSPACE" => SchemaChangeTarget::Keyspace(r.read_string()?),
            "TABLE" => SchemaChangeTarget::Table { keyspace: r.read_string()?, table: r.read_string()? },
            "TYPE" => SchemaChangeTarget::Type { keyspace: r.read_string()?, name: r.read_string()? },
            "FUNCTION" => SchemaChangeTarget::Function {
                keyspace: r.read_string()?,
                name: r.read_string()?,
                args: r.read_string_list()?,
            },
            "AGGREGATE" => SchemaChangeTarget::Aggregate {
                keyspace: r.read_string()?,
                name: r.read_string()?,
                args: r.read_string_list()?,
            },
            other => return Err(r.error(format_args!("unknown schema change target '{other}'"))),
        };
        Ok(SchemaChange { change, target })
    }

    pub(crate) fn write(&self, out: &mut BytesMut) {
        put_string(out, &self.change);
        match &self.target {
            SchemaChangeTarget::Keyspace(ks) => {
                put_string(out, "KEYSPACE");
                put_string(out, ks);
            }
            SchemaChangeTarget::Table { keyspace, table } => {
                put_string(out, "TABLE");
                put_string(out, keyspace);
                put_string(out, table);
            }
            SchemaChangeTarget::Type { keyspace, name } => {
                put_string(out, "TYPE");
                put_string(out, keyspace);
                put_string(out, name);
            }
            SchemaChangeTarget::Function { keyspace, name, args } => {
                put_string(out, "FUNCTION");
                put_string(out, keyspace);
                put_string(out, name);
                put_string_list(out, args);
            }
            SchemaChangeTarget::Aggregate { keyspace, name, args } => {
                put_string(out, "AGGREGATE");
                put_string(out, keyspace);
                put_string(out, name);
                put_string_list(out, args);
            }
        }
    }
}

/// A server-pushed event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `NEW_NODE`, `REMOVED_NODE` (or `MOVED_NODE`) and the node's native-protocol address.
    TopologyChange {
        change: String,
        address: SocketAddr,
    },
    /// `UP` or `DOWN` and the node's native-protocol address.
    StatusChange {
        change: String,
        address: SocketAddr,
    },
    SchemaChange(SchemaChange),
}

impl Event {
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Event> {
        let kind = r.read_string()?;
        Ok(match kind.as_str() {
            "TOPOLOGY_CHANGE" => Event::TopologyChange { change: r.read_string()?, address: r.read_inet()? },
            "STATUS_CHANGE" => Event::StatusChange { change: r.read_string()?, address: r.read_inet()? },
            "SCHEMA_CHANGE" => Event::SchemaChange(SchemaChange::read(r)?),
            other => return Err(r.error(format_args!("unknown event type '{other}'"))),
        })
    }

    pub(crate) fn write(&self, out: &mut BytesMut) {
        match self {
            Event::TopologyChange { change, address } => {
                put_string(out, "TOPOLOGY_CHANGE");
                put_string(out, change);
                put_inet(out, address);
            }
            Event::StatusChange { change, address } => {
                put_string(out, "STATUS_CHANGE");
                put_string(out, change);
                put_inet(out, address);
            }
            Event::SchemaChange(sc) => {
                put_string(out, "SCHEMA_CHANGE");
                sc.write(out);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn golden_status_change() {
        let e = Event::StatusChange { change: "UP".into(), address: "127.0.0.2:9042".parse().unwrap() };
        let mut out = BytesMut::new();
        e.write(&mut out);
        let mut want = vec![0, 13];
        want.extend_from_slice(b"STATUS_CHANGE");
        want.extend_from_slice(&[0, 2, b'U', b'P', 4, 127, 0, 0, 2, 0, 0, 0x23, 0x52]);
        assert_eq!(&out[..], &want[..]);
        assert_eq!(Event::read(&mut Reader::new(&want, "EVENT body")).unwrap(), e);
    }

    #[test]
    fn unknown_event_and_target_are_named() {
        let mut out = BytesMut::new();
        put_string(&mut out, "NODE_ON_FIRE");
        let err = Event::read(&mut Reader::new(&out, "EVENT body")).unwrap_err();
        assert!(err.to_string().contains("NODE_ON_FIRE"), "{err}");
        let mut out = BytesMut::new();
        put_string(&mut out, "CREATED");
        put_string(&mut out, "INDEX");
        let err = SchemaChange::read(&mut Reader::new(&out, "RESULT body")).unwrap_err();
        assert!(err.to_string().contains("'INDEX'"), "{err}");
    }
}
