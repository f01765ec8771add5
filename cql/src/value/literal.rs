//! Literal terms to values, once the executor knows the receiving type: which literal kinds a
//! type accepts follows Cassandra's `Constants.Literal.testAssignment`, and the text forms
//! follow each type's `fromString`. Sets and maps come out sorted and deduplicated.
//!
//! | literal | accepted by |
//! |---|---|
//! | integer | tinyint, smallint, int, bigint, counter, varint, decimal, float, double, timestamp (ms), date (raw days), time (ns) |
//! | float (`1.5`, `2e10`, `NaN`, `Infinity`) | decimal, float, double |
//! | string | text, ascii, inet, date, time, timestamp (`''` is the empty value for the last four) |
//! | uuid | uuid, timeuuid (version 1 only) |
//! | blob, boolean, duration | blob, boolean, duration |
//! | `[..]`, `{..}`, `{k: v}`, `(..)` | list, set (also `{}`), map, tuple (missing trailing fields are null) |

use std::fmt::Display;
use std::num::IntErrorKind;
use std::str::FromStr;

use bytes::Bytes;
use num_bigint::BigInt;

use super::{CqlValue, duration, encode_comparable, invalid, numeric, temporal};
use crate::ast::{Literal, Term};
use crate::error::Result;
use crate::types::CqlType;

/// What [`from_term_with`] asks the caller for: the value of a bind marker, function call or
/// negation of type `ty` (`Ok(None)` for null).
pub type Resolve<'a> = &'a dyn Fn(&Term, &CqlType) -> Result<Option<CqlValue>>;

/// Converts a literal term to a value of type `ty`; `Ok(None)` for `null`. Bind markers,
/// function calls and negations must be resolved by the caller first.
pub fn from_term(term: &Term, ty: &CqlType) -> Result<Option<CqlValue>> {
    from_term_with(term, ty, &unresolved)
}

fn unresolved(term: &Term, ty: &CqlType) -> Result<Option<CqlValue>> {
    Err(match term {
        Term::Function { name, .. } => invalid(format!(
            "the function call {name}() must be evaluated before its value is converted to {ty}"
        )),
        Term::Negate(_) => {
            invalid(format!("a negation must be evaluated before its value is converted to {ty}"))
        }
        _ => invalid(format!("a bind marker for type {ty} must be bound before its value is converted")),
    })
}

/// [`from_term`] for literals that may hold bind markers, function calls or negations
/// (`[?, ?]`, `{?: now()}`, `(1, ?)`): `resolve` gives their values.
pub fn from_term_with(term: &Term, ty: &CqlType, resolve: Resolve<'_>) -> Result<Option<CqlValue>> {
    let t = ty.unfrozen();
    let value = match term {
        Term::Literal(Literal::Null) => return Ok(None),
        Term::Literal(lit) => literal(lit, ty)?,
        Term::List(items) => match t {
            CqlType::List(elem) => CqlValue::List(elements(items, elem, resolve)?),
            // The Python driver writes tuple parameters of simple statements as `[a, b]`.
            CqlType::Tuple(_) => return from_term_with(&Term::Tuple(items.clone()), ty, resolve),
            _ => return Err(wrong_shape("list", ty)),
        },
        Term::Set(items) => match t {
            CqlType::Set(elem) => CqlValue::Set(elements(items, elem, resolve)?),
            _ => return Err(wrong_shape("set", ty)),
        },
        Term::Map(entries) => match t {
            CqlType::Map(key_ty, value_ty) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    out.push((element(k, key_ty, resolve)?, element(v, value_ty, resolve)?));
                }
                CqlValue::Map(out)
            }
            CqlType::Set(_) if entries.is_empty() => CqlValue::Set(Vec::new()),
            _ => return Err(wrong_shape("map", ty)),
        },
        Term::Tuple(items) => match t {
            CqlType::Tuple(types) => {
                if items.len() > types.len() {
                    return Err(invalid(format!(
                        "invalid tuple literal for type {ty}: too many elements, expected {} but got {}",
                        types.len(),
                        items.len()
                    )));
                }
                let mut fields = Vec::with_capacity(types.len());
                for (i, field_ty) in types.iter().enumerate() {
                    fields.push(match items.get(i) {
                        Some(item) => from_term_with(item, field_ty, resolve)?,
                        None => None,
                    });
                }
                CqlValue::Tuple(fields)
            }
            _ => return Err(wrong_shape("tuple", ty)),
        },
        Term::Bind { .. } | Term::Function { .. } | Term::Negate(_) => match resolve(term, ty)? {
            Some(v) => v,
            None => return Ok(None),
        },
    };
    let mut value = value;
    if matches!(value, CqlValue::Set(_) | CqlValue::Map(_)) {
        normalize(&mut value, ty)?;
    }
    Ok(Some(value))
}

