//! Native-protocol deserialization and validation: a `[bytes]` payload to a [`CqlValue`], or
//! just a yes/no ([`validate`]) for bound values the server stores as bytes. The byte layouts
//! are those of `serialize.rs`. Decoding is strict and never panics: wrong fixed sizes, invalid
//! UTF-8, non-ASCII ascii, a version other than 1 for timeuuid, a time outside the day, mixed
//! duration signs, null or truncated collection elements and trailing bytes are all errors.
//! A zero-length payload is [`CqlValue::Empty`], except for text and ascii (the empty string)
//! and blob (the empty blob).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use num_bigint::BigInt;

use super::{CqlValue, NANOS_PER_DAY, article, duration, invalid};
use crate::error::Result;
use crate::types::CqlType;

impl CqlValue {
    /// Decodes the native-protocol payload `bytes` of a `ty` (strict; see the module docs).
    pub fn deserialize(ty: &CqlType, bytes: &[u8]) -> Result<CqlValue> {
        let ty = ty.unfrozen();
        match ty {
            CqlType::Ascii => {
                check_ascii(bytes)?;
                Ok(CqlValue::Ascii(utf8(bytes, ty)?.to_owned()))
            }
            CqlType::Text => Ok(CqlValue::Text(utf8(bytes, ty)?.to_owned())),
            CqlType::Blob => Ok(CqlValue::Blob(Bytes::copy_from_slice(bytes))),
            _ if bytes.is_empty() => Ok(CqlValue::Empty),
            CqlType::List(elem) => {
                let mut cur = Cursor::new(bytes, ty);
                let n = cur.count()?;
                let mut items = Vec::with_capacity(n.min(bytes.len() / 4));
                for _ in 0..n {
                    items.push(CqlValue::deserialize(elem, cur.element()?)?);
                }
                cur.finish()?;
                Ok(CqlValue::List(items))
            }
            CqlType::Set(elem) => {
                let mut cur = Cursor::new(bytes, ty);
                let n = cur.count()?;
                let mut items = Vec::with_capacity(n.min(bytes.len() / 4));
                for _ in 0..n {
                    items.push(CqlValue::deserialize(elem, cur.element()?)?);
                }
                cur.finish()?;
                Ok(CqlValue::Set(items))
            }
            CqlType::Map(key_ty, value_ty) => {
                let mut cur = Cursor::new(bytes, ty);
                let n = cur.count()?;
                let mut entries = Vec::with_capacity(n.min(bytes.len() / 8));
                for _ in 0..n {
                    let k = CqlValue::deserialize(key_ty, cur.element()?)?;
                    let v = CqlValue::deserialize(value_ty, cur.element()?)?;
                    entries.push((k, v));
                }
                cur.finish()?;
                Ok(CqlValue::Map(entries))
            }
            CqlType::Tuple(types) => {
                let mut cur = Cursor::new(bytes, ty);
                let mut fields = Vec::with_capacity(types.len());
                for field_ty in types {
                    if cur.is_done() {
                        // Fewer serialized fields than declared: the rest are null.
                        fields.push(None);
                        continue;
                    }
                    fields.push(match cur.field()? {
                        Some(b) => Some(CqlValue::deserialize(field_ty, b)?),
                        None => None,
                    });
                }
                cur.finish()?;
                Ok(CqlValue::Tuple(fields))
            }
            _ => scalar(ty, bytes),
        }
    }
}

/// Checks that `bytes` is a valid payload of a `ty` without building the value: fixed sizes,
/// UTF-8 and ASCII, time range, timeuuid version, duration encoding, and every collection,
/// tuple and nested element.
pub fn validate(ty: &CqlType, bytes: &[u8]) -> Result<()> {
    let ty = ty.unfrozen();
    match ty {
        CqlType::Ascii => check_ascii(bytes),
        CqlType::Text => utf8(bytes, ty).map(|_| ()),
        CqlType::Blob => Ok(()),
        _ if bytes.is_empty() => Ok(()),
        CqlType::List(elem) | CqlType::Set(elem) => {
            let mut cur = Cursor::new(bytes, ty);
            for _ in 0..cur.count()? {
                validate(elem, cur.element()?)?;
            }
            cur.finish()
        }
        CqlType::Map(key_ty, value_ty) => {
            let mut cur = Cursor::new(bytes, ty);
            for _ in 0..cur.count()? {
                validate(key_ty, cur.element()?)?;
                validate(value_ty, cur.element()?)?;
            }
            cur.finish()
        }
        CqlType::Tuple(types) => {
            let mut cur = Cursor::new(bytes, ty);
            for field_ty in types {
                if cur.is_done() {
                    break;
                }
                if let Some(b) = cur.field()? {
                    validate(field_ty, b)?;
                }
            }
            cur.finish()
        }
        _ => scalar(ty, bytes).map(|_| ()),
    }
}

