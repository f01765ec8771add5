//! Internode wire format: a handshake when a connection opens, then frames.
//!
//! Handshake, from the connecting node:
//!
//! | bytes | field |
//! |---|---|
//! | 4 | magic `TSRA` |
//! | 1 | messaging version (1) |
//! | 2 + n | cluster name (`u16` BE length, UTF-8) |
//! | 16 | sender's host id |
//!
//! and the answer: a status byte (0 accepted, 1 another cluster, 2 unsupported version), a
//! `u16`-prefixed message, and the answering node's host id (16 bytes). A refused connection
//! is closed after the answer.
//!
//! Frame (both directions):
//!
//! | bytes | field |
//! |---|---|
//! | 4 | length of what follows, `u32` BE (at most [`MAX_FRAME`]) |
//! | 1 | verb |
//! | 1 | kind: 0 request, 1 response, 2 failure response (payload: UTF-8 reason), 3 one-way |
//! | 8 | message id (a response carries its request's) |
//! | n | payload |
//! | 4 | CRC32 of verb, kind, id and payload |

use bytes::{Buf, BufMut, Bytes, BytesMut};
use uuid::Uuid;

pub const MAGIC: &[u8; 4] = b"TSRA";
pub const VERSION: u8 = 1;
/// Largest frame accepted: a mutation or a page of partitions, with room to spare.
pub const MAX_FRAME: usize = 128 << 20;
/// Bytes of a frame besides the payload, after the length.
const OVERHEAD: usize = 1 + 1 + 8 + 4;
/// Largest payload a frame can carry.
pub const MAX_PAYLOAD: usize = MAX_FRAME - OVERHEAD;

/// What a frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Response,
    Failure,
    OneWay,
}

impl Kind {
    fn code(self) -> u8 {
        match self {
            Kind::Request => 0,
            Kind::Response => 1,
            Kind::Failure => 2,
            Kind::OneWay => 3,
        }
    }

    fn from_code(c: u8) -> Option<Kind> {
        Some(match c {
            0 => Kind::Request,
            1 => Kind::Response,
            2 => Kind::Failure,
            3 => Kind::OneWay,
            _ => return None,
        })
    }
}

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub verb: u8,
    pub kind: Kind,
    pub id: u64,
    pub payload: Bytes,
}

impl Frame {
    /// Appends the frame to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.reserve(4 + OVERHEAD + self.payload.len());
        out.put_u32((OVERHEAD + self.payload.len()) as u32);
        let start = out.len();
        out.put_u8(self.verb);
        out.put_u8(self.kind.code());
        out.put_u64(self.id);
        out.put_slice(&self.payload);
        let crc = crc32fast::hash(&out[start..]);
        out.put_u32(crc);
    }

    /// Decodes a frame body (what follows the length).
    pub fn decode(mut body: Bytes) -> Result<Frame, String> {
        if body.len() < OVERHEAD {
            return Err(format!("frame of {} bytes is shorter than its {OVERHEAD}-byte header", body.len()));
        }
        let crc_at = body.len() - 4;
        let want = u32::from_be_bytes([body[crc_at], body[crc_at + 1], body[crc_at + 2], body[crc_at + 3]]);
        let got = crc32fast::hash(&body[..crc_at]);
        if want != got {
            return Err(format!("frame checksum mismatch (stored {want:#010x}, computed {got:#010x})"));
        }
        body.truncate(crc_at);
        let verb = body.get_u8();
        let kind = body.get_u8();
        let kind = Kind::from_code(kind).ok_or_else(|| format!("unknown frame kind {kind}"))?;
        let id = body.get_u64();
        Ok(Frame { verb, kind, id, payload: body })
    }
}

/// The opening of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    pub version: u8,
    pub cluster_name: String,
    pub host_id: Uuid,
}

impl Hello {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + 1 + 2 + self.cluster_name.len() + 16);
        out.extend_from_slice(MAGIC);
        out.push(self.version);
        put_str(&mut out, &self.cluster_name);
        out.extend_from_slice(self.host_id.as_bytes());
        out
    }
}

/// The answer to a [`Hello`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    /// 0 accepted, 1 another cluster, 2 unsupported version.
    pub status: u8,
    pub message: String,
    pub host_id: Uuid,
}

impl Welcome {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 2 + self.message.len() + 16);
        out.push(self.status);
        put_str(&mut out, &self.message);
        out.extend_from_slice(self.host_id.as_bytes());
        out
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let b = &s.as_bytes()[..s.len().min(usize::from(u16::MAX))];
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

