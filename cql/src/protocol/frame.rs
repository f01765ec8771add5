//! The v4 frame: the 9-byte header, opcodes and header flags, body compression, and splitting a
//! byte stream into frames. The transport reads a header, checks [`FrameHeader::body_len`], reads
//! the body, decompresses it when flag 0x01 is set, then decodes the message.
//!
//! | bytes | field   | notes                                              |
//! |-------|---------|----------------------------------------------------|
//! | 0     | version | 0x04 request, 0x84 response (bit 7 = direction)    |
//! | 1     | flags   | 0x01 compression, 0x02 tracing, 0x04 custom payload, 0x08 warning |
//! | 2–3   | stream  | i16; server-pushed events use -1                   |
//! | 4     | opcode  | see [`opcode`]                                     |
//! | 5–8   | length  | body length, at most [`MAX_BODY_LEN`]              |
//!
//! An LZ4 body is a big-endian u32 uncompressed length followed by a raw LZ4 block.

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::{Error, Result};

/// Length of the frame header.
pub const HEADER_LEN: usize = 9;

/// Largest body a frame may carry (the spec's 256 MB cap).
pub const MAX_BODY_LEN: usize = 256 * 1024 * 1024;

/// Bodies shorter than this are sent uncompressed even when compression is negotiated.
pub const MIN_COMPRESS_LEN: usize = 64;

/// Message opcodes.
pub mod opcode {
    pub const ERROR: u8 = 0x00;
    pub const STARTUP: u8 = 0x01;
    pub const READY: u8 = 0x02;
    pub const AUTHENTICATE: u8 = 0x03;
    pub const OPTIONS: u8 = 0x05;
    pub const SUPPORTED: u8 = 0x06;
    pub const QUERY: u8 = 0x07;
    pub const RESULT: u8 = 0x08;
    pub const PREPARE: u8 = 0x09;
    pub const EXECUTE: u8 = 0x0A;
    pub const REGISTER: u8 = 0x0B;
    pub const EVENT: u8 = 0x0C;
    pub const BATCH: u8 = 0x0D;
    pub const AUTH_CHALLENGE: u8 = 0x0E;
    pub const AUTH_RESPONSE: u8 = 0x0F;
    pub const AUTH_SUCCESS: u8 = 0x10;

    /// The spec's name for an opcode, or `None` for an unassigned one.
    pub fn name(op: u8) -> Option<&'static str> {
        Some(match op {
            ERROR => "ERROR",
            STARTUP => "STARTUP",
            READY => "READY",
            AUTHENTICATE => "AUTHENTICATE",
            OPTIONS => "OPTIONS",
            SUPPORTED => "SUPPORTED",
            QUERY => "QUERY",
            RESULT => "RESULT",
            PREPARE => "PREPARE",
            EXECUTE => "EXECUTE",
            REGISTER => "REGISTER",
            EVENT => "EVENT",
            BATCH => "BATCH",
            AUTH_CHALLENGE => "AUTH_CHALLENGE",
            AUTH_RESPONSE => "AUTH_RESPONSE",
            AUTH_SUCCESS => "AUTH_SUCCESS",
            _ => return None,
        })
    }
}

/// Header flags.
pub mod flags {
    /// The body is compressed with the negotiated algorithm.
    pub const COMPRESSION: u8 = 0x01;
    /// Request: trace this. Response: the body starts with the tracing id.
    pub const TRACING: u8 = 0x02;
    /// A `[bytes map]` custom payload precedes the message body.
    pub const CUSTOM_PAYLOAD: u8 = 0x04;
    /// Response: a `[string list]` of warnings precedes the message body.
    pub const WARNING: u8 = 0x08;
}

/// Bit 7 of the version byte: set on responses.
pub const RESPONSE_BIT: u8 = 0x80;

