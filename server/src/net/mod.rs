//! Internode messaging: TCP between `listen_address:storage_port` of the nodes, framed as in
//! [`frame`], one verb per message type.
//!
//! Each node opens one outbound connection per peer and sends its requests (and one-way
//! messages) on it; the peer answers on the same connection. A connection opens with a
//! handshake that refuses a node of another cluster. Outbound messages wait in a bounded
//! queue per peer, so a slow or unreachable peer causes back-pressure (the sender waits, up to
//! its deadline) rather than unbounded memory; a peer that cannot be reached is retried with
//! exponential back-off, and requests waiting for it fail at once. Every request carries a
//! deadline chosen by its caller (per verb: the read or write timeout).
//!
//! Incoming requests go to the [`Handler`] the node installs; each runs in its own task, at
//! most [`MAX_IN_FLIGHT`] per connection (beyond that the connection stops reading).

pub mod frame;

use bytes::{Bytes, BytesMut};
use frame::{Frame, Hello, Kind, Welcome};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncWriteExt, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::time::Instant;
use uuid::Uuid;

/// Requests a connection serves at once.
pub const MAX_IN_FLIGHT: usize = 1024;
/// Messages queued for one peer before senders wait.
pub const QUEUE_CAPACITY: usize = 4096;
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Verb {
    /// Liveness and round-trip check; echoes its payload.
    Echo = 1,
    /// Apply a mutation; empty answer once durable.
    Mutation = 2,
    /// Read one partition's slice: the data, or its digest.
    Read = 3,
    /// Read a token range's partitions, a page at a time.
    RangeRead = 4,
    /// The schema, whole.
    SchemaPull = 5,
    /// A schema to merge.
    SchemaPush = 6,
    /// A hinted mutation replayed to its replica.
    Hint = 7,
    /// Empty a table (16-byte table id).
    Truncate = 8,
    /// Repair: mark a session's data pending, build a Merkle tree, list partition hashes,
    /// fetch partitions, finalize, abort ([`crate::repair::messages`]).
    RepairPrepare = 9,
    RepairValidate = 10,
    RepairHashes = 11,
    RepairFetch = 12,
    RepairFinalize = 13,
    RepairAbort = 14,
    /// Repair: partitions a replica lacked, written to an SSTable (pending for an incremental
    /// session).
    RepairStream = 15,
    /// Repair: hashes of each row of some partitions (row-level sync).
    RepairRowHashes = 16,
}

impl Verb {
    pub fn from_code(c: u8) -> Option<Verb> {
        Some(match c {
            1 => Verb::Echo,
            2 => Verb::Mutation,
            3 => Verb::Read,
            4 => Verb::RangeRead,
            5 => Verb::SchemaPull,
            6 => Verb::SchemaPush,
            7 => Verb::Hint,
            8 => Verb::Truncate,
            9 => Verb::RepairPrepare,
            10 => Verb::RepairValidate,
            11 => Verb::RepairHashes,
            12 => Verb::RepairFetch,
            13 => Verb::RepairFinalize,
            14 => Verb::RepairAbort,
            15 => Verb::RepairStream,
            16 => Verb::RepairRowHashes,
            _ => return None,
        })
    }
}

/// Why a message got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("no answer from {0} before the deadline")]
    Timeout(SocketAddr),
    #[error("{0} is unreachable: {1}")]
    Unreachable(SocketAddr, String),
    #[error("{0} failed the request: {1}")]
    Remote(SocketAddr, String),
}

/// A future a handler returns.
pub type Reply = Pin<Box<dyn Future<Output = Result<Bytes, String>> + Send>>;

/// What a node does with the messages it receives.
pub trait Handler: Send + Sync + 'static {
    /// Answers `payload` of `verb` from node `from`; the answer is sent back for a request
    /// and dropped for a one-way message.
    fn handle(&self, from: Uuid, verb: Verb, payload: Bytes) -> Reply;
}

/// This node's identity on the wire.
#[derive(Debug, Clone)]
pub struct Identity {
    pub cluster_name: String,
    pub host_id: Uuid,
}

/// A response being waited for.
type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Bytes, NetError>>>>>;

