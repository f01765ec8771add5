//! Decoders against hostile input: a few thousand random and mutated bodies through
//! `Request::decode`, `Response::decode`, frame splitting and LZ4 decompression: nothing
//! panics, and whatever decodes re-encodes to a body that decodes to the same message (the
//! property `fuzz/fuzz_targets/frame_decode.rs` checks at scale).

use bytes::BytesMut;

use super::frame::{Compression, Frame, decompress_body, flags};
use super::request::Request;
use super::response::Response;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn all_flags(rng: &mut Rng) -> u8 {
    (rng.next() as u8) & (flags::TRACING | flags::CUSTOM_PAYLOAD | flags::WARNING)
}

/// Decodes `body` every way; whatever decodes must re-encode to a body that decodes the same.
fn try_everything(op: u8, f: u8, body: &[u8]) {
    if let Ok(req) = Request::decode(op, f, body) {
        let mut again = BytesMut::new();
        req.encode_body(&mut again);
        assert_eq!(Request::decode(op, 0, &again).ok(), Some(req), "body {body:02X?}");
    }
    if let Ok(resp) = Response::decode(op, f, body) {
        let mut again = BytesMut::new();
        resp.encode_body(&mut again);
        assert_eq!(Response::decode(op, 0, &again).ok(), Some(resp), "body {body:02X?}");
    }
    let _ = decompress_body(Compression::Lz4, body);
}

#[test]
fn random_bodies_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..3000 {
        let op = rng.below(0x12) as u8;
        let f = all_flags(&mut rng);
        let body = rng.bytes(200);
        try_everything(op, f, &body);
    }
}

#[test]
fn mutated_valid_bodies_never_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut bodies: Vec<(u8, BytesMut)> = Vec::new();
    for req in super::request::tests::sample_requests() {
        let mut b = BytesMut::new();
        req.encode_body(&mut b);
        bodies.push((req.opcode(), b));
    }
    for resp in super::response::tests::sample_responses() {
        let mut b = BytesMut::new();
        resp.encode_body(&mut b);
        bodies.push((resp.opcode(), b));
    }
    for _ in 0..4000 {
        let (op, base) = &bodies[rng.below(bodies.len())];
        let mut body = base.to_vec();
        for _ in 0..=rng.below(4) {
            if body.is_empty() {
                break;
            }
            let at = rng.below(body.len());
            // Favour the values that upset length fields.
            body[at] = match rng.below(4) {
                0 => 0xFF,
                1 => 0x00,
                2 => 0x7F,
                _ => rng.next() as u8,
            };
        }
        if rng.below(4) == 0 {
            body.truncate(rng.below(body.len() + 1));
        }
        try_everything(*op, 0, &body);
        try_everything(*op, all_flags(&mut rng), &body);
    }
}

#[test]
fn random_streams_split_without_panicking() {
    let mut rng = Rng(42);
    for _ in 0..2000 {
        let mut buf = rng.bytes(64);
        if buf.len() >= 9 && rng.below(2) == 0 {
            // A plausible length so that whole frames come out.
            let len = rng.below(buf.len() - 8) as u32;
            buf[5..9].copy_from_slice(&len.to_be_bytes());
        }
        if let Ok(Some((frame, used))) = Frame::split(&buf) {
            assert!(used <= buf.len());
            let _ = frame.decompressed_body(Compression::Lz4);
            try_everything(frame.header.opcode, frame.header.flags, &frame.body);
        }
    }
}
