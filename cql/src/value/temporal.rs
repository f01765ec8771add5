//! `date`, `time` and `timestamp` text: the proleptic Gregorian calendar (days ↔ year, month,
//! day), the literal forms Cassandra accepts, the cqlsh display forms and the quoted CQL
//! literal forms. All times are UTC; a timestamp without an offset is read as UTC.
//!
//! | type | accepted literal | cqlsh display | CQL literal |
//! |---|---|---|---|
//! | date | `'2024-01-02'`, raw days (2^31 = epoch) | `2024-01-02` | `'2024-01-02'` |
//! | time | `'12:34:56[.f…]'`, raw ns | `12:34:56.789000000` | `'12:34:56.789000000'` |
//! | timestamp | `'2024-01-02[( \|T)hh:mm[:ss[.f…]]][ ][Z\|±hh[[:]mm]]'`, raw ms | `2024-01-02 03:04:05.678000+0000` | `'2024-01-02T03:04:05.678Z'` |

use super::{DATE_EPOCH, NANOS_PER_DAY, invalid};
use crate::error::{Error, Result};

const MILLIS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's `civil_from_days`.
pub(super) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

/// (year, month, day) to days since 1970-01-01; `days_from_civil`.
pub(super) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        _ => 28,
    }
}

/// cqlsh's date display: `2024-01-02`, or the signed days since 1970-01-01 outside years
/// 1–9999 (Python's date range).
pub(super) fn display_date(date: u32) -> String {
    let days = i64::from(date) - i64::from(DATE_EPOCH);
    let (y, m, d) = civil_from_days(days);
    if (1..=9999).contains(&y) { format!("{y:04}-{m:02}-{d:02}") } else { days.to_string() }
}

/// A date as a CQL literal: `'2024-01-02'`, or the raw unsigned day number outside years
/// 1–9999.
pub(super) fn date_literal(date: u32) -> String {
    let days = i64::from(date) - i64::from(DATE_EPOCH);
    let (y, m, d) = civil_from_days(days);
    if (1..=9999).contains(&y) { format!("'{y:04}-{m:02}-{d:02}'") } else { date.to_string() }
}

/// `12:34:56.789000000` (the raw number if outside the day).
pub(super) fn display_time(nanos: i64) -> String {
    if !(0..NANOS_PER_DAY).contains(&nanos) {
        return nanos.to_string();
    }
    let secs = nanos / 1_000_000_000;
    format!("{:02}:{:02}:{:02}.{:09}", secs / 3600, secs / 60 % 60, secs % 60, nanos % 1_000_000_000)
}

/// (days, milliseconds within the day) of a timestamp, or `None` outside years 1–9999.
fn split_timestamp(millis: i64) -> Option<((i64, u32, u32), i64)> {
    let days = millis.div_euclid(MILLIS_PER_DAY);
    let civil = civil_from_days(days);
    (1..=9999).contains(&civil.0).then_some((civil, millis.rem_euclid(MILLIS_PER_DAY)))
}

/// cqlsh's timestamp display (`%Y-%m-%d %H:%M:%S.%f%z` in UTC):
/// `2024-01-02 03:04:05.678000+0000`, or the milliseconds outside years 1–9999.
pub(super) fn display_timestamp(millis: i64) -> String {
    match split_timestamp(millis) {
        Some(((y, mo, d), ms)) => format!(
            "{y:04}-{mo:02}-{d:02} {:02}:{:02}:{:02}.{:06}+0000",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000 * 1000
        ),
        None => millis.to_string(),
    }
}

/// A timestamp as a CQL literal: `'2024-01-02T03:04:05.678Z'`, or the raw milliseconds
/// outside years 1–9999.
pub(super) fn timestamp_literal(millis: i64) -> String {
    match split_timestamp(millis) {
        Some(((y, mo, d), ms)) => format!(
            "'{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z'",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1000 % 60,
            ms % 1000
        ),
        None => millis.to_string(),
    }
}

