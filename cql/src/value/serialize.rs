//! Native-protocol serialization: a [`CqlValue`] to the payload of a `[bytes]` (protocol v3+).
//! The transport writes result cells with it; the shell encodes bound values with it.
//!
//! | type | payload |
//! |---|---|
//! | ascii, text, blob | raw bytes |
//! | tinyint, smallint, int, bigint, counter, timestamp, time | 1/2/4/8/8/8/8-byte big-endian two's complement |
//! | boolean | 1 byte, 0 = false |
//! | float, double | IEEE-754 big-endian |
//! | date | u32 days, 1970-01-01 = 2^31 |
//! | uuid, timeuuid | 16 bytes; inet 4 or 16 bytes |
//! | varint | minimal big-endian two's complement; decimal = `[int] scale` + varint |
//! | duration | three zig-zag vints: months, days, nanoseconds |
//! | list, set | `[int] n` + n × `[bytes]`; map = `[int] n` + n × (key `[bytes]`, value `[bytes]`) |
//! | tuple | one `[bytes]` per field, length -1 for null |
//! | empty | zero bytes |

use super::{CqlValue, NANOS_PER_DAY, duration, invalid};
use crate::error::Result;
use crate::types::CqlType;

impl CqlValue {
    /// Appends the native-protocol payload of this value as a `ty` to `out` (the contents of a
    /// `[bytes]`, without its length). Fails if the value does not fit the type.
    pub fn serialize(&self, ty: &CqlType, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        let result = serialize_into(self, ty, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// The native-protocol payload of this value as a `ty`.
    pub fn to_bytes(&self, ty: &CqlType) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.serialize(ty, &mut out)?;
        Ok(out)
    }
}

fn serialize_into(value: &CqlValue, ty: &CqlType, out: &mut Vec<u8>) -> Result<()> {
    use CqlType as T;
    use CqlValue as V;
    match (value, ty.unfrozen()) {
        (V::Empty, _) => {}
        (V::Ascii(s) | V::Text(s), T::Ascii) => {
            if let Some(pos) = s.bytes().position(|b| !b.is_ascii()) {
                return Err(invalid(format!(
                    "invalid ascii value: non-ASCII character at byte {pos} of '{s}'"
                )));
            }
            out.extend_from_slice(s.as_bytes());
        }
        (V::Ascii(s) | V::Text(s), T::Text) => out.extend_from_slice(s.as_bytes()),
        (V::Blob(b), T::Blob) => out.extend_from_slice(b),
        (V::Boolean(b), T::Boolean) => out.push(u8::from(*b)),
        (V::Tinyint(v), T::Tinyint) => out.extend_from_slice(&v.to_be_bytes()),
        (V::Smallint(v), T::Smallint) => out.extend_from_slice(&v.to_be_bytes()),
        (V::Int(v), T::Int) => out.extend_from_slice(&v.to_be_bytes()),
        (V::Bigint(v) | V::Counter(v), T::Bigint | T::Counter) => out.extend_from_slice(&v.to_be_bytes()),
        (V::Timestamp(v), T::Timestamp) => out.extend_from_slice(&v.to_be_bytes()),
        (V::Time(v), T::Time) => {
            if !(0..NANOS_PER_DAY).contains(v) {
                return Err(invalid(format!(
                    "invalid time value {v}: nanoseconds since midnight must be in 0..{NANOS_PER_DAY}"
                )));
            }
            out.extend_from_slice(&v.to_be_bytes());
        }
        (V::Date(d), T::Date) => out.extend_from_slice(&d.to_be_bytes()),
        (V::Float(f), T::Float) => out.extend_from_slice(&f.to_be_bytes()),
        (V::Double(f), T::Double) => out.extend_from_slice(&f.to_be_bytes()),
        (V::Uuid(u) | V::Timeuuid(u), T::Uuid) => out.extend_from_slice(u.as_bytes()),
        (V::Uuid(u) | V::Timeuuid(u), T::Timeuuid) => {
            if u.get_version_num() != 1 {
                return Err(invalid(format!(
                    "invalid timeuuid value {u}: version {} UUID, a timeuuid must be version 1",
                    u.get_version_num()
                )));
            }
            out.extend_from_slice(u.as_bytes());
        }
        (V::Inet(ip), T::Inet) => match ip {
            std::net::IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
            std::net::IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
        },
        (V::Varint(v), T::Varint) => out.extend_from_slice(&v.to_signed_bytes_be()),
        (V::Decimal { unscaled, scale }, T::Decimal) => {
            out.extend_from_slice(&scale.to_be_bytes());
            out.extend_from_slice(&unscaled.to_signed_bytes_be());
        }
        (V::Duration { months, days, nanos }, T::Duration) => {
            duration::check_signs(*months, *days, *nanos)?;
            duration::encode(*months, *days, *nanos, out);
        }
        (V::List(items), T::List(elem)) | (V::Set(items), T::Set(elem)) => {
            write_count(items.len(), ty, out)?;
            for item in items {
                write_element(item, elem, out)?;
            }
        }
        (V::Map(entries), T::Map(key_ty, value_ty)) => {
            write_count(entries.len(), ty, out)?;
            for (k, v) in entries {
                write_element(k, key_ty, out)?;
                write_element(v, value_ty, out)?;
            }
        }
        (V::Tuple(fields), T::Tuple(types)) => {
            if fields.len() > types.len() {
                return Err(invalid(format!(
                    "invalid tuple value: {} fields for {ty}, which has {}",
                    fields.len(),
                    types.len()
                )));
            }
            for (field, field_ty) in fields.iter().zip(types) {
                match field {
                    Some(v) => write_element(v, field_ty, out)?,
                    None => out.extend_from_slice(&(-1i32).to_be_bytes()),
                }
            }
        }
        (v, t) => {
            return Err(invalid(format!(
                "cannot encode {} {} value as {t}",
                super::article(v.kind_name()),
                v.kind_name()
            )));
        }
    }
    Ok(())
}

/// `[int] n` of a collection.
fn write_count(n: usize, ty: &CqlType, out: &mut Vec<u8>) -> Result<()> {
    let n = i32::try_from(n).map_err(|_| invalid(format!("too many elements for {ty}: {n}")))?;
    out.extend_from_slice(&n.to_be_bytes());
    Ok(())
}

/// One `[bytes]`: the length, then the payload.
fn write_element(value: &CqlValue, ty: &CqlType, out: &mut Vec<u8>) -> Result<()> {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    serialize_into(value, ty, out)?;
    let len = out.len() - at - 4;
    let len = i32::try_from(len).map_err(|_| invalid(format!("{ty} element of {len} bytes is too large")))?;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}