/// Reads a handshake's parts from a stream.
pub mod read {
    use super::*;
    use tokio::io::{AsyncRead, AsyncReadExt};

    async fn string(r: &mut (impl AsyncRead + Unpin)) -> std::io::Result<String> {
        let n = r.read_u16().await?;
        let mut b = vec![0u8; usize::from(n)];
        r.read_exact(&mut b).await?;
        String::from_utf8(b).map_err(|_| invalid("handshake string is not UTF-8"))
    }

    async fn uuid(r: &mut (impl AsyncRead + Unpin)) -> std::io::Result<Uuid> {
        let mut b = [0u8; 16];
        r.read_exact(&mut b).await?;
        Ok(Uuid::from_bytes(b))
    }

    fn invalid(m: impl Into<String>) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, m.into())
    }

    pub async fn hello(r: &mut (impl AsyncRead + Unpin)) -> std::io::Result<Hello> {
        let mut magic = [0u8; 4];
        r.read_exact(&mut magic).await?;
        if &magic != MAGIC {
            return Err(invalid(format!("not a Tessera internode connection (magic {magic:02x?})")));
        }
        let version = r.read_u8().await?;
        Ok(Hello { version, cluster_name: string(r).await?, host_id: uuid(r).await? })
    }

    pub async fn welcome(r: &mut (impl AsyncRead + Unpin)) -> std::io::Result<Welcome> {
        let status = r.read_u8().await?;
        Ok(Welcome { status, message: string(r).await?, host_id: uuid(r).await? })
    }

    /// Reads one frame; `Ok(None)` at a clean end of stream between frames.
    pub async fn frame(r: &mut (impl AsyncRead + Unpin)) -> std::io::Result<Option<Frame>> {
        let mut len = [0u8; 4];
        match r.read_exact(&mut len).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let len = u32::from_be_bytes(len) as usize;
        if len > MAX_FRAME {
            return Err(invalid(format!("frame of {len} bytes exceeds the limit of {MAX_FRAME}")));
        }
        // Grows as the bytes arrive: a length alone reserves nothing.
        let mut body = Vec::with_capacity(len.min(64 * 1024));
        (&mut *r).take(len as u64).read_to_end(&mut body).await?;
        if body.len() < len {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed inside a frame",
            ));
        }
        Frame::decode(Bytes::from(body)).map(Some).map_err(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_damage_is_detected() {
        let f = Frame { verb: 7, kind: Kind::Response, id: 42, payload: Bytes::from_static(b"hello") };
        let mut buf = BytesMut::new();
        f.encode(&mut buf);
        let body = buf.split_off(4).freeze();
        assert_eq!(Frame::decode(body.clone()).unwrap(), f);
        for i in 0..body.len() {
            let mut bad = body.to_vec();
            bad[i] ^= 0x10;
            assert!(Frame::decode(Bytes::from(bad)).is_err(), "flipped byte {i} went unnoticed");
        }
        assert!(Frame::decode(Bytes::from_static(b"short")).is_err());
    }

    #[tokio::test]
    async fn handshakes_round_trip() {
        let h = Hello {
            version: VERSION,
            cluster_name: "Test Cluster".into(),
            host_id: Uuid::from_bytes([3; 16]),
        };
        assert_eq!(read::hello(&mut &h.encode()[..]).await.unwrap(), h);
        let w = Welcome { status: 1, message: "other cluster".into(), host_id: Uuid::from_bytes([4; 16]) };
        assert_eq!(read::welcome(&mut &w.encode()[..]).await.unwrap(), w);
        assert!(read::hello(&mut &b"GET / HTTP/1.1\r\n"[..]).await.is_err());
    }

    #[tokio::test]
    async fn oversized_and_truncated_frames_are_errors() {
        let mut big = ((MAX_FRAME + 1) as u32).to_be_bytes().to_vec();
        big.extend_from_slice(&[0; 16]);
        assert!(read::frame(&mut &big[..]).await.is_err());
        let f = Frame { verb: 1, kind: Kind::Request, id: 1, payload: Bytes::from_static(b"abc") };
        let mut buf = BytesMut::new();
        f.encode(&mut buf);
        assert_eq!(read::frame(&mut &buf[..]).await.unwrap(), Some(f));
        assert!(read::frame(&mut &buf[..buf.len() - 1]).await.is_err());
        assert_eq!(read::frame(&mut &b""[..]).await.unwrap(), None);
    }
}
