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
#[derive(Debug, Clone)]
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
        if n > self.remaining() {
            return Err(Error::Malformed(format!(
                "need {n} bytes at offset {}, only {} left",
                self.pos,
                self.remaining()
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Reads one byte.
    #[inline]
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
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
    pub fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// Reads a big-endian i64.
    pub fn i64(&mut self) -> Result<i64> {
        Ok(self.u64()? as i64)
    }

    /// Reads an unsigned LEB128 varint (at most 10 bytes).
    #[inline]
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

    fn uvarint_long(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        for (i, &b) in self.buf[self.pos.min(self.buf.len())..].iter().enumerate() {
            if shift == 63 && b > 1 {
                return Err(Error::Malformed("varint overflows 64 bits".into()));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                self.pos += i + 1;
                return Ok(v);
            }
            shift += 7;
            if shift > 63 {
                return Err(Error::Malformed("varint longer than 10 bytes".into()));
            }
        }
        Err(Error::Malformed(format!("varint runs past the end at offset {}", self.pos)))
    }

    /// Reads a zigzag varint.
    #[inline]
    pub fn varint(&mut self) -> Result<i64> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    /// Reads a varint that must fit in `usize` and be at most `max`.
    pub fn len(&mut self, max: usize) -> Result<usize> {
        let v = self.uvarint()?;
        if v > max as u64 {
            return Err(Error::Malformed(format!("length {v} exceeds limit {max}")));
        }
        Ok(v as usize)
    }

    /// Reads a length-prefixed byte string no longer than what remains.
    #[inline]
    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.len(self.remaining())?;
        self.take(n)
    }
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
}
