//! `tess repair [--full] [--preview] [-pr] [-st TOKEN -et TOKEN] [--dc DC | --local]
//! [KS [TABLE...]]`: starts a repair session on the node and follows it to the end, printing
//! progress as ranges complete and a summary line, like `nodetool repair`.
//!
//! The options are checked here before anything is sent, with nodetool's rules: `-st` and `-et`
//! go together and are Murmur3 tokens (i64); `-pr` takes neither a token range nor `--dc`;
//! `--dc` and `--local` exclude each other; tables need a keyspace.
//!
//! | request                 | body / answer |
//! |-------------------------|---------------|
//! | `POST /v1/repair`       | body `RepairRequest` as JSON → `{"id": "<session id>"}` |
//! | `GET /v1/repair/ID`     | `RepairStatus`: `{"id", "state": "running"\|"done"\|"failed", "keyspaces": [..], "ranges_total", "ranges_done", "mismatched_ranges", "bytes_streamed", "partitions_streamed", "error", "summary"}` |
//!
//! The status is polled every 500 ms. A preview ends with the line `N mismatched ranges`; a
//! repair with a summary line; a failed session with an error (exit status 1).

use super::admin::{AdminClient, AdminError, path_segment};
use super::format::{NA, bytes_or_na, or_na};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::time::{Duration, Instant};

/// How often the session's status is asked for.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// With no range finishing, a progress line is still printed this often.
const HEARTBEAT: Duration = Duration::from_secs(30);

/// The options as given on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairArgs {
    pub full: bool,
    pub preview: bool,
    pub primary_range: bool,
    pub start_token: Option<String>,
    pub end_token: Option<String>,
    pub dc: Option<String>,
    pub local: bool,
    pub keyspace: Option<String>,
    pub tables: Vec<String>,
}

/// The body of `POST /v1/repair`: the checked options, tokens in canonical form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RepairRequest {
    pub keyspace: Option<String>,
    pub tables: Vec<String>,
    pub full: bool,
    pub preview: bool,
    pub primary_range: bool,
    pub start_token: Option<String>,
    pub end_token: Option<String>,
    pub dc: Option<String>,
    pub local: bool,
}

/// A token as an i64, or the usage error naming the option.
fn token(option: &str, value: &str) -> Result<String, String> {
    value.trim().parse::<i64>().map(|t| t.to_string()).map_err(|_| {
        format!("{option} '{value}' is not a token: Murmur3 tokens are integers from -2^63 to 2^63-1")
    })
}

impl RepairArgs {
    /// The request these options make, or why nodetool would refuse them.
    pub fn validate(self) -> Result<RepairRequest, String> {
        let RepairArgs { full, preview, primary_range, start_token, end_token, dc, local, keyspace, tables } =
            self;
        let (start_token, end_token) = match (start_token, end_token) {
            (Some(st), Some(et)) => {
                (Some(token("-st (--start-token)", &st)?), Some(token("-et (--end-token)", &et)?))
            }
            (None, None) => (None, None),
            _ => return Err("-st (--start-token) and -et (--end-token) must be given together".to_string()),
        };
        if primary_range && start_token.is_some() {
            return Err("-pr (--partitioner-range) cannot be combined with -st/-et: \
                        a token range is repaired on every replica of it"
                .to_string());
        }
        if dc.is_some() && local {
            return Err("--dc and --local cannot be used together".to_string());
        }
        if primary_range && dc.is_some() {
            return Err("-pr (--partitioner-range) cannot be combined with --dc: \
                        primary range repair should be performed on all nodes in the cluster"
                .to_string());
        }
        if dc.as_deref().is_some_and(|d| d.trim().is_empty()) {
            return Err("--dc needs a datacenter name".to_string());
        }
        if keyspace.is_none() && !tables.is_empty() {
            return Err("tables can only be named after their keyspace".to_string());
        }
        Ok(RepairRequest {
            keyspace,
            tables,
            full,
            preview,
            primary_range,
            start_token,
            end_token,
            dc,
            local,
        })
    }
}

/// The answer of `POST /v1/repair`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RepairStarted {
    pub id: Option<String>,
}

