//! Request messages (spec §4.1): the server's transport decodes them with [`Request::decode`];
//! `tess shell` encodes them with [`Request::encode_body`] / [`encode_request_frame`].
//!
//! QUERY is `<query:[long string]><query_parameters>`, EXECUTE `<id:[short bytes]><query_parameters>`:
//!
//! | query_parameters field | present when flag | notation                              |
//! |------------------------|-------------------|---------------------------------------|
//! | consistency, flags     | always            | `[consistency]`, `[byte]`             |
//! | values                 | 0x01 (names 0x40) | `[short] n`, n × (`[string]`?`[value]`) |
//! | page size              | 0x04              | `[int]`                               |
//! | paging state           | 0x08              | `[bytes]`                             |
//! | serial consistency     | 0x10              | `[consistency]`                       |
//! | default timestamp      | 0x20              | `[long]` µs                           |
//! | (skip metadata)        | 0x02              | nothing                               |

use bytes::{BufMut, Bytes, BytesMut};

use super::frame::{Compression, FrameHeader, flags, opcode, write_frame};
use super::notation::{
    Reader, put_bytes, put_consistency, put_long, put_long_string, put_short, put_short_bytes, put_string,
    put_string_list, put_string_map,
};
use crate::consistency::Consistency;
use crate::error::{Error, Result};

/// QUERY/EXECUTE/BATCH flag bits.
pub mod query_flags {
    pub const VALUES: u8 = 0x01;
    pub const SKIP_METADATA: u8 = 0x02;
    pub const PAGE_SIZE: u8 = 0x04;
    pub const PAGING_STATE: u8 = 0x08;
    pub const SERIAL_CONSISTENCY: u8 = 0x10;
    pub const DEFAULT_TIMESTAMP: u8 = 0x20;
    pub const NAMES_FOR_VALUES: u8 = 0x40;
}

/// A bound value (`[value]`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Length -1.
    Null,
    /// Length -2: leave the column unchanged / the marker unset.
    NotSet,
    Bytes(Bytes),
}

impl Value {
    fn read(r: &mut Reader<'_>) -> Result<Value> {
        let n = r.read_int()?;
        match n {
            -1 => Ok(Value::Null),
            -2 => Ok(Value::NotSet),
            n if n < -2 => Err(r.error(format_args!("[value] has invalid length {n}"))),
            n => {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                Ok(Value::Bytes(Bytes::copy_from_slice(r.take(n, "[value]")?)))
            }
        }
    }

    fn write(&self, out: &mut BytesMut) {
        match self {
            Value::Null => out.put_i32(-1),
            Value::NotSet => out.put_i32(-2),
            Value::Bytes(b) => put_bytes(out, Some(b)),
        }
    }
}

/// The `<query_parameters>` of QUERY and EXECUTE.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryParams {
    pub consistency: Consistency,
    pub values: Vec<Value>,
    /// Some when the values are named (flag 0x40); then as long as `values`.
    pub names: Option<Vec<String>>,
    pub skip_metadata: bool,
    pub page_size: Option<i32>,
    pub paging_state: Option<Bytes>,
    pub serial_consistency: Option<Consistency>,
    /// Default write timestamp in microseconds.
    pub timestamp: Option<i64>,
}

impl Default for QueryParams {
    fn default() -> Self {
        QueryParams {
            consistency: Consistency::One,
            values: Vec::new(),
            names: None,
            skip_metadata: false,
            page_size: None,
            paging_state: None,
            serial_consistency: None,
            timestamp: None,
        }
    }
}

impl QueryParams {
    /// The flags byte these parameters encode with.
    pub fn flags(&self) -> u8 {
        let mut f = 0;
        if !self.values.is_empty() || self.names.is_some() {
            f |= query_flags::VALUES;
        }
        if self.names.is_some() {
            f |= query_flags::NAMES_FOR_VALUES;
        }
        if self.skip_metadata {
            f |= query_flags::SKIP_METADATA;
        }
        if self.page_size.is_some() {
            f |= query_flags::PAGE_SIZE;
        }
        if self.paging_state.is_some() {
            f |= query_flags::PAGING_STATE;
        }
        if self.serial_consistency.is_some() {
            f |= query_flags::SERIAL_CONSISTENCY;
        }
        if self.timestamp.is_some() {
            f |= query_flags::DEFAULT_TIMESTAMP;
        }
        f
    }