/// The outbound side to one peer.
struct Peer {
    tx: mpsc::Sender<Frame>,
    pending: Pending,
}

/// The messaging service of a node.
pub struct Messaging {
    identity: Identity,
    local: SocketAddr,
    handler: Arc<OnceLock<Arc<dyn Handler>>>,
    peers: Mutex<HashMap<SocketAddr, Arc<Peer>>>,
    next_id: AtomicU64,
    listener: tokio::task::JoinHandle<()>,
    /// Turns true when the service is dropped: incoming connections close.
    stop: tokio::sync::watch::Sender<bool>,
}

impl Drop for Messaging {
    fn drop(&mut self) {
        self.listener.abort();
        let _ = self.stop.send(true);
    }
}

impl Messaging {
    /// Listens on `addr` (port 0 picks one) and serves incoming connections once a handler is
    /// installed ([`Messaging::set_handler`]); until then requests are answered with a failure.
    pub async fn bind(addr: SocketAddr, identity: Identity) -> std::io::Result<Messaging> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let handler: Arc<OnceLock<Arc<dyn Handler>>> = Arc::new(OnceLock::new());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, identity.clone(), handler.clone(), stopped));
        Ok(Messaging {
            identity,
            local,
            handler,
            peers: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            listener: task,
            stop,
        })
    }

    /// Installs the handler of incoming messages (once).
    pub fn set_handler(&self, handler: Arc<dyn Handler>) {
        let _ = self.handler.set(handler);
    }

    /// The address this node listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub fn host_id(&self) -> Uuid {
        self.identity.host_id
    }

    fn peer(&self, addr: SocketAddr) -> Arc<Peer> {
        let mut peers = self.peers.lock();
        if let Some(p) = peers.get(&addr)
            && !p.tx.is_closed()
        {
            return p.clone();
        }
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
        let hello = Hello {
            version: frame::VERSION,
            cluster_name: self.identity.cluster_name.clone(),
            host_id: self.identity.host_id,
        };
        tokio::spawn(outbound(addr, hello, rx, pending.clone()));
        let p = Arc::new(Peer { tx, pending });
        peers.insert(addr, p.clone());
        p
    }

    /// Sends a request to `to` and waits for its answer until `timeout`.
    pub async fn request(
        &self,
        to: SocketAddr,
        verb: Verb,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, NetError> {
        check_size(to, verb, &payload)?;
        let deadline = Instant::now() + timeout;
        let peer = self.peer(to);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        peer.pending.lock().insert(id, tx);
        let frame = Frame { verb: verb as u8, kind: Kind::Request, id, payload };
        let forget = || {
            peer.pending.lock().remove(&id);
        };
        match tokio::time::timeout_at(deadline, peer.tx.send(frame)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                forget();
                return Err(NetError::Unreachable(to, "connection task ended".into()));
            }
            Err(_) => {
                forget();
                return Err(NetError::Timeout(to));
            }
        }
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(NetError::Unreachable(to, "connection closed".into())),
            Err(_) => {
                forget();
                Err(NetError::Timeout(to))
            }
        }
    }

    /// Sends a message that gets no answer; waits at most `timeout` for room in the queue.
    pub async fn send_oneway(
        &self,
        to: SocketAddr,
        verb: Verb,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<(), NetError> {
        check_size(to, verb, &payload)?;
        let peer = self.peer(to);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let frame = Frame { verb: verb as u8, kind: Kind::OneWay, id, payload };
        match tokio::time::timeout(timeout, peer.tx.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(NetError::Unreachable(to, "connection task ended".into())),
            Err(_) => Err(NetError::Timeout(to)),
        }
    }
}

/// Refuses a message no frame can carry: the receiver would drop the connection, failing every
/// other request on it.
fn check_size(to: SocketAddr, verb: Verb, payload: &Bytes) -> Result<(), NetError> {
    if payload.len() <= frame::MAX_PAYLOAD {
        return Ok(());
    }
    Err(NetError::Remote(
        to,
        format!(
            "a {verb:?} message of {} bytes exceeds the internode frame limit of {} bytes",
            payload.len(),
            frame::MAX_PAYLOAD
        ),
    ))
}

