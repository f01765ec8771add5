//! A small blocking native-protocol client for the shell: one connection, one request at a
//! time (stream 0), protocol v4, no compression. It sends STARTUP, then QUERY requests with
//! the shell's consistency and page size, following paging states when asked.

use bytes::BytesMut;
use cql::Consistency;
use cql::protocol::{
    Compression, ErrorBody, FrameHeader, HEADER_LEN, QueryParams, Request, Response, ResultBody, Rows,
    encode_request_frame,
};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// What went wrong talking to a node.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: String, source: std::io::Error },
    #[error("connection lost: {0}")]
    Io(#[from] std::io::Error),
    #[error("bad response from the node: {0}")]
    Protocol(String),
    /// The node answered with an error.
    #[error("{}", server_error_text(.0))]
    Server(ErrorBody),
}

/// The error as cqlsh shows it: `<Name>: Error from server: code=2200 [Invalid query] message="..."`.
pub fn server_error_text(e: &ErrorBody) -> String {
    let (name, label) = match e.code {
        0x0000 => ("ServerError", "Server error"),
        0x000A => ("ProtocolError", "Protocol error"),
        0x1000 => ("Unavailable", "Unavailable exception"),
        0x1001 => ("OverloadedError", "Server is overloaded"),
        0x1100 => ("WriteTimeout", "Operation timed out - received only some responses"),
        0x1200 => ("ReadTimeout", "Operation timed out - received only some responses"),
        0x2000 => ("SyntaxException", "Syntax error in CQL query"),
        0x2200 => ("InvalidRequest", "Invalid query"),
        0x2300 => ("ConfigurationException", "Query invalid because of configuration issue"),
        0x2400 => ("AlreadyExists", "Already exists"),
        0x2500 => ("Unprepared", "Unprepared"),
        _ => ("Error", "Error"),
    };
    format!("{name}: Error from server: code={:04x} [{label}] message=\"{}\"", e.code, e.message)
}

/// A connection to one node.
pub struct Client {
    socket: TcpStream,
    buf: BytesMut,
    pub address: String,
}

impl Client {
    /// Connects and sends STARTUP.
    pub fn connect(host: &str, port: u16) -> Result<Client, ClientError> {
        let addr = format!("{host}:{port}");
        let socket = TcpStream::connect(&addr)
            .map_err(|source| ClientError::Connect { addr: addr.clone(), source })?;
        socket.set_nodelay(true)?;
        socket.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut c = Client { socket, buf: BytesMut::new(), address: addr };
        match c.request(&Request::Startup(vec![("CQL_VERSION".into(), "3.4.5".into())]))? {
            Response::Ready => Ok(c),
            other => Err(ClientError::Protocol(format!("expected READY after STARTUP, got {other:?}"))),
        }
    }

    /// Sends one request and reads its response.
    pub fn request(&mut self, req: &Request) -> Result<Response, ClientError> {
        self.buf.clear();
        encode_request_frame(4, 0, req, Compression::None, &mut self.buf);
        self.socket.write_all(&self.buf)?;
        let mut header = [0u8; HEADER_LEN];
        self.socket.read_exact(&mut header)?;
        let h = FrameHeader::decode(&header);
        let len = h.body_len().map_err(|e| ClientError::Protocol(e.to_string()))?;
        let mut body = vec![0u8; len];
        self.socket.read_exact(&mut body)?;
        let resp =
            Response::decode(h.opcode, h.flags, &body).map_err(|e| ClientError::Protocol(e.to_string()))?;
        match resp {
            Response::Error(e) => Err(ClientError::Server(e)),
            r => Ok(r),
        }
    }

    /// Runs `query`; returns the result (one page when `page_size` is set).
    pub fn query(
        &mut self,
        query: &str,
        consistency: Consistency,
        page_size: Option<i32>,
        paging_state: Option<bytes::Bytes>,
    ) -> Result<ResultBody, ClientError> {
        let params = QueryParams { consistency, page_size, paging_state, ..Default::default() };
        match self.request(&Request::Query { query: query.to_string(), params })? {
            Response::Result(r) => Ok(r),
            other => Err(ClientError::Protocol(format!("expected RESULT, got {other:?}"))),
        }
    }

    /// Runs a SELECT-like query and gathers every page.
    pub fn query_all(&mut self, query: &str, consistency: Consistency) -> Result<Option<Rows>, ClientError> {
        match self.query(query, consistency, Some(5000), None)? {
            ResultBody::Rows(mut rows) => {
                let mut all = rows.rows().map_err(|e| ClientError::Protocol(e.to_string()))?;
                while let Some(state) = rows.metadata.paging_state.clone() {
                    match self.query(query, consistency, Some(5000), Some(state))? {
                        ResultBody::Rows(next) => {
                            all.extend(next.rows().map_err(|e| ClientError::Protocol(e.to_string()))?);
                            rows = next;
                        }
                        _ => break,
                    }
                }
                let mut w = cql::protocol::RowsWriter::new();
                for r in &all {
                    for c in r {
                        w.push_cell(c.as_deref());
                    }
                    w.end_row();
                }
                let mut md = rows.metadata.clone();
                md.paging_state = None;
                Ok(Some(w.finish(md)))
            }
            _ => Ok(None),
        }
    }
}
