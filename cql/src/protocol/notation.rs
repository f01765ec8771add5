//! The body notations of native protocol v4 (spec §3): a bounds-checked [`Reader`] that every
//! message decoder uses, and the `put_*` writers the encoders use. All integers are big-endian.
//!
//! | notation        | bytes                                              |
//! |-----------------|----------------------------------------------------|
//! | `[short]`       | u16                                                |
//! | `[int]`/`[long]`| i32 / i64                                          |
//! | `[string]`      | `[short] n` + n UTF-8 bytes (`[long string]`: `[int] n`) |
//! | `[bytes]`       | `[int] n` + n bytes, n < 0 = null                  |
//! | `[value]`       | `[int] n` + n bytes, -1 = null, -2 = not set       |
//! | `[short bytes]` | `[short] n` + n bytes                              |
//! | `[inet]`        | `[byte] 4 or 16` + address + `[int] port`          |
//!
//! Every length is checked against the bytes left before anything is allocated; a failure is an
//! [`Error::Protocol`] naming the message and the notation.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::{BufMut, Bytes, BytesMut};

use crate::consistency::Consistency;
use crate::error::{Error, Result};

/// Reads notations from a message body, front to back. `what` names the body in errors
/// ("QUERY body").
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`; `what` prefixes every error message.
    pub fn new(buf: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { buf, pos: 0, what }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The bytes read since position `start` (clamped to what was read).
    pub fn since(&self, start: usize) -> &'a [u8] {
        &self.buf[start.min(self.pos)..self.pos]
    }

    /// The name given at construction.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// A protocol error prefixed with the body's name.
    pub fn error(&self, detail: impl std::fmt::Display) -> Error {
        Error::Protocol(format!("{}: {}", self.what, detail))
    }

    /// The next `n` bytes, or an error naming `notation` when fewer are left.
    pub fn take(&mut self, n: usize, notation: &str) -> Result<&'a [u8]> {
        let left = self.remaining();
        if n > left {
            return Err(self.error(format_args!("{notation} length {n} exceeds the {left} bytes left")));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, notation: &str) -> Result<[u8; N]> {
        let left = self.remaining();
        if N > left {
            return Err(self.error(format_args!("{notation} needs {N} bytes, {left} left")));
        }
        let mut out = [0u8; N];
        out.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        Ok(out)
    }

    /// Checks that `count` items of at least `min_size` bytes each can fit in what is left, so a
    /// caller may allocate `count` slots. Returns `count` as a `usize`.
    pub fn check_count(&self, count: u64, min_size: u64, notation: &str) -> Result<usize> {
        let need = count.saturating_mul(min_size);
        let left = self.remaining();
        if need > left as u64 {
            return Err(self.error(format_args!(
                "{notation} of {count} items needs at least {need} bytes, {left} left"
            )));
        }
        usize::try_from(count).map_err(|_| self.error(format_args!("{notation} count {count}")))
    }

    /// `[byte]`.
    pub fn read_byte(&mut self) -> Result<u8> {
        Ok(self.array::<1>("[byte]")?[0])
    }

    /// `[short]` (unsigned).
    pub fn read_short(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array("[short]")?))
    }

    /// `[int]`.
    pub fn read_int(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(self.array("[int]")?))
    }

    /// `[long]`.
    pub fn read_long(&mut self) -> Result<i64> {
        Ok(i64::from_be_bytes(self.array("[long]")?))
    }

    /// `[uuid]`.
    pub fn read_uuid(&mut self) -> Result<uuid::Uuid> {
        Ok(uuid::Uuid::from_bytes(self.array("[uuid]")?))
    }

    fn utf8(&self, raw: &[u8], notation: &str) -> Result<String> {
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|e| self.error(format_args!("{notation} is not valid UTF-8 ({e})")))
    }

    /// `[string]`.
    pub fn read_string(&mut self) -> Result<String> {
        let n = self.read_short()?;
        let raw = self.take(usize::from(n), "[string]")?;
        self.utf8(raw, "[string]")
    }

    /// `[long string]`; a negative length is an error.
    pub fn read_long_string(&mut self) -> Result<String> {
        let n = self.read_int()?;
        let n = usize::try_from(n)
            .map_err(|_| self.error(format_args!("[long string] has negative length {n}")))?;
        let raw = self.take(n, "[long string]")?;
        self.utf8(raw, "[long string]")
    }

    /// `[bytes]`: `None` for a negative length.
    pub fn read_bytes(&mut self) -> Result<Option<Bytes>> {
        Ok(self.read_bytes_slice()?.map(Bytes::copy_from_slice))
    }

    /// `[bytes]` without copying: `None` for a negative length.
    pub fn read_bytes_slice(&mut self) -> Result<Option<&'a [u8]>> {
        let n = self.read_int()?;
        match usize::try_from(n) {
            Ok(n) => Ok(Some(self.take(n, "[bytes]")?)),
            Err(_) => Ok(None),
        }
    }

    /// `[short bytes]`.
    pub fn read_short_bytes(&mut self) -> Result<Bytes> {
        let n = self.read_short()?;
        Ok(Bytes::copy_from_slice(self.take(usize::from(n), "[short bytes]")?))
    }

    /// `[string list]`.
    pub fn read_string_list(&mut self) -> Result<Vec<String>> {
        let n = self.read_short()?;
        let n = self.check_count(u64::from(n), 2, "[string list]")?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.read_string()?);
        }
        Ok(out)
    }

    /// `[string map]`, in wire order.
    pub fn read_string_map(&mut self) -> Result<Vec<(String, String)>> {
        let n = self.read_short()?;
        let n = self.check_count(u64::from(n), 4, "[string map]")?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.read_string()?;
            let v = self.read_string()?;
            out.push((k, v));
        }
        Ok(out)
    }

    /// `[string multimap]`, in wire order.
    pub fn read_string_multimap(&mut self) -> Result<Vec<(String, Vec<String>)>> {
        let n = self.read_short()?;
        let n = self.check_count(u64::from(n), 4, "[string multimap]")?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.read_string()?;
            let v = self.read_string_list()?;
            out.push((k, v));
        }
        Ok(out)
    }

    /// `[bytes map]`, in wire order.
    pub fn read_bytes_map(&mut self) -> Result<Vec<(String, Option<Bytes>)>> {
        let n = self.read_short()?;
        let n = self.check_count(u64::from(n), 6, "[bytes map]")?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let k = self.read_string()?;
            let v = self.read_bytes()?;
            out.push((k, v));
        }
        Ok(out)
    }

    /// Skips a `[bytes map]` (a custom payload) without keeping it.
    pub fn skip_bytes_map(&mut self) -> Result<()> {
        let n = self.read_short()?;
        for _ in 0..n {
            let k = self.read_short()?;
            self.take(usize::from(k), "[string]")?;
            self.read_bytes_slice()?;
        }
        Ok(())
    }

    /// `[consistency]`; an unknown code is an error naming it.
    pub fn read_consistency(&mut self) -> Result<Consistency> {
        let code = self.read_short()?;
        Consistency::from_code(code)
            .ok_or_else(|| self.error(format_args!("unknown consistency code 0x{code:04X}")))
    }

    /// `[inet]`: an address of 4 or 16 bytes and an `[int]` port in 0..=65535.
    pub fn read_inet(&mut self) -> Result<SocketAddr> {
        let size = self.read_byte()?;
        let ip = match size {
            4 => IpAddr::V4(Ipv4Addr::from(self.array::<4>("[inet] address")?)),
            16 => IpAddr::V6(Ipv6Addr::from(self.array::<16>("[inet] address")?)),
            n => return Err(self.error(format_args!("[inet] address size {n} is not 4 or 16"))),
        };
        let port = self.read_int()?;
        let port = u16::try_from(port)
            .map_err(|_| self.error(format_args!("[inet] port {port} is out of range")))?;
        Ok(SocketAddr::new(ip, port))
    }
}

/// Largest length a `[short]`-prefixed item can carry.
const SHORT_MAX: usize = u16::MAX as usize;

/// Clamps a count to what a `[short]` can carry.
fn short_count(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// Clamps a length to what an `[int]` can carry.
fn int_len(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// `[short]`.
pub fn put_short(out: &mut BytesMut, v: u16) {
    out.put_u16(v);
}

/// `[int]`.
pub fn put_int(out: &mut BytesMut, v: i32) {
    out.put_i32(v);
}

/// `[long]`.
pub fn put_long(out: &mut BytesMut, v: i64) {
    out.put_i64(v);
}

/// `[string]`. A string longer than 65535 bytes is cut at the last character boundary that fits
/// (a `[string]` cannot say more).
pub fn put_string(out: &mut BytesMut, s: &str) {
    let mut end = s.len().min(SHORT_MAX);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out.put_u16(short_count(end));
    out.put_slice(&s.as_bytes()[..end]);
}

/// `[long string]`.
pub fn put_long_string(out: &mut BytesMut, s: &str) {
    out.put_i32(int_len(s.len()));
    out.put_slice(s.as_bytes());
}

/// `[bytes]`; `None` is written as length -1.
pub fn put_bytes(out: &mut BytesMut, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            out.put_i32(int_len(b.len()));
            out.put_slice(b);
        }
        None => out.put_i32(-1),
    }
}

/// `[short bytes]`; more than 65535 bytes are cut to 65535.
pub fn put_short_bytes(out: &mut BytesMut, b: &[u8]) {
    let b = &b[..b.len().min(SHORT_MAX)];
    out.put_u16(short_count(b.len()));
    out.put_slice(b);
}

/// `[string list]`; at most 65535 items are written.
pub fn put_string_list<S: AsRef<str>>(out: &mut BytesMut, list: &[S]) {
    let n = short_count(list.len());
    out.put_u16(n);
    for s in list.iter().take(usize::from(n)) {
        put_string(out, s.as_ref());
    }
}

/// `[string map]`.
pub fn put_string_map(out: &mut BytesMut, map: &[(String, String)]) {
    let n = short_count(map.len());
    out.put_u16(n);
    for (k, v) in map.iter().take(usize::from(n)) {
        put_string(out, k);
        put_string(out, v);
    }
}

/// `[string multimap]`.
pub fn put_string_multimap(out: &mut BytesMut, map: &[(String, Vec<String>)]) {
    let n = short_count(map.len());
    out.put_u16(n);
    for (k, v) in map.iter().take(usize::from(n)) {
        put_string(out, k);
        put_string_list(out, v);
    }
}

/// `[bytes map]`.
pub fn put_bytes_map(out: &mut BytesMut, map: &[(String, Option<Bytes>)]) {
    let n = short_count(map.len());
    out.put_u16(n);
    for (k, v) in map.iter().take(usize::from(n)) {
        put_string(out, k);
        put_bytes(out, v.as_deref());
    }
}

/// `[consistency]`.
pub fn put_consistency(out: &mut BytesMut, c: Consistency) {
    out.put_u16(c.code());
}

/// `[inet]`.
pub fn put_inet(out: &mut BytesMut, addr: &SocketAddr) {
    match addr.ip() {
        IpAddr::V4(ip) => {
            out.put_u8(4);
            out.put_slice(&ip.octets());
        }
        IpAddr::V6(ip) => {
            out.put_u8(16);
            out.put_slice(&ip.octets());
        }
    }
    out.put_i32(i32::from(addr.port()));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn long_string_length_beyond_the_body_is_named() {
        let mut b = BytesMut::new();
        b.put_i32(1000);
        b.put_slice(&[b'x'; 12]);
        let err = Reader::new(&b, "QUERY body").read_long_string().unwrap_err();
        assert_eq!(
            err,
            Error::Protocol("QUERY body: [long string] length 1000 exceeds the 12 bytes left".into())
        );
    }

    #[test]
    fn huge_string_list_count_is_rejected_before_allocating() {
        let b = [0xFF, 0xFF, 0, 1, b'a'];
        let err = Reader::new(&b, "REGISTER body").read_string_list().unwrap_err();
        assert!(err.to_string().contains("65535 items"), "{err}");
    }

    #[test]
    fn invalid_utf8_and_negative_lengths_are_errors() {
        let b = [0, 2, 0xC3, 0x28];
        assert!(Reader::new(&b, "x").read_string().is_err());
        let b = (-5i32).to_be_bytes();
        assert!(Reader::new(&b, "x").read_long_string().is_err());
        assert_eq!(Reader::new(&b, "x").read_bytes().unwrap(), None);
    }

    #[test]
    fn notations_round_trip() {
        let mut b = BytesMut::new();
        put_string(&mut b, "héllo");
        put_long_string(&mut b, "SELECT 1");
        put_bytes(&mut b, Some(b"ab"));
        put_bytes(&mut b, None);
        put_short_bytes(&mut b, b"id");
        put_string_list(&mut b, &["a", "bc"]);
        put_string_map(&mut b, &[("k".into(), "v".into())]);
        put_string_multimap(&mut b, &[("k".into(), vec!["v1".into(), "v2".into()])]);
        put_bytes_map(&mut b, &[("p".into(), Some(Bytes::from_static(b"x"))), ("q".into(), None)]);
        put_consistency(&mut b, Consistency::LocalQuorum);
        let v4: SocketAddr = "10.1.2.3:9042".parse().unwrap();
        let v6: SocketAddr = "[::1]:7000".parse().unwrap();
        put_inet(&mut b, &v4);
        put_inet(&mut b, &v6);
        put_long(&mut b, -7);

        let mut r = Reader::new(&b, "t");
        assert_eq!(r.read_string().unwrap(), "héllo");
        assert_eq!(r.read_long_string().unwrap(), "SELECT 1");
        assert_eq!(r.read_bytes().unwrap().as_deref(), Some(&b"ab"[..]));
        assert_eq!(r.read_bytes().unwrap(), None);
        assert_eq!(&r.read_short_bytes().unwrap()[..], b"id");
        assert_eq!(r.read_string_list().unwrap(), vec!["a", "bc"]);
        assert_eq!(r.read_string_map().unwrap(), vec![("k".to_string(), "v".to_string())]);
        assert_eq!(
            r.read_string_multimap().unwrap(),
            vec![("k".to_string(), vec!["v1".to_string(), "v2".to_string()])]
        );
        assert_eq!(r.read_bytes_map().unwrap().len(), 2);
        assert_eq!(r.read_consistency().unwrap(), Consistency::LocalQuorum);
        assert_eq!(r.read_inet().unwrap(), v4);
        assert_eq!(r.read_inet().unwrap(), v6);
        assert_eq!(r.read_long().unwrap(), -7);
        assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn overlong_string_is_cut_at_a_char_boundary() {
        let s = "é".repeat(40_000); // 80 000 bytes
        let mut b = BytesMut::new();
        put_string(&mut b, &s);
        let back = Reader::new(&b, "t").read_string().unwrap();
        assert_eq!(back.len(), 65534);
    }

    #[test]
    fn unknown_consistency_and_bad_inet_are_named() {
        let b = [0x00, 0x0B];
        let e = Reader::new(&b, "t").read_consistency().unwrap_err();
        assert!(e.to_string().contains("0x000B"), "{e}");
        let b = [5, 1, 2, 3, 4, 5, 0, 0, 0, 1];
        assert!(Reader::new(&b, "t").read_inet().is_err());
        let b = [4, 1, 2, 3, 4, 0, 1, 0, 0];
        assert!(Reader::new(&b, "t").read_inet().unwrap_err().to_string().contains("port"));
    }
}
