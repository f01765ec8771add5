//! Literal terms to values: what each type accepts and rejects, with the error text.

use bytes::Bytes;
use num_bigint::BigInt;

use super::ty;
use crate::ast::{Literal, Term};
use crate::value::{CqlValue, DATE_EPOCH, from_term};

fn int(s: &str) -> Term {
    Term::Literal(Literal::Integer(s.into()))
}

fn float(s: &str) -> Term {
    Term::Literal(Literal::Float(s.into()))
}

fn string(s: &str) -> Term {
    Term::Literal(Literal::String(s.into()))
}

fn uuid_lit(s: &str) -> Term {
    Term::Literal(Literal::Uuid(s.into()))
}

fn duration(s: &str) -> Term {
    Term::Literal(Literal::Duration(s.into()))
}

fn ok(term: &Term, t: &str) -> CqlValue {
    match from_term(term, &ty(t)) {
        Ok(Some(v)) => v,
        other => panic!("{term:?} as {t}: {other:?}"),
    }
}

fn err(term: &Term, t: &str) -> String {
    match from_term(term, &ty(t)) {
        Err(e) => e.to_string(),
        Ok(v) => panic!("{term:?} as {t} was accepted: {v:?}"),
    }
}

const DAY_MS: i64 = 86_400_000;

#[test]
fn integers_fit_their_type() {
    assert_eq!(ok(&int("-128"), "tinyint"), CqlValue::Tinyint(-128));
    assert_eq!(ok(&int("32767"), "smallint"), CqlValue::Smallint(32767));
    assert_eq!(ok(&int("42"), "int"), CqlValue::Int(42));
    assert_eq!(ok(&int("-9223372036854775808"), "bigint"), CqlValue::Bigint(i64::MIN));
    assert_eq!(ok(&int("5"), "counter"), CqlValue::Counter(5));
    let big = "123456789012345678901234567890";
    assert_eq!(ok(&int(big), "varint"), CqlValue::Varint(big.parse::<BigInt>().unwrap()));
    assert_eq!(err(&int("300"), "tinyint"), "invalid tinyint literal 300: out of range");
    assert_eq!(err(&int("-129"), "tinyint"), "invalid tinyint literal -129: out of range");
    assert_eq!(err(&int("2147483648"), "int"), "invalid int literal 2147483648: out of range");
    assert_eq!(err(&int("12x"), "int"), "invalid int literal 12x");
    assert_eq!(err(&float("1.5"), "int"), "invalid float literal 1.5 for type int");
    assert_eq!(err(&string("12"), "int"), "invalid string literal '12' for type int");
    assert_eq!(err(&float("1.0"), "varint"), "invalid float literal 1.0 for type varint");
}

#[test]
fn decimals_and_floats() {
    let d = |u: i64, scale: i32| CqlValue::Decimal { unscaled: BigInt::from(u), scale };
    assert_eq!(ok(&float("1.50"), "decimal"), d(150, 2));
    assert_eq!(ok(&float("-2e10"), "decimal"), d(-2, -10));
    assert_eq!(ok(&float("1.5E-3"), "decimal"), d(15, 4));
    assert_eq!(ok(&int("-7"), "decimal"), d(-7, 0));
    assert_eq!(err(&float("NaN"), "decimal"), "invalid decimal literal NaN");
    assert_eq!(ok(&float("1.5"), "float"), CqlValue::Float(1.5));
    assert_eq!(ok(&int("3"), "double"), CqlValue::Double(3.0));
    assert_eq!(ok(&float("-2e10"), "double"), CqlValue::Double(-2e10));
    assert_eq!(ok(&float("-Infinity"), "double"), CqlValue::Double(f64::NEG_INFINITY));
    assert!(matches!(ok(&float("NaN"), "float"), CqlValue::Float(f) if f.is_nan()));
    assert_eq!(err(&string("1.5"), "double"), "invalid string literal '1.5' for type double");
}