fn wrong_shape(kind: &str, ty: &CqlType) -> crate::error::Error {
    invalid(format!("invalid {kind} literal for type {ty}"))
}

fn elements(items: &[Term], ty: &CqlType, resolve: Resolve<'_>) -> Result<Vec<CqlValue>> {
    items.iter().map(|item| element(item, ty, resolve)).collect()
}

/// A collection element: null is not allowed.
fn element(term: &Term, ty: &CqlType, resolve: Resolve<'_>) -> Result<CqlValue> {
    from_term_with(term, ty, resolve)?.ok_or_else(|| invalid("null is not supported inside collections"))
}

/// See [`CqlValue::normalize`].
pub(super) fn normalize(value: &mut CqlValue, ty: &CqlType) -> Result<()> {
    match (value, ty.unfrozen()) {
        (CqlValue::List(items), CqlType::List(elem)) => items.iter_mut().try_for_each(|v| normalize(v, elem)),
        (CqlValue::Set(items), CqlType::Set(elem)) => {
            let mut keyed = Vec::with_capacity(items.len());
            for mut item in std::mem::take(items) {
                normalize(&mut item, elem)?;
                keyed.push((order_key(&item, elem)?, item));
            }
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            keyed.dedup_by(|a, b| a.0 == b.0);
            *items = keyed.into_iter().map(|(_, v)| v).collect();
            Ok(())
        }
        (CqlValue::Map(entries), CqlType::Map(key_ty, value_ty)) => {
            let mut keyed: Vec<(Vec<u8>, (CqlValue, CqlValue))> = Vec::with_capacity(entries.len());
            for (mut k, mut v) in std::mem::take(entries) {
                normalize(&mut k, key_ty)?;
                normalize(&mut v, value_ty)?;
                keyed.push((order_key(&k, key_ty)?, (k, v)));
            }
            // Stable: of entries with equal keys, the last one written wins.
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            let mut kept: Vec<(Vec<u8>, (CqlValue, CqlValue))> = Vec::with_capacity(keyed.len());
            for entry in keyed {
                match kept.last_mut() {
                    Some(last) if last.0 == entry.0 => *last = entry,
                    _ => kept.push(entry),
                }
            }
            *entries = kept.into_iter().map(|(_, e)| e).collect();
            Ok(())
        }
        (CqlValue::Tuple(fields), CqlType::Tuple(types)) => {
            fields.iter_mut().zip(types).try_for_each(|(f, t)| f.as_mut().map_or(Ok(()), |v| normalize(v, t)))
        }
        _ => Ok(()),
    }
}

fn order_key(value: &CqlValue, ty: &CqlType) -> Result<Vec<u8>> {
    let mut key = Vec::new();
    encode_comparable(ty, &value.to_bytes(ty)?, false, &mut key)?;
    Ok(key)
}