/// The 9-byte frame header, as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The raw version byte, including the direction bit.
    pub version: u8,
    pub flags: u8,
    pub stream: i16,
    pub opcode: u8,
    /// The body length as sent; check it with [`FrameHeader::body_len`].
    pub length: u32,
}

impl FrameHeader {
    /// Reads a header. Every 9 bytes are a header; what they mean is checked later.
    pub fn decode(b: &[u8; HEADER_LEN]) -> FrameHeader {
        FrameHeader {
            version: b[0],
            flags: b[1],
            stream: i16::from_be_bytes([b[2], b[3]]),
            opcode: b[4],
            length: u32::from_be_bytes([b[5], b[6], b[7], b[8]]),
        }
    }

    /// Appends the 9 header bytes.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.version);
        out.put_u8(self.flags);
        out.put_i16(self.stream);
        out.put_u8(self.opcode);
        out.put_u32(self.length);
    }

    /// The protocol version without the direction bit.
    pub fn protocol_version(&self) -> u8 {
        self.version & !RESPONSE_BIT
    }

    /// True when the direction bit says this frame is a response.
    pub fn is_response(&self) -> bool {
        self.version & RESPONSE_BIT != 0
    }

    /// The body length, or an error when it exceeds [`MAX_BODY_LEN`].
    pub fn body_len(&self) -> Result<usize> {
        let len = usize::try_from(self.length).unwrap_or(usize::MAX);
        if len > MAX_BODY_LEN {
            return Err(Error::Protocol(format!(
                "frame body length {len} exceeds the maximum of {MAX_BODY_LEN} bytes"
            )));
        }
        Ok(len)
    }

    /// The compression the body uses: `negotiated` when flag 0x01 is set, otherwise none.
    pub fn compression(&self, negotiated: Compression) -> Compression {
        if self.flags & flags::COMPRESSION != 0 { negotiated } else { Compression::None }
    }
}

/// A whole frame split from a byte stream; the body is as sent (still compressed if flagged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub header: FrameHeader,
    pub body: Bytes,
}

impl Frame {
    /// Splits the first frame off `buf`: `Ok(None)` when `buf` does not yet hold a whole frame,
    /// otherwise the frame and the number of bytes it took. A body length over
    /// [`MAX_BODY_LEN`] is an error as soon as the header is complete.
    pub fn split(buf: &[u8]) -> Result<Option<(Frame, usize)>> {
        let Some(head) = buf.first_chunk::<HEADER_LEN>() else {
            return Ok(None);
        };
        let header = FrameHeader::decode(head);
        let len = header.body_len()?;
        let Some(body) = buf.get(HEADER_LEN..HEADER_LEN + len) else {
            return Ok(None);
        };
        let body = Bytes::copy_from_slice(body);
        Ok(Some((Frame { header, body }, HEADER_LEN + len)))
    }

    /// The body with compression undone, given what the connection negotiated.
    pub fn decompressed_body(&self, negotiated: Compression) -> Result<Bytes> {
        match self.header.compression(negotiated) {
            Compression::None => Ok(self.body.clone()),
            c => decompress_body(c, &self.body),
        }
    }
}

/// Body compression negotiated by STARTUP's `COMPRESSION` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Lz4,
}

impl Compression {
    /// The STARTUP option value: `lz4` (case-insensitive); anything else is `None`
    /// (Tessera does not implement snappy).
    pub fn from_startup_option(v: &str) -> Option<Compression> {
        v.eq_ignore_ascii_case("lz4").then_some(Compression::Lz4)
    }
}

/// Compresses a body. For LZ4: big-endian u32 uncompressed length, then a raw LZ4 block.
pub fn compress_body(c: Compression, body: &[u8]) -> Bytes {
    match c {
        Compression::None => Bytes::copy_from_slice(body),
        Compression::Lz4 => {
            let block = lz4_flex::block::compress(body);
            let mut out = BytesMut::with_capacity(4 + block.len());
            out.put_u32(u32::try_from(body.len()).unwrap_or(u32::MAX));
            out.put_slice(&block);
            out.freeze()
        }
    }
}

