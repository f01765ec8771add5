//! The byte-comparable encoding of clustering-key components: memcmp order of the encodings is
//! Cassandra's order of the values, and no encoding is a prefix of another, so the components of
//! a composite key simply concatenate. `storage` compares these bytes and never sees CQL types.
//! DESC components are the ascending encoding with every byte inverted. The empty value of a
//! non-string type sorts before every other value (after them under DESC).
//!
//! | type | ascending encoding |
//! |---|---|
//! | text, ascii, blob, inet | the bytes with `00` → `00 FF`, then `00 00` (empty = `00 00`) |
//! | any other type, empty value | `00` |
//! | boolean | `01`, then `00` / `01` |
//! | tinyint…bigint, counter, timestamp, time | `01`, big-endian with the sign bit flipped |
//! | date | `01`, the unsigned day number |
//! | float, double | `01`, bits with the sign flipped (≥ 0) or all flipped (< 0); one NaN, last |
//! | uuid | `01`, version nibble, time fields high to low (v1) or the other msb nibbles, lsb |
//! | timeuuid | `01`, time_hi·time_mid·time_low, then each lsb byte XOR `80` (signed bytes) |
//! | varint | `01`, `FF`×⌊(n−1)/128⌋ `80+(n−1)%128` (negative: `00`… `7F−…`), n minimal bytes |
//! | decimal | `01`, `80` for zero, else `C0`/`40` (neg.) then exponent as varint, base-100 digit pairs + 1, `00`; inverted after `40` |
//! | list, set | `01`, then `01`+element per element, then `00` (set elements sorted, deduplicated) |
//! | map | `01`, then `01`+key+value per entry sorted by key, then `00` |
//! | tuple | `01`, then per declared field `01` (null) or `02`+field |
//!
//! Decoding returns the serialized bytes, canonical where several encode alike: a decimal comes
//! back with trailing zeros removed (1.50 → 1.5), a varint minimal, a boolean as 0/1, NaN as
//! the canonical NaN, tuple nulls explicit. Duration has no order and is rejected.

use std::cmp::Ordering;

use num_bigint::{BigInt, Sign};

use super::deserialize::{Cursor, fixed};
use super::invalid;
use crate::error::{Error, Result};
use crate::types::CqlType;

const EMPTY: u8 = 0x00;
const PRESENT: u8 = 0x01;
const END: u8 = 0x00;
const NEXT: u8 = 0x01;
const NULL_FIELD: u8 = 0x01;
const FIELD: u8 = 0x02;

/// Appends the byte-comparable encoding of the serialized `bytes` of a `ty` to `out`;
/// `desc` inverts the order. Fails on malformed bytes and on types without an order.
pub fn encode_comparable(ty: &CqlType, bytes: &[u8], desc: bool, out: &mut Vec<u8>) -> Result<()> {
    let start = out.len();
    if let Err(e) = encode_asc(ty, bytes, out) {
        out.truncate(start);
        return Err(e);
    }
    if desc {
        out[start..].iter_mut().for_each(|b| *b = !*b);
    }
    Ok(())
}

/// Reads one component written by [`encode_comparable`] from the front of `input`, advancing
/// it, and returns the value's serialized bytes (canonical form, see the module docs).
pub fn decode_comparable(ty: &CqlType, desc: bool, input: &mut &[u8]) -> Result<Vec<u8>> {
    let mut reader = Reader { input, mask: if desc { 0xFF } else { 0x00 }, ty };
    let mut out = Vec::new();
    decode_asc(ty, &mut reader, &mut out)?;
    *input = reader.input;
    Ok(out)
}

/// Cassandra's order of two serialized values of a `ty`.
pub fn compare_serialized(ty: &CqlType, a: &[u8], b: &[u8]) -> Result<Ordering> {
    let mut ea = Vec::new();
    let mut eb = Vec::new();
    encode_asc(ty, a, &mut ea)?;
    encode_asc(ty, b, &mut eb)?;
    Ok(ea.cmp(&eb))
}