    /// Reads `<query_parameters>`. Unassigned flag bits are ignored; names (0x40) are read
    /// only with values (0x01).
    pub fn read(r: &mut Reader<'_>) -> Result<QueryParams> {
        let consistency = r.read_consistency()?;
        let f = r.read_byte()?;
        let mut p = QueryParams {
            consistency,
            skip_metadata: f & query_flags::SKIP_METADATA != 0,
            ..QueryParams::default()
        };
        if f & query_flags::VALUES != 0 {
            let named = f & query_flags::NAMES_FOR_VALUES != 0;
            let n = r.read_short()?;
            let min = if named { 6 } else { 4 };
            let n = r.check_count(u64::from(n), min, "values")?;
            let mut values = Vec::with_capacity(n);
            let mut names = Vec::with_capacity(if named { n } else { 0 });
            for _ in 0..n {
                if named {
                    names.push(r.read_string()?);
                }
                values.push(Value::read(r)?);
            }
            p.values = values;
            p.names = named.then_some(names);
        }
        if f & query_flags::PAGE_SIZE != 0 {
            p.page_size = Some(r.read_int()?);
        }
        if f & query_flags::PAGING_STATE != 0 {
            p.paging_state = r.read_bytes()?;
        }
        if f & query_flags::SERIAL_CONSISTENCY != 0 {
            p.serial_consistency = Some(r.read_consistency()?);
        }
        if f & query_flags::DEFAULT_TIMESTAMP != 0 {
            p.timestamp = Some(r.read_long()?);
        }
        Ok(p)
    }

    /// Appends `<query_parameters>`. With `names`, a value without a name gets "".
    pub fn write(&self, out: &mut BytesMut) {
        put_consistency(out, self.consistency);
        out.put_u8(self.flags());
        if !self.values.is_empty() || self.names.is_some() {
            let n = u16::try_from(self.values.len()).unwrap_or(u16::MAX);
            put_short(out, n);
            for (i, v) in self.values.iter().take(usize::from(n)).enumerate() {
                if let Some(names) = &self.names {
                    put_string(out, names.get(i).map_or("", String::as_str));
                }
                v.write(out);
            }
        }
        if let Some(n) = self.page_size {
            out.put_i32(n);
        }
        if let Some(s) = &self.paging_state {
            put_bytes(out, Some(s));
        }
        if let Some(c) = self.serial_consistency {
            put_consistency(out, c);
        }
        if let Some(t) = self.timestamp {
            put_long(out, t);
        }
    }
}

/// A BATCH statement's query: text or a prepared id.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchQuery {
    Text(String),
    Prepared(Bytes),
}

/// One statement of a BATCH.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchStatement {
    pub query: BatchQuery,
    pub values: Vec<Value>,
}

/// Batch types.
pub mod batch_kind {
    pub const LOGGED: u8 = 0;
    pub const UNLOGGED: u8 = 1;
    pub const COUNTER: u8 = 2;
}

/// A BATCH body:
/// `<type:[byte]><n:[short]>` n × `<kind:[byte]><[long string]|[short bytes]><[short] n>[value]…`
/// then `<consistency><flags:[byte]>[<serial consistency>][<timestamp:[long]>]`.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequest {
    /// 0 logged, 1 unlogged, 2 counter (see [`batch_kind`]).
    pub kind: u8,
    pub statements: Vec<BatchStatement>,
    pub consistency: Consistency,
    pub serial_consistency: Option<Consistency>,
    pub timestamp: Option<i64>,
}

