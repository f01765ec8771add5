//! Native-protocol serialization of the few value kinds the system tables hold (text, int,
//! boolean, double, uuid, inet, and text collections), written directly so that building a
//! system row costs no type dispatch.
//!
//! Collections: `[int] n` then n × `[bytes]` elements (maps: key then value).

use bytes::{BufMut, Bytes, BytesMut};
use std::collections::BTreeMap;
use std::net::IpAddr;

pub fn text(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

pub fn int(v: i32) -> Bytes {
    Bytes::copy_from_slice(&v.to_be_bytes())
}

pub fn boolean(v: bool) -> Bytes {
    Bytes::copy_from_slice(&[u8::from(v)])
}

pub fn double(v: f64) -> Bytes {
    Bytes::copy_from_slice(&v.to_be_bytes())
}

pub fn uuid_bytes(u: uuid::Uuid) -> Bytes {
    Bytes::copy_from_slice(u.as_bytes())
}

pub fn inet(a: IpAddr) -> Bytes {
    match a {
        IpAddr::V4(v) => Bytes::copy_from_slice(&v.octets()),
        IpAddr::V6(v) => Bytes::copy_from_slice(&v.octets()),
    }
}

fn put_element(out: &mut BytesMut, b: &[u8]) {
    out.put_i32(b.len() as i32);
    out.put_slice(b);
}

/// A set<text> (or list<text>) of `items`.
pub fn set_text(items: impl IntoIterator<Item = String>) -> Bytes {
    let items: Vec<String> = items.into_iter().collect();
    let mut out = BytesMut::new();
    out.put_i32(items.len() as i32);
    for i in &items {
        put_element(&mut out, i.as_bytes());
    }
    out.freeze()
}

/// A map<text, text>.
pub fn map_text(m: BTreeMap<String, String>) -> Bytes {
    let mut out = BytesMut::new();
    out.put_i32(m.len() as i32);
    for (k, v) in &m {
        put_element(&mut out, k.as_bytes());
        put_element(&mut out, v.as_bytes());
    }
    out.freeze()
}

/// An empty map of any type.
pub fn empty_map() -> Bytes {
    Bytes::copy_from_slice(&0i32.to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_use_int_counts_and_bytes_elements() {
        assert_eq!(&set_text(["a".to_string()])[..], &[0, 0, 0, 1, 0, 0, 0, 1, b'a']);
        let m: BTreeMap<String, String> = [("k".to_string(), "v".to_string())].into();
        assert_eq!(&map_text(m)[..], &[0, 0, 0, 1, 0, 0, 0, 1, b'k', 0, 0, 0, 1, b'v']);
        assert_eq!(&inet("127.0.0.1".parse().unwrap())[..], &[127, 0, 0, 1]);
    }
}
