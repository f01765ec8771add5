//! Response messages (spec §4.2): the server encodes them with [`encode_response_frame`];
//! clients (`tess shell`) decode them with [`Response::decode`].
//!
//! A response body may start with prefixes, in this order, when the header flag is set:
//!
//! | flag | prefix                      |
//! |------|-----------------------------|
//! | 0x02 | tracing id `[uuid]`         |
//! | 0x08 | warnings `[string list]`    |
//! | 0x04 | custom payload `[bytes map]`|
//!
//! Bodies: ERROR see [`ErrorBody`]; READY empty; AUTHENTICATE `[string]`; SUPPORTED
//! `[string multimap]`; RESULT see [`ResultBody`]; EVENT see [`Event`]; AUTH_CHALLENGE and
//! AUTH_SUCCESS `[bytes]`.

use bytes::{BufMut, Bytes, BytesMut};

use super::error_body::ErrorBody;
use super::event::Event;
use super::frame::{Compression, FrameHeader, RESPONSE_BIT, flags, opcode, write_frame};
use super::notation::{Reader, put_bytes, put_bytes_map, put_string, put_string_list, put_string_multimap};
use super::result::ResultBody;
use crate::error::{Error, Result};

/// A response message.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    Error(ErrorBody),
    Ready,
    /// The authenticator's class name.
    Authenticate(String),
    /// Each STARTUP option with its supported values, in wire order.
    Supported(Vec<(String, Vec<String>)>),
    Result(ResultBody),
    Event(Event),
    AuthChallenge(Option<Bytes>),
    AuthSuccess(Option<Bytes>),
}

/// What may precede a response body: a tracing id, warnings and a custom payload.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResponsePrefix {
    pub tracing_id: Option<uuid::Uuid>,
    /// Sent (flag 0x08) only when not empty.
    pub warnings: Vec<String>,
    pub custom_payload: Option<Vec<(String, Option<Bytes>)>>,
}

impl ResponsePrefix {
    /// The header flags announcing this prefix.
    pub fn flags(&self) -> u8 {
        let mut f = 0;
        if self.tracing_id.is_some() {
            f |= flags::TRACING;
        }
        if !self.warnings.is_empty() {
            f |= flags::WARNING;
        }
        if self.custom_payload.is_some() {
            f |= flags::CUSTOM_PAYLOAD;
        }
        f
    }

    /// Appends the prefix in spec order.
    pub fn write(&self, out: &mut BytesMut) {
        if let Some(id) = &self.tracing_id {
            out.put_slice(id.as_bytes());
        }
        if !self.warnings.is_empty() {
            put_string_list(out, &self.warnings);
        }
        if let Some(p) = &self.custom_payload {
            put_bytes_map(out, p);
        }
    }

    /// Reads the prefixes `frame_flags` announce.
    pub fn read(r: &mut Reader<'_>, frame_flags: u8) -> Result<ResponsePrefix> {
        let mut p = ResponsePrefix::default();
        if frame_flags & flags::TRACING != 0 {
            p.tracing_id = Some(r.read_uuid()?);
        }
        if frame_flags & flags::WARNING != 0 {
            p.warnings = r.read_string_list()?;
        }
        if frame_flags & flags::CUSTOM_PAYLOAD != 0 {
            p.custom_payload = Some(r.read_bytes_map()?);
        }
        Ok(p)
    }
}

fn body_name(op: u8) -> &'static str {
    match op {
        opcode::ERROR => "ERROR body",
        opcode::READY => "READY body",
        opcode::AUTHENTICATE => "AUTHENTICATE body",
        opcode::SUPPORTED => "SUPPORTED body",
        opcode::RESULT => "RESULT body",
        opcode::EVENT => "EVENT body",
        opcode::AUTH_CHALLENGE => "AUTH_CHALLENGE body",
        opcode::AUTH_SUCCESS => "AUTH_SUCCESS body",
        _ => "response body",
    }
}

impl Response {
    /// The message's opcode.
    pub fn opcode(&self) -> u8 {
        match self {
            Response::Error(_) => opcode::ERROR,
            Response::Ready => opcode::READY,
            Response::Authenticate(_) => opcode::AUTHENTICATE,
            Response::Supported(_) => opcode::SUPPORTED,
            Response::Result(_) => opcode::RESULT,
            Response::Event(_) => opcode::EVENT,
            Response::AuthChallenge(_) => opcode::AUTH_CHALLENGE,
            Response::AuthSuccess(_) => opcode::AUTH_SUCCESS,
        }
    }

