//! The reference model for property tests: value strategies per type, and a comparator written
//! directly from Cassandra's `compare` of each type (not from the encoding), so the comparable
//! encoding is checked against an independent statement of the order.

use std::cmp::Ordering;
use std::net::IpAddr;

use bytes::Bytes;
use num_bigint::BigInt;
use proptest::prelude::*;

use crate::types::CqlType;
use crate::value::CqlValue;

/// The scalar types that have an order (all but duration).
pub fn ordered_scalars() -> Vec<CqlType> {
    use CqlType::*;
    vec![
        Ascii, Bigint, Blob, Boolean, Counter, Date, Decimal, Double, Float, Inet, Int, Smallint, Text, Time,
        Timestamp, Timeuuid, Tinyint, Uuid, Varint,
    ]
}

/// A scalar type with an order.
pub fn scalar_type() -> impl Strategy<Value = CqlType> {
    proptest::sample::select(ordered_scalars())
}

/// A scalar, or a frozen list, set, map or a tuple of scalars.
pub fn key_type() -> impl Strategy<Value = CqlType> {
    let frozen = |t: CqlType| CqlType::Frozen(Box::new(t));
    prop_oneof![
        4 => scalar_type(),
        1 => scalar_type().prop_map(move |e| frozen(CqlType::List(Box::new(e)))),
        1 => scalar_type().prop_map(move |e| frozen(CqlType::Set(Box::new(e)))),
        1 => (scalar_type(), scalar_type())
            .prop_map(move |(k, v)| frozen(CqlType::Map(Box::new(k), Box::new(v)))),
        1 => (scalar_type(), scalar_type()).prop_map(|(a, b)| CqlType::Tuple(vec![a, b])),
        1 => scalar_type().prop_map(move |e| CqlType::Tuple(vec![
            CqlType::Int,
            frozen(CqlType::List(Box::new(e))),
        ])),
    ]
}

/// A random UUID with the version nibble set to `version`.
fn uuid_with_version(bytes: [u8; 16], version: u8) -> uuid::Uuid {
    let mut b = bytes;
    b[6] = (b[6] & 0x0F) | (version << 4);
    uuid::Uuid::from_bytes(b)
}

/// Doubles with the interesting ones (zeros, infinities, NaN, tiny and huge) common.
fn double() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        proptest::sample::select(vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
        ]),
        (-1000i32..1000).prop_map(|v| f64::from(v) / 8.0),
    ]
}

fn bigint() -> impl Strategy<Value = BigInt> {
    prop_oneof![
        any::<i64>().prop_map(BigInt::from),
        (-300i64..300).prop_map(BigInt::from),
        proptest::collection::vec(any::<u8>(), 1..40).prop_map(|b| BigInt::from_signed_bytes_be(&b)),
        // Around the 128-byte length steps of the varint encoding.
        (120usize..140, any::<bool>()).prop_map(|(n, neg)| {
            let v = BigInt::from(1u8) << (8 * n);
            if neg { -v } else { v }
        }),
    ]
}

/// A value of scalar type `ty` (never `Empty`).
fn scalar_value(ty: &CqlType) -> BoxedStrategy<CqlValue> {
    match ty {
        CqlType::Ascii => "[ -~]{0,6}".prop_map(CqlValue::Ascii).boxed(),
        CqlType::Text => prop_oneof![
            "\\PC{0,5}",
            proptest::collection::vec(prop_oneof![Just('\0'), Just('a'), Just('é')], 0..5)
                .prop_map(|c| c.into_iter().collect::<String>()),
        ]
        .prop_map(CqlValue::Text)
        .boxed(),
        CqlType::Blob => proptest::collection::vec(prop_oneof![Just(0u8), Just(0xFF), any::<u8>()], 0..6)
            .prop_map(|b| CqlValue::Blob(Bytes::from(b)))
            .boxed(),
        CqlType::Boolean => any::<bool>().prop_map(CqlValue::Boolean).boxed(),
        CqlType::Tinyint => any::<i8>().prop_map(CqlValue::Tinyint).boxed(),
        CqlType::Smallint => any::<i16>().prop_map(CqlValue::Smallint).boxed(),
        CqlType::Int => prop_oneof![any::<i32>(), -3i32..3].prop_map(CqlValue::Int).boxed(),
        CqlType::Bigint => any::<i64>().prop_map(CqlValue::Bigint).boxed(),
        CqlType::Counter => any::<i64>().prop_map(CqlValue::Counter).boxed(),
        CqlType::Timestamp => any::<i64>().prop_map(CqlValue::Timestamp).boxed(),
        CqlType::Time => (0..crate::value::NANOS_PER_DAY).prop_map(CqlValue::Time).boxed(),
        CqlType::Date => {
            prop_oneof![any::<u32>(), (1u32 << 31) - 5..(1u32 << 31) + 5].prop_map(CqlValue::Date).boxed()
        }
        CqlType::Float => double().prop_map(|f| CqlValue::Float(f as f32)).boxed(),
        CqlType::Double => double().prop_map(CqlValue::Double).boxed(),
        CqlType::Inet => {
            prop_oneof![any::<[u8; 4]>().prop_map(IpAddr::from), any::<[u8; 16]>().prop_map(IpAddr::from),]
                .prop_map(CqlValue::Inet)
                .boxed()
        }
        CqlType::Uuid => (any::<[u8; 16]>(), prop_oneof![Just(1u8), Just(4u8), 0u8..16])
            .prop_map(|(b, v)| CqlValue::Uuid(uuid_with_version(b, v)))
            .boxed(),
        CqlType::Timeuuid => prop_oneof![
            any::<[u8; 16]>(),
            // Same timestamp, different clock sequence and node: exercises the signed lsb.
            any::<[u8; 8]>().prop_map(|lo| {
                let mut b = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x1d, 0xef, 0, 0, 0, 0, 0, 0, 0, 0];
                b[8..].copy_from_slice(&lo);
                b
            }),
        ]
        .prop_map(|b| CqlValue::Timeuuid(uuid_with_version(b, 1)))
        .boxed(),
        CqlType::Varint => bigint().prop_map(CqlValue::Varint).boxed(),
        CqlType::Decimal => (bigint(), -12i32..12, 0u32..3)
            .prop_map(|(u, scale, zeros)| CqlValue::Decimal {
                // Trailing zeros make numerically equal values with different scales.
                unscaled: u * BigInt::from(10u8).pow(zeros),
                scale: scale + zeros as i32,
            })
            .boxed(),
        other => panic!("no strategy for {other}"),
    }
}