fn encode_asc(ty: &CqlType, b: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let ty = ty.unfrozen();
    match ty {
        CqlType::Ascii | CqlType::Text | CqlType::Blob => {
            escape(b, out);
            return Ok(());
        }
        CqlType::Inet => {
            if !matches!(b.len(), 0 | 4 | 16) {
                return Err(invalid(format!("expected 4 or 16 bytes for an inet value, got {}", b.len())));
            }
            escape(b, out);
            return Ok(());
        }
        CqlType::Duration => {
            return Err(invalid(
                "duration values have no order: they cannot be clustering keys, set elements or map keys",
            ));
        }
        _ if b.is_empty() => {
            out.push(EMPTY);
            return Ok(());
        }
        _ => out.push(PRESENT),
    }
    match ty {
        CqlType::Boolean => out.push(u8::from(fixed::<1>(ty, b)?[0] != 0)),
        CqlType::Tinyint => flip_sign(&fixed::<1>(ty, b)?, out),
        CqlType::Smallint => flip_sign(&fixed::<2>(ty, b)?, out),
        CqlType::Int => flip_sign(&fixed::<4>(ty, b)?, out),
        CqlType::Bigint | CqlType::Counter | CqlType::Timestamp | CqlType::Time => {
            flip_sign(&fixed::<8>(ty, b)?, out)
        }
        CqlType::Date => out.extend_from_slice(&fixed::<4>(ty, b)?),
        CqlType::Float => {
            let f = f32::from_be_bytes(fixed(ty, b)?);
            let bits = if f.is_nan() { f32::NAN.to_bits() } else { f.to_bits() };
            let key = if bits >> 31 == 1 { !bits } else { bits ^ (1 << 31) };
            out.extend_from_slice(&key.to_be_bytes());
        }
        CqlType::Double => {
            let f = f64::from_be_bytes(fixed(ty, b)?);
            let bits = if f.is_nan() { f64::NAN.to_bits() } else { f.to_bits() };
            let key = if bits >> 63 == 1 { !bits } else { bits ^ (1 << 63) };
            out.extend_from_slice(&key.to_be_bytes());
        }
        CqlType::Uuid => out.extend_from_slice(&uuid_key(fixed(ty, b)?)),
        CqlType::Timeuuid => out.extend_from_slice(&timeuuid_key(fixed(ty, b)?)?),
        CqlType::Varint => encode_varint(minimal(b), out),
        CqlType::Decimal => encode_decimal(b, out)?,
        CqlType::List(elem) => {
            let mut cur = Cursor::new(b, ty);
            for _ in 0..cur.count()? {
                out.push(NEXT);
                encode_asc(elem, cur.element()?, out)?;
            }
            cur.finish()?;
            out.push(END);
        }
        CqlType::Set(elem) => {
            let mut cur = Cursor::new(b, ty);
            let mut keys = Vec::new();
            for _ in 0..cur.count()? {
                let mut key = Vec::new();
                encode_asc(elem, cur.element()?, &mut key)?;
                keys.push(key);
            }
            cur.finish()?;
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                out.push(NEXT);
                out.extend_from_slice(&key);
            }
            out.push(END);
        }
        CqlType::Map(key_ty, value_ty) => {
            let mut cur = Cursor::new(b, ty);
            let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            for _ in 0..cur.count()? {
                let (mut k, mut v) = (Vec::new(), Vec::new());
                encode_asc(key_ty, cur.element()?, &mut k)?;
                encode_asc(value_ty, cur.element()?, &mut v)?;
                entries.push((k, v));
            }
            cur.finish()?;
            // Stable, so that of entries with equal keys the last one written wins.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut kept: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(entries.len());
            for entry in entries {
                match kept.last_mut() {
                    Some(last) if last.0 == entry.0 => *last = entry,
                    _ => kept.push(entry),
                }
            }
            for (k, v) in kept {
                out.push(NEXT);
                out.extend_from_slice(&k);
                out.extend_from_slice(&v);
            }
            out.push(END);
        }
        CqlType::Tuple(types) => {
            let mut cur = Cursor::new(b, ty);
            for field_ty in types {
                match if cur.is_done() { None } else { cur.field()? } {
                    None => out.push(NULL_FIELD),
                    Some(fb) => {
                        out.push(FIELD);
                        encode_asc(field_ty, fb, out)?;
                    }
                }
            }
            cur.finish()?;
        }
        // Handled above; unreachable for well-formed types.
        other => return Err(invalid(format!("{other} values cannot be ordered"))),
    }
    Ok(())
}

