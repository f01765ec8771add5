//! The native protocol server: accepts client connections, reads frames, answers the
//! connection-level messages itself (OPTIONS, STARTUP, REGISTER) and hands QUERY, PREPARE,
//! EXECUTE and BATCH to the query processor.
//!
//! Each connection has a reader (this task) and a writer task joined by a bounded channel;
//! every statement runs in its own task, so many requests are in flight per connection and
//! answers go out in completion order under their stream ids. A frame that cannot be read
//! (bad version, oversized, malformed, bad compression) gets a protocol error on its stream
//! and the connection is closed; the node keeps serving everyone else.
//!
//! Error responses are built in one place, [`error_response`].

use crate::error::QueryError;
use crate::query::{QueryProcessor, Session};
use bytes::{Bytes, BytesMut};
use cql::protocol::{
    Compression, ErrorBody, ErrorExtra, FrameHeader, HEADER_LEN, Request, Response, ResponsePrefix,
    encode_response_frame, encode_response_frame_with_prefix, error_code, flags,
};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};

/// The protocol version spoken.
pub const VERSION: u8 = 4;
/// Largest frame body accepted (Cassandra's `native_transport_max_frame_size`).
pub const MAX_FRAME_BODY: u32 = 16 * 1024 * 1024;
/// Requests one connection may have in flight before its reader waits.
const MAX_IN_FLIGHT: usize = 1024;

/// Maps a failure to its native-protocol error.
pub fn error_response(e: &QueryError) -> Response {
    let (code, extra) = match e {
        QueryError::Syntax(_) => (error_code::SYNTAX_ERROR, ErrorExtra::None),
        QueryError::Invalid(_) => (error_code::INVALID, ErrorExtra::None),
        QueryError::Unauthorized(_) => (error_code::UNAUTHORIZED, ErrorExtra::None),
        QueryError::Config(_) => (error_code::CONFIG_ERROR, ErrorExtra::None),
        QueryError::AlreadyExists { keyspace, table, .. } => (
            error_code::ALREADY_EXISTS,
            ErrorExtra::AlreadyExists { keyspace: keyspace.clone(), table: table.clone() },
        ),
        QueryError::Unprepared(id) => (error_code::UNPREPARED, ErrorExtra::Unprepared { id: id.clone() }),
        QueryError::Unavailable { consistency, required, alive } => (
            error_code::UNAVAILABLE,
            ErrorExtra::Unavailable { consistency: *consistency, required: *required, alive: *alive },
        ),
        QueryError::WriteTimeout { consistency, received, block_for, write_type } => (
            error_code::WRITE_TIMEOUT,
            ErrorExtra::WriteTimeout {
                consistency: *consistency,
                received: *received,
                block_for: *block_for,
                write_type: write_type.as_str().to_string(),
            },
        ),
        QueryError::ReadTimeout { consistency, received, block_for, data_present } => (
            error_code::READ_TIMEOUT,
            ErrorExtra::ReadTimeout {
                consistency: *consistency,
                received: *received,
                block_for: *block_for,
                data_present: *data_present,
            },
        ),
        QueryError::Overloaded(_) => (error_code::OVERLOADED, ErrorExtra::None),
        QueryError::Truncate(_) => (error_code::TRUNCATE_ERROR, ErrorExtra::None),
        QueryError::Protocol(_) => (error_code::PROTOCOL_ERROR, ErrorExtra::None),
        QueryError::Server(_) => (error_code::SERVER_ERROR, ErrorExtra::None),
    };
    Response::Error(ErrorBody { code, message: e.to_string(), extra })
}

fn protocol_error(message: impl Into<String>) -> Response {
    Response::Error(ErrorBody {
        code: error_code::PROTOCOL_ERROR,
        message: message.into(),
        extra: ErrorExtra::None,
    })
}

