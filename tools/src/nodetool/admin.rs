//! A blocking client of a node's admin HTTP API (`http://admin_address:admin_port/v1/...`),
//! answering JSON. A non-2xx answer carries a message: the body's `message` or `error` field
//! when it is JSON, else the body's text.

use serde::de::DeserializeOwned;
use std::time::Duration;

/// What went wrong asking the admin API.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No answer at all: refused, unreachable, timed out.
    #[error("cannot reach the admin API at {addr}: {reason}")]
    Unreachable { addr: String, reason: String },
    /// The node answered with an error status.
    #[error("{message} (HTTP {status})")]
    Http { status: u16, message: String },
    /// The node answered 2xx with something that is not the expected JSON.
    #[error("unexpected answer from the admin API at {addr}: {reason}")]
    BadResponse { addr: String, reason: String },
}

/// One node's admin API.
pub struct AdminClient {
    /// `host:port`, as shown in errors.
    addr: String,
    base: String,
    agent: ureq::Agent,
}

impl AdminClient {
    /// A client of `host:port` (an IPv6 address is bracketed in URLs) whose requests give up
    /// after a minute.
    pub fn new(host: &str, port: u16) -> AdminClient {
        AdminClient::with_timeout(host, port, Duration::from_secs(60))
    }

    /// A client whose requests may take up to `timeout`, for operations the node runs before it
    /// answers (flush, compaction, cleanup, drain).
    pub fn with_timeout(host: &str, port: u16, timeout: Duration) -> AdminClient {
        let host =
            if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_string() };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(timeout))
            .build()
            .into();
        AdminClient { addr: format!("{host}:{port}"), base: format!("http://{host}:{port}"), agent }
    }

    /// `host:port`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// GETs `path` with `query` parameters and decodes the JSON answer.
    pub fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T, AdminError> {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        for (k, v) in query {
            req = req.query(*k, *v);
        }
        self.answer(req.call())
    }

    /// POSTs to `path` with `query` parameters and, when given, a JSON body; decodes the JSON
    /// answer.
    pub fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<T, AdminError> {
        let mut req = self.agent.post(format!("{}{path}", self.base));
        for (k, v) in query {
            req = req.query(*k, *v);
        }
        let sent = match body {
            Some(json) => req.header("content-type", "application/json").send(json.to_string()),
            None => req.send_empty(),
        };
        self.answer(sent)
    }

    /// The decoded answer, or what went wrong: no answer, an error status, or bad JSON.
    fn answer<T: DeserializeOwned>(
        &self,
        sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, AdminError> {
        let mut resp = sent.map_err(|e| {
            let reason = match e {
                ureq::Error::Io(io) => io.to_string(),
                other => other.to_string(),
            };
            AdminError::Unreachable { addr: self.addr.clone(), reason }
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| AdminError::BadResponse { addr: self.addr.clone(), reason: e.to_string() })?;
        if !(200..300).contains(&status) {
            return Err(AdminError::Http { status, message: error_message(status, &body) });
        }
        serde_json::from_str(&body)
            .map_err(|e| AdminError::BadResponse { addr: self.addr.clone(), reason: e.to_string() })
    }
}

/// `segment` percent-encoded for use as one path segment (`/v1/describering/<segment>`): every
/// byte but RFC 3986's unreserved characters is escaped, so a quoted name with `/`, `?` or a
/// space stays one segment.
pub fn path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The message of an error answer: the JSON body's `message` or `error`, else its text.
pub fn error_message(status: u16, body: &str) -> String {
    if let Ok(serde_json::Value::Object(o)) = serde_json::from_str::<serde_json::Value>(body) {
        for key in ["message", "error"] {
            if let Some(serde_json::Value::String(m)) = o.get(key) {
                return m.clone();
            }
        }
    }
    let text = body.trim();
    match text.char_indices().nth(500) {
        _ if text.is_empty() => format!("the admin API answered HTTP {status} with no message"),
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    #[test]
    fn error_bodies_give_their_message() {
        assert_eq!(
            error_message(400, r#"{"message":"keyspace 'x' does not exist"}"#),
            "keyspace 'x' does not exist"
        );
        assert_eq!(error_message(500, r#"{"error":"boom"}"#), "boom");
        assert_eq!(error_message(404, "not found\n"), "not found");
        assert!(error_message(503, "").contains("HTTP 503"));
        assert!(error_message(500, &"x".repeat(2000)).ends_with("..."));
    }

    /// Answers one request with `response`, returning the request line it got.
    fn serve_once(response: &'static str) -> (u16, std::thread::JoinHandle<String>) {
        let (port, h) = serve_once_with_body(response);
        (port, std::thread::spawn(move || h.join().unwrap().0))
    }

    #[test]
    fn gets_json_with_the_query_encoded() {
        let (port, h) = serve_once(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"a\": 1}",
        );
        let v: serde_json::Value =
            AdminClient::new("127.0.0.1", port).get("/v1/status", &[("keyspace", "my ks")]).unwrap();
        assert_eq!(v["a"], 1);
        let request = h.join().unwrap();
        assert!(
            request.starts_with("GET /v1/status?keyspace=my%20ks ") || request.contains("keyspace=my+ks"),
            "{request}"
        );
    }

    #[test]
    fn an_error_status_carries_the_body_message() {
        let body = r#"{"message":"keyspace 'nope' does not exist"}"#;
        let resp: &'static str = Box::leak(
            format!("HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\n\r\n{body}", body.len())
                .into_boxed_str(),
        );
        let (port, h) = serve_once(resp);
        let e = AdminClient::new("127.0.0.1", port).get::<serde_json::Value>("/v1/status", &[]).unwrap_err();
        h.join().unwrap();
        assert!(matches!(e, AdminError::Http { status: 404, .. }), "{e:?}");
        assert_eq!(e.to_string(), "keyspace 'nope' does not exist (HTTP 404)");
    }

    /// Answers one request with `response`, returning the request line and its body.
    fn serve_once_with_body(response: &'static str) -> (u16, std::thread::JoinHandle<(String, String)>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut first = String::new();
            r.read_line(&mut first).unwrap();
            let mut length = 0;
            let mut line = String::new();
            while r.read_line(&mut line).unwrap() > 2 {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                line.clear();
            }
            let mut body = vec![0; length];
            std::io::Read::read_exact(&mut r, &mut body).unwrap();
            s.write_all(response.as_bytes()).unwrap();
            (first, String::from_utf8(body).unwrap())
        });
        (port, h)
    }

    #[test]
    fn posts_a_json_body_and_query() {
        let (port, h) = serve_once_with_body("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"id\": \"7\"}");
        let body = serde_json::json!({"keyspace": "ks", "full": true});
        let v: serde_json::Value =
            AdminClient::new("127.0.0.1", port).post("/v1/repair", &[("x", "a,b")], Some(&body)).unwrap();
        assert_eq!(v["id"], "7");
        let (request, sent) = h.join().unwrap();
        assert!(request.starts_with("POST /v1/repair?x=a"), "{request}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&sent).unwrap(), body);

        let (port, h) =
            serve_once_with_body("HTTP/1.1 500 Oops\r\nContent-Length: 16\r\n\r\n{\"error\":\"full\"}");
        let e = AdminClient::with_timeout("127.0.0.1", port, Duration::from_secs(3600))
            .post::<serde_json::Value>("/v1/flush", &[], None)
            .unwrap_err();
        assert_eq!(e.to_string(), "full (HTTP 500)");
        let (request, sent) = h.join().unwrap();
        assert!(request.starts_with("POST /v1/flush "), "{request}");
        assert_eq!(sent, "");
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(path_segment("my_ks-1.x~"), "my_ks-1.x~");
        assert_eq!(path_segment("a b/c?d%"), "a%20b%2Fc%3Fd%25");
        assert_eq!(path_segment("é"), "%C3%A9");
    }

    #[test]
    fn a_refused_connection_names_the_address() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let e = AdminClient::new("127.0.0.1", port).get::<serde_json::Value>("/v1/status", &[]).unwrap_err();
        assert!(matches!(e, AdminError::Unreachable { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with(&format!("cannot reach the admin API at 127.0.0.1:{port}: ")),
            "{e}"
        );
    }
}
