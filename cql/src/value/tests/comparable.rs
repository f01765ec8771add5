//! The comparable encoding: golden bytes, and property tests that memcmp order of encodings is
//! the model's order (ASC and DESC, single and two-component keys) and that decoding returns
//! the value.

use std::cmp::Ordering;

use num_bigint::BigInt;
use proptest::prelude::*;

use super::model::{cmp_values, key_type, value};
use super::{hex, ty, unhex};
use crate::types::CqlType;
use crate::value::{CqlValue, compare_serialized, decode_comparable, encode_comparable};

fn enc(t: &CqlType, v: &CqlValue, desc: bool) -> Vec<u8> {
    let mut out = Vec::new();
    encode_comparable(t, &v.to_bytes(t).unwrap(), desc, &mut out).unwrap();
    out
}

#[test]
fn golden_fixed_width() {
    assert_eq!(hex(&enc(&CqlType::Int, &CqlValue::Int(1), false)), "0180000001");
    assert_eq!(hex(&enc(&CqlType::Smallint, &CqlValue::Smallint(-1), false)), "017fff");
    assert_eq!(hex(&enc(&CqlType::Tinyint, &CqlValue::Tinyint(0), false)), "0180");
    assert_eq!(hex(&enc(&CqlType::Int, &CqlValue::Empty, false)), "00");
    assert_eq!(hex(&enc(&CqlType::Int, &CqlValue::Empty, true)), "ff");
    assert_eq!(hex(&enc(&CqlType::Float, &CqlValue::Float(1.0), false)), "01bf800000");
    assert_eq!(hex(&enc(&CqlType::Float, &CqlValue::Float(-0.0), false)), "017fffffff");
    assert_eq!(hex(&enc(&CqlType::Float, &CqlValue::Float(-1.0), false)), "01407fffff");
    assert_eq!(
        hex(&enc(&CqlType::Double, &CqlValue::Double(f64::NEG_INFINITY), false)),
        "01000fffffffffffff"
    );
    assert_eq!(hex(&enc(&CqlType::Date, &CqlValue::Date(1 << 31), false)), "0180000000");
    assert_eq!(hex(&enc(&CqlType::Boolean, &CqlValue::Boolean(true), false)), "0101");
}

#[test]
fn golden_uuids_follow_cassandra() {
    let v4 = uuid::Uuid::parse_str("cc520882-9507-44fb-8fc9-b349ecdee658").unwrap();
    let v1 = uuid::Uuid::parse_str("2a92d750-d8dc-11e6-a2de-cf8ecd4cf053").unwrap();
    assert_eq!(hex(&enc(&CqlType::Uuid, &CqlValue::Uuid(v4), false)), "014cc52088295074fb8fc9b349ecdee658");
    assert_eq!(hex(&enc(&CqlType::Uuid, &CqlValue::Uuid(v1), false)), "0111e6d8dc2a92d750a2decf8ecd4cf053");
    // timeuuid: the low bytes compare as signed bytes.
    assert_eq!(
        hex(&enc(&CqlType::Timeuuid, &CqlValue::Timeuuid(v1), false)),
        "0111e6d8dc2a92d750225e4f0e4dcc70d3"
    );
}

#[test]
fn golden_strings_escape_zero_bytes() {
    let text = |s: &str| enc(&CqlType::Text, &CqlValue::Text(s.into()), false);
    assert_eq!(hex(&text("")), "0000");
    assert_eq!(hex(&text("a")), "610000");
    assert_eq!(hex(&text("a\0")), "6100ff0000");
    assert!(text("a") < text("a\0"));
    assert!(text("a\0") < text("a\u{1}"));
    assert_eq!(hex(&enc(&CqlType::Text, &CqlValue::Text("a".into()), true)), "9effff");
}

#[test]
fn golden_varint_lengths() {
    let v = |n: i64| hex(&enc(&CqlType::Varint, &CqlValue::Varint(BigInt::from(n)), false));
    assert_eq!(v(0), "018000");
    assert_eq!(v(1), "018001");
    assert_eq!(v(-1), "017fff");
    assert_eq!(v(255), "018100ff");
    assert_eq!(v(-256), "017eff00");
    // 2^1024: 129 bytes, one chunk byte then 0x80.
    let big = enc(&CqlType::Varint, &CqlValue::Varint(BigInt::from(1u8) << 1024), false);
    assert_eq!(hex(&big[..4]), "01ff8001");
}