/// Serves clients on `listener` until `stop` turns true.
pub async fn serve(listener: TcpListener, processor: Arc<QueryProcessor>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let _ = socket.set_nodelay(true);
                    let p = processor.clone();
                    tokio::spawn(async move {
                        if let Err(e) = connection(socket, p).await {
                            tracing::debug!(%peer, error = %e, "client connection ended");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

struct Outgoing {
    stream: i16,
    response: Response,
    /// Sent before the body (frame flag 0x08) when not empty.
    warnings: Vec<String>,
    /// Close the connection once this is written.
    close: bool,
}

async fn writer(
    mut socket: tokio::net::tcp::OwnedWriteHalf,
    mut rx: mpsc::Receiver<Outgoing>,
    compression: Arc<parking_lot::Mutex<Compression>>,
) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(64 * 1024, &mut socket);
    let mut buf = BytesMut::with_capacity(16 * 1024);
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut close = false;
        // Write everything already queued before one flush.
        while let Some(o) = next {
            buf.clear();
            let c = *compression.lock();
            if o.warnings.is_empty() {
                encode_response_frame(VERSION, o.stream, &o.response, c, &mut buf);
            } else {
                let prefix = ResponsePrefix { warnings: o.warnings, ..Default::default() };
                encode_response_frame_with_prefix(VERSION, o.stream, &prefix, &o.response, c, &mut buf);
            }
            out.write_all(&buf).await?;
            close |= o.close;
            next = rx.try_recv().ok();
        }
        out.flush().await?;
        if close {
            break;
        }
    }
    out.flush().await?;
    socket.shutdown().await
}

async fn connection(socket: TcpStream, processor: Arc<QueryProcessor>) -> anyhow::Result<()> {
    let (mut rd, wr) = socket.into_split();
    let (tx, rx) = mpsc::channel::<Outgoing>(MAX_IN_FLIGHT);
    let compression = Arc::new(parking_lot::Mutex::new(Compression::None));
    let writer_task = tokio::spawn(writer(wr, rx, compression.clone()));
    let session = Arc::new(Session::default());
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut started = false;
    let mut events: Option<tokio::task::JoinHandle<()>> = None;
    // The event types this connection REGISTERed for.
    let registered: Arc<parking_lot::Mutex<std::collections::HashSet<String>>> = Arc::default();
    let mut header = [0u8; HEADER_LEN];
    loop {
        match rd.read_exact(&mut header).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.into()),
        }
        let h = FrameHeader::decode(&header);
        let send_close = |stream: i16, response: Response| Outgoing {
            stream,
            response,
            warnings: Vec::new(),
            close: true,
        };
        if h.version & 0x80 != 0 || h.version & 0x7f != VERSION {
            let v = h.version & 0x7f;
            let msg = format!("Invalid or unsupported protocol version ({v}); supported versions are (4/v4)");
            let _ = tx.send(send_close(h.stream, protocol_error(msg))).await;
            break;
        }
        if h.length > MAX_FRAME_BODY {
            let msg = format!("frame body of {} bytes exceeds the limit of {MAX_FRAME_BODY} bytes", h.length);
            let _ = tx.send(send_close(h.stream, protocol_error(msg))).await;
            break;
        }
        // The buffer grows as the bytes arrive: a header that only claims a large body
        // reserves nothing.
        let length = h.length as usize;
        let mut body = Vec::with_capacity(length.min(64 * 1024));
        (&mut rd).take(h.length as u64).read_to_end(&mut body).await?;
        if body.len() < length {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("connection closed {} bytes into a {length}-byte frame body", body.len()),
            )
            .into());
        }
        let body: Bytes = if h.flags & flags::COMPRESSION != 0 {
            let c = *compression.lock();
            if c == Compression::None {
                let _ = tx
                    .send(send_close(
                        h.stream,
                        protocol_error("compressed frame but no compression was negotiated"),
                    ))
                    .await;
                break;
            }
            match cql::protocol::decompress_body(c, &body) {
                Ok(b) => b,
                Err(e) => {
                    let _ = tx.send(send_close(h.stream, protocol_error(e.to_string()))).await;
                    break;
                }
            }
        } else {
            Bytes::from(body)
        };
        let request = match Request::decode(h.opcode, h.flags, &body) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(send_close(h.stream, protocol_error(e.to_string()))).await;
                break;
            }
        };
        let reply =
            |response: Response| Outgoing { stream: h.stream, response, warnings: Vec::new(), close: false };
        match request {
            Request::Options => {
                let _ = tx.send(reply(supported())).await;
            }
            Request::Startup(options) => {
                let wanted =
                    options.iter().find(|(k, _)| k.eq_ignore_ascii_case("COMPRESSION")).map(|(_, v)| v);
                match wanted.map(|v| v.to_ascii_lowercase()) {
                    None => {}
                    Some(v) if v == "lz4" => *compression.lock() = Compression::Lz4,
                    Some(v) => {
                        let msg = format!("unsupported compression '{v}'; supported: lz4");
                        let _ = tx.send(send_close(h.stream, protocol_error(msg))).await;
                        break;
                    }
                }
                started = true;
                let _ = tx.send(reply(Response::Ready)).await;
            }
            Request::Register(kinds) if started => {
                let unknown: Vec<&String> = kinds
                    .iter()
                    .filter(|k| !["TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"].contains(&k.as_str()))
                    .collect();
                if !unknown.is_empty() {
                    let msg = format!("unknown event type {unknown:?} in REGISTER");
                    let _ = tx.send(send_close(h.stream, protocol_error(msg))).await;
                    break;
                }
                registered.lock().extend(kinds.iter().cloned());
                if events.is_none() {
                    events = Some(tokio::spawn(forward_events(
                        processor.subscribe(),
                        tx.clone(),
                        registered.clone(),
                    )));
                }
                let _ = tx.send(reply(Response::Ready)).await;
            }
            Request::AuthResponse(_) => {
                let msg = "authentication is not enabled on this node (AllowAllAuthenticator)";
                let _ = tx.send(reply(protocol_error(msg))).await;
            }
            _ if !started => {
                let op = h.opcode;
                let msg = format!("unexpected message (opcode {op:#04x}) before STARTUP");
                let _ = tx.send(send_close(h.stream, protocol_error(msg))).await;
                break;
            }
            request => {
                let Ok(permit) = in_flight.clone().acquire_owned().await else { break };
                let p = processor.clone();
                let s = session.clone();
                let tx = tx.clone();
                let stream = h.stream;
                tokio::spawn(async move {
                    // The statement runs in its own task so that a bug that panics still gets
                    // its stream answered (with a server error) instead of leaving it hanging.
                    let run = tokio::spawn(async move { p.handle(&s, request).await });
                    let (response, warnings) = match run.await {
                        Ok(Ok(r)) => (Response::Result(r.body), r.warnings),
                        Ok(Err(e)) => (error_response(&e), Vec::new()),
                        Err(e) => {
                            tracing::error!(error = %e, "request task failed");
                            (error_response(&QueryError::Server(format!("internal error: {e}"))), Vec::new())
                        }
                    };
                    let _ = tx.send(Outgoing { stream, response, warnings, close: false }).await;
                    drop(permit);
                });
            }
        }
    }
    if let Some(e) = events {
        e.abort();
    }
    drop(tx);
    let _ = writer_task.await;
    Ok(())
}