/// A session's state, from `GET /v1/repair/ID`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RepairStatus {
    pub id: Option<String>,
    /// `running`, `done` or `failed`; anything else counts as still running.
    pub state: Option<String>,
    pub keyspaces: Option<Vec<String>>,
    pub ranges_total: Option<u32>,
    pub ranges_done: Option<u32>,
    pub mismatched_ranges: Option<u32>,
    pub bytes_streamed: Option<u64>,
    pub partitions_streamed: Option<u64>,
    pub error: Option<String>,
    pub summary: Option<String>,
}

impl RepairStatus {
    fn is(&self, state: &str) -> bool {
        self.state.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(state))
    }
}

/// What went wrong running a repair.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    /// The session could not be started.
    #[error("{0}")]
    Start(AdminError),
    /// The node stopped answering about a session it had started.
    #[error("lost track of repair session {id} (it may still be running on the node): {source}")]
    Poll { id: String, source: AdminError },
    /// The session ended in failure.
    #[error("repair session {id} failed: {message}")]
    Failed { id: String, message: String },
    /// Progress could not be written (a closed pipe).
    #[error("cannot write progress: {0}")]
    Output(#[from] std::io::Error),
}

/// The two calls a repair makes; `AdminClient` makes them over HTTP, tests answer them directly.
pub trait RepairApi {
    /// Starts a session, returning its id.
    fn start(&self, request: &RepairRequest) -> Result<String, AdminError>;
    /// The session's current state.
    fn status(&self, id: &str) -> Result<RepairStatus, AdminError>;
}

impl RepairApi for AdminClient {
    fn start(&self, request: &RepairRequest) -> Result<String, AdminError> {
        let body = serde_json::to_value(request)
            .map_err(|e| AdminError::BadResponse { addr: self.addr().to_string(), reason: e.to_string() })?;
        let started: RepairStarted = self.post("/v1/repair", &[], Some(&body))?;
        match started.id {
            Some(id) if !id.is_empty() => Ok(id),
            _ => Err(AdminError::BadResponse {
                addr: self.addr().to_string(),
                reason: "POST /v1/repair answered without a session id".to_string(),
            }),
        }
    }

    fn status(&self, id: &str) -> Result<RepairStatus, AdminError> {
        self.get(&format!("/v1/repair/{}", path_segment(id)), &[])
    }
}

/// `[a, b]`, as nodetool prints lists.
fn list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// The line announcing a session, with its options as nodetool prints them.
pub fn start_line(stamp: &str, id: &str, r: &RepairRequest) -> String {
    let what = match &r.keyspace {
        Some(ks) => format!("keyspace {ks}"),
        None => "every keyspace".to_string(),
    };
    let preview = match (r.preview, r.full) {
        (false, _) => "NONE",
        (true, false) => "UNREPAIRED",
        (true, true) => "ALL",
    };
    let range = match (&r.start_token, &r.end_token) {
        (Some(st), Some(et)) => format!("({st},{et}]"),
        _ => "all".to_string(),
    };
    let dcs = match (&r.dc, r.local) {
        (Some(dc), _) => list(std::slice::from_ref(dc)),
        (None, true) => "[local]".to_string(),
        (None, false) => "[]".to_string(),
    };
    format!(
        "[{stamp}] Starting repair session {id}, repairing {what} with repair options (primary range: {}, \
         incremental: {}, ColumnFamilies: {}, dataCenters: {dcs}, previewKind: {preview}, token range: {range})\n",
        r.primary_range,
        !r.full,
        list(&r.tables),
    )
}

/// A progress line: `[stamp] Repair session ID: 12/40 ranges, 1.2 MiB streamed`.
pub fn progress_line(stamp: &str, id: &str, s: &RepairStatus) -> String {
    format!(
        "[{stamp}] Repair session {id}: {}/{} ranges, {} streamed\n",
        or_na(s.ranges_done),
        or_na(s.ranges_total),
        bytes_or_na(s.bytes_streamed)
    )
}