fn decode_asc(ty: &CqlType, r: &mut Reader<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    let ty = ty.unfrozen();
    match ty {
        CqlType::Ascii | CqlType::Text | CqlType::Blob | CqlType::Inet => {
            let start = out.len();
            unescape(r, out)?;
            if matches!(ty, CqlType::Inet) && !matches!(out.len() - start, 0 | 4 | 16) {
                return Err(r.malformed());
            }
            return Ok(());
        }
        CqlType::Duration => return Err(r.malformed()),
        _ => match r.byte()? {
            EMPTY => return Ok(()),
            PRESENT => {}
            _ => return Err(r.malformed()),
        },
    }
    match ty {
        CqlType::Boolean => match r.byte()? {
            b @ (0 | 1) => out.push(b),
            _ => return Err(r.malformed()),
        },
        CqlType::Tinyint => unflip_sign(&r.take::<1>()?, out),
        CqlType::Smallint => unflip_sign(&r.take::<2>()?, out),
        CqlType::Int => unflip_sign(&r.take::<4>()?, out),
        CqlType::Bigint | CqlType::Counter | CqlType::Timestamp | CqlType::Time => {
            unflip_sign(&r.take::<8>()?, out)
        }
        CqlType::Date => out.extend_from_slice(&r.take::<4>()?),
        CqlType::Float => {
            let key = u32::from_be_bytes(r.take()?);
            let bits = if key >> 31 == 1 { key ^ (1 << 31) } else { !key };
            out.extend_from_slice(&bits.to_be_bytes());
        }
        CqlType::Double => {
            let key = u64::from_be_bytes(r.take()?);
            let bits = if key >> 63 == 1 { key ^ (1 << 63) } else { !key };
            out.extend_from_slice(&bits.to_be_bytes());
        }
        CqlType::Uuid => out.extend_from_slice(&uuid_from_key(r.take()?)),
        CqlType::Timeuuid => out.extend_from_slice(&timeuuid_from_key(r.take()?)),
        CqlType::Varint => decode_varint(r, out)?,
        CqlType::Decimal => decode_decimal(r, out)?,
        CqlType::List(elem) | CqlType::Set(elem) => {
            let at = out.len();
            out.extend_from_slice(&[0; 4]);
            let mut n = 0i32;
            loop {
                match r.byte()? {
                    END => break,
                    NEXT => decode_element(elem, r, out)?,
                    _ => return Err(r.malformed()),
                }
                n = n.checked_add(1).ok_or_else(|| r.malformed())?;
            }
            out[at..at + 4].copy_from_slice(&n.to_be_bytes());
        }
        CqlType::Map(key_ty, value_ty) => {
            let at = out.len();
            out.extend_from_slice(&[0; 4]);
            let mut n = 0i32;
            loop {
                match r.byte()? {
                    END => break,
                    NEXT => {
                        decode_element(key_ty, r, out)?;
                        decode_element(value_ty, r, out)?;
                    }
                    _ => return Err(r.malformed()),
                }
                n = n.checked_add(1).ok_or_else(|| r.malformed())?;
            }
            out[at..at + 4].copy_from_slice(&n.to_be_bytes());
        }
        CqlType::Tuple(types) => {
            for field_ty in types {
                match r.byte()? {
                    NULL_FIELD => out.extend_from_slice(&(-1i32).to_be_bytes()),
                    FIELD => decode_element(field_ty, r, out)?,
                    _ => return Err(r.malformed()),
                }
            }
        }
        _ => return Err(r.malformed()),
    }
    Ok(())
}

