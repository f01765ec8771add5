//! The `[option]` type descriptor of column specs (spec §4.2.5.2): [`write_type`] for the
//! server's result metadata, [`read_type`] for clients. `frozen` never reaches the wire, so a
//! decoded type is never `Frozen`; v4 has no duration id, so duration travels as a custom type.
//!
//! | id     | type        | id     | type      | id     | type                            |
//! |--------|-------------|--------|-----------|--------|---------------------------------|
//! | 0x0000 | custom `[string]` | 0x0009 | int | 0x0012 | time                          |
//! | 0x0001 | ascii       | 0x000B | timestamp | 0x0013 | smallint                        |
//! | 0x0002 | bigint      | 0x000C | uuid      | 0x0014 | tinyint                         |
//! | 0x0003 | blob        | 0x000D | varchar   | 0x0020 | list `[option]`                 |
//! | 0x0004 | boolean     | 0x000E | varint    | 0x0021 | map `[option][option]`          |
//! | 0x0005 | counter     | 0x000F | timeuuid  | 0x0022 | set `[option]`                  |
//! | 0x0006 | decimal     | 0x0010 | inet      | 0x0030 | UDT (not supported: an error)   |
//! | 0x0007/8 | double/float | 0x0011 | date   | 0x0031 | tuple `[short] n` n×`[option]`  |

use bytes::{BufMut, BytesMut};

use super::notation::{Reader, put_string};
use crate::error::Result;
use crate::types::CqlType;

/// The custom class name v4 uses for `duration`.
pub const DURATION_CLASS: &str = "org.apache.cassandra.db.marshal.DurationType";

/// Nesting deeper than this is refused, so a hostile type cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

/// Appends `ty` as an `[option]`. `Frozen(x)` writes `x`.
pub fn write_type(ty: &CqlType, out: &mut BytesMut) {
    let id: u16 = match ty {
        CqlType::Frozen(inner) => return write_type(inner, out),
        CqlType::Duration => {
            out.put_u16(0x0000);
            put_string(out, DURATION_CLASS);
            return;
        }
        CqlType::Ascii => 0x0001,
        CqlType::Bigint => 0x0002,
        CqlType::Blob => 0x0003,
        CqlType::Boolean => 0x0004,
        CqlType::Counter => 0x0005,
        CqlType::Decimal => 0x0006,
        CqlType::Double => 0x0007,
        CqlType::Float => 0x0008,
        CqlType::Int => 0x0009,
        CqlType::Timestamp => 0x000B,
        CqlType::Uuid => 0x000C,
        CqlType::Text => 0x000D,
        CqlType::Varint => 0x000E,
        CqlType::Timeuuid => 0x000F,
        CqlType::Inet => 0x0010,
        CqlType::Date => 0x0011,
        CqlType::Time => 0x0012,
        CqlType::Smallint => 0x0013,
        CqlType::Tinyint => 0x0014,
        CqlType::List(e) => {
            out.put_u16(0x0020);
            return write_type(e, out);
        }
        CqlType::Map(k, v) => {
            out.put_u16(0x0021);
            write_type(k, out);
            return write_type(v, out);
        }
        CqlType::Set(e) => {
            out.put_u16(0x0022);
            return write_type(e, out);
        }
        CqlType::Tuple(items) => {
            out.put_u16(0x0031);
            let n = u16::try_from(items.len()).unwrap_or(u16::MAX);
            out.put_u16(n);
            for t in items.iter().take(usize::from(n)) {
                write_type(t, out);
            }
            return;
        }
    };
    out.put_u16(id);
}

/// Reads an `[option]`. UDTs, custom classes other than duration, and unknown ids are errors
/// naming them.
pub fn read_type(r: &mut Reader<'_>) -> Result<CqlType> {
    read_type_at(r, 0)
}

/// Decodes an `[option]` at the start of `buf`: the type and the bytes it took.
pub fn decode_type(buf: &[u8]) -> Result<(CqlType, usize)> {
    let mut r = Reader::new(buf, "[option]");
    let ty = read_type(&mut r)?;
    Ok((ty, r.position()))
}