#[test]
fn timestamps_accept_cassandra_forms() {
    let ts = |s: &str| ok(&string(s), "timestamp");
    let jan2 = 19_724 * DAY_MS;
    let t = jan2 + 3 * 3_600_000 + 4 * 60_000 + 5_000;
    assert_eq!(ts("2024-01-02"), CqlValue::Timestamp(jan2));
    assert_eq!(ts("2024-01-02 03:04:05"), CqlValue::Timestamp(t));
    assert_eq!(ts("2024-01-02T03:04:05"), CqlValue::Timestamp(t));
    assert_eq!(ts("2024-01-02 03:04"), CqlValue::Timestamp(t - 5_000));
    assert_eq!(ts("2024-01-02T03:04:05.678Z"), CqlValue::Timestamp(t + 678));
    assert_eq!(ts("2024-01-02 03:04:05.678+0000"), CqlValue::Timestamp(t + 678));
    assert_eq!(ts("2024-01-02 03:04:05.678000+0000"), CqlValue::Timestamp(t + 678));
    assert_eq!(ts("2024-01-02 03:04:05.1"), CqlValue::Timestamp(t + 100));
    assert_eq!(ts("2024-01-02 03:04:05.123456789"), CqlValue::Timestamp(t + 123));
    assert_eq!(ts("2024-01-02 03:04:05+01:00"), CqlValue::Timestamp(t - 3_600_000));
    assert_eq!(ts("2024-01-02 03:04:05-0130"), CqlValue::Timestamp(t + 5_400_000));
    assert_eq!(ts("2024-01-02 03:04:05 UTC"), CqlValue::Timestamp(t));
    assert_eq!(ts("2024-01-02+0100"), CqlValue::Timestamp(jan2 - 3_600_000));
    assert_eq!(ts("1969-12-31 23:59:59.999Z"), CqlValue::Timestamp(-1));
    assert_eq!(ts("1704164645678"), CqlValue::Timestamp(1_704_164_645_678));
    assert_eq!(ok(&int("-5"), "timestamp"), CqlValue::Timestamp(-5));
    assert_eq!(ts(""), CqlValue::Empty);
    assert_eq!(
        err(&string("yesterday"), "timestamp"),
        "invalid timestamp literal 'yesterday': expected yyyy-mm-dd[ hh:mm[:ss[.fff]]][+hhmm]"
    );
    assert!(err(&string("2024-13-01"), "timestamp").contains("month 13"));
    assert!(err(&string("2023-02-29"), "timestamp").contains("day 29"));
    assert!(err(&string("2024-01-02 24:00"), "timestamp").contains("hour 24"));
    assert!(err(&string("2024-01-02 03:04:05.1234567890"), "timestamp").contains("expected"));
    assert!(err(&string("2024-01-02T"), "timestamp").contains("expected"));
}

#[test]
fn dates_and_times() {
    assert_eq!(ok(&string("2024-01-02"), "date"), CqlValue::Date(DATE_EPOCH + 19_724));
    assert_eq!(ok(&string("1970-01-01"), "date"), CqlValue::Date(DATE_EPOCH));
    assert_eq!(ok(&string("2024-02-29"), "date"), CqlValue::Date(DATE_EPOCH + 19_782));
    assert_eq!(ok(&string("-0001-12-31"), "date"), CqlValue::Date(DATE_EPOCH - 719_529));
    assert_eq!(ok(&int("2147483648"), "date"), CqlValue::Date(DATE_EPOCH));
    assert_eq!(ok(&string("0"), "date"), CqlValue::Date(0));
    assert!(err(&int("-1"), "date").contains("out of range"));
    assert!(err(&int("4294967296"), "date").contains("out of range"));
    assert!(err(&string("2024-1-2"), "date").contains("expected yyyy-mm-dd"));
    assert!(err(&string("2023-02-29"), "date").contains("day 29"));

    assert_eq!(ok(&string("12:34:56.789"), "time"), CqlValue::Time(45_296_789_000_000));
    assert_eq!(ok(&string("12:34:56"), "time"), CqlValue::Time(45_296_000_000_000));
    assert_eq!(ok(&string("1:02:03.000000004"), "time"), CqlValue::Time(3_723_000_000_004));
    assert_eq!(ok(&int("1000"), "time"), CqlValue::Time(1000));
    assert!(err(&string("24:00:00"), "time").contains("hour 24"));
    assert!(err(&string("12:34"), "time").contains("expected hh:mm:ss"));
    assert!(err(&int("86400000000000"), "time").contains("out of range"));
}

#[test]
fn strings_uuids_and_others() {
    assert_eq!(ok(&string("héllo"), "text"), CqlValue::Text("héllo".into()));
    assert_eq!(ok(&string("abc"), "varchar"), CqlValue::Text("abc".into()));
    assert_eq!(ok(&string("abc"), "ascii"), CqlValue::Ascii("abc".into()));
    assert!(err(&string("é"), "ascii").contains("non-ASCII"));
    assert_eq!(ok(&string("10.0.0.1"), "inet"), CqlValue::Inet("10.0.0.1".parse().unwrap()));
    assert_eq!(ok(&string("::1"), "inet"), CqlValue::Inet("::1".parse().unwrap()));
    assert!(err(&string("localhost"), "inet").contains("not an IP address"));

    let v1 = "2a92d750-d8dc-11e6-a2de-cf8ecd4cf053";
    let v4 = "cc520882-9507-44fb-8fc9-b349ecdee658";
    assert_eq!(ok(&uuid_lit(v1), "timeuuid"), CqlValue::Timeuuid(v1.parse().unwrap()));
    assert_eq!(ok(&uuid_lit(v4), "uuid"), CqlValue::Uuid(v4.parse().unwrap()));
    assert_eq!(
        err(&uuid_lit(v4), "timeuuid"),
        format!("invalid timeuuid literal {v4}: version 4 UUID, a timeuuid must be version 1")
    );
    assert!(err(&string(v4), "uuid").contains("invalid string literal"));

    let blob = Term::Literal(Literal::Blob(vec![0xca, 0xfe]));
    assert_eq!(ok(&blob, "blob"), CqlValue::Blob(Bytes::from_static(&[0xca, 0xfe])));
    assert_eq!(err(&blob, "text"), "invalid blob literal 0xcafe for type text");
    assert_eq!(ok(&Term::Literal(Literal::Boolean(true)), "boolean"), CqlValue::Boolean(true));
    assert!(err(&string("true"), "boolean").contains("invalid string literal"));
    assert_eq!(from_term(&Term::Literal(Literal::Null), &ty("int")).unwrap(), None);
}