#[test]
fn decimal_orders_numerically_and_equal_scales_collide() {
    let d = |u: i64, s: i32| CqlValue::Decimal { unscaled: BigInt::from(u), scale: s };
    let e = |v: &CqlValue| enc(&CqlType::Decimal, v, false);
    assert_eq!(e(&d(10, 1)), e(&d(100, 2)), "1.0 and 1.00 are the same key");
    assert_eq!(hex(&e(&d(0, 5))), "0180");
    let ordered = [d(-99, -1), d(-11, 1), d(-1, 0), d(-1, 2), d(0, 0), d(1, 2), d(1, 0), d(11, 1), d(99, -1)];
    for w in ordered.windows(2) {
        assert!(e(&w[0]) < e(&w[1]), "{:?} < {:?}", w[0], w[1]);
    }
    // Decoding gives the canonical form: trailing zeros gone, integers at scale 0.
    let back = |v: &CqlValue| {
        let bytes = decode_comparable(&CqlType::Decimal, false, &mut e(v).as_slice()).unwrap();
        CqlValue::deserialize(&CqlType::Decimal, &bytes).unwrap()
    };
    assert_eq!(back(&d(150, 2)), d(15, 1));
    assert_eq!(back(&d(1, -2)), d(100, 0));
    assert_eq!(back(&d(-2500, 0)), d(-2500, 0));
}

#[test]
fn collections_and_tuples() {
    let list = ty("frozen<list<int>>");
    let l = |items: &[i32]| CqlValue::List(items.iter().map(|i| CqlValue::Int(*i)).collect());
    assert_eq!(hex(&enc(&list, &l(&[1]), false)), "0101018000000100");
    assert!(enc(&list, &CqlValue::Empty, false) < enc(&list, &l(&[]), false));
    assert!(enc(&list, &l(&[]), false) < enc(&list, &l(&[i32::MIN]), false));
    assert!(enc(&list, &l(&[1]), false) < enc(&list, &l(&[1, 0]), false));
    assert!(enc(&list, &l(&[1, 5]), false) < enc(&list, &l(&[2]), false));

    // Sets and maps are ordered by their sorted elements, whatever the serialized order.
    let set = ty("frozen<set<int>>");
    let s = |items: &[i32]| CqlValue::Set(items.iter().map(|i| CqlValue::Int(*i)).collect());
    assert_eq!(enc(&set, &s(&[2, 1, 2]), false), enc(&set, &s(&[1, 2]), false));

    let tuple = ty("tuple<int, text>");
    let null_first = CqlValue::Tuple(vec![None, Some(CqlValue::Text("z".into()))]);
    let value_first = CqlValue::Tuple(vec![Some(CqlValue::Int(i32::MIN)), None]);
    assert!(enc(&tuple, &null_first, false) < enc(&tuple, &value_first, false));
    // A tuple serialized with fewer fields is the same key as one with trailing nulls.
    let short = CqlValue::Tuple(vec![Some(CqlValue::Int(1))]);
    let padded = CqlValue::Tuple(vec![Some(CqlValue::Int(1)), None]);
    assert_eq!(enc(&tuple, &short, false), enc(&tuple, &padded, false));
}

#[test]
fn rejects_what_has_no_order_or_is_malformed() {
    let mut out = Vec::new();
    let d = CqlValue::Duration { months: 1, days: 0, nanos: 0 };
    let err =
        encode_comparable(&CqlType::Duration, &d.to_bytes(&CqlType::Duration).unwrap(), false, &mut out)
            .unwrap_err();
    assert!(err.to_string().contains("duration"), "{err}");
    assert!(encode_comparable(&CqlType::Int, &[0, 0, 1], false, &mut out).is_err());
    let v4 = uuid::Uuid::parse_str("cc520882-9507-44fb-8fc9-b349ecdee658").unwrap();
    assert!(encode_comparable(&CqlType::Timeuuid, v4.as_bytes(), false, &mut out).is_err());
    assert!(out.is_empty(), "nothing is written on error");
    // Truncated or unknown encodings.
    assert!(decode_comparable(&CqlType::Int, false, &mut unhex("01 80 00").as_slice()).is_err());
    assert!(decode_comparable(&CqlType::Int, false, &mut unhex("02").as_slice()).is_err());
    assert!(decode_comparable(&CqlType::Text, false, &mut unhex("61 00 01").as_slice()).is_err());
    assert!(decode_comparable(&CqlType::Text, false, &mut unhex("61").as_slice()).is_err());
    let input = unhex("01 80 00 00 01 01");
    let mut rest: &[u8] = &input;
    assert_eq!(decode_comparable(&CqlType::Int, false, &mut rest).unwrap(), vec![0, 0, 0, 1]);
    assert_eq!(rest, &[1], "decoding consumes one component only");
}

