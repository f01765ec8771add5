//! Native-protocol encoding: golden bytes per type (from the protocol spec and Cassandra's
//! serializers), round trips, and the strict-decoding errors with their messages.

use std::net::IpAddr;

use bytes::Bytes;
use num_bigint::BigInt;

use super::{hex, ty, unhex};
use crate::types::CqlType;
use crate::value::{CqlValue, DATE_EPOCH, validate};

/// Serializes `v` as `t`, checks the bytes, and checks that they decode back to `v`.
fn golden(t: &str, v: CqlValue, expected_hex: &str) {
    let t = ty(t);
    let bytes = v.to_bytes(&t).unwrap();
    assert_eq!(hex(&bytes), expected_hex.replace(' ', ""), "{t} {v:?}");
    assert_eq!(CqlValue::deserialize(&t, &bytes).unwrap(), v, "{t}");
    validate(&t, &bytes).unwrap();
}

fn error(t: &str, bytes_hex: &str) -> String {
    let t = ty(t);
    let bytes = unhex(bytes_hex);
    let err = CqlValue::deserialize(&t, &bytes).unwrap_err().to_string();
    assert!(validate(&t, &bytes).is_err(), "validate accepts what deserialize rejects: {t}");
    err
}

#[test]
fn golden_integers() {
    golden("tinyint", CqlValue::Tinyint(-1), "ff");
    golden("smallint", CqlValue::Smallint(258), "0102");
    golden("int", CqlValue::Int(1), "00000001");
    golden("int", CqlValue::Int(i32::MIN), "80000000");
    golden("bigint", CqlValue::Bigint(-2), "fffffffffffffffe");
    golden("counter", CqlValue::Counter(7), "0000000000000007");
    golden("boolean", CqlValue::Boolean(true), "01");
    golden("boolean", CqlValue::Boolean(false), "00");
}

#[test]
fn golden_varint_and_decimal() {
    let v = |n: i64| CqlValue::Varint(BigInt::from(n));
    golden("varint", v(0), "00");
    golden("varint", v(127), "7f");
    golden("varint", v(128), "0080");
    golden("varint", v(-128), "80");
    golden("varint", v(-129), "ff7f");
    golden("varint", v(255), "00ff");
    golden("varint", v(65536), "010000");
    let d = |u: i64, scale: i32| CqlValue::Decimal { unscaled: BigInt::from(u), scale };
    golden("decimal", d(150, 2), "00000002 0096");
    golden("decimal", d(-1, 0), "00000000 ff");
    golden("decimal", d(1, -3), "fffffffd 01");
}

#[test]
fn golden_floats() {
    golden("float", CqlValue::Float(1.0), "3f800000");
    golden("double", CqlValue::Double(1.0), "3ff0000000000000");
    golden("double", CqlValue::Double(f64::NEG_INFINITY), "fff0000000000000");
}

#[test]
fn golden_temporal() {
    golden("date", CqlValue::Date(DATE_EPOCH), "80000000");
    golden("date", CqlValue::Date(DATE_EPOCH + 19724), "80004d0c"); // 2024-01-02
    golden("date", CqlValue::Date(0), "00000000");
    golden("time", CqlValue::Time(45_296_789_000_000), "000029327b048f40"); // 12:34:56.789
    golden("timestamp", CqlValue::Timestamp(1_704_164_645_678), "0000018cc820db2e");
    golden("timestamp", CqlValue::Timestamp(-1), "ffffffffffffffff");
}

#[test]
fn golden_duration_vints() {
    let d = |months, days, nanos| CqlValue::Duration { months, days, nanos };
    golden("duration", d(1, 2, 3), "02 04 06");
    golden("duration", d(0, 0, 5_400_000_000_000), "00 00 fc09d29229e000"); // 1h30m
    golden("duration", d(0, -1, -1), "00 01 01");
    golden("duration", d(0, 0, 64), "00 00 8080");
    golden("duration", d(0, 0, i64::MAX), "00 00 fffffffffffffffffe");
    golden("duration", d(0, 0, i64::MIN), "00 00 ffffffffffffffffff");
    golden("duration", d(i32::MAX, i32::MAX, 1), "f0fffffffe f0fffffffe 02");
}