/// A non-empty payload of a type that is neither a string, a blob nor a collection.
fn scalar(ty: &CqlType, b: &[u8]) -> Result<CqlValue> {
    Ok(match ty {
        CqlType::Boolean => CqlValue::Boolean(fixed::<1>(ty, b)?[0] != 0),
        CqlType::Tinyint => CqlValue::Tinyint(i8::from_be_bytes(fixed(ty, b)?)),
        CqlType::Smallint => CqlValue::Smallint(i16::from_be_bytes(fixed(ty, b)?)),
        CqlType::Int => CqlValue::Int(i32::from_be_bytes(fixed(ty, b)?)),
        CqlType::Bigint => CqlValue::Bigint(i64::from_be_bytes(fixed(ty, b)?)),
        CqlType::Counter => CqlValue::Counter(i64::from_be_bytes(fixed(ty, b)?)),
        CqlType::Timestamp => CqlValue::Timestamp(i64::from_be_bytes(fixed(ty, b)?)),
        CqlType::Time => {
            let v = i64::from_be_bytes(fixed(ty, b)?);
            if !(0..NANOS_PER_DAY).contains(&v) {
                return Err(invalid(format!(
                    "invalid time value {v}: nanoseconds since midnight must be in 0..{NANOS_PER_DAY}"
                )));
            }
            CqlValue::Time(v)
        }
        CqlType::Date => CqlValue::Date(u32::from_be_bytes(fixed(ty, b)?)),
        CqlType::Float => CqlValue::Float(f32::from_be_bytes(fixed(ty, b)?)),
        CqlType::Double => CqlValue::Double(f64::from_be_bytes(fixed(ty, b)?)),
        CqlType::Uuid => CqlValue::Uuid(uuid::Uuid::from_bytes(fixed(ty, b)?)),
        CqlType::Timeuuid => {
            let u = uuid::Uuid::from_bytes(fixed(ty, b)?);
            if u.get_version_num() != 1 {
                return Err(invalid(format!(
                    "invalid timeuuid value {u}: version {} UUID, a timeuuid must be version 1",
                    u.get_version_num()
                )));
            }
            CqlValue::Timeuuid(u)
        }
        CqlType::Inet => match b.len() {
            4 => CqlValue::Inet(IpAddr::V4(Ipv4Addr::from(fixed::<4>(ty, b)?))),
            16 => CqlValue::Inet(IpAddr::V6(Ipv6Addr::from(fixed::<16>(ty, b)?))),
            n => {
                return Err(invalid(format!("expected 4 or 16 bytes for an inet value, got {n}")));
            }
        },
        CqlType::Varint => CqlValue::Varint(BigInt::from_signed_bytes_be(b)),
        CqlType::Decimal => {
            let (scale, unscaled) = match b.split_first_chunk::<4>() {
                Some((scale, unscaled)) if !unscaled.is_empty() => (scale, unscaled),
                _ => {
                    return Err(invalid(format!(
                        "expected at least 5 bytes for a decimal value, got {}",
                        b.len()
                    )));
                }
            };
            CqlValue::Decimal {
                unscaled: BigInt::from_signed_bytes_be(unscaled),
                scale: i32::from_be_bytes(*scale),
            }
        }
        CqlType::Duration => {
            let (months, days, nanos) = duration::decode(b)?;
            CqlValue::Duration { months, days, nanos }
        }
        // Strings, blobs, collections and tuples are handled by the callers.
        other => return Err(invalid(format!("cannot decode a {other} value here"))),
    })
}

/// Exactly `N` bytes for a fixed-size type.
pub(super) fn fixed<const N: usize>(ty: &CqlType, b: &[u8]) -> Result<[u8; N]> {
    b.try_into().map_err(|_| {
        let name = ty.to_string();
        invalid(format!(
            "expected {N} byte{} for {} {name} value, got {}",
            if N == 1 { "" } else { "s" },
            article(&name),
            b.len()
        ))
    })
}

fn utf8<'a>(bytes: &'a [u8], ty: &CqlType) -> Result<&'a str> {
    std::str::from_utf8(bytes)
        .map_err(|e| invalid(format!("invalid UTF-8 in {ty} value at byte {}", e.valid_up_to())))
}

fn check_ascii(bytes: &[u8]) -> Result<()> {
    match bytes.iter().position(|b| !b.is_ascii()) {
        None => Ok(()),
        Some(pos) => Err(invalid(format!(
            "invalid ascii value: byte 0x{:02x} at offset {pos} is not ASCII",
            bytes[pos]
        ))),
    }
}

/// Reads the `[int]` counts and `[bytes]` elements of a collection or tuple payload.
pub(super) struct Cursor<'a> {
    buf: &'a [u8],
    ty: &'a CqlType,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(buf: &'a [u8], ty: &'a CqlType) -> Self {
        Cursor { buf, ty }
    }

    pub(super) fn is_done(&self) -> bool {
        self.buf.is_empty()
    }

    fn int(&mut self, what: &str) -> Result<i32> {
        match self.buf.split_first_chunk::<4>() {
            Some((n, rest)) => {
                self.buf = rest;
                Ok(i32::from_be_bytes(*n))
            }
            None => Err(invalid(format!(
                "truncated {} value: {} bytes left where {what} needs 4",
                self.ty,
                self.buf.len()
            ))),
        }
    }

    /// The element count of a list, set or map.
    pub(super) fn count(&mut self) -> Result<usize> {
        let n = self.int("the element count")?;
        usize::try_from(n).map_err(|_| invalid(format!("negative element count {n} in {} value", self.ty)))
    }

    /// One `[bytes]`; `None` for a negative length (null).
    pub(super) fn field(&mut self) -> Result<Option<&'a [u8]>> {
        let len = self.int("an element length")?;
        let Ok(len) = usize::try_from(len) else {
            return Ok(None);
        };
        if len > self.buf.len() {
            return Err(invalid(format!(
                "truncated {} value: element of {len} bytes, {} left",
                self.ty,
                self.buf.len()
            )));
        }
        let (b, rest) = self.buf.split_at(len);
        self.buf = rest;
        Ok(Some(b))
    }

    /// A collection element: null is not allowed.
    pub(super) fn element(&mut self) -> Result<&'a [u8]> {
        self.field()?.ok_or_else(|| {
            invalid(format!("null element in {} value: null is not supported inside collections", self.ty))
        })
    }

    pub(super) fn finish(&self) -> Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(invalid(format!("{} trailing bytes after {} value", self.buf.len(), self.ty)))
        }
    }
}