#[test]
fn compare_serialized_is_cassandra_order() {
    let a = CqlValue::Int(-5).to_bytes(&CqlType::Int).unwrap();
    let b = CqlValue::Int(3).to_bytes(&CqlType::Int).unwrap();
    assert_eq!(compare_serialized(&CqlType::Int, &a, &b).unwrap(), Ordering::Less);
    assert_eq!(compare_serialized(&CqlType::Int, &[], &a).unwrap(), Ordering::Less);
}

/// Decodes `encoded` as one component and checks it is the value `v`.
fn assert_decodes_to(t: &CqlType, desc: bool, encoded: &[u8], v: &CqlValue) {
    let mut input = encoded;
    let bytes = decode_comparable(t, desc, &mut input).unwrap();
    assert!(input.is_empty(), "{t}: {} bytes left over", input.len());
    let back = CqlValue::deserialize(t, &bytes).unwrap();
    assert_eq!(cmp_values(t, &back, v), Ordering::Equal, "{t}: {back:?} vs {v:?}");
    // Re-encoding the decoded bytes gives the same key.
    let mut again = Vec::new();
    encode_comparable(t, &bytes, desc, &mut again).unwrap();
    assert_eq!(again, encoded, "{t}: re-encoding differs");
}

fn reverse_if(desc: bool, o: Ordering) -> Ordering {
    if desc { o.reverse() } else { o }
}

fn typed_pair() -> impl Strategy<Value = (CqlType, CqlValue, CqlValue, bool)> {
    key_type().prop_flat_map(|t| {
        let v = value(&t);
        (Just(t), v.clone(), v, any::<bool>())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn memcmp_order_is_value_order((t, a, b, same) in typed_pair(), desc in any::<bool>()) {
        let b = if same { a.clone() } else { b };
        let (ea, eb) = (enc(&t, &a, desc), enc(&t, &b, desc));
        prop_assert_eq!(ea.cmp(&eb), reverse_if(desc, cmp_values(&t, &a, &b)),
            "{} {:?} vs {:?}: {} vs {}", t, a, b, hex(&ea), hex(&eb));
        assert_decodes_to(&t, desc, &ea, &a);
        assert_decodes_to(&t, desc, &eb, &b);
    }

    #[test]
    fn composite_keys_order_lexicographically(
        (t1, a1, b1, same1) in typed_pair(),
        (t2, a2, b2, _) in typed_pair(),
        desc1 in any::<bool>(),
        desc2 in any::<bool>(),
    ) {
        let b1 = if same1 { a1.clone() } else { b1 };
        let key = |x: &CqlValue, y: &CqlValue| [enc(&t1, x, desc1), enc(&t2, y, desc2)].concat();
        let (ka, kb) = (key(&a1, &a2), key(&b1, &b2));
        let expected = reverse_if(desc1, cmp_values(&t1, &a1, &b1))
            .then(reverse_if(desc2, cmp_values(&t2, &a2, &b2)));
        prop_assert_eq!(ka.cmp(&kb), expected, "({:?}, {:?}) vs ({:?}, {:?})", a1, a2, b1, b2);
        // A one-component prefix sorts before every key that extends it.
        let prefix = enc(&t1, &a1, desc1);
        prop_assert!(prefix < ka);
        // Both components read back in turn.
        let mut input = ka.as_slice();
        let first = decode_comparable(&t1, desc1, &mut input).unwrap();
        let second = decode_comparable(&t2, desc2, &mut input).unwrap();
        prop_assert!(input.is_empty());
        let back1 = CqlValue::deserialize(&t1, &first).unwrap();
        let back2 = CqlValue::deserialize(&t2, &second).unwrap();
        prop_assert_eq!(cmp_values(&t1, &back1, &a1), Ordering::Equal);
        prop_assert_eq!(cmp_values(&t2, &back2, &a2), Ordering::Equal);
    }
}
