//! The two text forms of a value: what cqlsh prints ([`CqlValue::display`], used by the shell)
//! and a CQL literal that reads back to the same value ([`CqlValue::to_cql_literal`], used by
//! DESCRIBE and generated INSERTs).
//!
//! | value | display | literal |
//! |---|---|---|
//! | text `it's` | `it's` (top level), `'it''s'` (inside a collection) | `'it''s'` |
//! | boolean | `True` | `true` |
//! | blob | `0xcafe` | `0xcafe` |
//! | timestamp | `2024-01-02 03:04:05.678000+0000` | `'2024-01-02T03:04:05.678Z'` |
//! | list, set, map, tuple | `[1, 2]`, `{1, 2}`, `{'a': 1}`, `(1, null)` | the same |
//! | duration | `1h30m` | `1h30m` |

use std::fmt::Write;

use super::{CqlValue, duration, numeric, temporal};

impl CqlValue {
    /// The form cqlsh prints: strings unquoted at top level and quoted inside collections and
    /// tuples, `True`/`False`, floats with cqlsh's precision, timestamps in UTC with
    /// microseconds, null tuple fields as `null`, the empty value as nothing.
    pub fn display(&self) -> String {
        let mut out = String::new();
        write_display(self, false, &mut out);
        out
    }

    /// A CQL literal for this value: strings quoted with `''` escaping, blobs `0x…`, dates,
    /// times, timestamps and inets as quoted strings, floats exactly. The empty value of a
    /// non-string type has no literal; it comes out as `''`.
    pub fn to_cql_literal(&self) -> String {
        let mut out = String::new();
        write_literal(self, &mut out);
        out
    }
}

fn write_display(value: &CqlValue, nested: bool, out: &mut String) {
    match value {
        CqlValue::Ascii(s) | CqlValue::Text(s) => write_cqlsh_text(s, nested, out),
        CqlValue::Inet(ip) if nested => {
            let _ = write!(out, "'{ip}'");
        }
        CqlValue::Inet(ip) => {
            let _ = write!(out, "{ip}");
        }
        CqlValue::Timestamp(ms) if nested => {
            let _ = write!(out, "'{}'", temporal::display_timestamp(*ms));
        }
        CqlValue::Timestamp(ms) => out.push_str(&temporal::display_timestamp(*ms)),
        CqlValue::Boolean(b) => out.push_str(if *b { "True" } else { "False" }),
        CqlValue::Float(f) => out.push_str(&numeric::cqlsh_float(f64::from(*f))),
        CqlValue::Double(f) => out.push_str(&numeric::cqlsh_float(*f)),
        CqlValue::Decimal { unscaled, scale } => out.push_str(&numeric::decimal_string(unscaled, *scale)),
        CqlValue::Date(d) => out.push_str(&temporal::display_date(*d)),
        CqlValue::Time(t) => out.push_str(&temporal::display_time(*t)),
        CqlValue::List(items) => write_seq(items.iter().map(Some), '[', ']', write_display, out),
        CqlValue::Set(items) => write_seq(items.iter().map(Some), '{', '}', write_display, out),
        CqlValue::Tuple(fields) => write_seq(fields.iter().map(Option::as_ref), '(', ')', write_display, out),
        CqlValue::Map(entries) => write_map(entries, write_display, out),
        other => write_common(other, out),
    }
}

fn write_literal(value: &CqlValue, out: &mut String) {
    match value {
        CqlValue::Ascii(s) | CqlValue::Text(s) => {
            out.push('\'');
            out.push_str(&s.replace('\'', "''"));
            out.push('\'');
        }
        CqlValue::Inet(ip) => {
            let _ = write!(out, "'{ip}'");
        }
        CqlValue::Timestamp(ms) => out.push_str(&temporal::timestamp_literal(*ms)),
        CqlValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        CqlValue::Float(f) => out.push_str(&numeric::float_literal(*f)),
        CqlValue::Double(f) => out.push_str(&numeric::double_literal(*f)),
        CqlValue::Decimal { unscaled, scale } => out.push_str(&numeric::decimal_string(unscaled, *scale)),
        CqlValue::Date(d) => out.push_str(&temporal::date_literal(*d)),
        CqlValue::Time(t) => {
            let _ = write!(out, "'{}'", temporal::display_time(*t));
        }
        CqlValue::Duration { months: 0, days: 0, nanos: 0 } => out.push_str("0s"),
        CqlValue::Empty => out.push_str("''"),
        CqlValue::List(items) => {
            write_seq(items.iter().map(Some), '[', ']', |v, _, o| write_literal(v, o), out)
        }
        CqlValue::Set(items) => {
            write_seq(items.iter().map(Some), '{', '}', |v, _, o| write_literal(v, o), out)
        }
        CqlValue::Tuple(fields) => {
            write_seq(fields.iter().map(Option::as_ref), '(', ')', |v, _, o| write_literal(v, o), out)
        }
        CqlValue::Map(entries) => write_map(entries, |v, _, o| write_literal(v, o), out),
        other => write_common(other, out),
    }
}

/// Forms shared by display and literal.
fn write_common(value: &CqlValue, out: &mut String) {
    let _ = match value {
        CqlValue::Bigint(v) | CqlValue::Counter(v) => write!(out, "{v}"),
        CqlValue::Int(v) => write!(out, "{v}"),
        CqlValue::Smallint(v) => write!(out, "{v}"),
        CqlValue::Tinyint(v) => write!(out, "{v}"),
        CqlValue::Varint(v) => write!(out, "{v}"),
        CqlValue::Blob(b) => {
            out.push_str("0x");
            for byte in b.iter() {
                let _ = write!(out, "{byte:02x}");
            }
            Ok(())
        }
        CqlValue::Uuid(u) | CqlValue::Timeuuid(u) => write!(out, "{}", u.hyphenated()),
        CqlValue::Duration { months, days, nanos } => {
            out.push_str(&duration::format(*months, *days, *nanos));
            Ok(())
        }
        // The remaining kinds are written by the callers.
        _ => Ok(()),
    };
}

fn write_seq<'a>(
    items: impl Iterator<Item = Option<&'a CqlValue>>,
    open: char,
    close: char,
    write: impl Fn(&CqlValue, bool, &mut String),
    out: &mut String,
) {
    out.push(open);
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match item {
            Some(v) => write(v, true, out),
            None => out.push_str("null"),
        }
    }
    out.push(close);
}

fn write_map(
    entries: &[(CqlValue, CqlValue)],
    write: impl Fn(&CqlValue, bool, &mut String),
    out: &mut String,
) {
    out.push('{');
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write(k, true, out);
        out.push_str(": ");
        write(v, true, out);
    }
    out.push('}');
}

/// cqlsh's text rendering: backslashes doubled, control characters (and U+007F–U+00A0) shown
/// as Python escapes (`\n`, `\x01`), and inside collections quoted with `''` escaping.
fn write_cqlsh_text(s: &str, quoted: bool, out: &mut String) {
    if quoted {
        out.push('\'');
    }
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' if quoted => out.push_str("''"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || (0x7f..=0xa0).contains(&(c as u32)) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    if quoted {
        out.push('\'');
    }
}