impl BatchRequest {
    fn read(r: &mut Reader<'_>) -> Result<BatchRequest> {
        let kind = r.read_byte()?;
        if kind > batch_kind::COUNTER {
            return Err(r.error(format_args!("unknown batch type {kind}")));
        }
        let n = r.read_short()?;
        // kind byte + shortest query (an empty [short bytes]) + value count.
        let n = r.check_count(u64::from(n), 5, "batch statements")?;
        let mut statements = Vec::with_capacity(n);
        for _ in 0..n {
            let query = match r.read_byte()? {
                0 => BatchQuery::Text(r.read_long_string()?),
                1 => BatchQuery::Prepared(r.read_short_bytes()?),
                k => return Err(r.error(format_args!("unknown batch statement kind {k}"))),
            };
            // Flag 0x40 (names for values) follows the statements, so it cannot apply to them
            // (CASSANDRA-10246): values are read unnamed.
            let nv = r.read_short()?;
            let nv = r.check_count(u64::from(nv), 4, "values")?;
            let mut values = Vec::with_capacity(nv);
            for _ in 0..nv {
                values.push(Value::read(r)?);
            }
            statements.push(BatchStatement { query, values });
        }
        let consistency = r.read_consistency()?;
        let f = r.read_byte()?;
        let serial_consistency =
            if f & query_flags::SERIAL_CONSISTENCY != 0 { Some(r.read_consistency()?) } else { None };
        let timestamp = if f & query_flags::DEFAULT_TIMESTAMP != 0 { Some(r.read_long()?) } else { None };
        Ok(BatchRequest { kind, statements, consistency, serial_consistency, timestamp })
    }

    fn write(&self, out: &mut BytesMut) {
        out.put_u8(self.kind);
        let n = u16::try_from(self.statements.len()).unwrap_or(u16::MAX);
        put_short(out, n);
        for s in self.statements.iter().take(usize::from(n)) {
            match &s.query {
                BatchQuery::Text(q) => {
                    out.put_u8(0);
                    put_long_string(out, q);
                }
                BatchQuery::Prepared(id) => {
                    out.put_u8(1);
                    put_short_bytes(out, id);
                }
            }
            let nv = u16::try_from(s.values.len()).unwrap_or(u16::MAX);
            put_short(out, nv);
            for v in s.values.iter().take(usize::from(nv)) {
                v.write(out);
            }
        }
        put_consistency(out, self.consistency);
        let mut f = 0;
        if self.serial_consistency.is_some() {
            f |= query_flags::SERIAL_CONSISTENCY;
        }
        if self.timestamp.is_some() {
            f |= query_flags::DEFAULT_TIMESTAMP;
        }
        out.put_u8(f);
        if let Some(c) = self.serial_consistency {
            put_consistency(out, c);
        }
        if let Some(t) = self.timestamp {
            put_long(out, t);
        }
    }
}

/// A request message.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `[string map]` of options (CQL_VERSION, COMPRESSION, …), in wire order.
    Startup(Vec<(String, String)>),
    Options,
    Query {
        query: String,
        params: QueryParams,
    },
    Prepare {
        query: String,
    },
    Execute {
        id: Bytes,
        params: QueryParams,
    },
    Batch(BatchRequest),
    /// Event types to receive.
    Register(Vec<String>),
    /// The SASL token (`[bytes]`; null is `None`).
    AuthResponse(Option<Bytes>),
}

fn body_name(op: u8) -> &'static str {
    match op {
        opcode::STARTUP => "STARTUP body",
        opcode::OPTIONS => "OPTIONS body",
        opcode::QUERY => "QUERY body",
        opcode::PREPARE => "PREPARE body",
        opcode::EXECUTE => "EXECUTE body",
        opcode::BATCH => "BATCH body",
        opcode::REGISTER => "REGISTER body",
        opcode::AUTH_RESPONSE => "AUTH_RESPONSE body",
        _ => "request body",
    }
}