#[test]
fn golden_strings_uuids_inets() {
    golden("text", CqlValue::Text("héllo".into()), "68c3a96c6c6f");
    golden("varchar", CqlValue::Text(String::new()), "");
    golden("ascii", CqlValue::Ascii("ab".into()), "6162");
    golden("blob", CqlValue::Blob(Bytes::from_static(&[0xca, 0xfe])), "cafe");
    let u = uuid::Uuid::parse_str("2a92d750-d8dc-11e6-a2de-cf8ecd4cf053").unwrap();
    golden("uuid", CqlValue::Uuid(u), "2a92d750d8dc11e6a2decf8ecd4cf053");
    golden("timeuuid", CqlValue::Timeuuid(u), "2a92d750d8dc11e6a2decf8ecd4cf053");
    golden("inet", CqlValue::Inet("127.0.0.1".parse().unwrap()), "7f000001");
    golden("inet", CqlValue::Inet("::1".parse().unwrap()), "00000000000000000000000000000001");
}

#[test]
fn golden_collections_and_tuples() {
    let int = CqlValue::Int;
    golden("list<int>", CqlValue::List(vec![int(1), int(2)]), "00000002 00000004 00000001 00000004 00000002");
    golden("frozen<set<int>>", CqlValue::Set(vec![]), "00000000");
    golden(
        "map<text, int>",
        CqlValue::Map(vec![(CqlValue::Text("a".into()), int(1))]),
        "00000001 00000001 61 00000004 00000001",
    );
    golden("tuple<int, text>", CqlValue::Tuple(vec![Some(int(1)), None]), "00000004 00000001 ffffffff");
    golden(
        "list<frozen<list<int>>>",
        CqlValue::List(vec![CqlValue::List(vec![int(7)])]),
        "00000001 0000000c 00000001 00000004 00000007",
    );
    // An empty element inside a collection.
    golden("list<int>", CqlValue::List(vec![CqlValue::Empty]), "00000001 00000000");
}

#[test]
fn zero_length_is_empty_except_for_strings() {
    for t in [
        "int",
        "bigint",
        "boolean",
        "uuid",
        "timeuuid",
        "inet",
        "date",
        "time",
        "decimal",
        "varint",
        "duration",
        "list<int>",
        "map<int, int>",
        "tuple<int>",
        "frozen<set<text>>",
    ] {
        assert_eq!(CqlValue::deserialize(&ty(t), &[]).unwrap(), CqlValue::Empty, "{t}");
        assert_eq!(CqlValue::Empty.to_bytes(&ty(t)).unwrap(), Vec::<u8>::new());
    }
    assert_eq!(CqlValue::deserialize(&CqlType::Text, &[]).unwrap(), CqlValue::Text(String::new()));
    assert_eq!(CqlValue::deserialize(&CqlType::Ascii, &[]).unwrap(), CqlValue::Ascii(String::new()));
    assert_eq!(CqlValue::deserialize(&CqlType::Blob, &[]).unwrap(), CqlValue::Blob(Bytes::new()));
}

#[test]
fn short_tuples_read_as_trailing_nulls() {
    let t = ty("tuple<int, text, boolean>");
    let v = CqlValue::deserialize(&t, &unhex("00000004 00000005")).unwrap();
    assert_eq!(v, CqlValue::Tuple(vec![Some(CqlValue::Int(5)), None, None]));
}

#[test]
fn round_trips() {
    let values: Vec<(&str, CqlValue)> = vec![
        ("float", CqlValue::Float(f32::MIN_POSITIVE)),
        ("double", CqlValue::Double(-0.0)),
        ("varint", CqlValue::Varint(BigInt::from(1u8) << 200u32)),
        ("varint", CqlValue::Varint(-(BigInt::from(1u8) << 200u32))),
        ("decimal", CqlValue::Decimal { unscaled: BigInt::from(-12345), scale: i32::MIN }),
        ("inet", CqlValue::Inet(IpAddr::from([0xfe80, 0, 0, 0, 0, 0, 0, 1]))),
        ("set<text>", CqlValue::Set(vec![CqlValue::Text("a".into()), CqlValue::Text("".into())])),
        (
            "map<int, frozen<list<text>>>",
            CqlValue::Map(vec![(CqlValue::Int(1), CqlValue::List(vec![CqlValue::Text("x".into())]))]),
        ),
        (
            "tuple<int, tuple<text, int>>",
            CqlValue::Tuple(vec![
                None,
                Some(CqlValue::Tuple(vec![Some(CqlValue::Text("q".into())), Some(CqlValue::Int(-3))])),
            ]),
        ),
        ("duration", CqlValue::Duration { months: -14, days: -3, nanos: -1 }),
    ];
    for (t, v) in values {
        let t = ty(t);
        let bytes = v.to_bytes(&t).unwrap();
        assert_eq!(CqlValue::deserialize(&t, &bytes).unwrap(), v, "{t}");
    }
}

