//! Formatting shared by the nodetool-style renderers: sizes as nodetool prints them, and "n/a"
//! for whatever the admin API left out or sent as null (an older or newer node may not know a
//! field; the command still prints the rest).

use std::fmt::Display;

/// What a renderer prints for a missing or null field.
pub const NA: &str = "n/a";

/// The value, or `n/a` when missing.
pub fn or_na<T: Display>(value: Option<T>) -> String {
    value.map_or_else(|| NA.to_string(), |v| v.to_string())
}

/// Up to two decimals, trailing zeros dropped (Java's `#.##`).
pub fn two_decimals(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A size as nodetool shows load: `0 bytes`, `512 bytes`, `1.5 KiB`, `1.23 MiB`, ...
pub fn human_bytes(bytes: u64) -> String {
    for (shift, unit) in [(40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if bytes >= 1u64 << shift {
            return format!("{} {unit}", two_decimals(bytes as f64 / (1u64 << shift) as f64));
        }
    }
    format!("{bytes} bytes")
}

/// A size, or `n/a` when missing.
pub fn bytes_or_na(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| NA.to_string(), human_bytes)
}

/// A latency in milliseconds with three decimals (`0.123 ms`), as tablestats prints it;
/// `n/a` when missing or not a number (no requests yet).
pub fn latency_ms(ms: Option<f64>) -> String {
    match ms {
        Some(ms) if ms.is_finite() => format!("{ms:.3} ms"),
        _ => NA.to_string(),
    }
}

/// A count with its noun, plural unless one: `1 table`, `3 tables`, `n/a tables`.
pub fn count(n: Option<u64>, singular: &str, plural: &str) -> String {
    match n {
        Some(1) => format!("1 {singular}"),
        Some(n) => format!("{n} {plural}"),
        None => format!("{NA} {plural}"),
    }
}

/// A UTC wall-clock time as nodetool stamps its progress lines, `2026-11-21 10:11:12,345`
/// (nodetool uses local time; the node's logs are in UTC, so these are too).
pub fn timestamp(since_epoch: std::time::Duration) -> String {
    let secs = since_epoch.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (never negative here).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02},{:03}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since_epoch.subsec_millis()
    )
}

/// The current time as `timestamp` prints it.
pub fn now() -> String {
    timestamp(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sizes_read_like_nodetool() {
        assert_eq!(human_bytes(0), "0 bytes");
        assert_eq!(human_bytes(1023), "1023 bytes");
        assert_eq!(human_bytes(1024), "1 KiB");
        assert_eq!(human_bytes(1_289_748), "1.23 MiB");
        assert_eq!(human_bytes(5 << 40), "5 TiB");
        assert_eq!(bytes_or_na(None), "n/a");
    }

    #[test]
    fn missing_values_are_na() {
        assert_eq!(or_na(Some(3)), "3");
        assert_eq!(or_na::<u32>(None), "n/a");
        assert_eq!(latency_ms(Some(0.12345)), "0.123 ms");
        assert_eq!(latency_ms(Some(f64::NAN)), "n/a");
        assert_eq!(latency_ms(None), "n/a");
        assert_eq!(count(Some(1), "table", "tables"), "1 table");
        assert_eq!(count(Some(0), "table", "tables"), "0 tables");
        assert_eq!(count(None, "table", "tables"), "n/a tables");
    }

    #[test]
    fn timestamps_are_utc_calendar_times() {
        assert_eq!(timestamp(Duration::ZERO), "1970-01-01 00:00:00,000");
        // 2000-02-29 (a leap day in a century leap year) 23:59:59.999
        assert_eq!(timestamp(Duration::from_millis(951_868_799_999)), "2000-02-29 23:59:59,999");
        // 2026-11-21 10:11:12.345
        assert_eq!(timestamp(Duration::from_millis(1_795_255_872_345)), "2026-11-21 10:11:12,345");
    }
}