impl Request {
    /// Decodes a request body (already decompressed). `frame_flags` are the header flags: with
    /// 0x04 a custom payload `[bytes map]` is skipped first. Trailing bytes are tolerated; an
    /// opcode that is not a request is an error naming it.
    pub fn decode(op: u8, frame_flags: u8, body: &[u8]) -> Result<Request> {
        let mut r = Reader::new(body, body_name(op));
        if frame_flags & flags::CUSTOM_PAYLOAD != 0 {
            r.skip_bytes_map()?;
        }
        Ok(match op {
            opcode::STARTUP => Request::Startup(r.read_string_map()?),
            opcode::OPTIONS => Request::Options,
            opcode::QUERY => {
                let query = r.read_long_string()?;
                Request::Query { query, params: QueryParams::read(&mut r)? }
            }
            opcode::PREPARE => Request::Prepare { query: r.read_long_string()? },
            opcode::EXECUTE => {
                let id = r.read_short_bytes()?;
                Request::Execute { id, params: QueryParams::read(&mut r)? }
            }
            opcode::BATCH => Request::Batch(BatchRequest::read(&mut r)?),
            opcode::REGISTER => Request::Register(r.read_string_list()?),
            opcode::AUTH_RESPONSE => Request::AuthResponse(r.read_bytes()?),
            other => {
                return Err(Error::Protocol(match opcode::name(other) {
                    Some(name) => format!("opcode 0x{other:02X} ({name}) is not a request"),
                    None => format!("unknown request opcode 0x{other:02X}"),
                }));
            }
        })
    }

    /// The message's opcode.
    pub fn opcode(&self) -> u8 {
        match self {
            Request::Startup(_) => opcode::STARTUP,
            Request::Options => opcode::OPTIONS,
            Request::Query { .. } => opcode::QUERY,
            Request::Prepare { .. } => opcode::PREPARE,
            Request::Execute { .. } => opcode::EXECUTE,
            Request::Batch(_) => opcode::BATCH,
            Request::Register(_) => opcode::REGISTER,
            Request::AuthResponse(_) => opcode::AUTH_RESPONSE,
        }
    }

    /// Appends the message body (no custom payload).
    pub fn encode_body(&self, out: &mut BytesMut) {
        match self {
            Request::Startup(opts) => put_string_map(out, opts),
            Request::Options => {}
            Request::Query { query, params } => {
                put_long_string(out, query);
                params.write(out);
            }
            Request::Prepare { query } => put_long_string(out, query),
            Request::Execute { id, params } => {
                put_short_bytes(out, id);
                params.write(out);
            }
            Request::Batch(b) => b.write(out),
            Request::Register(events) => put_string_list(out, events),
            Request::AuthResponse(token) => put_bytes(out, token.as_deref()),
        }
    }
}