/// Sends schema-change events to a connection (stream -1) until it goes away.
async fn forward_events(
    mut rx: tokio::sync::broadcast::Receiver<cql::protocol::Event>,
    tx: mpsc::Sender<Outgoing>,
    registered: Arc<parking_lot::Mutex<std::collections::HashSet<String>>>,
) {
    loop {
        match rx.recv().await {
            Ok(ev) => {
                let kind = match &ev {
                    cql::protocol::Event::TopologyChange { .. } => "TOPOLOGY_CHANGE",
                    cql::protocol::Event::StatusChange { .. } => "STATUS_CHANGE",
                    cql::protocol::Event::SchemaChange(_) => "SCHEMA_CHANGE",
                };
                if !registered.lock().contains(kind) {
                    continue;
                }
                if tx
                    .send(Outgoing {
                        stream: -1,
                        response: Response::Event(ev),
                        warnings: Vec::new(),
                        close: false,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            // A slow client missed some events; drivers refresh schema on the next one.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

fn supported() -> Response {
    Response::Supported(vec![
        ("CQL_VERSION".into(), vec![crate::query::CQL_VERSION.into()]),
        ("COMPRESSION".into(), vec!["lz4".into()]),
        ("PROTOCOL_VERSIONS".into(), vec!["4/v4".into()]),
    ])
}