/// Fails every request waiting on a connection that is gone.
fn fail_all(pending: &Pending, addr: SocketAddr, why: &str) {
    for (_, tx) in pending.lock().drain() {
        let _ = tx.send(Err(NetError::Unreachable(addr, why.to_string())));
    }
}

/// Connects and handshakes.
async fn connect(addr: SocketAddr, hello: &Hello) -> Result<TcpStream, String> {
    let mut s = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let _ = s.set_nodelay(true);
    s.write_all(&hello.encode()).await.map_err(|e| e.to_string())?;
    let w = tokio::time::timeout(CONNECT_TIMEOUT, frame::read::welcome(&mut s))
        .await
        .map_err(|_| "handshake timed out".to_string())?
        .map_err(|e| format!("handshake failed: {e}"))?;
    if w.status != 0 {
        return Err(format!("refused: {}", w.message));
    }
    Ok(s)
}

/// Runs the connection to one peer: connects (with back-off), writes queued frames, and
/// routes the answers to their requests. Ends when the [`Peer`] is dropped.
async fn outbound(addr: SocketAddr, hello: Hello, mut rx: mpsc::Receiver<Frame>, pending: Pending) {
    let mut backoff = BACKOFF_MIN;
    // The first message that was waiting while the connection opened.
    let mut held: Option<Frame> = None;
    loop {
        if held.is_none() {
            match rx.recv().await {
                Some(f) => held = Some(f),
                None => return,
            }
        }
        let stream = match connect(addr, &hello).await {
            Ok(s) => s,
            Err(why) => {
                tracing::debug!(%addr, %why, "cannot reach peer");
                // Fail what is queued now rather than let it wait out its deadline.
                held = None;
                while let Ok(f) = rx.try_recv() {
                    if f.kind == Kind::Request
                        && let Some(tx) = pending.lock().remove(&f.id)
                    {
                        let _ = tx.send(Err(NetError::Unreachable(addr, why.clone())));
                    }
                }
                fail_all(&pending, addr, &why);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        backoff = BACKOFF_MIN;
        let (rd, wr) = stream.into_split();
        let (closed_tx, mut closed) = oneshot::channel::<()>();
        let reader = tokio::spawn(read_responses(rd, addr, pending.clone(), closed_tx));
        let mut out = BufWriter::with_capacity(64 * 1024, wr);
        let mut buf = BytesMut::with_capacity(16 * 1024);
        let mut broken = None;
        while broken.is_none() {
            let first = match held.take() {
                Some(f) => f,
                None => tokio::select! {
                    f = rx.recv() => match f {
                        Some(f) => f,
                        None => {
                            reader.abort();
                            return;
                        }
                    },
                    _ = &mut closed => {
                        broken = Some("connection closed by peer".to_string());
                        break;
                    }
                },
            };
            let mut next = Some(first);
            while let Some(f) = next {
                // A request whose caller gave up (its deadline passed while the peer was being
                // reached) is not sent: the peer would act on it long after it was due.
                if f.kind == Kind::Request && !pending.lock().contains_key(&f.id) {
                    next = rx.try_recv().ok();
                    continue;
                }
                buf.clear();
                f.encode(&mut buf);
                if let Err(e) = out.write_all(&buf).await {
                    broken = Some(e.to_string());
                    break;
                }
                next = rx.try_recv().ok();
            }
            if broken.is_none()
                && let Err(e) = out.flush().await
            {
                broken = Some(e.to_string());
            }
        }
        reader.abort();
        let why = broken.unwrap_or_default();
        tracing::debug!(%addr, %why, "peer connection lost");
        fail_all(&pending, addr, &why);
    }
}

/// Routes answers to their requests until the connection ends (then `closed` is dropped).
async fn read_responses(
    mut rd: tokio::net::tcp::OwnedReadHalf,
    addr: SocketAddr,
    pending: Pending,
    closed: oneshot::Sender<()>,
) {
    let _closed = closed;
    loop {
        match frame::read::frame(&mut rd).await {
            Ok(Some(f)) => {
                let Some(tx) = pending.lock().remove(&f.id) else { continue };
                let r = match f.kind {
                    Kind::Response => Ok(f.payload),
                    _ => Err(NetError::Remote(addr, String::from_utf8_lossy(&f.payload).into_owned())),
                };
                let _ = tx.send(r);
            }
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(%addr, error = %e, "bad frame from peer; closing the connection");
                return;
            }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    identity: Identity,
    handler: Arc<OnceLock<Arc<dyn Handler>>>,
    stopped: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match listener.accept().await {
            Ok((socket, peer)) => {
                let _ = socket.set_nodelay(true);
                tokio::spawn(inbound(socket, peer, identity.clone(), handler.clone(), stopped.clone()));
            }
            Err(e) => {
                tracing::warn!(error = %e, "internode accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Serves one incoming connection: the handshake, then requests until it closes.
async fn inbound(
    mut socket: TcpStream,
    peer: SocketAddr,
    identity: Identity,
    handler: Arc<OnceLock<Arc<dyn Handler>>>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let hello = match tokio::time::timeout(CONNECT_TIMEOUT, frame::read::hello(&mut socket)).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => {
            tracing::warn!(%peer, error = %e, "refused an internode connection");
            return;
        }
        Err(_) => return,
    };
    let (status, message) = if hello.version != frame::VERSION {
        (
            2,
            format!(
                "messaging version {} is not supported (this node speaks {})",
                hello.version,
                frame::VERSION
            ),
        )
    } else if hello.cluster_name != identity.cluster_name {
        (1, format!("this node belongs to cluster '{}', not '{}'", identity.cluster_name, hello.cluster_name))
    } else {
        (0, String::new())
    };
    let welcome = Welcome { status, message: message.clone(), host_id: identity.host_id };
    if socket.write_all(&welcome.encode()).await.is_err() || status != 0 {
        if status != 0 {
            tracing::warn!(%peer, reason = %message, "refused an internode connection");
        }
        return;
    }
    let from = hello.host_id;
    let (mut rd, wr) = socket.into_split();
    let (tx, mut rx) = mpsc::channel::<Frame>(QUEUE_CAPACITY);
    let writer = tokio::spawn(async move {
        let mut out = BufWriter::with_capacity(64 * 1024, wr);
        let mut buf = BytesMut::with_capacity(16 * 1024);
        while let Some(first) = rx.recv().await {
            let mut next = Some(first);
            while let Some(f) = next {
                buf.clear();
                f.encode(&mut buf);
                if out.write_all(&buf).await.is_err() {
                    return;
                }
                next = rx.try_recv().ok();
            }
            if out.flush().await.is_err() {
                return;
            }
        }
    });
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    loop {
        let read = tokio::select! {
            r = frame::read::frame(&mut rd) => r,
            _ = stopped.wait_for(|s| *s) => break,
        };
        let f = match read {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(%peer, error = %e, "bad frame from peer; closing the connection");
                break;
            }
        };
        let Ok(permit) = slots.clone().acquire_owned().await else { break };
        let tx = tx.clone();
        let handler = handler.get().cloned();
        tokio::spawn(async move {
            let answer = match (Verb::from_code(f.verb), handler) {
                (Some(verb), Some(h)) => h.handle(from, verb, f.payload).await,
                (None, _) => Err(format!("unknown verb {}", f.verb)),
                (_, None) => Err("the node is starting".to_string()),
            };
            if f.kind == Kind::Request {
                let (kind, payload) = match answer {
                    Ok(p) if p.len() > frame::MAX_PAYLOAD => {
                        let why = format!(
                            "the answer of {} bytes exceeds the internode frame limit of {} bytes",
                            p.len(),
                            frame::MAX_PAYLOAD
                        );
                        (Kind::Failure, Bytes::from(why.into_bytes()))
                    }
                    Ok(p) => (Kind::Response, p),
                    Err(e) => (Kind::Failure, Bytes::from(e.into_bytes())),
                };
                let _ = tx.send(Frame { verb: f.verb, kind, id: f.id, payload }).await;
            }
            drop(permit);
        });
    }
    drop(tx);
    if *stopped.borrow() {
        writer.abort();
    }
    let _ = writer.await;
}

#[cfg(test)]
mod tests;