/// `-?digits`: the raw-number form every temporal type also accepts as a string.
fn raw_number(s: &str) -> Option<&str> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    (!digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit())).then_some(s)
}

/// A date string: `yyyy-mm-dd`, or a raw unsigned day number (2^31 = 1970-01-01).
pub(super) fn parse_date(s: &str) -> Result<u32> {
    let bad = |why: &str| invalid(format!("invalid date literal '{s}': {why}"));
    if let Some(raw) = raw_number(s) {
        return raw
            .parse::<i64>()
            .ok()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| bad("raw day number out of range 0..4294967295"));
    }
    let mut p = Parser::new(s);
    let (y, m, d) = p.ymd().ok_or_else(|| bad("expected yyyy-mm-dd"))??;
    if !p.rest.is_empty() {
        return Err(bad("expected yyyy-mm-dd"));
    }
    u32::try_from(days_from_civil(y, m, d) + i64::from(DATE_EPOCH)).map_err(|_| bad("date out of range"))
}

/// A time string: `hh:mm:ss[.fffffffff]`, or raw nanoseconds since midnight.
pub(super) fn parse_time(s: &str) -> Result<i64> {
    let bad = |why: &str| invalid(format!("invalid time literal '{s}': {why}"));
    if let Some(raw) = raw_number(s) {
        return raw
            .parse::<i64>()
            .ok()
            .filter(|v| (0..NANOS_PER_DAY).contains(v))
            .ok_or_else(|| bad("nanoseconds since midnight out of range"));
    }
    let mut p = Parser::new(s.trim());
    let nanos = p.time_of_day().ok_or_else(|| bad("expected hh:mm:ss[.fffffffff]"))??;
    if !p.rest.is_empty() {
        return Err(bad("expected hh:mm:ss[.fffffffff]"));
    }
    Ok(nanos)
}

/// A timestamp string (forms in the module docs), or raw milliseconds since the epoch.
pub(super) fn parse_timestamp(s: &str) -> Result<i64> {
    let bad = |why: &str| invalid(format!("invalid timestamp literal '{s}': {why}"));
    let expected = "expected yyyy-mm-dd[ hh:mm[:ss[.fff]]][+hhmm]";
    if let Some(raw) = raw_number(s) {
        return raw.parse::<i64>().map_err(|_| bad("milliseconds out of range"));
    }
    let mut p = Parser::new(s);
    let (y, m, d) = p.ymd().ok_or_else(|| bad(expected))??;
    let mut nanos = 0;
    if let Some(rest) = p.rest.strip_prefix([' ', 'T', 't'])
        && rest.starts_with(|c: char| c.is_ascii_digit())
    {
        p.rest = rest;
        nanos = p.hour_minute_second().ok_or_else(|| bad(expected))??;
    }
    let offset_minutes = p.offset().ok_or_else(|| bad(expected))??;
    if !p.rest.is_empty() {
        return Err(bad(expected));
    }
    let millis = i128::from(days_from_civil(y, m, d)) * i128::from(MILLIS_PER_DAY)
        + i128::from(nanos / 1_000_000)
        - i128::from(offset_minutes) * 60_000;
    i64::try_from(millis).map_err(|_| bad("out of range"))
}