/// A value of `ty`, sometimes `Empty` for the types that have a distinct empty value.
pub fn value(ty: &CqlType) -> BoxedStrategy<CqlValue> {
    let t = ty.unfrozen().clone();
    let non_empty = match &t {
        CqlType::List(e) => proptest::collection::vec(value(e), 0..4).prop_map(CqlValue::List).boxed(),
        CqlType::Set(e) => proptest::collection::vec(value(e), 0..4).prop_map(CqlValue::Set).boxed(),
        CqlType::Map(k, v) => {
            proptest::collection::vec((value(k), value(v)), 0..4).prop_map(CqlValue::Map).boxed()
        }
        CqlType::Tuple(types) => types
            .iter()
            .map(|t| proptest::option::weighted(0.8, value(t)))
            .collect::<Vec<_>>()
            .prop_map(CqlValue::Tuple)
            .boxed(),
        scalar => scalar_value(scalar),
    };
    if matches!(t, CqlType::Text | CqlType::Ascii | CqlType::Blob) {
        non_empty
    } else {
        prop_oneof![1 => Just(CqlValue::Empty), 12 => non_empty].boxed()
    }
}

fn canonical_nan(f: f64) -> f64 {
    if f.is_nan() { f64::NAN } else { f }
}

/// `unscaled × 10^-scale` compared exactly.
fn cmp_decimal(a: (&BigInt, i32), b: (&BigInt, i32)) -> Ordering {
    let scale = a.1.max(b.1);
    let up = |(u, s): (&BigInt, i32)| u * BigInt::from(10u8).pow((scale - s) as u32);
    up(a).cmp(&up(b))
}

/// The 60-bit timestamp of a version 1 UUID.
fn v1_timestamp(u: &uuid::Uuid) -> u64 {
    let b = u.as_bytes();
    let low = u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    let mid = u64::from(u16::from_be_bytes([b[4], b[5]]));
    let hi = u64::from(u16::from_be_bytes([b[6] & 0x0F, b[7]]));
    (hi << 48) | (mid << 32) | low
}

/// Cassandra's `UUIDType.compareCustom`.
fn cmp_uuid(a: &uuid::Uuid, b: &uuid::Uuid) -> Ordering {
    let (va, vb) = (a.get_version_num(), b.get_version_num());
    let (ma, mb) = (a.as_u64_pair(), b.as_u64_pair());
    va.cmp(&vb)
        .then_with(|| if va == 1 { v1_timestamp(a).cmp(&v1_timestamp(b)) } else { ma.0.cmp(&mb.0) })
        .then_with(|| ma.1.cmp(&mb.1))
}

/// Cassandra's `TimeUUIDType.compareCustom`: timestamp, then the low bytes as signed bytes.
fn cmp_timeuuid(a: &uuid::Uuid, b: &uuid::Uuid) -> Ordering {
    let signed = |u: &uuid::Uuid| u.as_bytes()[8..].iter().map(|b| *b as i8).collect::<Vec<_>>();
    v1_timestamp(a).cmp(&v1_timestamp(b)).then_with(|| signed(a).cmp(&signed(b)))
}