    /// Appends the message body (no prefixes).
    pub fn encode_body(&self, out: &mut BytesMut) {
        match self {
            Response::Error(e) => e.write(out),
            Response::Ready => {}
            Response::Authenticate(class) => put_string(out, class),
            Response::Supported(options) => put_string_multimap(out, options),
            Response::Result(r) => r.write(out),
            Response::Event(e) => e.write(out),
            Response::AuthChallenge(token) | Response::AuthSuccess(token) => put_bytes(out, token.as_deref()),
        }
    }

    /// Decodes a response body (already decompressed), skipping the prefixes `frame_flags`
    /// announce. Trailing bytes are tolerated.
    pub fn decode(op: u8, frame_flags: u8, body: &[u8]) -> Result<Response> {
        Response::decode_with_prefix(op, frame_flags, body).map(|(_, resp)| resp)
    }

    /// Like [`Response::decode`], also returning the prefixes (tracing id, warnings, payload).
    pub fn decode_with_prefix(op: u8, frame_flags: u8, body: &[u8]) -> Result<(ResponsePrefix, Response)> {
        let mut r = Reader::new(body, body_name(op));
        let prefix = ResponsePrefix::read(&mut r, frame_flags)?;
        let resp = match op {
            opcode::ERROR => Response::Error(ErrorBody::read(&mut r)?),
            opcode::READY => Response::Ready,
            opcode::AUTHENTICATE => Response::Authenticate(r.read_string()?),
            opcode::SUPPORTED => Response::Supported(r.read_string_multimap()?),
            opcode::RESULT => Response::Result(ResultBody::read(&mut r)?),
            opcode::EVENT => Response::Event(Event::read(&mut r)?),
            opcode::AUTH_CHALLENGE => Response::AuthChallenge(r.read_bytes()?),
            opcode::AUTH_SUCCESS => Response::AuthSuccess(r.read_bytes()?),
            other => {
                return Err(Error::Protocol(match opcode::name(other) {
                    Some(name) => format!("opcode 0x{other:02X} ({name}) is not a response"),
                    None => format!("unknown response opcode 0x{other:02X}"),
                }));
            }
        };
        Ok((prefix, resp))
    }
}

/// Appends a whole response frame: version byte `0x80 | version`, the given stream, the body
/// compressed when `c` is LZ4 and the body is at least 64 bytes (then flag 0x01).
pub fn encode_response_frame(version: u8, stream: i16, resp: &Response, c: Compression, out: &mut BytesMut) {
    encode_response_frame_with_prefix(version, stream, &ResponsePrefix::default(), resp, c, out);
}