/// A cursor over date and time text; each method returns `None` when the text does not have
/// the expected shape and `Some(Err)` when it has the shape but a field is out of range.
struct Parser<'a> {
    rest: &'a str,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Parser { rest: s }
    }

    /// At least `min` and at most `max` ASCII digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<i64> {
        let n = self.rest.bytes().take_while(u8::is_ascii_digit).count().min(max);
        if n < min {
            return None;
        }
        let (d, rest) = self.rest.split_at(n);
        self.rest = rest;
        d.parse().ok()
    }

    fn eat(&mut self, c: char) -> Option<()> {
        self.rest = self.rest.strip_prefix(c)?;
        Some(())
    }

    /// `[+-]yyyy-mm-dd` (4 to 9 year digits).
    fn ymd(&mut self) -> Option<Result<(i64, u32, u32)>> {
        let sign = match self.rest.as_bytes().first()? {
            b'-' => -1,
            b'+' => 1,
            _ => 0,
        };
        if sign != 0 {
            self.rest = &self.rest[1..];
        }
        let year = self.digits(4, 9)? * if sign < 0 { -1 } else { 1 };
        self.eat('-')?;
        let month = self.digits(2, 2)?;
        self.eat('-')?;
        let day = self.digits(2, 2)?;
        Some(check_date(year, month, day))
    }

    /// `h[h]:mm:ss[.f…]` as nanoseconds (Cassandra's time literal).
    fn time_of_day(&mut self) -> Option<Result<i64>> {
        let h = self.digits(1, 2)?;
        self.eat(':')?;
        let m = self.digits(1, 2)?;
        self.eat(':')?;
        let s = self.digits(1, 2)?;
        let frac = self.fraction()?;
        Some(hms_nanos(h, m, s, frac))
    }

    /// `h[h]:mm[:ss[.f…]]` as nanoseconds (the time part of a timestamp).
    fn hour_minute_second(&mut self) -> Option<Result<i64>> {
        let h = self.digits(1, 2)?;
        self.eat(':')?;
        let m = self.digits(2, 2)?;
        let (s, frac) = if self.eat(':').is_some() { (self.digits(2, 2)?, self.fraction()?) } else { (0, 0) };
        Some(hms_nanos(h, m, s, frac))
    }

    /// `[.f…]` (1 to 9 digits) as nanoseconds.
    fn fraction(&mut self) -> Option<i64> {
        if self.eat('.').is_none() {
            return Some(0);
        }
        let before = self.rest.len();
        let f = self.digits(1, 9)?;
        let len = u32::try_from(before - self.rest.len()).ok()?;
        Some(f * 10i64.pow(9 - len))
    }

    /// An optional UTC offset, `[ ](Z|UTC|GMT|±hh[[:]mm])`, as minutes east of UTC.
    fn offset(&mut self) -> Option<Result<i64>> {
        if self.rest.is_empty() {
            return Some(Ok(0));
        }
        self.rest = self.rest.strip_prefix(' ').unwrap_or(self.rest);
        for name in ["Z", "z", "UTC", "GMT"] {
            if let Some(rest) = self.rest.strip_prefix(name) {
                self.rest = rest;
                return Some(Ok(0));
            }
        }
        let sign = match self.rest.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        self.rest = &self.rest[1..];
        let h = self.digits(2, 2)?;
        let m = if self.rest.is_empty() {
            0
        } else {
            self.rest = self.rest.strip_prefix(':').unwrap_or(self.rest);
            self.digits(2, 2)?
        };
        if h > 18 || m > 59 {
            return Some(Err(invalid(format!(
                "invalid timestamp offset {h:02}:{m:02}: hours must be at most 18 and minutes at most 59"
            ))));
        }
        Some(Ok(sign * (h * 60 + m)))
    }
}

fn check_date(year: i64, month: i64, day: i64) -> Result<(i64, u32, u32)> {
    let month = u32::try_from(month)
        .ok()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(|| invalid(format!("invalid date: month {month} is not in 1..12")))?;
    let max = days_in_month(year, month);
    let day = u32::try_from(day).ok().filter(|d| (1..=max).contains(d)).ok_or_else(|| {
        invalid(format!("invalid date: day {day} is not in 1..{max} for {year:04}-{month:02}"))
    })?;
    Ok((year, month, day))
}

fn hms_nanos(h: i64, m: i64, s: i64, frac: i64) -> Result<i64> {
    let out_of_range = |what: &str, v: i64, max: i64| -> Error {
        invalid(format!("invalid time: {what} {v} is not in 0..{max}"))
    };
    if h > 23 {
        return Err(out_of_range("hour", h, 23));
    }
    if m > 59 {
        return Err(out_of_range("minute", m, 59));
    }
    if s > 59 {
        return Err(out_of_range("second", s, 59));
    }
    Ok(((h * 60 + m) * 60 + s) * 1_000_000_000 + frac)
}
