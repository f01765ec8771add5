//! `duration`: the wire encoding, the literal forms Cassandra accepts, and the text form.
//!
//! Wire: three Cassandra vints (months, days, nanoseconds), each zig-zag encoded; the first byte
//! of a vint starts with one `1` bit per extra byte, then a `0`, then the value's top bits:
//!
//! | zig-zag value | bytes | first byte |
//! |---|---|---|
//! | < 2^7 | 1 | `0xxxxxxx` |
//! | < 2^14 | 2 | `10xxxxxx` |
//! | < 2^(7(k+1)) | k + 1 | k ones, a zero, the top value bits |
//! | ≥ 2^56 | 9 | `11111111`, then 8 bytes |
//!
//! Literals: `1y2mo3w4d5h6m7s8ms9us10ns` (units in that order, each at most once, µs accepted,
//! case-insensitive), ISO 8601 `P1Y2M3DT4H5M6S`, `P3W` and `P0001-02-03T04:05:06`, each with an
//! optional leading `-`. Text form: `1y2mo3d4h5m6s7ms8us9ns`, zero parts left out.

use super::invalid;
use crate::error::Result;

const MONTHS_PER_YEAR: i64 = 12;
const DAYS_PER_WEEK: i64 = 7;
const NANOS_PER_MICRO: i64 = 1_000;
const NANOS_PER_MILLI: i64 = 1_000_000;
const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SECOND;
const NANOS_PER_HOUR: i64 = 60 * NANOS_PER_MINUTE;

/// Months, days and nanoseconds must not have different signs.
pub(super) fn check_signs(months: i32, days: i32, nanos: i64) -> Result<()> {
    let any_neg = months < 0 || days < 0 || nanos < 0;
    let any_pos = months > 0 || days > 0 || nanos > 0;
    if any_neg && any_pos {
        return Err(invalid(format!(
            "invalid duration value: months, days and nanoseconds must all have the same sign \
             ({months}, {days}, {nanos})"
        )));
    }
    Ok(())
}

/// Appends the wire form.
pub(super) fn encode(months: i32, days: i32, nanos: i64, out: &mut Vec<u8>) {
    write_vint(i64::from(months), out);
    write_vint(i64::from(days), out);
    write_vint(nanos, out);
}

/// Reads the wire form: exactly three vints, with months and days within `int`.
pub(super) fn decode(bytes: &[u8]) -> Result<(i32, i32, i64)> {
    let mut input = bytes;
    let months = read_vint(&mut input)?;
    let days = read_vint(&mut input)?;
    let nanos = read_vint(&mut input)?;
    if !input.is_empty() {
        return Err(invalid(format!("{} trailing bytes after duration value", input.len())));
    }
    let months = i32::try_from(months)
        .map_err(|_| invalid(format!("invalid duration value: {months} months overflow an int")))?;
    let days = i32::try_from(days)
        .map_err(|_| invalid(format!("invalid duration value: {days} days overflow an int")))?;
    check_signs(months, days, nanos)?;
    Ok((months, days, nanos))
}

fn write_vint(value: i64, out: &mut Vec<u8>) {
    let zigzag = ((value << 1) ^ (value >> 63)) as u64;
    let bits = 64 - (zigzag | 1).leading_zeros() as usize;
    // Each extra byte adds 7 value bits (8 bits minus the one taken from the first byte).
    let extra = if bits > 56 { 8 } else { (bits - 1) / 7 };
    if extra == 8 {
        out.push(0xFF);
        out.extend_from_slice(&zigzag.to_be_bytes());
        return;
    }
    let be = zigzag.to_be_bytes();
    let mut bytes = be[8 - (extra + 1)..].to_vec();
    bytes[0] |= !(0xFFu8 >> extra);
    out.extend_from_slice(&bytes);
}

fn read_vint(input: &mut &[u8]) -> Result<i64> {
    let truncated = || invalid("truncated duration value");
    let (&first, rest) = input.split_first().ok_or_else(truncated)?;
    let extra = first.leading_ones() as usize;
    if rest.len() < extra {
        return Err(truncated());
    }
    let mut value = if extra >= 8 { 0 } else { u64::from(first & (0xFF >> extra)) };
    for &b in &rest[..extra] {
        value = (value << 8) | u64::from(b);
    }
    *input = &rest[extra..];
    Ok(((value >> 1) as i64) ^ -((value & 1) as i64))
}