/// A constant of the kinds in the module table.
fn literal(lit: &Literal, ty: &CqlType) -> Result<CqlValue> {
    use CqlType as T;
    use Literal as L;
    Ok(match (lit, ty.unfrozen()) {
        (L::Integer(s), T::Tinyint) => CqlValue::Tinyint(integer(s, ty)?),
        (L::Integer(s), T::Smallint) => CqlValue::Smallint(integer(s, ty)?),
        (L::Integer(s), T::Int) => CqlValue::Int(integer(s, ty)?),
        (L::Integer(s), T::Bigint) => CqlValue::Bigint(integer(s, ty)?),
        (L::Integer(s), T::Counter) => CqlValue::Counter(integer(s, ty)?),
        (L::Integer(s), T::Varint) => {
            CqlValue::Varint(BigInt::from_str(s).map_err(|_| invalid(format!("invalid varint literal {s}")))?)
        }
        (L::Integer(s) | L::Float(s), T::Decimal) => {
            let (unscaled, scale) =
                numeric::parse_decimal(s).ok_or_else(|| invalid(format!("invalid decimal literal {s}")))?;
            CqlValue::Decimal { unscaled, scale }
        }
        (L::Integer(s) | L::Float(s), T::Float) => CqlValue::Float(float(s, ty)?),
        (L::Integer(s) | L::Float(s), T::Double) => CqlValue::Double(float(s, ty)?),
        (L::Integer(s), T::Timestamp) => CqlValue::Timestamp(temporal::parse_timestamp(s)?),
        (L::Integer(s), T::Date) => CqlValue::Date(temporal::parse_date(s)?),
        (L::Integer(s), T::Time) => CqlValue::Time(temporal::parse_time(s)?),
        (L::String(s), T::Text) => CqlValue::Text(s.clone()),
        (L::String(s), T::Ascii) => {
            if !s.is_ascii() {
                return Err(invalid(format!(
                    "invalid ascii literal '{s}': it contains non-ASCII characters"
                )));
            }
            CqlValue::Ascii(s.clone())
        }
        (L::String(s), T::Inet | T::Timestamp | T::Date | T::Time) if s.is_empty() => CqlValue::Empty,
        (L::String(s), T::Inet) => CqlValue::Inet(
            s.parse().map_err(|_| invalid(format!("invalid inet literal '{s}': not an IP address")))?,
        ),
        (L::String(s), T::Timestamp) => CqlValue::Timestamp(temporal::parse_timestamp(s)?),
        (L::String(s), T::Date) => CqlValue::Date(temporal::parse_date(s)?),
        (L::String(s), T::Time) => CqlValue::Time(temporal::parse_time(s)?),
        (L::Uuid(s), T::Uuid) => CqlValue::Uuid(uuid(s, ty)?),
        (L::Uuid(s), T::Timeuuid) => {
            let u = uuid(s, ty)?;
            if u.get_version_num() != 1 {
                return Err(invalid(format!(
                    "invalid timeuuid literal {s}: version {} UUID, a timeuuid must be version 1",
                    u.get_version_num()
                )));
            }
            CqlValue::Timeuuid(u)
        }
        (L::Blob(b), T::Blob) => CqlValue::Blob(Bytes::copy_from_slice(b)),
        (L::Boolean(b), T::Boolean) => CqlValue::Boolean(*b),
        (L::Duration(s), T::Duration) => {
            let (months, days, nanos) = duration::parse(s)?;
            CqlValue::Duration { months, days, nanos }
        }
        (lit, _) => {
            return Err(invalid(format!("invalid {} literal {} for type {ty}", kind(lit), text(lit))));
        }
    })
}

fn integer<T: FromStr<Err = std::num::ParseIntError>>(s: &str, ty: &CqlType) -> Result<T> {
    s.parse().map_err(|e: std::num::ParseIntError| match e.kind() {
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => {
            invalid(format!("invalid {ty} literal {s}: out of range"))
        }
        _ => invalid(format!("invalid {ty} literal {s}")),
    })
}

fn float<T: FromStr + From<f32>>(s: &str, ty: &CqlType) -> Result<T>
where
    T::Err: Display,
{
    match s {
        "NaN" | "-NaN" | "+NaN" => Ok(T::from(f32::NAN)),
        "Infinity" | "+Infinity" => Ok(T::from(f32::INFINITY)),
        "-Infinity" => Ok(T::from(f32::NEG_INFINITY)),
        _ => s.parse().map_err(|_| invalid(format!("invalid {ty} literal {s}"))),
    }
}

fn uuid(s: &str, ty: &CqlType) -> Result<uuid::Uuid> {
    uuid::Uuid::try_parse(s).map_err(|_| invalid(format!("invalid {ty} literal {s}")))
}

/// The literal kind as the CQL grammar names it.
fn kind(lit: &Literal) -> &'static str {
    match lit {
        Literal::String(_) => "string",
        Literal::Integer(_) => "integer",
        Literal::Float(_) => "float",
        Literal::Boolean(_) => "boolean",
        Literal::Uuid(_) => "uuid",
        Literal::Blob(_) => "blob",
        Literal::Duration(_) => "duration",
        Literal::Null => "null",
    }
}

/// The literal as it would be written.
fn text(lit: &Literal) -> String {
    match lit {
        Literal::String(s) => format!("'{}'", s.replace('\'', "''")),
        Literal::Integer(s) | Literal::Float(s) | Literal::Uuid(s) | Literal::Duration(s) => s.clone(),
        Literal::Boolean(b) => b.to_string(),
        Literal::Blob(b) => CqlValue::Blob(Bytes::copy_from_slice(b)).display(),
        Literal::Null => "null".to_owned(),
    }
}