#[test]
fn fixed_sizes_are_checked() {
    assert_eq!(error("int", "000001"), "expected 4 bytes for an int value, got 3");
    assert_eq!(error("bigint", "00"), "expected 8 bytes for a bigint value, got 1");
    assert_eq!(error("boolean", "0000"), "expected 1 byte for a boolean value, got 2");
    assert_eq!(error("date", "000000"), "expected 4 bytes for a date value, got 3");
    assert_eq!(error("uuid", "00"), "expected 16 bytes for a uuid value, got 1");
    assert_eq!(error("inet", "0102030405"), "expected 4 or 16 bytes for an inet value, got 5");
    assert_eq!(error("decimal", "00000001"), "expected at least 5 bytes for a decimal value, got 4");
}

#[test]
fn contents_are_checked() {
    assert_eq!(error("text", "61ff"), "invalid UTF-8 in text value at byte 1");
    assert_eq!(error("ascii", "61c3a9"), "invalid ascii value: byte 0xc3 at offset 1 is not ASCII");
    assert!(error("time", "ffffffffffffffff").starts_with("invalid time value -1"));
    let v4 = "cc520882950744fb8fc9b349ecdee658";
    assert!(error("timeuuid", v4).contains("version 4 UUID"));
    assert!(error("duration", "02 01 00").contains("same sign"));
    assert_eq!(error("duration", "00 00 00 00"), "1 trailing bytes after duration value");
    assert_eq!(error("duration", "00 00"), "truncated duration value");
    assert!(error("duration", "f100000000 00 00").contains("overflow an int"));
}

#[test]
fn collections_are_checked() {
    assert_eq!(error("list<int>", "00000001 00000004 00000001 00"), "1 trailing bytes after list<int> value");
    assert_eq!(
        error("list<int>", "00000001 ffffffff"),
        "null element in list<int> value: null is not supported inside collections"
    );
    assert_eq!(error("set<int>", "ffffffff"), "negative element count -1 in set<int> value");
    assert_eq!(
        error("map<int, int>", "00000001 00000004 00000001"),
        "truncated map<int, int> value: 0 bytes left where an element length needs 4"
    );
    assert_eq!(
        error("list<text>", "00000001 00000010 61"),
        "truncated list<text> value: element of 16 bytes, 1 left"
    );
    assert_eq!(error("list<int>", "00000001 00000002 0001"), "expected 4 bytes for an int value, got 2");
    assert_eq!(error("tuple<int>", "00000004 00000001 00000000"), "4 trailing bytes after tuple<int> value");
    // A huge count is an error, not an allocation.
    assert!(error("list<int>", "7fffffff").starts_with("truncated list<int> value"));
}

#[test]
fn serialize_checks_the_value_fits() {
    let err = |v: CqlValue, t: &str| v.to_bytes(&ty(t)).unwrap_err().to_string();
    assert_eq!(err(CqlValue::Int(1), "text"), "cannot encode an int value as text");
    assert_eq!(err(CqlValue::List(vec![]), "set<int>"), "cannot encode a list value as set<int>");
    assert!(err(CqlValue::Text("é".into()), "ascii").starts_with("invalid ascii value"));
    assert!(err(CqlValue::Time(-1), "time").starts_with("invalid time value -1"));
    assert!(err(CqlValue::Duration { months: 1, days: -1, nanos: 0 }, "duration").contains("same sign"));
    let v4 = uuid::Uuid::parse_str("cc520882-9507-44fb-8fc9-b349ecdee658").unwrap();
    assert!(err(CqlValue::Uuid(v4), "timeuuid").contains("must be version 1"));
    assert!(err(CqlValue::Tuple(vec![None, None]), "tuple<int>").contains("2 fields"));
    // Nothing is left behind in the output on error.
    let mut out = vec![9];
    assert!(
        CqlValue::List(vec![CqlValue::Int(1), CqlValue::Text("x".into())])
            .serialize(&ty("list<int>"), &mut out)
            .is_err()
    );
    assert_eq!(out, vec![9]);
    // Text and ascii values are interchangeable when the content fits.
    assert_eq!(CqlValue::Ascii("a".into()).to_bytes(&CqlType::Text).unwrap(), b"a");
    assert_eq!(CqlValue::Text("a".into()).to_bytes(&CqlType::Ascii).unwrap(), b"a");
}
