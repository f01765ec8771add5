//! Any bytes as a stream of native-protocol frames split, decompress (LZ4 when flagged) and
//! decode as a request and as a response without panicking; whatever decodes re-encodes to a
//! body that decodes to the same message.
#![no_main]
use bytes::BytesMut;
use cql::protocol::{Compression, Frame, Request, Response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Some((frame, used))) = Frame::split(rest) {
        rest = &rest[used..];
        let Ok(body) = frame.decompressed_body(Compression::Lz4) else { continue };
        let (op, flags) = (frame.header.opcode, frame.header.flags);
        if let Ok(req) = Request::decode(op, flags, &body) {
            let mut again = BytesMut::new();
            req.encode_body(&mut again);
            assert_eq!(Request::decode(op, 0, &again).expect("re-encoded request decodes"), req);
        }
        if let Ok(resp) = Response::decode(op, flags, &body) {
            let mut again = BytesMut::new();
            resp.encode_body(&mut again);
            assert_eq!(Response::decode(op, 0, &again).expect("re-encoded response decodes"), resp);
        }
    }
    // The raw input as one body of each opcode, uncompressed.
    for op in 0..=0x10u8 {
        let _ = Request::decode(op, 0x04, data);
        let _ = Response::decode(op, 0x0E, data);
    }
});
