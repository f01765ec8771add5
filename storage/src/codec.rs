//! Byte-level encoding helpers shared by every on-disk and on-wire format of the storage crate.
//!
//! Integers are written as LEB128 varints (unsigned) or zigzag varints (signed); fixed-width
//! integers are big-endian. [`Reader`] decodes from a byte slice and never panics: every read
//! is bounds-checked and returns [`Error::Malformed`] on truncated or oversized input.

use crate::error::{Error, Result};

/// Appends `v` as an unsigned LEB128 varint.
#[inline]
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` as a zigzag varint.
#[inline]
pub fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Appends a length-prefixed byte string.
#[inline]
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uvarint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A bounds-checked cursor over a byte slice.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// True when everything has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Reads `n` raw bytes.
    #[inline]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        match self.buf.get(self.pos..).and_then(|rest| rest.get(..n)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(short(self.pos, self.remaining(), n)),
        }
    }

    /// Reads one byte.
    #[inline(always)]
    pub fn u8(&mut self) -> Result<u8> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(short(self.pos, self.remaining(), 1)),
        }
    }

    /// Reads a big-endian u16.
    pub fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Reads a big-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a big-endian u64.
    #[inline]
    pub fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// Reads a big-endian i64.
    #[inline]
    pub fn i64(&mut self) -> Result<i64> {
        Ok(self.u64()? as i64)
    }

    /// Reads an unsigned LEB128 varint (at most 10 bytes).
    #[inline(always)]
    pub fn uvarint(&mut self) -> Result<u64> {
        // Lengths and flags are mostly one byte.
        if let Some(&b) = self.buf.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(u64::from(b));
        }
        self.uvarint_long()
    }

    /// A varint of more than one byte. Up to eight bytes (56 bits: every timestamp, length
    /// and position in practice) are decoded from one 8-byte load without a loop; longer
    /// ones, and varints near the end of the buffer, take the byte loop.
    #[inline]
    fn uvarint_long(&mut self) -> Result<u64> {
        if let Some(w) = self.buf.get(self.pos..).and_then(|rest| rest.first_chunk::<8>()) {
            let word = u64::from_le_bytes(*w);
            let stops = !word & 0x8080_8080_8080_8080;
            if stops != 0 {
                // Keep the bytes up to the first one without a continuation bit, drop the
                // continuation bits, then pack the 7-bit groups pairwise.
                let len = (stops.trailing_zeros() / 8 + 1) as usize;
                let mut x = word & (stops ^ (stops - 1)) & 0x7f7f_7f7f_7f7f_7f7f;
                x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
                x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
                x = (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4);
                self.pos += len;
                return Ok(x);
            }
        }
        let (v, n) = uvarint_loop(self.buf, self.pos)?;
        self.pos += n;
        Ok(v)
    }

    /// Reads a zigzag varint.
    #[inline(always)]
    pub fn varint(&mut self) -> Result<i64> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// Reads a varint that must fit in `usize` and be at most `max`.
    #[inline(always)]
    pub fn len(&mut self, max: usize) -> Result<usize> {
        let v = self.uvarint()?;
        if v > max as u64 {
            return Err(too_long(v, max));
        }
        Ok(v as usize)
    }

    /// Reads a length-prefixed byte string no longer than what remains.
    #[inline(always)]
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        // Fast path: a one-byte length and the bytes all present.
        if let Some(&n) = self.buf.get(self.pos)
            && n < 0x80
            && let Some(s) = self.buf.get(self.pos + 1..self.pos + 1 + usize::from(n))
        {
            self.pos += 1 + usize::from(n);
            return Ok(s);
        }
        let (s, pos) = bytes_long(*self)?;
        self.pos = pos;
        Ok(s)
    }
}

// The slow paths below take the reader's state by value, never `&mut Reader`: a reader whose
// address is never taken stays in registers in the hot loops that inline its fast paths.

/// The error for a read of `n` bytes at `pos` with only `left` bytes left.
#[cold]
#[inline(never)]
fn short(pos: usize, left: usize, n: usize) -> Error {
    Error::Malformed(format!("need {n} bytes at offset {pos}, only {left} left"))
}

/// A varint read byte by byte from `buf[pos..]`: its value and length.
#[cold]
#[inline(never)]
fn uvarint_loop(buf: &[u8], pos: usize) -> Result<(u64, usize)> {
    let mut v: u64 = 0;
    let mut shift = 0u32;
    for (i, &b) in buf.get(pos..).unwrap_or_default().iter().enumerate() {
        if shift == 63 && b > 1 {
            return Err(Error::Malformed("varint overflows 64 bits".into()));
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok((v, i + 1));
        }
        shift += 7;
        if shift > 63 {
            return Err(Error::Malformed("varint longer than 10 bytes".into()));
        }
    }
    Err(Error::Malformed(format!("varint runs past the end at offset {pos}")))
}

/// [`Reader::bytes`] with a multi-byte length: the bytes and the position after them.
#[inline(never)]
fn bytes_long(mut r: Reader<'_>) -> Result<(&[u8], usize)> {
    let n = r.len(r.remaining())?;
    Ok((r.take(n)?, r.pos))
}

#[cold]
#[inline(never)]
fn too_long(v: u64, max: usize) -> Error {
    Error::Malformed(format!("length {v} exceeds limit {max}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        let values = [0i64, 1, -1, 63, -64, 64, 300, -300, i64::MAX, i64::MIN];
        let mut buf = Vec::new();
        for v in values {
            put_varint(&mut buf, v);
            put_uvarint(&mut buf, v as u64);
        }
        let mut r = Reader::new(&buf);
        for v in values {
            assert_eq!(r.varint().unwrap(), v);
            assert_eq!(r.uvarint().unwrap(), v as u64);
        }
        assert!(r.is_empty());
    }

    #[test]
    fn truncated_and_oversized_input_is_an_error_not_a_panic() {
        let mut r = Reader::new(&[0x80, 0x80]);
        assert!(r.uvarint().is_err());
        let eleven = [0xffu8; 11];
        assert!(Reader::new(&eleven).uvarint().is_err());
        let mut buf = Vec::new();
        put_uvarint(&mut buf, 1000);
        buf.extend_from_slice(b"short");
        assert!(Reader::new(&buf).bytes().is_err());
    }

    /// The plain LEB128 loop, as the reference for the word-at-a-time decoder.
    fn reference(buf: &[u8]) -> Option<(u64, usize)> {
        let mut v = 0u64;
        for (i, &b) in buf.iter().enumerate().take(10) {
            if i == 9 && b > 1 {
                return None;
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some((v, i + 1));
            }
        }
        None
    }

    #[test]
    fn varints_of_every_length_decode_like_the_byte_loop_wherever_they_end() {
        let mut values = vec![0u64, 1, u64::MAX];
        for bits in 1..64 {
            values.extend([(1u64 << bits) - 1, 1u64 << bits, (1u64 << bits) + 1]);
        }
        for v in values {
            let mut enc = Vec::new();
            put_uvarint(&mut enc, v);
            // Followed by nothing, by continuation bytes, or by zeros: the 8-byte load must
            // only ever see the varint's own bytes as the varint.
            for tail in 0..10 {
                for filler in [0x00u8, 0xff] {
                    let mut buf = enc.clone();
                    buf.extend(std::iter::repeat_n(filler, tail));
                    let mut r = Reader::new(&buf);
                    assert_eq!(r.uvarint().unwrap(), v, "{buf:x?}");
                    assert_eq!(r.position(), enc.len());
                }
            }
        }
        // Non-canonical and damaged encodings agree with the loop too.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 12) as usize;
            let buf: Vec<u8> =
                (0..len).map(|i| (seed >> (i * 5)) as u8 | if i % 3 == 0 { 0 } else { 0x80 }).collect();
            let mut r = Reader::new(&buf);
            match (r.uvarint(), reference(&buf)) {
                (Ok(v), Some((w, n))) => assert_eq!((v, r.position()), (w, n), "{buf:x?}"),
                (Err(_), None) => {}
                (got, want) => panic!("{buf:x?}: {got:?} vs {want:?}"),
            }
        }
    }
}