/// The session's closing line: `N mismatched ranges` for a preview, else a summary line (the
/// node's own summary when it gives one).
pub fn final_line(stamp: &str, id: &str, preview: bool, s: &RepairStatus, elapsed: Duration) -> String {
    if preview {
        return format!("{} mismatched ranges\n", or_na(s.mismatched_ranges));
    }
    let summary = match &s.summary {
        Some(summary) => summary.clone(),
        None => format!(
            "{}/{} ranges, {} mismatched, {} streamed ({} partitions)",
            or_na(s.ranges_done),
            or_na(s.ranges_total),
            or_na(s.mismatched_ranges),
            bytes_or_na(s.bytes_streamed),
            or_na(s.partitions_streamed)
        ),
    };
    format!("[{stamp}] Repair session {id} completed successfully in {}s: {summary}\n", elapsed.as_secs())
}

/// How a repair is followed: the polling interval and the clock that stamps lines.
pub struct Follow<'a> {
    pub interval: Duration,
    pub stamp: &'a dyn Fn() -> String,
}

impl Default for Follow<'_> {
    fn default() -> Self {
        Follow { interval: POLL_INTERVAL, stamp: &super::format::now }
    }
}

/// Starts the repair and follows it until it is done or failed, writing progress to `out`.
pub fn run(
    api: &dyn RepairApi,
    request: &RepairRequest,
    out: &mut dyn Write,
    follow: &Follow<'_>,
) -> Result<RepairStatus, RepairError> {
    let started = Instant::now();
    let id = api.start(request).map_err(RepairError::Start)?;
    out.write_all(start_line(&(follow.stamp)(), &id, request).as_bytes())?;
    out.flush()?;
    let mut shown: Option<(Option<u32>, Option<u32>)> = None;
    let mut last_line = Instant::now();
    loop {
        let status = api.status(&id).map_err(|source| RepairError::Poll { id: id.clone(), source })?;
        let progress = (status.ranges_done, status.ranges_total);
        if shown != Some(progress) || last_line.elapsed() >= HEARTBEAT {
            out.write_all(progress_line(&(follow.stamp)(), &id, &status).as_bytes())?;
            out.flush()?;
            shown = Some(progress);
            last_line = Instant::now();
        }
        if status.is("failed") {
            let message = status.error.clone().unwrap_or_else(|| format!("{NA} (the node gave no reason)"));
            return Err(RepairError::Failed { id, message });
        }
        if status.is("done") {
            out.write_all(
                final_line(&(follow.stamp)(), &id, request.preview, &status, started.elapsed()).as_bytes(),
            )?;
            out.flush()?;
            return Ok(status);
        }
        std::thread::sleep(follow.interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn args() -> RepairArgs {
        RepairArgs { keyspace: Some("ks".into()), ..RepairArgs::default() }
    }

    #[test]
    fn valid_options_become_the_request() {
        let r = RepairArgs {
            full: true,
            start_token: Some("-9223372036854775808".into()),
            end_token: Some(" +42".into()),
            local: true,
            tables: vec!["t1".into(), "t2".into()],
            ..args()
        }
        .validate()
        .unwrap();
        assert_eq!(r.start_token.as_deref(), Some("-9223372036854775808"));
        assert_eq!(r.end_token.as_deref(), Some("42"));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"keyspace": "ks", "tables": ["t1", "t2"], "full": true, "preview": false,
                "primary_range": false, "start_token": "-9223372036854775808", "end_token": "42",
                "dc": null, "local": true})
        );
        let every = RepairArgs::default().validate().unwrap();
        assert_eq!(
            serde_json::to_value(&every).unwrap(),
            serde_json::json!({"keyspace": null, "tables": [], "full": false, "preview": false,
                "primary_range": false, "start_token": null, "end_token": null, "dc": null, "local": false})
        );
        // -pr goes with --local, as in nodetool.
        assert!(RepairArgs { primary_range: true, local: true, ..args() }.validate().is_ok());
        assert!(RepairArgs { dc: Some("dc2".into()), preview: true, ..args() }.validate().is_ok());
    }

    #[test]
    fn options_nodetool_refuses_are_refused() {
        let cases = [
            (RepairArgs { start_token: Some("1".into()), ..args() }, "must be given together"),
            (RepairArgs { end_token: Some("1".into()), ..args() }, "must be given together"),
            (
                RepairArgs { start_token: Some("x".into()), end_token: Some("1".into()), ..args() },
                "'x' is not a token",
            ),
            (
                RepairArgs {
                    start_token: Some("1".into()),
                    end_token: Some("9223372036854775808".into()),
                    ..args()
                },
                "-et (--end-token) '9223372036854775808' is not a token",
            ),
            (RepairArgs { dc: Some("dc1".into()), local: true, ..args() }, "--dc and --local"),
            (
                RepairArgs {
                    primary_range: true,
                    start_token: Some("1".into()),
                    end_token: Some("2".into()),
                    ..args()
                },
                "cannot be combined with -st/-et",
            ),
            (
                RepairArgs { primary_range: true, dc: Some("dc1".into()), ..args() },
                "cannot be combined with --dc",
            ),
            (RepairArgs { dc: Some(" ".into()), ..args() }, "needs a datacenter name"),
            (RepairArgs { keyspace: None, tables: vec!["t".into()], ..args() }, "after their keyspace"),
        ];
        for (a, expected) in cases {
            let e = a.clone().validate().unwrap_err();
            assert!(e.contains(expected), "{a:?}: {e}");
        }
    }

    #[test]
    fn lines_read_like_nodetool_repair() {
        let r = RepairArgs { tables: vec!["t".into()], dc: Some("dc1".into()), ..args() }.validate().unwrap();
        assert_eq!(
            start_line("T", "abc", &r),
            "[T] Starting repair session abc, repairing keyspace ks with repair options (primary range: false, \
             incremental: true, ColumnFamilies: [t], dataCenters: [dc1], previewKind: NONE, token range: all)\n"
        );
        let r = RepairArgs {
            keyspace: None,
            preview: true,
            full: true,
            local: true,
            start_token: Some("-5".into()),
            end_token: Some("5".into()),
            ..RepairArgs::default()
        }
        .validate()
        .unwrap();
        assert!(start_line("T", "abc", &r).contains(
            "repairing every keyspace with repair options (primary range: false, incremental: false, \
             ColumnFamilies: [], dataCenters: [local], previewKind: ALL, token range: (-5,5])"
        ));
        let s: RepairStatus = serde_json::from_str(
            r#"{"id": "abc", "state": "done", "keyspaces": ["ks"], "ranges_total": 40, "ranges_done": 12,
                "mismatched_ranges": 3, "bytes_streamed": 1258291, "partitions_streamed": 120,
                "error": null, "summary": null}"#,
        )
        .unwrap();
        assert_eq!(progress_line("T", "abc", &s), "[T] Repair session abc: 12/40 ranges, 1.2 MiB streamed\n");
        assert_eq!(final_line("T", "abc", true, &s, Duration::from_secs(3)), "3 mismatched ranges\n");
        assert_eq!(
            final_line("T", "abc", false, &s, Duration::from_millis(12_500)),
            "[T] Repair session abc completed successfully in 12s: 12/40 ranges, 3 mismatched, 1.2 MiB \
             streamed (120 partitions)\n"
        );
        let with_summary = RepairStatus { summary: Some("repaired 40 ranges of ks".into()), ..s };
        assert_eq!(
            final_line("T", "abc", false, &with_summary, Duration::ZERO),
            "[T] Repair session abc completed successfully in 0s: repaired 40 ranges of ks\n"
        );
        let empty = RepairStatus::default();
        assert_eq!(progress_line("T", "x", &empty), "[T] Repair session x: n/a/n/a ranges, n/a streamed\n");
        assert_eq!(final_line("T", "x", true, &empty, Duration::ZERO), "n/a mismatched ranges\n");
    }

    /// Answers `start` with "s1" and each `status` with the next canned answer.
    struct Canned {
        statuses: RefCell<Vec<Result<RepairStatus, AdminError>>>,
        requests: RefCell<Vec<RepairRequest>>,
        polls: RefCell<u32>,
    }

    impl Canned {
        fn new(jsons: &[&str]) -> Canned {
            Canned {
                statuses: RefCell::new(
                    jsons.iter().rev().map(|j| Ok(serde_json::from_str(j).unwrap())).collect(),
                ),
                requests: RefCell::new(Vec::new()),
                polls: RefCell::new(0),
            }
        }
    }

    impl RepairApi for Canned {
        fn start(&self, request: &RepairRequest) -> Result<String, AdminError> {
            self.requests.borrow_mut().push(request.clone());
            Ok("s1".to_string())
        }
        fn status(&self, id: &str) -> Result<RepairStatus, AdminError> {
            assert_eq!(id, "s1");
            *self.polls.borrow_mut() += 1;
            self.statuses.borrow_mut().pop().unwrap_or_else(|| {
                Err(AdminError::Http { status: 404, message: "no repair session s1".into() })
            })
        }
    }

    fn follow() -> Follow<'static> {
        Follow { interval: Duration::ZERO, stamp: &|| "T".to_string() }
    }

    fn run_canned(api: &Canned, preview: bool) -> (Result<RepairStatus, RepairError>, String) {
        let request = RepairArgs { preview, ..args() }.validate().unwrap();
        let mut out = Vec::new();
        let result = run(api, &request, &mut out, &follow());
        (result, String::from_utf8(out).unwrap())
    }

    const R0: &str = r#"{"state": "running", "ranges_total": 4, "ranges_done": 0, "bytes_streamed": 0}"#;
    const R2: &str = r#"{"state": "running", "ranges_total": 4, "ranges_done": 2, "bytes_streamed": 2048}"#;
    const DONE: &str = r#"{"state": "done", "ranges_total": 4, "ranges_done": 4, "mismatched_ranges": 2,
                           "bytes_streamed": 4096, "partitions_streamed": 8}"#;

    #[test]
    fn progress_is_printed_as_ranges_complete() {
        let api = Canned::new(&[R0, R0, R2, R2, R2, DONE]);
        let (result, out) = run_canned(&api, false);
        assert_eq!(result.unwrap().mismatched_ranges, Some(2));
        assert_eq!(*api.polls.borrow(), 6);
        assert_eq!(api.requests.borrow()[0].keyspace.as_deref(), Some("ks"));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5, "{out}");
        assert!(lines[0].starts_with("[T] Starting repair session s1, repairing keyspace ks"), "{out}");
        assert_eq!(lines[1], "[T] Repair session s1: 0/4 ranges, 0 bytes streamed");
        assert_eq!(lines[2], "[T] Repair session s1: 2/4 ranges, 2 KiB streamed");
        assert_eq!(lines[3], "[T] Repair session s1: 4/4 ranges, 4 KiB streamed");
        assert!(
            lines[4].starts_with("[T] Repair session s1 completed successfully in ")
                && lines[4].ends_with("s: 4/4 ranges, 2 mismatched, 4 KiB streamed (8 partitions)"),
            "{out}"
        );
    }

    #[test]
    fn a_preview_ends_with_the_mismatched_range_count() {
        let api = Canned::new(&[R2, DONE]);
        let (result, out) = run_canned(&api, true);
        assert!(result.is_ok());
        assert!(
            out.ends_with("[T] Repair session s1: 4/4 ranges, 4 KiB streamed\n2 mismatched ranges\n"),
            "{out}"
        );
        assert!(out.contains("previewKind: UNREPAIRED"), "{out}");
    }

    #[test]
    fn a_failed_session_is_an_error_with_its_message() {
        let api = Canned::new(&[
            R2,
            r#"{"state": "failed", "ranges_total": 4, "ranges_done": 3, "error": "node 127.0.0.2 is down"}"#,
        ]);
        let (result, out) = run_canned(&api, false);
        let e = result.unwrap_err();
        assert_eq!(e.to_string(), "repair session s1 failed: node 127.0.0.2 is down");
        assert!(out.ends_with("[T] Repair session s1: 3/4 ranges, n/a streamed\n"), "{out}");
        let api = Canned::new(&[r#"{"state": "FAILED"}"#]);
        let e = run_canned(&api, false).0.unwrap_err();
        assert!(e.to_string().starts_with("repair session s1 failed: n/a"), "{e}");
    }

    #[test]
    fn losing_the_session_is_an_error_naming_it() {
        let api = Canned::new(&[R0]);
        let e = run_canned(&api, false).0.unwrap_err();
        assert!(matches!(e, RepairError::Poll { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "lost track of repair session s1 (it may still be running on the node): no repair session s1 (HTTP 404)"
        );
    }
}