#[test]
fn durations() {
    let d = |months, days, nanos| CqlValue::Duration { months, days, nanos };
    const H: i64 = 3_600_000_000_000;
    assert_eq!(ok(&duration("1h30m"), "duration"), d(0, 0, H * 3 / 2));
    assert_eq!(ok(&duration("1y2mo3w4d"), "duration"), d(14, 25, 0));
    assert_eq!(ok(&duration("5s6ms7us8ns"), "duration"), d(0, 0, 5_006_007_008));
    assert_eq!(ok(&duration("2µs"), "duration"), d(0, 0, 2_000));
    assert_eq!(ok(&duration("1H30M"), "duration"), d(0, 0, H * 3 / 2));
    assert_eq!(ok(&duration("-1d"), "duration"), d(0, -1, 0));
    assert_eq!(ok(&duration("P1DT2H"), "duration"), d(0, 1, 2 * H));
    assert_eq!(ok(&duration("P1Y2M3DT4H5M6S"), "duration"), d(14, 3, 4 * H + 306_000_000_000));
    assert_eq!(ok(&duration("PT30M"), "duration"), d(0, 0, H / 2));
    assert_eq!(ok(&duration("P2W"), "duration"), d(0, 14, 0));
    assert_eq!(ok(&duration("-P0001-02-03T04:05:06"), "duration"), d(-14, -3, -(4 * H + 306_000_000_000)));
    assert_eq!(
        err(&duration("1m1h"), "duration"),
        "invalid duration literal 1m1h: the minutes should be after the hours"
    );
    assert!(err(&duration("1h1h"), "duration").contains("hours are specified multiple times"));
    assert!(err(&duration("1x"), "duration").contains("unable to convert"));
    assert!(err(&duration("P1S"), "duration").contains("unable to convert"));
    assert!(err(&duration("3000000000mo"), "duration").contains("must be less or equal to"));
    assert!(err(&int("5"), "duration").contains("invalid integer literal 5"));
}

#[test]
fn collections_convert_recursively() {
    let ints = |v: &[&str]| v.iter().map(|s| int(s)).collect::<Vec<_>>();
    let i = CqlValue::Int;
    assert_eq!(ok(&Term::List(ints(&["3", "1", "3"])), "list<int>"), CqlValue::List(vec![i(3), i(1), i(3)]));
    assert_eq!(ok(&Term::Set(ints(&["3", "1", "3"])), "frozen<set<int>>"), CqlValue::Set(vec![i(1), i(3)]));
    assert_eq!(ok(&Term::Map(vec![]), "set<int>"), CqlValue::Set(vec![]));
    let map = Term::Map(vec![(string("b"), int("1")), (string("a"), int("2")), (string("b"), int("3"))]);
    assert_eq!(
        ok(&map, "map<text, int>"),
        CqlValue::Map(vec![(CqlValue::Text("a".into()), i(2)), (CqlValue::Text("b".into()), i(3))])
    );
    let nested = Term::List(vec![Term::Set(ints(&["2", "1"]))]);
    assert_eq!(ok(&nested, "list<frozen<set<int>>>"), CqlValue::List(vec![CqlValue::Set(vec![i(1), i(2)])]));
    let tuple = Term::Tuple(vec![int("1"), Term::Literal(Literal::Null)]);
    assert_eq!(ok(&tuple, "tuple<int, text, int>"), CqlValue::Tuple(vec![Some(i(1)), None, None]));
    assert!(err(&Term::Tuple(ints(&["1", "2"])), "tuple<int>").contains("too many elements"));
    assert_eq!(err(&Term::List(ints(&["1"])), "set<int>"), "invalid list literal for type set<int>");
    assert_eq!(err(&Term::Set(ints(&["1"])), "int"), "invalid set literal for type int");
    assert_eq!(
        err(&Term::List(vec![Term::Literal(Literal::Null)]), "list<int>"),
        "null is not supported inside collections"
    );
    assert_eq!(
        err(&Term::List(ints(&["300"])), "list<tinyint>"),
        "invalid tinyint literal 300: out of range"
    );
    assert!(err(&Term::Set(vec![duration("1h")]), "set<duration>").contains("duration"));
}

#[test]
fn unresolved_terms_are_rejected() {
    let bind = Term::Bind { index: 0, name: None };
    assert!(err(&bind, "int").contains("bind marker"));
    let call = Term::Function { name: "now".into(), args: vec![] };
    assert!(err(&call, "timeuuid").contains("now()"));
    assert!(err(&Term::Negate(Box::new(int("1"))), "int").contains("negation"));
}
