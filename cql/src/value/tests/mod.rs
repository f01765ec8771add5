//! Tests of the value module: golden bytes and strict decoding (`serialize`), cqlsh display and
//! literal forms (`display`), literal conversion (`literal`), the comparable encoding against a
//! reference comparator (`comparable`, property tests over `model`), and decoders fed random
//! and mutated bytes (`fuzz`).

#![allow(clippy::unwrap_used)]

mod comparable;
mod display;
mod fuzz;
mod literal;
mod model;
mod serialize;

use crate::types::CqlType;

/// Parses type text in tests.
fn ty(text: &str) -> CqlType {
    text.parse().unwrap()
}

/// Hex of bytes, for golden comparisons.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of hex text (spaces ignored).
fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    digits.chunks(2).map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap()).collect()
}