/// Parses a duration literal (see the module docs) into months, days and nanoseconds.
pub(super) fn parse(text: &str) -> Result<(i32, i32, i64)> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let unable = || invalid(format!("invalid duration literal {text}: unable to convert it to a duration"));
    let mut b = Builder::new(text);
    if let Some(iso) = body.strip_prefix('P') {
        if let Some(weeks) = iso.strip_suffix('W') {
            b.add(Unit::Weeks, digits(weeks).ok_or_else(unable)?)?;
        } else if iso.contains('-') {
            parse_iso_alternative(iso, &mut b).ok_or_else(unable)??;
        } else {
            parse_iso_designators(iso, &mut b).ok_or_else(unable)??;
        }
    } else {
        if body.is_empty() {
            return Err(unable());
        }
        let mut rest = body;
        while !rest.is_empty() {
            let n_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            if n_len == 0 {
                return Err(unable());
            }
            let n = digits(&rest[..n_len]).ok_or_else(unable)?;
            rest = &rest[n_len..];
            let (unit, len) = unit_prefix(rest).ok_or_else(unable)?;
            rest = &rest[len..];
            b.add(unit, n)?;
        }
    }
    Ok(if negative { (-b.months, -b.days, -b.nanos) } else { (b.months, b.days, b.nanos) })
}

/// `nY nM nD T nH nM nS` after the `P`, each part optional.
fn parse_iso_designators(iso: &str, b: &mut Builder) -> Option<Result<()>> {
    let (date, time) = match iso.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (iso, None),
    };
    let mut parts = Vec::new();
    for (section, units) in [
        (date, [('Y', Unit::Years), ('M', Unit::Months), ('D', Unit::Days)]),
        (time.unwrap_or(""), [('H', Unit::Hours), ('M', Unit::Minutes), ('S', Unit::Seconds)]),
    ] {
        let mut rest = section;
        let mut next_unit = 0;
        while !rest.is_empty() {
            let n_len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let designator = rest[n_len..].chars().next()?;
            let pos = units[next_unit..].iter().position(|(c, _)| *c == designator)?;
            if n_len == 0 {
                return None;
            }
            parts.push((units[next_unit + pos].1, digits(&rest[..n_len])?));
            next_unit += pos + 1;
            rest = &rest[n_len + 1..];
        }
    }
    Some(parts.into_iter().try_for_each(|(unit, n)| b.add(unit, n)))
}

/// `YYYY-MM-DDThh:mm:ss` after the `P`.
fn parse_iso_alternative(iso: &str, b: &mut Builder) -> Option<Result<()>> {
    let s = iso.as_bytes();
    if s.len() != 19 || s[4] != b'-' || s[7] != b'-' || s[10] != b'T' || s[13] != b':' || s[16] != b':' {
        return None;
    }
    let field = |from: usize, len: usize| digits(iso.get(from..from + len)?);
    let parts = [
        (Unit::Years, field(0, 4)?),
        (Unit::Months, field(5, 2)?),
        (Unit::Days, field(8, 2)?),
        (Unit::Hours, field(11, 2)?),
        (Unit::Minutes, field(14, 2)?),
        (Unit::Seconds, field(17, 2)?),
    ];
    Some(parts.into_iter().try_for_each(|(unit, n)| b.add(unit, n)))
}