/// Undoes [`compress_body`]. The declared length must be at most [`MAX_BODY_LEN`], within what
/// LZ4 can expand the block to, and exactly what decompression yields.
pub fn decompress_body(c: Compression, body: &[u8]) -> Result<Bytes> {
    match c {
        Compression::None => Ok(Bytes::copy_from_slice(body)),
        Compression::Lz4 => {
            let Some((len, block)) = body.split_first_chunk::<4>() else {
                return Err(Error::Protocol(format!(
                    "LZ4 body of {} bytes is shorter than its 4-byte length prefix",
                    body.len()
                )));
            };
            let declared = u32::from_be_bytes(*len);
            let declared = usize::try_from(declared).unwrap_or(usize::MAX);
            if declared > MAX_BODY_LEN {
                return Err(Error::Protocol(format!(
                    "LZ4 body declares {declared} uncompressed bytes, more than the maximum of {MAX_BODY_LEN}"
                )));
            }
            // One LZ4 sequence byte can stand for at most 255 output bytes; a larger claim is
            // a lie, and refusing it keeps a tiny frame from reserving a large buffer.
            let limit = block.len().saturating_mul(256).saturating_add(1024);
            if declared > limit {
                return Err(Error::Protocol(format!(
                    "LZ4 body declares {declared} uncompressed bytes, more than {} compressed bytes can hold",
                    block.len()
                )));
            }
            let mut out = vec![0u8; declared];
            let n = lz4_flex::block::decompress_into(block, &mut out).map_err(|e| {
                Error::Protocol(format!("LZ4 body does not decompress to its declared {declared} bytes: {e}"))
            })?;
            if n != declared {
                return Err(Error::Protocol(format!(
                    "LZ4 body decompressed to {n} bytes, not the declared {declared}"
                )));
            }
            Ok(Bytes::from(out))
        }
    }
}

