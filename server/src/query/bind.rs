//! Turning a statement's terms into serialized values: literals through `cql::value`, bind
//! markers from the request's values (by position, or by name when the client sent names),
//! and the time functions (`now()`, `uuid()`, `currentTimestamp()`, `toTimestamp(now())`, ...).

use crate::error::{QueryError, QueryResult};
use bytes::Bytes;
use cql::CqlType;
use cql::ast::{Literal, Term};
use cql::protocol::{QueryParams, Value};
use cql::value::CqlValue;
use std::sync::atomic::{AtomicU16, Ordering};

/// A resolved term.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    /// `null`: deletes what it is assigned to.
    Null,
    /// The protocol's "not set": leaves the column as it is.
    Unset,
    Value(Bytes),
}

impl Bound {
    /// The value, or an error naming `what` when null or unset.
    pub fn required(self, what: &str) -> QueryResult<Bytes> {
        match self {
            Bound::Value(b) => Ok(b),
            Bound::Null => Err(QueryError::Invalid(format!("Invalid null value for {what}"))),
            Bound::Unset => Err(QueryError::Invalid(format!("Invalid unset value for {what}"))),
        }
    }
}

/// Microseconds since the epoch.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

static CLOCK_SEQ: AtomicU16 = AtomicU16::new(0);

/// A fresh version-1 (time-based) UUID.
pub fn new_timeuuid() -> uuid::Uuid {
    let micros = now_micros().max(0) as u64;
    let ts =
        uuid::Timestamp::from_unix(uuid::NoContext, micros / 1_000_000, ((micros % 1_000_000) * 1000) as u32);
    let seq = CLOCK_SEQ.fetch_add(1, Ordering::Relaxed);
    let node = *uuid::Uuid::new_v4().as_bytes();
    let mut id = [0u8; 6];
    id.copy_from_slice(&node[..6]);
    let mut u = *uuid::Uuid::new_v1(ts, &id).as_bytes();
    // Clock sequence varies per call so that two UUIDs in the same tick differ.
    u[8] = (u[8] & 0xc0) | ((seq >> 8) as u8 & 0x3f);
    u[9] = seq as u8;
    uuid::Uuid::from_bytes(u)
}

fn function(name: &str, args: &[Term], ty: &CqlType) -> QueryResult<CqlValue> {
    let now_ms = now_micros() / 1000;
    let v = match (name, args) {
        ("now" | "currenttimeuuid", []) => CqlValue::Timeuuid(new_timeuuid()),
        ("uuid", []) => CqlValue::Uuid(uuid::Uuid::new_v4()),
        ("currenttimestamp", []) => CqlValue::Timestamp(now_ms),
        ("currentdate", []) => CqlValue::Date(((now_ms.div_euclid(86_400_000)) + (1i64 << 31)) as u32),
        ("currenttime", []) => CqlValue::Time(now_ms.rem_euclid(86_400_000) * 1_000_000),
        ("totimestamp", [Term::Function { name, args }]) if name == "now" && args.is_empty() => {
            CqlValue::Timestamp(now_ms)
        }
        ("todate", [Term::Function { name, args }]) if name == "now" && args.is_empty() => {
            CqlValue::Date(((now_ms.div_euclid(86_400_000)) + (1i64 << 31)) as u32)
        }
        ("tounixtimestamp", [Term::Function { name, args }]) if name == "now" && args.is_empty() => {
            CqlValue::Bigint(now_ms)
        }
        _ => {
            return Err(QueryError::Invalid(format!(
                "Unknown function {name} called with {} arguments",
                args.len()
            )));
        }
    };
    // A timeuuid function assigned to a uuid column is fine (every timeuuid is a uuid).
    match (v, ty.unfrozen()) {
        (CqlValue::Timeuuid(u), CqlType::Uuid) => Ok(CqlValue::Uuid(u)),
        (v, _) => Ok(v),
    }
}

/// Resolves `term` for a value of type `ty`.
pub fn bind(term: &Term, ty: &CqlType, params: &QueryParams) -> QueryResult<Bound> {
    match term {
        Term::Bind { index, name } => {
            let v = match name {
                Some(n) if params.names.is_some() => params
                    .names
                    .as_ref()
                    .and_then(|names| names.iter().position(|x| x == n))
                    .and_then(|i| params.values.get(i)),
                _ => params.values.get(*index),
            };
            match v {
                Some(Value::Bytes(b)) => {
                    cql::value::validate(ty, b)?;
                    Ok(Bound::Value(b.clone()))
                }
                Some(Value::Null) => Ok(Bound::Null),
                Some(Value::NotSet) => Ok(Bound::Unset),
                None => Err(QueryError::Invalid(match name {
                    Some(n) => format!("No value bound for marker :{n}"),
                    None => {
                        format!("No value bound for marker {} (of {} values)", index + 1, params.values.len())
                    }
                })),
            }
        }
        Term::Literal(Literal::Null) => Ok(Bound::Null),
        Term::Function { name, args } => {
            let v = function(name, args, ty)?;
            Ok(Bound::Value(Bytes::from(v.to_bytes(ty)?)))
        }
        // Literals, with any markers and function calls inside collections and tuples resolved.
        t => match cql::value::from_term_with(t, ty, &|inner, ty| inner_value(inner, ty, params))? {
            Some(v) => Ok(Bound::Value(Bytes::from(v.to_bytes(ty)?))),
            None => Ok(Bound::Null),
        },
    }
}

/// The value of a marker or function call inside a literal (`[?, ?]`, `{?: now()}`).
fn inner_value(term: &Term, ty: &CqlType, params: &QueryParams) -> cql::Result<Option<CqlValue>> {
    let invalid = |m: String| cql::Error::Invalid(m);
    if !matches!(term, Term::Bind { .. } | Term::Function { .. }) {
        return Err(invalid(format!("a negation cannot be converted to {ty}")));
    }
    match bind(term, ty, params).map_err(|e| invalid(e.to_string()))? {
        Bound::Value(b) => Ok(Some(CqlValue::deserialize(ty, &b)?)),
        Bound::Null => Ok(None),
        Bound::Unset => Err(invalid("Invalid unset value inside a collection or tuple".into())),
    }
}

/// Resolves an integer option term (`USING TTL`, `USING TIMESTAMP`, `LIMIT`).
pub fn bind_i64(term: &Term, what: &str, params: &QueryParams) -> QueryResult<Option<i64>> {
    let ty = if what == "timestamp" { CqlType::Bigint } else { CqlType::Int };
    match bind(term, &ty, params)? {
        Bound::Value(b) => match b.len() {
            8 => Ok(Some(i64::from_be_bytes(b[..].try_into().unwrap_or([0; 8])))),
            4 => Ok(Some(i64::from(i32::from_be_bytes(b[..].try_into().unwrap_or([0; 4]))))),
            _ => Err(QueryError::Invalid(format!("Invalid value for {what}"))),
        },
        Bound::Null => Err(QueryError::Invalid(format!("Invalid null value of {what}"))),
        Bound::Unset => Ok(None),
    }
}
