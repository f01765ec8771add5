//! Display goldens (what cqlsh 6.x prints for each type) and CQL literal forms.

use std::net::IpAddr;

use bytes::Bytes;
use num_bigint::BigInt;

use crate::value::{CqlValue, DATE_EPOCH};

fn text(s: &str) -> CqlValue {
    CqlValue::Text(s.into())
}

fn dec(unscaled: i64, scale: i32) -> CqlValue {
    CqlValue::Decimal { unscaled: BigInt::from(unscaled), scale }
}

#[test]
fn scalars_display_like_cqlsh() {
    let cases: Vec<(CqlValue, &str)> = vec![
        (text("hello"), "hello"),
        (text("it's"), "it's"),
        (text("a\nb\tc\\d\u{1}\u{7f}é"), "a\\nb\\tc\\\\d\\x01\\x7fé"),
        (CqlValue::Ascii("abc".into()), "abc"),
        (CqlValue::Boolean(true), "True"),
        (CqlValue::Boolean(false), "False"),
        (CqlValue::Blob(Bytes::from_static(&[0xca, 0xfe])), "0xcafe"),
        (CqlValue::Blob(Bytes::new()), "0x"),
        (CqlValue::Int(-42), "-42"),
        (CqlValue::Bigint(i64::MIN), "-9223372036854775808"),
        (CqlValue::Counter(3), "3"),
        (CqlValue::Varint(BigInt::from(1u8) << 70), "1180591620717411303424"),
        (CqlValue::Timestamp(1_704_164_645_678), "2024-01-02 03:04:05.678000+0000"),
        (CqlValue::Timestamp(0), "1970-01-01 00:00:00.000000+0000"),
        (CqlValue::Timestamp(-1), "1969-12-31 23:59:59.999000+0000"),
        (CqlValue::Timestamp(i64::MAX), "9223372036854775807"),
        (CqlValue::Date(DATE_EPOCH), "1970-01-01"),
        (CqlValue::Date(DATE_EPOCH + 19724), "2024-01-02"),
        (CqlValue::Date(DATE_EPOCH - 1), "1969-12-31"),
        (CqlValue::Date(0), "-2147483648"),
        (CqlValue::Time(45_296_789_000_000), "12:34:56.789000000"),
        (CqlValue::Time(0), "00:00:00.000000000"),
        (
            CqlValue::Uuid(uuid::Uuid::parse_str("2A92D750-D8DC-11E6-A2DE-CF8ECD4CF053").unwrap()),
            "2a92d750-d8dc-11e6-a2de-cf8ecd4cf053",
        ),
        (CqlValue::Inet("127.0.0.1".parse().unwrap()), "127.0.0.1"),
        (CqlValue::Inet("2001:db8::1".parse().unwrap()), "2001:db8::1"),
        (CqlValue::Duration { months: 14, days: 2, nanos: 5_400_000_000_000 }, "1y2mo2d1h30m"),
        (CqlValue::Duration { months: 0, days: 0, nanos: -1_000_001 }, "-1ms1ns"),
        (CqlValue::Duration { months: 1, days: 0, nanos: 0 }, "1mo"),
        (CqlValue::Empty, ""),
    ];
    for (v, expected) in cases {
        assert_eq!(v.display(), expected, "{v:?}");
    }
}

#[test]
fn floats_display_like_cqlsh() {
    // Expected strings from cqlsh's format_floating_point_type (precision 5) in Python.
    let doubles = [
        (1.5, "1.5"),
        (1.0, "1"),
        (0.0, "0"),
        (-0.0, "-0"),
        (123_456.7, "1.2346e+05"),
        (std::f64::consts::PI, "3.14159"),
        (0.001, "0.001"),
        (1e-5, "1e-05"),
        (-2.5, "-2.5"),
        (12_345.678, "12345.678"),
        (1e20, "1e+20"),
        (99_999.5, "99999.5"),
        (0.000_123_45, "0.000123"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "Infinity"),
        (f64::NEG_INFINITY, "-Infinity"),
    ];
    for (v, expected) in doubles {
        assert_eq!(CqlValue::Double(v).display(), expected, "{v}");
    }
    assert_eq!(CqlValue::Float(1.1).display(), "1.1");
    assert_eq!(CqlValue::Float(0.1).display(), "0.1");
    assert_eq!(CqlValue::Float(f32::NAN).display(), "NaN");
}