/// Appends a frame: header then body, compressing the body when `c` is LZ4, `compressible` and
/// the body is at least [`MIN_COMPRESS_LEN`] bytes (the header then gets flag 0x01).
/// `header.length` is ignored and set from the body written.
pub fn write_frame(
    mut header: FrameHeader,
    body: &[u8],
    c: Compression,
    compressible: bool,
    out: &mut BytesMut,
) {
    let compressed;
    let body = if c != Compression::None && compressible && body.len() >= MIN_COMPRESS_LEN {
        header.flags |= flags::COMPRESSION;
        compressed = compress_body(c, body);
        &compressed[..]
    } else {
        header.flags &= !flags::COMPRESSION;
        body
    };
    header.length = u32::try_from(body.len()).unwrap_or(u32::MAX);
    out.reserve(HEADER_LEN + body.len());
    header.encode(out);
    out.put_slice(body);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_matches_the_spec_layout() {
        let h = FrameHeader {
            version: 0x84,
            flags: flags::TRACING | flags::WARNING,
            stream: -1,
            opcode: opcode::EVENT,
            length: 0x0102_0304,
        };
        let mut b = BytesMut::new();
        h.encode(&mut b);
        assert_eq!(&b[..], &[0x84, 0x0A, 0xFF, 0xFF, 0x0C, 0x01, 0x02, 0x03, 0x04]);
        let back = FrameHeader::decode(b[..].try_into().unwrap());
        assert_eq!(back, h);
        assert_eq!(back.protocol_version(), 4);
        assert!(back.is_response());
        assert_eq!(back.body_len().unwrap(), 0x0102_0304);
    }

    #[test]
    fn oversized_body_length_is_rejected() {
        let h = FrameHeader::decode(&[4, 0, 0, 1, 7, 0x10, 0, 0, 1]);
        assert!(h.body_len().is_err());
        let h = FrameHeader::decode(&[4, 0, 0, 1, 7, 0x10, 0, 0, 0]);
        assert_eq!(h.body_len().unwrap(), MAX_BODY_LEN);
    }

    fn hdr(version: u8, stream: i16, op: u8) -> FrameHeader {
        FrameHeader { version, flags: 0, stream, opcode: op, length: 0 }
    }

    #[test]
    fn split_waits_for_whole_frames() {
        let mut b = BytesMut::new();
        write_frame(hdr(4, 3, opcode::OPTIONS), &[], Compression::None, true, &mut b);
        write_frame(hdr(4, 4, opcode::QUERY), b"abc", Compression::None, true, &mut b);
        assert_eq!(Frame::split(&b[..5]).unwrap(), None);
        let (f, used) = Frame::split(&b).unwrap().unwrap();
        assert_eq!((f.header.stream, f.header.opcode, used), (3, opcode::OPTIONS, 9));
        assert_eq!(Frame::split(&b[used..used + 11]).unwrap(), None);
        let (f, used2) = Frame::split(&b[used..]).unwrap().unwrap();
        assert_eq!((&f.body[..], used2), (&b"abc"[..], 12));
    }

    #[test]
    fn lz4_round_trips_with_a_big_endian_length() {
        let body: Vec<u8> = (0..5000u32).map(|i| (i % 7) as u8).collect();
        let c = compress_body(Compression::Lz4, &body);
        assert_eq!(&c[..4], &5000u32.to_be_bytes());
        assert!(c.len() < body.len());
        assert_eq!(&decompress_body(Compression::Lz4, &c).unwrap()[..], &body[..]);
        let empty = compress_body(Compression::Lz4, &[]);
        assert!(decompress_body(Compression::Lz4, &empty).unwrap().is_empty());
    }

    #[test]
    fn corrupt_lz4_bodies_are_rejected() {
        let body: Vec<u8> = (0..5000u32).map(|i| (i % 13) as u8).collect();
        let c = compress_body(Compression::Lz4, &body);
        // Declared length larger than the data.
        let mut more = c.to_vec();
        more[..4].copy_from_slice(&5001u32.to_be_bytes());
        assert!(decompress_body(Compression::Lz4, &more).is_err());
        // Declared length smaller than the data.
        let mut less = c.to_vec();
        less[..4].copy_from_slice(&4999u32.to_be_bytes());
        assert!(decompress_body(Compression::Lz4, &less).is_err());
        // Declared length over the frame cap, and over what the block could hold.
        let mut huge = c.to_vec();
        huge[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(decompress_body(Compression::Lz4, &huge).is_err());
        let mut inflated = c.to_vec();
        inflated[..4].copy_from_slice(&(200 * 1024 * 1024u32).to_be_bytes());
        let e = decompress_body(Compression::Lz4, &inflated).unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
        // Truncated block, and no room for the prefix.
        for cut in [c.len() - 1, c.len() / 2, 5, 4] {
            assert!(decompress_body(Compression::Lz4, &c[..cut]).is_err(), "cut {cut}");
        }
        assert!(decompress_body(Compression::Lz4, &c[..3]).is_err());
    }

    #[test]
    fn small_bodies_are_not_compressed() {
        let mut b = BytesMut::new();
        write_frame(hdr(0x84, 1, opcode::RESULT), &[0; 63], Compression::Lz4, true, &mut b);
        assert_eq!(b[1] & flags::COMPRESSION, 0);
        assert_eq!(b.len(), HEADER_LEN + 63);
        let mut b = BytesMut::new();
        write_frame(hdr(0x84, 1, opcode::RESULT), &[0; 64], Compression::Lz4, true, &mut b);
        assert_eq!(b[1] & flags::COMPRESSION, flags::COMPRESSION);
        let (f, _) = Frame::split(&b).unwrap().unwrap();
        assert_eq!(&f.decompressed_body(Compression::Lz4).unwrap()[..], &[0; 64]);
    }
}