/// Decodes one element and writes it as a `[bytes]`.
fn decode_element(ty: &CqlType, r: &mut Reader<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    decode_asc(ty, r, out)?;
    let len = i32::try_from(out.len() - at - 4).map_err(|_| r.malformed())?;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Reads an encoding, undoing the DESC inversion through `mask`.
struct Reader<'a, 't> {
    input: &'a [u8],
    mask: u8,
    ty: &'t CqlType,
}

impl Reader<'_, '_> {
    fn byte(&mut self) -> Result<u8> {
        let (&b, rest) = self.input.split_first().ok_or_else(|| self.truncated())?;
        self.input = rest;
        Ok(b ^ self.mask)
    }

    fn peek(&self) -> Option<u8> {
        self.input.first().map(|b| b ^ self.mask)
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let (bytes, rest) = self.input.split_first_chunk::<N>().ok_or_else(|| self.truncated())?;
        self.input = rest;
        Ok(bytes.map(|b| b ^ self.mask))
    }

    fn truncated(&self) -> Error {
        invalid(format!("truncated comparable encoding of a {} value", self.ty))
    }

    fn malformed(&self) -> Error {
        invalid(format!("malformed comparable encoding of a {} value", self.ty))
    }
}

/// Byte strings: `00` → `00 FF`, terminated by `00 00`.
fn escape(b: &[u8], out: &mut Vec<u8>) {
    for &byte in b {
        out.push(byte);
        if byte == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

fn unescape(r: &mut Reader<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    loop {
        match r.byte()? {
            0 => match r.byte()? {
                0 => return Ok(()),
                0xFF => out.push(0),
                _ => return Err(r.malformed()),
            },
            b => out.push(b),
        }
    }
}

fn flip_sign(b: &[u8], out: &mut Vec<u8>) {
    if let Some((first, rest)) = b.split_first() {
        out.push(first ^ 0x80);
        out.extend_from_slice(rest);
    }
}

fn unflip_sign(b: &[u8], out: &mut Vec<u8>) {
    flip_sign(b, out);
}

/// Cassandra's `TimeUUIDType.reorderTimestampBytes`: time_hi_and_version, time_mid, time_low.
fn reorder(msb: u64) -> u64 {
    (msb << 48) | ((msb << 16) & 0xFFFF_0000_0000) | (msb >> 32)
}

fn unreorder(key: u64) -> u64 {
    (key << 32) | ((key >> 16) & 0xFFFF_0000) | (key >> 48)
}

fn halves(u: [u8; 16]) -> (u64, u64) {
    let (hi, lo) = u.split_at(8);
    let mut msb = [0; 8];
    let mut lsb = [0; 8];
    msb.copy_from_slice(hi);
    lsb.copy_from_slice(lo);
    (u64::from_be_bytes(msb), u64::from_be_bytes(lsb))
}

fn join(msb: u64, lsb: u64) -> [u8; 16] {
    let mut out = [0; 16];
    out[..8].copy_from_slice(&msb.to_be_bytes());
    out[8..].copy_from_slice(&lsb.to_be_bytes());
    out
}

/// `UUIDType` order: version, then (v1) the timestamp or (others) the msb, then the lsb, all
/// unsigned.
fn uuid_key(u: [u8; 16]) -> [u8; 16] {
    let (msb, lsb) = halves(u);
    let version = (msb >> 12) & 0xF;
    let key = if version == 1 { reorder(msb) } else { (version << 60) | ((msb >> 16) << 12) | (msb & 0xFFF) };
    join(key, lsb)
}

fn uuid_from_key(k: [u8; 16]) -> [u8; 16] {
    let (key, lsb) = halves(k);
    let version = key >> 60;
    let msb = if version == 1 {
        unreorder(key)
    } else {
        let rest = key & ((1 << 60) - 1);
        ((rest >> 12) << 16) | (version << 12) | (rest & 0xFFF)
    };
    join(msb, lsb)
}

/// `TimeUUIDType` order: the timestamp, then the lsb as signed bytes.
fn timeuuid_key(u: [u8; 16]) -> Result<[u8; 16]> {
    let (msb, lsb) = halves(u);
    let version = (msb >> 12) & 0xF;
    if version != 1 {
        return Err(invalid(format!(
            "invalid timeuuid value: version {version} UUID, a timeuuid must be version 1"
        )));
    }
    Ok(join(reorder(msb), lsb ^ 0x8080_8080_8080_8080))
}

fn timeuuid_from_key(k: [u8; 16]) -> [u8; 16] {
    let (key, lsb) = halves(k);
    join(unreorder(key), lsb ^ 0x8080_8080_8080_8080)
}

/// Two's-complement bytes without redundant leading sign bytes (at least one byte).
fn minimal(b: &[u8]) -> &[u8] {
    let mut s = b;
    while let [first, second, ..] = s {
        let redundant = (*first == 0 && second & 0x80 == 0) || (*first == 0xFF && second & 0x80 != 0);
        if !redundant {
            break;
        }
        s = &s[1..];
    }
    s
}

/// A length prefix that orders by sign and magnitude, then the minimal bytes (non-empty).
fn encode_varint(m: &[u8], out: &mut Vec<u8>) {
    let negative = m.first().is_some_and(|b| b & 0x80 != 0);
    let len = m.len().max(1);
    let (chunks, rest) = ((len - 1) / 128, ((len - 1) % 128) as u8);
    for _ in 0..chunks {
        out.push(if negative { 0x00 } else { 0xFF });
    }
    out.push(if negative { 0x7F - rest } else { 0x80 + rest });
    out.extend_from_slice(m);
}

fn decode_varint(r: &mut Reader<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    let first = r.byte()?;
    let negative = first < 0x80;
    // A chunk byte (FF, or 00 when negative) is followed by another length byte, which has the
    // number's sign bit clear (positive) or set (negative); the first digit byte has the
    // opposite, so a following digit byte marks FF/00 as the last length byte.
    let chunk = if negative { 0x00 } else { 0xFF };
    let more: fn(u8) -> bool = if negative { |b| b < 0x80 } else { |b| b >= 0x80 };
    let mut chunks = 0usize;
    let mut b = first;
    let rest = loop {
        if b == chunk && r.peek().is_some_and(more) {
            chunks += 1;
            b = r.byte()?;
            continue;
        }
        break usize::from(if negative { 0x7F - b } else { b - 0x80 });
    };
    let len = chunks.checked_mul(128).and_then(|c| c.checked_add(rest + 1)).ok_or_else(|| r.malformed())?;
    if len > r.input.len() {
        return Err(r.truncated());
    }
    let start = out.len();
    for _ in 0..len {
        out.push(r.byte()?);
    }
    if (out[start] & 0x80 != 0) != negative {
        return Err(r.malformed());
    }
    Ok(())
}

fn encode_decimal(b: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let Some((scale, unscaled)) = b.split_first_chunk::<4>().filter(|(_, u)| !u.is_empty()) else {
        return Err(invalid(format!("expected at least 5 bytes for a decimal value, got {}", b.len())));
    };
    let scale = i32::from_be_bytes(*scale);
    let unscaled = BigInt::from_signed_bytes_be(unscaled);
    if unscaled.sign() == Sign::NoSign {
        out.push(0x80);
        return Ok(());
    }
    let negative = unscaled.sign() == Sign::Minus;
    let mut digits = unscaled.magnitude().to_string().into_bytes();
    let all = digits.len();
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    // value = 0.d1d2… × 10^exponent
    let exponent = i64::try_from(all).unwrap_or(i64::MAX) - i64::from(scale);
    out.push(if negative { 0x40 } else { 0xC0 });
    let body = out.len();
    encode_varint(minimal(&exponent.to_be_bytes()), out);
    for pair in digits.chunks(2) {
        let hi = pair[0] - b'0';
        let lo = pair.get(1).map_or(0, |d| d - b'0');
        out.push(1 + hi * 10 + lo);
    }
    out.push(0);
    if negative {
        out[body..].iter_mut().for_each(|b| *b = !*b);
    }
    Ok(())
}

fn decode_decimal(r: &mut Reader<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    let negative = match r.byte()? {
        0x80 => {
            out.extend_from_slice(&0i32.to_be_bytes());
            out.push(0);
            return Ok(());
        }
        0xC0 => false,
        0x40 => true,
        _ => return Err(r.malformed()),
    };
    if negative {
        r.mask = !r.mask;
    }
    let mut exp_bytes = Vec::new();
    decode_varint(r, &mut exp_bytes)?;
    let mut digits = Vec::new();
    loop {
        match r.byte()? {
            0 => break,
            b @ 1..=100 => {
                digits.push(b'0' + (b - 1) / 10);
                digits.push(b'0' + (b - 1) % 10);
            }
            _ => return Err(r.malformed()),
        }
    }
    if negative {
        r.mask = !r.mask;
    }
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() || digits[0] == b'0' || exp_bytes.len() > 8 {
        return Err(r.malformed());
    }
    let mut exponent = [if exp_bytes[0] & 0x80 != 0 { 0xFF } else { 0 }; 8];
    exponent[8 - exp_bytes.len()..].copy_from_slice(&exp_bytes);
    let exponent = i64::from_be_bytes(exponent);
    let mut unscaled = BigInt::parse_bytes(&digits, 10).ok_or_else(|| r.malformed())?;
    let n = i64::try_from(digits.len()).map_err(|_| r.malformed())?;
    // value = digits × 10^-scale; integers come back with scale 0 when that stays small.
    let mut scale = n.checked_sub(exponent).ok_or_else(|| r.malformed())?;
    let floor = if (-64..0).contains(&scale) { 0 } else { i64::from(i32::MIN) };
    if scale < floor {
        let k = u32::try_from(floor - scale).ok().filter(|k| *k <= 10_000).ok_or_else(|| r.malformed())?;
        unscaled *= BigInt::from(10u32).pow(k);
        scale = floor;
    }
    let scale = i32::try_from(scale).map_err(|_| r.malformed())?;
    if negative {
        unscaled = -unscaled;
    }
    out.extend_from_slice(&scale.to_be_bytes());
    out.extend_from_slice(&unscaled.to_signed_bytes_be());
    Ok(())
}