#[test]
fn decimals_display_like_python() {
    assert_eq!(dec(150, 2).display(), "1.50");
    assert_eq!(dec(1, -2).display(), "1E+2");
    assert_eq!(dec(123, 10).display(), "1.23E-8");
    assert_eq!(dec(0, 5).display(), "0.00000");
    assert_eq!(dec(-5, 1).display(), "-0.5");
    assert_eq!(dec(1, 6).display(), "0.000001");
    assert_eq!(dec(0, -2).display(), "0E+2");
    assert_eq!(dec(12345, 0).display(), "12345");
}

#[test]
fn collections_quote_their_strings() {
    let list = CqlValue::List(vec![text("a"), text("it's")]);
    assert_eq!(list.display(), "['a', 'it''s']");
    let set = CqlValue::Set(vec![CqlValue::Int(1), CqlValue::Int(2)]);
    assert_eq!(set.display(), "{1, 2}");
    let map = CqlValue::Map(vec![(text("a"), CqlValue::Int(1)), (text("b"), CqlValue::Int(2))]);
    assert_eq!(map.display(), "{'a': 1, 'b': 2}");
    let tuple = CqlValue::Tuple(vec![Some(CqlValue::Int(1)), Some(text("a")), None]);
    assert_eq!(tuple.display(), "(1, 'a', null)");
    let nested = CqlValue::List(vec![CqlValue::List(vec![text("x")]), CqlValue::List(vec![])]);
    assert_eq!(nested.display(), "[['x'], []]");
    let quoted = CqlValue::List(vec![
        CqlValue::Timestamp(0),
        CqlValue::Inet(IpAddr::from([10, 0, 0, 1])),
        CqlValue::Date(DATE_EPOCH),
        CqlValue::Boolean(true),
        CqlValue::Blob(Bytes::from_static(b"\x01")),
    ]);
    assert_eq!(quoted.display(), "['1970-01-01 00:00:00.000000+0000', '10.0.0.1', 1970-01-01, True, 0x01]");
}

#[test]
fn cql_literals() {
    let cases: Vec<(CqlValue, &str)> = vec![
        (text("it's"), "'it''s'"),
        (CqlValue::Ascii("a".into()), "'a'"),
        (CqlValue::Boolean(true), "true"),
        (CqlValue::Blob(Bytes::from_static(&[0xca, 0xfe])), "0xcafe"),
        (CqlValue::Timestamp(1_704_164_645_678), "'2024-01-02T03:04:05.678Z'"),
        (CqlValue::Timestamp(i64::MIN), "-9223372036854775808"),
        (CqlValue::Date(DATE_EPOCH + 19724), "'2024-01-02'"),
        (CqlValue::Date(5), "5"),
        (CqlValue::Time(45_296_789_000_000), "'12:34:56.789000000'"),
        (CqlValue::Double(1.0), "1.0"),
        (CqlValue::Double(1e300), "1e300"),
        (CqlValue::Double(-0.0), "-0.0"),
        (CqlValue::Double(f64::NAN), "NaN"),
        (CqlValue::Float(1.1), "1.1"),
        (CqlValue::Float(f32::NEG_INFINITY), "-Infinity"),
        (dec(150, 2), "1.50"),
        (dec(1, -2), "1E+2"),
        (CqlValue::Inet("::1".parse().unwrap()), "'::1'"),
        (CqlValue::Duration { months: 0, days: 1, nanos: 3_600_000_000_000 }, "1d1h"),
        (CqlValue::Duration { months: 0, days: 0, nanos: 0 }, "0s"),
        (CqlValue::List(vec![text("a"), text("b")]), "['a', 'b']"),
        (CqlValue::Set(vec![CqlValue::Double(1.0)]), "{1.0}"),
        (CqlValue::Map(vec![(text("k"), CqlValue::Boolean(false))]), "{'k': false}"),
        (CqlValue::Tuple(vec![Some(CqlValue::Int(1)), None]), "(1, null)"),
        (CqlValue::Empty, "''"),
    ];
    for (v, expected) in cases {
        assert_eq!(v.to_cql_literal(), expected, "{v:?}");
    }
}