fn cmp_seq(a: &[CqlValue], b: &[CqlValue], ty: &CqlType) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let c = cmp_values(ty, x, y);
        if c != Ordering::Equal {
            return c;
        }
    }
    a.len().cmp(&b.len())
}

/// Set elements in order without duplicates.
pub fn sorted_set(items: &[CqlValue], ty: &CqlType) -> Vec<CqlValue> {
    let mut v = items.to_vec();
    v.sort_by(|x, y| cmp_values(ty, x, y));
    v.dedup_by(|x, y| cmp_values(ty, x, y) == Ordering::Equal);
    v
}

/// Map entries in key order, the last of equal keys kept.
pub fn sorted_map(entries: &[(CqlValue, CqlValue)], k: &CqlType) -> Vec<(CqlValue, CqlValue)> {
    let mut v = entries.to_vec();
    v.sort_by(|x, y| cmp_values(k, &x.0, &y.0));
    let mut kept: Vec<(CqlValue, CqlValue)> = Vec::new();
    for e in v {
        match kept.last_mut() {
            Some(last) if cmp_values(k, &last.0, &e.0) == Ordering::Equal => *last = e,
            _ => kept.push(e),
        }
    }
    kept
}

/// Cassandra's order of two values of `ty`.
pub fn cmp_values(ty: &CqlType, a: &CqlValue, b: &CqlValue) -> Ordering {
    use CqlValue as V;
    match (a, b) {
        (V::Empty, V::Empty) => return Ordering::Equal,
        (V::Empty, _) => return Ordering::Less,
        (_, V::Empty) => return Ordering::Greater,
        _ => {}
    }
    match (ty.unfrozen(), a, b) {
        (_, V::Ascii(x) | V::Text(x), V::Ascii(y) | V::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (_, V::Blob(x), V::Blob(y)) => x.cmp(y),
        (_, V::Boolean(x), V::Boolean(y)) => x.cmp(y),
        (_, V::Tinyint(x), V::Tinyint(y)) => x.cmp(y),
        (_, V::Smallint(x), V::Smallint(y)) => x.cmp(y),
        (_, V::Int(x), V::Int(y)) => x.cmp(y),
        (_, V::Bigint(x) | V::Counter(x), V::Bigint(y) | V::Counter(y)) => x.cmp(y),
        (_, V::Timestamp(x), V::Timestamp(y)) | (_, V::Time(x), V::Time(y)) => x.cmp(y),
        (_, V::Date(x), V::Date(y)) => x.cmp(y),
        (_, V::Float(x), V::Float(y)) => {
            canonical_nan(f64::from(*x)).total_cmp(&canonical_nan(f64::from(*y)))
        }
        (_, V::Double(x), V::Double(y)) => canonical_nan(*x).total_cmp(&canonical_nan(*y)),
        (_, V::Inet(x), V::Inet(y)) => {
            let bytes = |ip: &IpAddr| match ip {
                IpAddr::V4(a) => a.octets().to_vec(),
                IpAddr::V6(a) => a.octets().to_vec(),
            };
            bytes(x).cmp(&bytes(y))
        }
        (CqlType::Timeuuid, V::Timeuuid(x) | V::Uuid(x), V::Timeuuid(y) | V::Uuid(y)) => cmp_timeuuid(x, y),
        (_, V::Uuid(x) | V::Timeuuid(x), V::Uuid(y) | V::Timeuuid(y)) => cmp_uuid(x, y),
        (_, V::Varint(x), V::Varint(y)) => x.cmp(y),
        (_, V::Decimal { unscaled: ua, scale: sa }, V::Decimal { unscaled: ub, scale: sb }) => {
            cmp_decimal((ua, *sa), (ub, *sb))
        }
        (CqlType::List(e), V::List(x), V::List(y)) => cmp_seq(x, y, e),
        (CqlType::Set(e), V::Set(x), V::Set(y)) => cmp_seq(&sorted_set(x, e), &sorted_set(y, e), e),
        (CqlType::Map(k, v), V::Map(x), V::Map(y)) => {
            let (x, y) = (sorted_map(x, k), sorted_map(y, k));
            for ((kx, vx), (ky, vy)) in x.iter().zip(&y) {
                let c = cmp_values(k, kx, ky).then_with(|| cmp_values(v, vx, vy));
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (CqlType::Tuple(types), V::Tuple(x), V::Tuple(y)) => {
            for (i, t) in types.iter().enumerate() {
                let c = match (x.get(i).cloned().flatten(), y.get(i).cloned().flatten()) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(p), Some(q)) => cmp_values(t, &p, &q),
                };
                if c != Ordering::Equal {
                    return c;
                }
            }
            Ordering::Equal
        }
        (t, a, b) => panic!("cannot compare {a:?} and {b:?} as {t}"),
    }
}
