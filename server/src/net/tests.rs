//! Two messaging services in one process on loopback.

use super::*;
use std::net::IpAddr;
use tokio::io::AsyncReadExt;

/// Echoes, fails on "fail", sleeps on "slow".
struct Echo;

impl Handler for Echo {
    fn handle(&self, _from: Uuid, verb: Verb, payload: Bytes) -> Reply {
        Box::pin(async move {
            match (verb, &payload[..]) {
                (_, b"fail") => Err("asked to fail".to_string()),
                (_, b"slow") => {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    Ok(payload)
                }
                (Verb::Echo, _) => Ok(payload),
                _ => Err(format!("unexpected {verb:?}")),
            }
        })
    }
}

fn id(n: u8) -> Identity {
    Identity { cluster_name: "Test Cluster".into(), host_id: Uuid::from_bytes([n; 16]) }
}

async fn node(ip: [u8; 4], n: u8) -> Messaging {
    let m = Messaging::bind(SocketAddr::new(IpAddr::from(ip), 0), id(n)).await.unwrap();
    m.set_handler(Arc::new(Echo));
    m
}

const T: Duration = Duration::from_secs(10);

#[tokio::test]
async fn requests_get_their_answers_and_failures() {
    let a = node([127, 0, 0, 1], 1).await;
    let b = node([127, 0, 0, 1], 2).await;
    let r = a.request(b.local_addr(), Verb::Echo, Bytes::from_static(b"ping"), T).await.unwrap();
    assert_eq!(&r[..], b"ping");
    let e = a.request(b.local_addr(), Verb::Echo, Bytes::from_static(b"fail"), T).await.unwrap_err();
    assert_eq!(e, NetError::Remote(b.local_addr(), "asked to fail".into()));
    // Both directions, on separate connections.
    let r = b.request(a.local_addr(), Verb::Echo, Bytes::from_static(b"pong"), T).await.unwrap();
    assert_eq!(&r[..], b"pong");
    a.send_oneway(b.local_addr(), Verb::Echo, Bytes::from_static(b"x"), T).await.unwrap();
}

