//! Decoders fed random and mutated bytes never panic, `validate` agrees with `deserialize`, and
//! whatever decodes re-encodes to something that decodes to the same value. Bounded loops with
//! a fixed-seed generator, so failures reproduce.

use super::ty;
use crate::types::CqlType;
use crate::value::{CqlValue, decode_comparable, encode_comparable, validate};

/// xorshift64*: small, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len)
            .map(|_| match self.below(4) {
                // Small lengths and counts are more interesting than uniform bytes.
                0 => 0,
                1 => 0xFF,
                _ => self.next() as u8,
            })
            .collect()
    }
}

fn all_types() -> Vec<CqlType> {
    [
        "ascii",
        "bigint",
        "blob",
        "boolean",
        "counter",
        "date",
        "decimal",
        "double",
        "duration",
        "float",
        "inet",
        "int",
        "smallint",
        "text",
        "time",
        "timestamp",
        "timeuuid",
        "tinyint",
        "uuid",
        "varint",
        "list<int>",
        "set<text>",
        "map<int, text>",
        "tuple<int, text>",
        "frozen<list<frozen<list<tinyint>>>>",
        "tuple<decimal, frozen<map<uuid, varint>>>",
        "frozen<set<duration>>",
    ]
    .iter()
    .map(|t| ty(t))
    .collect()
}

/// Checks one input against every decoder.
fn check(t: &CqlType, bytes: &[u8]) {
    let decoded = CqlValue::deserialize(t, bytes);
    assert_eq!(decoded.is_ok(), validate(t, bytes).is_ok(), "{t} {bytes:02x?}");
    if let Ok(v) = decoded {
        let again = v.to_bytes(t).unwrap();
        let v2 = CqlValue::deserialize(t, &again).unwrap();
        // NaN payloads aside, the value survives re-encoding.
        assert_eq!(format!("{v2:?}"), format!("{v:?}"), "{t}");
        let _ = v.display();
        let _ = v.to_cql_literal();
    }
    for desc in [false, true] {
        let mut input = bytes;
        let _ = decode_comparable(t, desc, &mut input);
        let mut key = Vec::new();
        if encode_comparable(t, bytes, desc, &mut key).is_ok() {
            let mut input = key.as_slice();
            let back = decode_comparable(t, desc, &mut input).unwrap();
            assert!(input.is_empty(), "{t}");
            let mut key2 = Vec::new();
            encode_comparable(t, &back, desc, &mut key2).unwrap();
            assert_eq!(key, key2, "{t} {bytes:02x?}");
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for t in all_types() {
        for _ in 0..3000 {
            let bytes = rng.bytes(40);
            check(&t, &bytes);
        }
    }
}

#[test]
fn mutated_valid_values_never_panic() {
    let samples: Vec<(&str, &str)> = vec![
        ("00000002 00000004 00000001 00000004 00000002", "list<int>"),
        ("00000001 00000001 61 00000004 00000001", "map<text, int>"),
        ("00000004 00000001 ffffffff", "tuple<int, text>"),
        ("00000002 0096", "decimal"),
        ("02 04 06", "duration"),
        ("00000001 0000000c 00000001 00000004 00000007", "list<frozen<list<int>>>"),
    ];
    let mut rng = Rng(42);
    for (hex, t) in samples {
        let t = ty(t);
        let base = super::unhex(hex);
        check(&t, &base);
        for _ in 0..2000 {
            let mut b = base.clone();
            match rng.below(3) {
                0 => {
                    let at = rng.below(b.len());
                    b[at] = rng.next() as u8;
                }
                1 => b.truncate(rng.below(b.len())),
                _ => b.extend(rng.bytes(6)),
            }
            check(&t, &b);
        }
    }
}
