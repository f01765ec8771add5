//! `tess netstats`: the admin API's `/v1/netstats` answer — what the node is doing on the
//! network — printed in `nodetool netstats`' layout: the mode, streaming, read repair, hinted
//! handoff and repair sessions, then a message pool table.
//!
//! The JSON (`GET /v1/netstats`); any field may be missing or null, and prints as `n/a`:
//!
//! ```json
//! {"mode": "NORMAL", "hints": {"pending": 0, "stored": 12, "replayed": 12}, "read_repairs": 3,
//!  "repair_sessions": {"running": 1, "completed": 4, "failed": 0}, "bytes_streamed": 1048576,
//!  "messages": {"sent": 1000, "received": 990, "dropped": 2}}
//! ```

use super::format::{bytes_or_na, or_na};
use crate::table::align;
use serde::Deserialize;

/// The `/v1/netstats` answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NetstatsReport {
    pub mode: Option<String>,
    pub hints: Option<HintStats>,
    pub read_repairs: Option<u64>,
    pub repair_sessions: Option<RepairSessionStats>,
    pub bytes_streamed: Option<u64>,
    pub messages: Option<MessageStats>,
}

/// Hints this node holds for others, and what it did with them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HintStats {
    pub pending: Option<u64>,
    pub stored: Option<u64>,
    pub replayed: Option<u64>,
}

/// Repair sessions this node coordinated.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RepairSessionStats {
    pub running: Option<u32>,
    pub completed: Option<u32>,
    pub failed: Option<u32>,
}

/// Internode messages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MessageStats {
    pub sent: Option<u64>,
    pub received: Option<u64>,
    pub dropped: Option<u64>,
}

/// The report in nodetool netstats' layout.
pub fn render(r: &NetstatsReport) -> String {
    let hints = r.hints.clone().unwrap_or_default();
    let repairs = r.repair_sessions.clone().unwrap_or_default();
    let messages = r.messages.clone().unwrap_or_default();
    let mut out = format!("Mode: {}\n", or_na(r.mode.as_ref()));
    out.push_str(&format!("Bytes streamed (repair): {}\n", bytes_or_na(r.bytes_streamed)));
    out.push_str(&format!("Read Repair Statistics:\nMismatch (Blocking): {}\n", or_na(r.read_repairs)));
    out.push_str(&format!(
        "Hinted Handoff:\nPending: {}\nStored: {}\nReplayed: {}\n",
        or_na(hints.pending),
        or_na(hints.stored),
        or_na(hints.replayed)
    ));
    out.push_str(&format!(
        "Repair Sessions:\nRunning: {}\nCompleted: {}\nFailed: {}\n",
        or_na(repairs.running),
        or_na(repairs.completed),
        or_na(repairs.failed)
    ));
    let rows = vec![
        ["Pool Name", "Sent", "Received", "Dropped"].map(String::from).to_vec(),
        vec!["Messages".to_string(), or_na(messages.sent), or_na(messages.received), or_na(messages.dropped)],
    ];
    for line in align(&rows) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_section() {
        let r: NetstatsReport = serde_json::from_str(
            r#"{"mode": "NORMAL", "hints": {"pending": 0, "stored": 12, "replayed": 12}, "read_repairs": 3,
                "repair_sessions": {"running": 1, "completed": 4, "failed": 0}, "bytes_streamed": 1048576,
                "messages": {"sent": 1000, "received": 990, "dropped": 2}}"#,
        )
        .unwrap();
        let expected = "\
Mode: NORMAL
Bytes streamed (repair): 1 MiB
Read Repair Statistics:
Mismatch (Blocking): 3
Hinted Handoff:
Pending: 0
Stored: 12
Replayed: 12
Repair Sessions:
Running: 1
Completed: 4
Failed: 0
Pool Name  Sent  Received  Dropped
Messages   1000  990       2
";
        assert_eq!(render(&r), expected, "\n{}", render(&r));
    }

    #[test]
    fn missing_sections_print_na() {
        let r: NetstatsReport =
            serde_json::from_str(r#"{"mode": null, "hints": null, "messages": {"sent": 5}}"#).unwrap();
        let text = render(&r);
        assert!(text.starts_with("Mode: n/a\nBytes streamed (repair): n/a\n"), "{text}");
        assert!(text.contains("Hinted Handoff:\nPending: n/a\nStored: n/a\nReplayed: n/a\n"), "{text}");
        assert!(text.ends_with("Messages   5     n/a       n/a\n"), "{text}");
        assert_eq!(render(&NetstatsReport::default()).lines().count(), 14);
    }
}