/// Appends a whole request frame (client side): version byte `version` (no direction bit), the
/// given stream, the body compressed when `c` is LZ4 and the body is at least 64 bytes — except
/// STARTUP and OPTIONS, which are never compressed.
pub fn encode_request_frame(version: u8, stream: i16, req: &Request, c: Compression, out: &mut BytesMut) {
    let mut body = BytesMut::new();
    req.encode_body(&mut body);
    let compressible = !matches!(req, Request::Startup(_) | Request::Options);
    let header = FrameHeader { version: version & 0x7F, flags: 0, stream, opcode: req.opcode(), length: 0 };
    write_frame(header, &body, c, compressible, out);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::protocol::frame::{Frame, HEADER_LEN};

    fn encode(req: &Request) -> BytesMut {
        let mut out = BytesMut::new();
        req.encode_body(&mut out);
        out
    }

    pub(crate) fn sample_requests() -> Vec<Request> {
        let full = QueryParams {
            consistency: Consistency::LocalQuorum,
            values: vec![Value::Bytes(Bytes::from_static(&[0, 0, 0, 7])), Value::Null, Value::NotSet],
            names: Some(vec!["a".into(), "b".into(), "c".into()]),
            skip_metadata: true,
            page_size: Some(100),
            paging_state: Some(Bytes::from_static(b"\x01\x02state")),
            serial_consistency: Some(Consistency::LocalSerial),
            timestamp: Some(1_700_000_000_000_000),
        };
        vec![
            Request::Startup(vec![
                ("CQL_VERSION".into(), "3.0.0".into()),
                ("COMPRESSION".into(), "lz4".into()),
            ]),
            Request::Startup(vec![]),
            Request::Options,
            Request::Query { query: "SELECT * FROM ks.t".into(), params: QueryParams::default() },
            Request::Query {
                query: "INSERT INTO t (a, b, c) VALUES (:a, :b, :c)".into(),
                params: full.clone(),
            },
            Request::Query {
                query: "UPDATE t SET v = ? WHERE k = ?".into(),
                params: QueryParams {
                    values: vec![Value::Bytes(Bytes::new()), Value::Bytes(Bytes::from_static(b"k"))],
                    ..QueryParams::default()
                },
            },
            Request::Prepare { query: "SELECT v FROM t WHERE k = ?".into() },
            Request::Execute { id: Bytes::from_static(&[0xAB; 16]), params: full },
            Request::Execute { id: Bytes::new(), params: QueryParams::default() },
            Request::Batch(BatchRequest {
                kind: batch_kind::UNLOGGED,
                statements: vec![
                    BatchStatement {
                        query: BatchQuery::Text("INSERT INTO t (k) VALUES (?)".into()),
                        values: vec![Value::Bytes(Bytes::from_static(b"x"))],
                    },
                    BatchStatement {
                        query: BatchQuery::Prepared(Bytes::from_static(&[9; 16])),
                        values: vec![],
                    },
                ],
                consistency: Consistency::Quorum,
                serial_consistency: Some(Consistency::Serial),
                timestamp: Some(-5),
            }),
            Request::Batch(BatchRequest {
                kind: batch_kind::LOGGED,
                statements: vec![],
                consistency: Consistency::One,
                serial_consistency: None,
                timestamp: None,
            }),
            Request::Register(vec!["TOPOLOGY_CHANGE".into(), "STATUS_CHANGE".into(), "SCHEMA_CHANGE".into()]),
            Request::AuthResponse(Some(Bytes::from_static(b"\0cassandra\0cassandra"))),
            Request::AuthResponse(None),
        ]
    }

    #[test]
    fn every_request_round_trips() {
        for req in sample_requests() {
            let body = encode(&req);
            assert_eq!(Request::decode(req.opcode(), 0, &body).unwrap(), req);
            // Trailing bytes are tolerated.
            let mut longer = body.clone();
            longer.put_slice(b"junk");
            assert_eq!(Request::decode(req.opcode(), 0, &longer).unwrap(), req);
        }
    }

    #[test]
    fn every_truncation_is_an_error() {
        for req in sample_requests() {
            let body = encode(&req);
            for cut in 0..body.len() {
                assert!(
                    Request::decode(req.opcode(), 0, &body[..cut]).is_err(),
                    "{req:?} cut at {cut} of {}",
                    body.len()
                );
            }
        }
    }

    #[test]
    fn golden_python_driver_query() {
        // QUERY "SELECT 1" at ONE, flags 0x24: page size 5000 and a default timestamp.
        let mut b = vec![0, 0, 0, 8];
        b.extend_from_slice(b"SELECT 1");
        b.extend_from_slice(&[0x00, 0x01, 0x24, 0x00, 0x00, 0x13, 0x88]);
        b.extend_from_slice(&0x0005_F000_0000_0001i64.to_be_bytes());
        let req = Request::decode(opcode::QUERY, 0, &b).unwrap();
        let want = Request::Query {
            query: "SELECT 1".into(),
            params: QueryParams {
                page_size: Some(5000),
                timestamp: Some(0x0005_F000_0000_0001),
                ..QueryParams::default()
            },
        };
        assert_eq!(req, want);
        assert_eq!(&encode(&want)[..], &b[..]);
    }

    #[test]
    fn golden_cqlsh_query_with_serial_consistency() {
        // flags 0x34 at LOCAL_ONE: page 100, serial SERIAL, timestamp.
        let mut b = vec![0, 0, 0, 1, b'x', 0x00, 0x0A, 0x34, 0, 0, 0, 100, 0x00, 0x08];
        b.extend_from_slice(&7i64.to_be_bytes());
        let Request::Query { params, .. } = Request::decode(opcode::QUERY, 0, &b).unwrap() else {
            panic!("not a query")
        };
        assert_eq!(params.consistency, Consistency::LocalOne);
        assert_eq!(params.page_size, Some(100));
        assert_eq!(params.serial_consistency, Some(Consistency::Serial));
        assert_eq!(params.timestamp, Some(7));
    }

    #[test]
    fn golden_startup() {
        let b = [
            0x00, 0x01, 0x00, 0x0B, b'C', b'Q', b'L', b'_', b'V', b'E', b'R', b'S', b'I', b'O', b'N', 0x00,
            0x05, b'3', b'.', b'0', b'.', b'0',
        ];
        assert_eq!(
            Request::decode(opcode::STARTUP, 0, &b).unwrap(),
            Request::Startup(vec![("CQL_VERSION".into(), "3.0.0".into())])
        );
    }

    #[test]
    fn custom_payload_is_skipped() {
        let req = Request::Prepare { query: "SELECT 1".into() };
        let mut body = BytesMut::new();
        crate::protocol::notation::put_bytes_map(
            &mut body,
            &[("k".into(), Some(Bytes::from_static(b"v"))), ("n".into(), None)],
        );
        req.encode_body(&mut body);
        assert_eq!(Request::decode(opcode::PREPARE, flags::CUSTOM_PAYLOAD, &body).unwrap(), req);
        assert!(Request::decode(opcode::PREPARE, 0, &body).is_err());
    }

    #[test]
    fn bad_values_opcodes_and_consistencies_are_named() {
        // [value] length -3.
        let b = [0, 0, 0, 0, 0x00, 0x01, 0x01, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFD];
        let e = Request::decode(opcode::QUERY, 0, &b).unwrap_err();
        assert!(e.to_string().contains("-3"), "{e}");
        let e = Request::decode(0x04, 0, &[]).unwrap_err();
        assert!(e.to_string().contains("0x04"), "{e}");
        let e = Request::decode(opcode::RESULT, 0, &[]).unwrap_err();
        assert!(e.to_string().contains("RESULT"), "{e}");
        let b = [0, 0, 0, 0, 0x00, 0x2A, 0x00];
        let e = Request::decode(opcode::QUERY, 0, &b).unwrap_err();
        assert!(e.to_string().contains("QUERY body") && e.to_string().contains("0x002A"), "{e}");
        let b = [7, 0, 0];
        assert!(Request::decode(opcode::BATCH, 0, &b).unwrap_err().to_string().contains("batch type 7"));
        // A huge value count with a few bytes left.
        let b = [0, 0, 0, 0, 0x00, 0x01, 0x01, 0xFF, 0xFF, 0, 0, 0];
        assert!(Request::decode(opcode::QUERY, 0, &b).is_err());
    }

    #[test]
    fn request_frames_compress_except_startup_and_options() {
        let big = Request::Query { query: "x".repeat(200), params: QueryParams::default() };
        let startup = Request::Startup(vec![("CQL_VERSION".into(), "y".repeat(200))]);
        for (req, compressed) in [(&big, true), (&startup, false), (&Request::Options, false)] {
            let mut out = BytesMut::new();
            encode_request_frame(4, 12, req, Compression::Lz4, &mut out);
            let (f, used) = Frame::split(&out).unwrap().unwrap();
            assert_eq!(used, out.len());
            assert_eq!(f.header.version, 4);
            assert_eq!(f.header.stream, 12);
            assert_eq!(f.header.opcode, req.opcode());
            assert_eq!(f.header.flags & flags::COMPRESSION != 0, compressed);
            let body = f.decompressed_body(Compression::Lz4).unwrap();
            assert_eq!(&Request::decode(f.header.opcode, f.header.flags, &body).unwrap(), req);
            assert!(out.len() >= HEADER_LEN);
        }
    }
}
