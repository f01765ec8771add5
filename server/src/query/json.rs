//! `INSERT ... JSON '{...}'`: the JSON object becomes column names and literal terms, read
//! with Cassandra's JSON rules — numbers as numbers or strings, uuids, timestamps, dates,
//! times and inets as strings, blobs as `"0x..."`, lists, sets and tuples as arrays, maps as
//! objects (keys as strings). Then it is an ordinary INSERT.

use crate::error::{QueryError, QueryResult};
use crate::schema::{ColumnKind, Table};
use cql::CqlType;
use cql::ast::{Literal, Term};
use serde_json::Value;

fn invalid(column: &str, ty: &CqlType, v: &Value) -> QueryError {
    QueryError::Invalid(format!("Error decoding JSON value for {column}: expected a {ty} value, got {v}"))
}

fn string_literal(s: &str, ty: &CqlType, column: &str) -> QueryResult<Term> {
    let lit = match ty.unfrozen() {
        CqlType::Ascii | CqlType::Text => Literal::String(s.to_string()),
        CqlType::Uuid | CqlType::Timeuuid => Literal::Uuid(s.to_string()),
        CqlType::Blob => {
            let hex = s.strip_prefix("0x").ok_or_else(|| {
                QueryError::Invalid(format!(
                    "Error decoding JSON value for {column}: blob values must start with 0x"
                ))
            })?;
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| hex.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| {
                    QueryError::Invalid(format!("Error decoding JSON value for {column}: bad hex in '{s}'"))
                })?;
            Literal::Blob(bytes)
        }
        CqlType::Boolean => Literal::Boolean(s.eq_ignore_ascii_case("true")),
        CqlType::Tinyint
        | CqlType::Smallint
        | CqlType::Int
        | CqlType::Bigint
        | CqlType::Varint
        | CqlType::Counter => Literal::Integer(s.to_string()),
        CqlType::Float | CqlType::Double | CqlType::Decimal => Literal::Float(s.to_string()),
        CqlType::Duration => Literal::Duration(s.to_string()),
        _ => Literal::String(s.to_string()),
    };
    Ok(Term::Literal(lit))
}

/// The term for JSON value `v` of a column of type `ty`.
fn term(v: &Value, ty: &CqlType, column: &str) -> QueryResult<Term> {
    Ok(match (v, ty.unfrozen()) {
        (Value::Null, _) => Term::Literal(Literal::Null),
        (Value::Bool(b), _) => Term::Literal(Literal::Boolean(*b)),
        (Value::Number(n), t) => {
            let text = n.to_string();
            match t {
                CqlType::Float | CqlType::Double | CqlType::Decimal => Term::Literal(Literal::Float(text)),
                _ if n.is_f64() => Term::Literal(Literal::Float(text)),
                _ => Term::Literal(Literal::Integer(text)),
            }
        }
        (Value::String(s), t) => string_literal(s, t, column)?,
        (Value::Array(items), CqlType::List(e)) => {
            Term::List(items.iter().map(|i| term(i, e, column)).collect::<QueryResult<_>>()?)
        }
        (Value::Array(items), CqlType::Set(e)) => {
            Term::Set(items.iter().map(|i| term(i, e, column)).collect::<QueryResult<_>>()?)
        }
        (Value::Array(items), CqlType::Tuple(ts)) => {
            Term::Tuple(items.iter().zip(ts).map(|(i, t)| term(i, t, column)).collect::<QueryResult<_>>()?)
        }
        (Value::Object(m), CqlType::Map(k, val)) => Term::Map(
            m.iter()
                .map(|(key, v)| Ok((term(&Value::String(key.clone()), k, column)?, term(v, val, column)?)))
                .collect::<QueryResult<_>>()?,
        ),
        (v, _) => return Err(invalid(column, ty, v)),
    })
}

/// Column names and terms for the JSON object `text`; with `default_unset` false, columns it
/// leaves out are set to null.
pub fn columns_and_terms(
    table: &Table,
    text: &str,
    default_unset: bool,
) -> QueryResult<(Vec<String>, Vec<Term>)> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| QueryError::Invalid(format!("Could not decode JSON string '{text}': {e}")))?;
    let Value::Object(map) = v else {
        return Err(QueryError::Invalid(format!("Could not decode JSON string '{text}': not an object")));
    };
    let mut columns = Vec::new();
    let mut terms = Vec::new();
    for (name, value) in &map {
        // JSON keys follow CQL identifier rules: case-insensitive unless double-quoted.
        let col = match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
            Some(quoted) => quoted.to_string(),
            None => name.to_lowercase(),
        };
        let c = table.column(&col).ok_or_else(|| {
            QueryError::Invalid(format!("JSON values map contains unrecognized column: {name}"))
        })?;
        terms.push(term(value, &c.ty, &col)?);
        columns.push(col);
    }
    if !default_unset {
        for c in &table.columns {
            if matches!(c.kind, ColumnKind::Regular | ColumnKind::Static) && !columns.contains(&c.name) {
                columns.push(c.name.clone());
                terms.push(Term::Literal(Literal::Null));
            }
        }
    }
    Ok((columns, terms))
}
