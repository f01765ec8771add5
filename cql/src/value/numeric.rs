//! Number text: parsing decimal literals, and the three ways numbers are printed — cqlsh's
//! float display (`%.*g` with 5 significant digits after the integer part), Python's
//! `str(Decimal)` that cqlsh uses for decimals, and exact CQL literals for floats.
//!
//! | value | cqlsh display | CQL literal |
//! |---|---|---|
//! | double 1.0 | `1` | `1.0` |
//! | double 123456.7 | `1.2346e+05` | `123456.7` |
//! | decimal 150 × 10^-2 | `1.50` | `1.50` |
//! | decimal 1 × 10^2 | `1E+2` | `1E+2` |

use num_bigint::{BigInt, Sign};

/// Parses `[+-]digits[.digits][(e|E)[+-]digits]` (Java `BigDecimal` syntax) into an unscaled
/// value and a scale. `None` for anything else, including NaN and infinities.
pub(super) fn parse_decimal(text: &str) -> Option<(BigInt, i32)> {
    let (negative, s) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let exponent: i64 = match exponent {
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            e.parse().ok()?
        }
        None => 0,
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |p: &str| p.bytes().all(|c| c.is_ascii_digit());
    if !all_digits(int_part) || !all_digits(frac_part) || int_part.len() + frac_part.len() == 0 {
        return None;
    }
    let digits = format!("{int_part}{frac_part}");
    let mut unscaled = BigInt::parse_bytes(digits.as_bytes(), 10)?;
    if negative {
        unscaled = -unscaled;
    }
    let scale = i64::try_from(frac_part.len()).ok()?.checked_sub(exponent)?;
    Some((unscaled, i32::try_from(scale).ok()?))
}

/// A float or double as cqlsh prints it (`format_floating_point_type` with the default
/// precision of 5): `NaN`, `Infinity`, `-Infinity`, else `%.*g` with the precision widened by
/// the digits before the decimal point.
pub(super) fn cqlsh_float(v: f64) -> String {
    const PRECISION: i64 = 5;
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let mut precision = PRECISION;
    if v.abs() > f64::EPSILON {
        // Python's int(math.log10(abs(v))): truncation toward zero.
        let exponent = v.abs().log10() as i64;
        if (-4..PRECISION).contains(&exponent) {
            precision += exponent + 1;
        }
    }
    format_g(v, usize::try_from(precision).unwrap_or(1).max(1))
}

/// C's `%.{precision}g`: scientific notation when the exponent is below -4 or at least the
/// precision, trailing zeros removed.
fn format_g(v: f64, precision: usize) -> String {
    let sci = format!("{:.*e}", precision - 1, v);
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let p = i64::try_from(precision).unwrap_or(i64::MAX);
    if (-4..p).contains(&exponent) {
        let decimals = usize::try_from(p - 1 - exponent).unwrap_or(0);
        strip_fraction_zeros(&format!("{v:.decimals$}")).to_owned()
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip_fraction_zeros(mantissa), exponent.unsigned_abs())
    }
}

fn strip_fraction_zeros(s: &str) -> &str {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { s }
}

/// Python's `str(Decimal)` for `unscaled × 10^-scale`, which cqlsh prints for decimals and
/// which is also a valid CQL literal: plain notation unless the exponent is positive or the
/// number is below 10^-6, then `1.5E+7` style.
pub(super) fn decimal_string(unscaled: &BigInt, scale: i32) -> String {
    let digits = unscaled.magnitude().to_string();
    let n = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    let exp = -i64::from(scale);
    let left_digits = exp + n;
    let dot_place = if exp <= 0 && left_digits > -6 { left_digits } else { 1 };
    let mut out = String::new();
    if unscaled.sign() == Sign::Minus {
        out.push('-');
    }
    if dot_place <= 0 {
        out.push_str("0.");
        for _ in 0..-dot_place {
            out.push('0');
        }
        out.push_str(&digits);
    } else if dot_place >= n {
        out.push_str(&digits);
        for _ in 0..dot_place - n {
            out.push('0');
        }
    } else {
        let (int_part, frac_part) = digits.split_at(usize::try_from(dot_place).unwrap_or(0));
        out.push_str(int_part);
        out.push('.');
        out.push_str(frac_part);
    }
    if left_digits != dot_place {
        out.push_str(&format!("E{:+}", left_digits - dot_place));
    }
    out
}

/// A double as a CQL literal that reads back to the same value: `NaN`, `Infinity`,
/// `-Infinity`, else the shortest round-trip form (always with a `.` or an exponent).
pub(super) fn double_literal(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        format!("{v:?}")
    }
}

/// A float as a CQL literal (see [`double_literal`]), shortest for single precision.
pub(super) fn float_literal(v: f32) -> String {
    if v.is_nan() || v.is_infinite() { double_literal(f64::from(v)) } else { format!("{v:?}") }
}