#[tokio::test]
async fn many_requests_in_flight_are_matched_to_their_answers() {
    let a = Arc::new(node([127, 0, 0, 1], 1).await);
    let b = node([127, 0, 0, 1], 2).await;
    let to = b.local_addr();
    let mut tasks = Vec::new();
    for i in 0..2000u32 {
        let a = a.clone();
        tasks.push(tokio::spawn(async move {
            let p = Bytes::from(i.to_be_bytes().to_vec());
            let r = a.request(to, Verb::Echo, p.clone(), T).await.unwrap();
            assert_eq!(r, p);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn a_slow_peer_times_out_and_the_connection_stays_usable() {
    let a = node([127, 0, 0, 1], 1).await;
    let b = node([127, 0, 0, 1], 2).await;
    let e =
        a.request(b.local_addr(), Verb::Echo, Bytes::from_static(b"slow"), Duration::from_millis(200)).await;
    assert_eq!(e.unwrap_err(), NetError::Timeout(b.local_addr()));
    let r = a.request(b.local_addr(), Verb::Echo, Bytes::from_static(b"after"), T).await.unwrap();
    assert_eq!(&r[..], b"after");
}

#[tokio::test]
async fn a_node_of_another_cluster_is_refused() {
    let a = node([127, 0, 0, 1], 1).await;
    let other = Messaging::bind(
        SocketAddr::new(IpAddr::from([127, 0, 0, 1]), 0),
        Identity { cluster_name: "Other".into(), host_id: Uuid::from_bytes([9; 16]) },
    )
    .await
    .unwrap();
    other.set_handler(Arc::new(Echo));
    match a.request(other.local_addr(), Verb::Echo, Bytes::from_static(b"hi"), T).await {
        Err(NetError::Unreachable(_, why)) => assert!(why.contains("cluster 'Other'"), "{why}"),
        r => panic!("expected a refusal, got {r:?}"),
    }
}

#[tokio::test]
async fn an_absent_peer_fails_fast_and_a_restarted_one_is_reached_again() {
    let a = node([127, 0, 0, 1], 1).await;
    let b = node([127, 0, 0, 1], 2).await;
    let addr = b.local_addr();
    a.request(addr, Verb::Echo, Bytes::from_static(b"1"), T).await.unwrap();
    drop(b);
    // The old connection is gone: the next request fails (unreachable or closed), not hangs.
    let mut failed = false;
    for _ in 0..50 {
        match a.request(addr, Verb::Echo, Bytes::from_static(b"2"), T).await {
            Err(NetError::Unreachable(..)) => {
                failed = true;
                break;
            }
            Err(e) => panic!("unexpected {e}"),
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    assert!(failed, "a stopped peer still answered");
    // Back on the same address: reached again once the back-off allows.
    let b2 = Messaging::bind(addr, id(2)).await.unwrap();
    b2.set_handler(Arc::new(Echo));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match a.request(addr, Verb::Echo, Bytes::from_static(b"3"), T).await {
            Ok(r) => {
                assert_eq!(&r[..], b"3");
                break;
            }
            Err(e) => {
                assert!(Instant::now() < deadline, "never reconnected: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[tokio::test]
async fn garbage_and_bad_frames_close_only_their_connection() {
    let a = node([127, 0, 0, 1], 1).await;
    let b = node([127, 0, 0, 1], 2).await;
    // Not a handshake.
    let mut s = TcpStream::connect(b.local_addr()).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    // A good handshake, then a frame with a bad checksum.
    let mut s = TcpStream::connect(b.local_addr()).await.unwrap();
    let hello = Hello {
        version: frame::VERSION,
        cluster_name: "Test Cluster".into(),
        host_id: Uuid::from_bytes([5; 16]),
    };
    s.write_all(&hello.encode()).await.unwrap();
    let w = frame::read::welcome(&mut s).await.unwrap();
    assert_eq!(w.status, 0);
    let mut f = BytesMut::new();
    Frame { verb: 1, kind: Kind::Request, id: 1, payload: Bytes::from_static(b"x") }.encode(&mut f);
    let last = f.len() - 1;
    f[last] ^= 1;
    s.write_all(&f).await.unwrap();
    let mut buf = Vec::new();
    let n = s.read_to_end(&mut buf).await.unwrap_or(0);
    assert_eq!(n, 0, "a damaged frame got an answer");
    // Others are unaffected.
    let r = a.request(b.local_addr(), Verb::Echo, Bytes::from_static(b"ok"), T).await.unwrap();
    assert_eq!(&r[..], b"ok");
}

#[tokio::test]
async fn a_message_no_frame_can_carry_is_refused_before_it_is_sent() {
    let a = node([127, 0, 0, 1], 1).await;
    let b = node([127, 0, 0, 1], 2).await;
    let big = Bytes::from(vec![0u8; frame::MAX_PAYLOAD + 1]);
    let e = a.request(b.local_addr(), Verb::Echo, big.clone(), T).await.unwrap_err();
    assert!(e.to_string().contains("exceeds the internode frame limit"), "{e}");
    assert!(a.send_oneway(b.local_addr(), Verb::Echo, big, T).await.is_err());
    // The largest payload a frame holds goes through, and the connection stays usable.
    let largest = Bytes::from(vec![0u8; frame::MAX_PAYLOAD]);
    let r = a.request(b.local_addr(), Verb::Echo, largest, T).await.unwrap();
    assert_eq!(r.len(), frame::MAX_PAYLOAD);
    let r = a.request(b.local_addr(), Verb::Echo, Bytes::from_static(b"ok"), T).await.unwrap();
    assert_eq!(&r[..], b"ok");
}

/// Records what it is asked, and echoes it.
struct Recorder(Arc<Mutex<Vec<Bytes>>>);

impl Handler for Recorder {
    fn handle(&self, _from: Uuid, _verb: Verb, payload: Bytes) -> Reply {
        self.0.lock().push(payload.clone());
        Box::pin(async move { Ok(payload) })
    }
}

#[tokio::test]
async fn a_request_that_expired_while_the_peer_was_away_is_not_sent_when_it_returns() {
    let a = node([127, 0, 0, 1], 1).await;
    let b = node([127, 0, 0, 1], 2).await;
    let addr = b.local_addr();
    a.request(addr, Verb::Echo, Bytes::from_static(b"1"), T).await.unwrap();
    drop(b);
    // Wait until a connection attempt fails: the connection task then backs off, and what is
    // sent meanwhile waits in its queue.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match a.request(addr, Verb::Echo, Bytes::from_static(b"probe"), T).await {
            Err(NetError::Unreachable(_, why)) if why.to_lowercase().contains("refused") => break,
            other => assert!(Instant::now() < deadline, "no refused connection yet: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stale = a.request(addr, Verb::Echo, Bytes::from_static(b"stale"), Duration::from_millis(20)).await;
    assert!(stale.is_err(), "{stale:?}");
    // The peer returns; the expired request is dropped and a new one gets through.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let b2 = Messaging::bind(addr, id(2)).await.unwrap();
    b2.set_handler(Arc::new(Recorder(seen.clone())));
    let deadline = Instant::now() + Duration::from_secs(30);
    while a.request(addr, Verb::Echo, Bytes::from_static(b"fresh"), T).await.is_err() {
        assert!(Instant::now() < deadline, "never reconnected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = seen.lock().clone();
    assert!(seen.contains(&Bytes::from_static(b"fresh")), "{seen:?}");
    assert!(!seen.contains(&Bytes::from_static(b"stale")), "an expired request was delivered: {seen:?}");
}