fn read_type_at(r: &mut Reader<'_>, depth: usize) -> Result<CqlType> {
    if depth > MAX_DEPTH {
        return Err(r.error(format_args!("[option] type nests deeper than {MAX_DEPTH} levels")));
    }
    let id = r.read_short()?;
    Ok(match id {
        0x0000 => {
            let class = r.read_string()?;
            if class == DURATION_CLASS {
                CqlType::Duration
            } else {
                return Err(r.error(format_args!("unsupported custom type '{class}'")));
            }
        }
        0x0001 => CqlType::Ascii,
        0x0002 => CqlType::Bigint,
        0x0003 => CqlType::Blob,
        0x0004 => CqlType::Boolean,
        0x0005 => CqlType::Counter,
        0x0006 => CqlType::Decimal,
        0x0007 => CqlType::Double,
        0x0008 => CqlType::Float,
        0x0009 => CqlType::Int,
        // 0x000A was v1's "text"; accepted as text for old peers.
        0x000A | 0x000D => CqlType::Text,
        0x000B => CqlType::Timestamp,
        0x000C => CqlType::Uuid,
        0x000E => CqlType::Varint,
        0x000F => CqlType::Timeuuid,
        0x0010 => CqlType::Inet,
        0x0011 => CqlType::Date,
        0x0012 => CqlType::Time,
        0x0013 => CqlType::Smallint,
        0x0014 => CqlType::Tinyint,
        // v5's duration id; harmless to accept.
        0x0015 => CqlType::Duration,
        0x0020 => CqlType::List(Box::new(read_type_at(r, depth + 1)?)),
        0x0021 => {
            let k = read_type_at(r, depth + 1)?;
            let v = read_type_at(r, depth + 1)?;
            CqlType::Map(Box::new(k), Box::new(v))
        }
        0x0022 => CqlType::Set(Box::new(read_type_at(r, depth + 1)?)),
        0x0030 => {
            let ks = r.read_string()?;
            let name = r.read_string()?;
            return Err(r.error(format_args!("user-defined type {ks}.{name} is not supported")));
        }
        0x0031 => {
            let n = r.read_short()?;
            let n = r.check_count(u64::from(n), 2, "tuple [option] list")?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(read_type_at(r, depth + 1)?);
            }
            CqlType::Tuple(items)
        }
        other => return Err(r.error(format_args!("unknown [option] type id 0x{other:04X}"))),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn b(t: CqlType) -> Box<CqlType> {
        Box::new(t)
    }

    #[test]
    fn every_type_round_trips() {
        let types = vec![
            CqlType::Ascii,
            CqlType::Bigint,
            CqlType::Blob,
            CqlType::Boolean,
            CqlType::Counter,
            CqlType::Date,
            CqlType::Decimal,
            CqlType::Double,
            CqlType::Duration,
            CqlType::Float,
            CqlType::Inet,
            CqlType::Int,
            CqlType::Smallint,
            CqlType::Text,
            CqlType::Time,
            CqlType::Timestamp,
            CqlType::Timeuuid,
            CqlType::Tinyint,
            CqlType::Uuid,
            CqlType::Varint,
            CqlType::List(b(CqlType::Int)),
            CqlType::Set(b(CqlType::Text)),
            CqlType::Map(b(CqlType::Text), b(CqlType::List(b(CqlType::Uuid)))),
            CqlType::Tuple(vec![CqlType::Int, CqlType::Duration, CqlType::Set(b(CqlType::Blob))]),
        ];
        for t in types {
            let mut out = BytesMut::new();
            write_type(&t, &mut out);
            assert_eq!(decode_type(&out).unwrap(), (t.clone(), out.len()), "{t:?}");
        }
    }

    #[test]
    fn golden_bytes() {
        let mut out = BytesMut::new();
        write_type(
            &CqlType::Frozen(b(CqlType::Map(
                b(CqlType::Text),
                b(CqlType::Frozen(b(CqlType::List(b(CqlType::Int))))),
            ))),
            &mut out,
        );
        assert_eq!(&out[..], &[0x00, 0x21, 0x00, 0x0D, 0x00, 0x20, 0x00, 0x09]);
        let mut out = BytesMut::new();
        write_type(&CqlType::Counter, &mut out);
        assert_eq!(&out[..], &[0x00, 0x05]);
        let mut out = BytesMut::new();
        write_type(&CqlType::Duration, &mut out);
        assert_eq!(&out[..2], &[0x00, 0x00]);
        assert_eq!(&out[4..], DURATION_CLASS.as_bytes());
    }

    #[test]
    fn unsupported_and_malformed_types_are_errors() {
        let e = decode_type(&[0x00, 0x30, 0, 2, b'k', b's', 0, 1, b'u', 0, 0]).unwrap_err();
        assert!(e.to_string().contains("ks.u"), "{e}");
        let e = decode_type(&[0x00, 0x40]).unwrap_err();
        assert!(e.to_string().contains("0x0040"), "{e}");
        let e = decode_type(&[0x00, 0x00, 0, 3, b'a', b'.', b'B']).unwrap_err();
        assert!(e.to_string().contains("a.B"), "{e}");
        assert!(decode_type(&[0x00, 0x31, 0xFF, 0xFF, 0, 9]).is_err());
        assert!(decode_type(&[0x00, 0x21, 0x00, 0x09]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n([0x00, 0x20], 10_000).flatten().collect();
        assert!(decode_type(&deep).unwrap_err().to_string().contains("deeper"));
    }
}