/// [`encode_response_frame`] with a tracing id, warnings or custom payload before the body.
pub fn encode_response_frame_with_prefix(
    version: u8,
    stream: i16,
    prefix: &ResponsePrefix,
    resp: &Response,
    c: Compression,
    out: &mut BytesMut,
) {
    let mut body = BytesMut::new();
    prefix.write(&mut body);
    resp.encode_body(&mut body);
    let header = FrameHeader {
        version: RESPONSE_BIT | version,
        flags: prefix.flags(),
        stream,
        opcode: resp.opcode(),
        length: 0,
    };
    write_frame(header, &body, c, true, out);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::consistency::Consistency;
    use crate::protocol::error_body::{ErrorExtra, error_code};
    use crate::protocol::event::{SchemaChange, SchemaChangeTarget};
    use crate::protocol::frame::{Frame, MIN_COMPRESS_LEN};
    use crate::protocol::result::{ColumnSpec, Prepared, PreparedMetadata, RowsMetadata, RowsWriter};
    use crate::types::CqlType;

    fn sc(target: SchemaChangeTarget) -> SchemaChange {
        SchemaChange { change: "CREATED".into(), target }
    }

    pub(crate) fn sample_responses() -> Vec<Response> {
        let cl = Consistency::LocalQuorum;
        let errors = vec![
            ErrorBody::new(error_code::SERVER_ERROR, "boom"),
            ErrorBody::new(error_code::INVALID, "unconfigured table t"),
            ErrorBody {
                code: error_code::UNAVAILABLE,
                message: "Cannot achieve consistency level QUORUM".into(),
                extra: ErrorExtra::Unavailable { consistency: Consistency::Quorum, required: 2, alive: 1 },
            },
            ErrorBody {
                code: error_code::WRITE_TIMEOUT,
                message: "wt".into(),
                extra: ErrorExtra::WriteTimeout {
                    consistency: cl,
                    received: 1,
                    block_for: 2,
                    write_type: "SIMPLE".into(),
                },
            },
            ErrorBody {
                code: error_code::READ_TIMEOUT,
                message: "rt".into(),
                extra: ErrorExtra::ReadTimeout {
                    consistency: cl,
                    received: 1,
                    block_for: 2,
                    data_present: true,
                },
            },
            ErrorBody {
                code: error_code::READ_FAILURE,
                message: "rf".into(),
                extra: ErrorExtra::ReadFailure {
                    consistency: cl,
                    received: 0,
                    block_for: 2,
                    failures: 1,
                    data_present: false,
                },
            },
            ErrorBody {
                code: error_code::WRITE_FAILURE,
                message: "wf".into(),
                extra: ErrorExtra::WriteFailure {
                    consistency: Consistency::All,
                    received: 2,
                    block_for: 3,
                    failures: 1,
                    write_type: "BATCH".into(),
                },
            },
            ErrorBody {
                code: error_code::FUNCTION_FAILURE,
                message: "ff".into(),
                extra: ErrorExtra::FunctionFailure {
                    keyspace: "ks".into(),
                    function: "f".into(),
                    arg_types: vec!["int".into(), "text".into()],
                },
            },
            ErrorBody {
                code: error_code::ALREADY_EXISTS,
                message: "Keyspace ks already exists".into(),
                extra: ErrorExtra::AlreadyExists { keyspace: "ks".into(), table: String::new() },
            },
            ErrorBody {
                code: error_code::UNPREPARED,
                message: "unknown id".into(),
                extra: ErrorExtra::Unprepared { id: Bytes::from_static(&[1; 16]) },
            },
        ];
        let mut rows = RowsWriter::new();
        for i in 0..3i64 {
            rows.push_cell(Some(&i.to_be_bytes()));
            rows.push_cell(if i == 1 { None } else { Some(b"text") });
            rows.end_row();
        }
        let mut md = RowsMetadata::new(vec![
            ColumnSpec::new("ks", "t", "k", CqlType::Bigint),
            ColumnSpec::new("ks", "t", "m", CqlType::Map(Box::new(CqlType::Text), Box::new(CqlType::Int))),
        ]);
        md.paging_state = Some(Bytes::from_static(b"page"));
        let addr = "127.0.0.3:9042".parse().unwrap();
        let mut out: Vec<Response> = errors.into_iter().map(Response::Error).collect();
        out.extend([
            Response::Ready,
            Response::Authenticate("org.apache.cassandra.auth.PasswordAuthenticator".into()),
            Response::Supported(vec![
                ("CQL_VERSION".into(), vec!["3.4.5".into()]),
                ("COMPRESSION".into(), vec![]),
                ("PROTOCOL_VERSIONS".into(), vec!["3/v3".into(), "4/v4".into()]),
            ]),
            Response::Result(ResultBody::Void),
            Response::Result(ResultBody::Rows(rows.finish(md))),
            Response::Result(ResultBody::Rows(RowsWriter::new().finish(RowsMetadata::without_specs(4)))),
            Response::Result(ResultBody::SetKeyspace("ks".into())),
            Response::Result(ResultBody::Prepared(Prepared {
                id: Bytes::from_static(&[7; 16]),
                metadata: PreparedMetadata {
                    columns: vec![ColumnSpec::new("ks", "t", "k", CqlType::Uuid)],
                    pk_indexes: vec![0],
                },
                result_metadata: RowsMetadata::new(vec![
                    ColumnSpec::new("ks", "t", "v", CqlType::Tuple(vec![CqlType::Int, CqlType::Duration])),
                    ColumnSpec::new("ks", "u", "w", CqlType::Set(Box::new(CqlType::Timeuuid))),
                ]),
            })),
            Response::Result(ResultBody::SchemaChange(sc(SchemaChangeTarget::Keyspace("ks".into())))),
            Response::Result(ResultBody::SchemaChange(SchemaChange {
                change: "UPDATED".into(),
                target: SchemaChangeTarget::Table { keyspace: "ks".into(), table: "t".into() },
            })),
            Response::Event(Event::TopologyChange { change: "NEW_NODE".into(), address: addr }),
            Response::Event(Event::StatusChange {
                change: "DOWN".into(),
                address: "[::2]:19042".parse().unwrap(),
            }),
            Response::Event(Event::SchemaChange(sc(SchemaChangeTarget::Type {
                keyspace: "ks".into(),
                name: "addr".into(),
            }))),
            Response::Event(Event::SchemaChange(sc(SchemaChangeTarget::Function {
                keyspace: "ks".into(),
                name: "f".into(),
                args: vec!["int".into()],
            }))),
            Response::Event(Event::SchemaChange(SchemaChange {
                change: "DROPPED".into(),
                target: SchemaChangeTarget::Aggregate {
                    keyspace: "ks".into(),
                    name: "avg2".into(),
                    args: vec![],
                },
            })),
            Response::AuthChallenge(Some(Bytes::from_static(b"challenge"))),
            Response::AuthChallenge(None),
            Response::AuthSuccess(None),
            Response::AuthSuccess(Some(Bytes::new())),
        ]);
        out
    }

    fn encode(resp: &Response) -> BytesMut {
        let mut out = BytesMut::new();
        resp.encode_body(&mut out);
        out
    }

    #[test]
    fn every_response_round_trips() {
        for resp in sample_responses() {
            let body = encode(&resp);
            assert_eq!(Response::decode(resp.opcode(), 0, &body).unwrap(), resp);
            let mut longer = body.clone();
            longer.put_slice(&[0xFF; 5]);
            assert_eq!(Response::decode(resp.opcode(), 0, &longer).unwrap(), resp);
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        for resp in sample_responses() {
            let body = encode(&resp);
            for cut in 0..body.len() {
                assert!(
                    Response::decode(resp.opcode(), 0, &body[..cut]).is_err(),
                    "{resp:?} cut at {cut} of {}",
                    body.len()
                );
            }
        }
    }

    #[test]
    fn golden_supported_multimap() {
        let resp = Response::Supported(vec![
            ("COMPRESSION".into(), vec!["lz4".into()]),
            ("CQL_VERSION".into(), vec!["3.4.5".into()]),
        ]);
        let mut want = vec![0, 2, 0, 11];
        want.extend_from_slice(b"COMPRESSION");
        want.extend_from_slice(&[0, 1, 0, 3]);
        want.extend_from_slice(b"lz4");
        want.extend_from_slice(&[0, 11]);
        want.extend_from_slice(b"CQL_VERSION");
        want.extend_from_slice(&[0, 1, 0, 5]);
        want.extend_from_slice(b"3.4.5");
        assert_eq!(&encode(&resp)[..], &want[..]);
        assert_eq!(Response::decode(opcode::SUPPORTED, 0, &want).unwrap(), resp);
    }

    #[test]
    fn prefixes_are_skipped_and_returned() {
        let prefix = ResponsePrefix {
            tracing_id: Some(uuid::Uuid::from_bytes([3; 16])),
            warnings: vec!["Batch is large".into()],
            custom_payload: Some(vec![("k".into(), Some(Bytes::from_static(b"v")))]),
        };
        for resp in sample_responses() {
            let mut out = BytesMut::new();
            encode_response_frame_with_prefix(4, 9, &prefix, &resp, Compression::None, &mut out);
            let (f, _) = Frame::split(&out).unwrap().unwrap();
            assert_eq!(f.header.flags, flags::TRACING | flags::WARNING | flags::CUSTOM_PAYLOAD);
            let (p, back) = Response::decode_with_prefix(f.header.opcode, f.header.flags, &f.body).unwrap();
            assert_eq!((p, back), (prefix.clone(), resp.clone()));
            assert_eq!(Response::decode(f.header.opcode, f.header.flags, &f.body).unwrap(), resp);
        }
    }

    #[test]
    fn response_frames_carry_the_direction_bit_and_compress_large_bodies() {
        for resp in sample_responses() {
            for c in [Compression::None, Compression::Lz4] {
                let mut out = BytesMut::new();
                encode_response_frame(4, -1, &resp, c, &mut out);
                let (f, used) = Frame::split(&out).unwrap().unwrap();
                assert_eq!(used, out.len());
                assert_eq!(f.header.version, 0x84);
                assert_eq!(f.header.stream, -1);
                let compressed = c == Compression::Lz4 && encode(&resp).len() >= MIN_COMPRESS_LEN;
                assert_eq!(f.header.flags & flags::COMPRESSION != 0, compressed, "{resp:?}");
                let body = f.decompressed_body(c).unwrap();
                assert_eq!(Response::decode(f.header.opcode, f.header.flags, &body).unwrap(), resp);
            }
        }
    }

    #[test]
    fn non_response_opcodes_are_named() {
        let e = Response::decode(opcode::QUERY, 0, &[]).unwrap_err();
        assert!(e.to_string().contains("QUERY"), "{e}");
        let e = Response::decode(0x11, 0, &[]).unwrap_err();
        assert!(e.to_string().contains("0x11"), "{e}");
    }
}
