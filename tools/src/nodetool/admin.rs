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
    /// A client of `host:port` (an IPv6 address is bracketed in URLs).
    pub fn new(host: &str, port: u16) -> AdminClient {
        let host =
            if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host.to_string() };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(60)))
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
        let mut resp = req.call().map_err(|e| {
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
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut first = String::new();
            r.read_line(&mut first).unwrap();
            let mut line = String::new();
            while r.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            s.write_all(response.as_bytes()).unwrap();
            first
        });
        (port, h)
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