/// A non-empty run of ASCII digits as a number (`None` on anything else or overflow).
fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The unit at the start of `s` and its length; longer symbols are tried first so that `mo`
/// and `ms` are not read as minutes.
fn unit_prefix(s: &str) -> Option<(Unit, usize)> {
    const SYMBOLS: [(&str, Unit); 11] = [
        ("mo", Unit::Months),
        ("ms", Unit::Millis),
        ("us", Unit::Micros),
        ("µs", Unit::Micros),
        ("ns", Unit::Nanos),
        ("y", Unit::Years),
        ("w", Unit::Weeks),
        ("d", Unit::Days),
        ("h", Unit::Hours),
        ("s", Unit::Seconds),
        ("m", Unit::Minutes),
    ];
    SYMBOLS.iter().find_map(|(sym, unit)| {
        let head = s.get(..sym.len())?;
        head.eq_ignore_ascii_case(sym).then_some((*unit, sym.len()))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Unit {
    Years,
    Months,
    Weeks,
    Days,
    Hours,
    Minutes,
    Seconds,
    Millis,
    Micros,
    Nanos,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Years => "years",
            Unit::Months => "months",
            Unit::Weeks => "weeks",
            Unit::Days => "days",
            Unit::Hours => "hours",
            Unit::Minutes => "minutes",
            Unit::Seconds => "seconds",
            Unit::Millis => "milliseconds",
            Unit::Micros => "microseconds",
            Unit::Nanos => "nanoseconds",
        }
    }
}

/// Accumulates units in order, as Cassandra's `Duration.Builder` does.
struct Builder<'a> {
    text: &'a str,
    last: Option<Unit>,
    months: i32,
    days: i32,
    nanos: i64,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str) -> Self {
        Builder { text, last: None, months: 0, days: 0, nanos: 0 }
    }

    fn add(&mut self, unit: Unit, n: i64) -> Result<()> {
        let text = self.text;
        if let Some(last) = self.last {
            if unit == last {
                return Err(invalid(format!(
                    "invalid duration literal {text}: the {} are specified multiple times",
                    unit.name()
                )));
            }
            if unit < last {
                return Err(invalid(format!(
                    "invalid duration literal {text}: the {} should be after the {}",
                    last.name(),
                    unit.name()
                )));
            }
        }
        self.last = Some(unit);
        let overflow = |what: &str, max: String| {
            invalid(format!(
                "invalid duration literal {text}: the total number of {what} must be less or equal to {max}"
            ))
        };
        match unit {
            Unit::Years | Unit::Months => {
                let per = if unit == Unit::Years { MONTHS_PER_YEAR } else { 1 };
                self.months = n
                    .checked_mul(per)
                    .and_then(|m| m.checked_add(i64::from(self.months)))
                    .and_then(|m| i32::try_from(m).ok())
                    .ok_or_else(|| overflow("months", i32::MAX.to_string()))?;
            }
            Unit::Weeks | Unit::Days => {
                let per = if unit == Unit::Weeks { DAYS_PER_WEEK } else { 1 };
                self.days = n
                    .checked_mul(per)
                    .and_then(|d| d.checked_add(i64::from(self.days)))
                    .and_then(|d| i32::try_from(d).ok())
                    .ok_or_else(|| overflow("days", i32::MAX.to_string()))?;
            }
            _ => {
                let per = match unit {
                    Unit::Hours => NANOS_PER_HOUR,
                    Unit::Minutes => NANOS_PER_MINUTE,
                    Unit::Seconds => NANOS_PER_SECOND,
                    Unit::Millis => NANOS_PER_MILLI,
                    Unit::Micros => NANOS_PER_MICRO,
                    _ => 1,
                };
                self.nanos = n
                    .checked_mul(per)
                    .and_then(|v| v.checked_add(self.nanos))
                    .ok_or_else(|| overflow("nanoseconds", i64::MAX.to_string()))?;
            }
        }
        Ok(())
    }
}

/// The text form Cassandra and cqlsh print: `-` if negative, then `y mo d h m s ms us ns`
/// parts that are not zero (the empty string for a zero duration).
pub(super) fn format(months: i32, days: i32, nanos: i64) -> String {
    let mut out = String::new();
    if months < 0 || days < 0 || nanos < 0 {
        out.push('-');
    }
    let months = i64::from(months).unsigned_abs();
    let rest = append(&mut out, months, MONTHS_PER_YEAR as u64, "y");
    append(&mut out, rest, 1, "mo");
    append(&mut out, i64::from(days).unsigned_abs(), 1, "d");
    if nanos != 0 {
        let mut rest = nanos.unsigned_abs();
        for (per, unit) in [
            (NANOS_PER_HOUR, "h"),
            (NANOS_PER_MINUTE, "m"),
            (NANOS_PER_SECOND, "s"),
            (NANOS_PER_MILLI, "ms"),
            (NANOS_PER_MICRO, "us"),
            (1, "ns"),
        ] {
            rest = append(&mut out, rest, per as u64, unit);
        }
    }
    out
}

/// Writes `value / per` with `unit` if it is not zero; returns the remainder.
fn append(out: &mut String, value: u64, per: u64, unit: &str) -> u64 {
    if value == 0 || value < per {
        return value;
    }
    out.push_str(&(value / per).to_string());
    out.push_str(unit);
    value % per
}
