//! `tess status [KEYSPACE]`: the admin API's `/v1/status` answer, printed as `nodetool status`
//! prints it — per datacenter, a legend and one line per node: status and state (`UN`, `DN`,
//! `UJ`, `UL`, ...), address, load, tokens, ownership, host id, rack.
//!
//! The JSON (`GET /v1/status[?keyspace=KS]`):
//!
//! ```json
//! {"cluster_name": "Tessera Cluster", "keyspace": "ks" | null,
//!  "nodes": [{"host_id": "<uuid>", "address": "127.0.0.1", "dc": "dc1", "rack": "rack1",
//!             "up": true, "status": "NORMAL" | "JOINING" | "LEAVING" | "SHUTDOWN",
//!             "load_bytes": 1234, "tokens": 16, "ownership": 0.333}]}
//! ```
//!
//! `ownership` is a fraction: effective ownership (replication included) when a keyspace is
//! given, raw token ownership otherwise.

use super::format::human_bytes;
use crate::table::align;
use serde::Deserialize;
use std::net::IpAddr;

/// The `/v1/status` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct StatusReport {
    #[serde(default)]
    pub cluster_name: String,
    #[serde(default)]
    pub keyspace: Option<String>,
    pub nodes: Vec<NodeStatus>,
}

/// One node as the answering node sees it.
#[derive(Debug, Clone, Deserialize)]
pub struct NodeStatus {
    pub host_id: String,
    pub address: String,
    pub dc: String,
    pub rack: String,
    pub up: bool,
    pub status: String,
    #[serde(default)]
    pub load_bytes: u64,
    #[serde(default)]
    pub tokens: u32,
    /// Fraction of the ring, 0..=1; `null` when unknown.
    #[serde(default)]
    pub ownership: Option<f64>,
}

/// Cassandra's note when ownership is not effective ownership.
pub const RAW_OWNERSHIP_NOTE: &str = "Note: Non-system keyspaces don't have the same replication settings, effective ownership information is meaningless";

/// `U`/`D` then the state letter, as nodetool abbreviates them.
fn code(n: &NodeStatus) -> String {
    let state = match n.status.to_ascii_uppercase().as_str() {
        "NORMAL" | "SHUTDOWN" => 'N',
        "JOINING" => 'J',
        "LEAVING" => 'L',
        "MOVING" => 'M',
        _ => '?',
    };
    format!("{}{state}", if n.up { 'U' } else { 'D' })
}

/// A fraction as a percentage with one decimal; `?` when unknown.
fn percent(fraction: Option<f64>) -> String {
    match fraction {
        Some(f) if f.is_finite() => format!("{:.1}%", f * 100.0),
        _ => "?".to_string(),
    }
}

/// Orders addresses numerically when they parse, textually otherwise.
fn address_key(a: &str) -> (Option<IpAddr>, &str) {
    (a.parse().ok(), a)
}

/// The report as `nodetool status` prints it.
pub fn render(report: &StatusReport) -> String {
    let mut dcs: Vec<&str> = report.nodes.iter().map(|n| n.dc.as_str()).collect();
    dcs.sort_unstable();
    dcs.dedup();
    let effective = report.keyspace.is_some();
    let owns = if effective { "Owns (effective)" } else { "Owns" };
    let mut out = String::new();
    for (i, dc) in dcs.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let title = format!("Datacenter: {dc}");
        out.push_str(&format!("{title}\n{}\n", "=".repeat(title.chars().count())));
        out.push_str("Status=Up/Down\n|/ State=Normal/Leaving/Joining/Moving\n");
        let mut nodes: Vec<&NodeStatus> = report.nodes.iter().filter(|n| n.dc == *dc).collect();
        nodes.sort_by(|a, b| address_key(&a.address).cmp(&address_key(&b.address)));
        let mut rows =
            vec![["--", "Address", "Load", "Tokens", owns, "Host ID", "Rack"].map(String::from).to_vec()];
        for n in nodes {
            rows.push(vec![
                code(n),
                n.address.clone(),
                human_bytes(n.load_bytes),
                n.tokens.to_string(),
                percent(n.ownership),
                n.host_id.clone(),
                n.rack.clone(),
            ]);
        }
        for line in align(&rows) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    if report.nodes.is_empty() {
        out.push_str("no nodes known\n");
    }
    if !effective {
        out.push('\n');
        out.push_str(RAW_OWNERSHIP_NOTE);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(json: &str) -> StatusReport {
        serde_json::from_str(json).unwrap()
    }

    const TWO_DCS: &str = r#"{
      "cluster_name": "Tessera Cluster", "keyspace": "ks",
      "nodes": [
        {"host_id": "33333333-3333-3333-3333-333333333333", "address": "127.0.0.3", "dc": "dc1", "rack": "rack2",
         "up": false, "status": "NORMAL", "load_bytes": 0, "tokens": 16, "ownership": 0.6666666},
        {"host_id": "22222222-2222-2222-2222-222222222222", "address": "127.0.0.2", "dc": "dc2", "rack": "rack1",
         "up": true, "status": "JOINING", "load_bytes": 1536, "tokens": 16, "ownership": 1.0},
        {"host_id": "11111111-1111-1111-1111-111111111111", "address": "127.0.0.1", "dc": "dc1", "rack": "rack1",
         "up": true, "status": "NORMAL", "load_bytes": 1289748, "tokens": 16, "ownership": 0.6666666},
        {"host_id": "44444444-4444-4444-4444-444444444444", "address": "127.0.0.10", "dc": "dc1", "rack": "rack1",
         "up": true, "status": "LEAVING", "load_bytes": 3221225472, "tokens": 16, "ownership": 0.6666666}
      ]}"#;

    #[test]
    fn renders_each_dc_with_effective_ownership() {
        let text = render(&report(TWO_DCS));
        let expected = "\
Datacenter: dc1
===============
Status=Up/Down
|/ State=Normal/Leaving/Joining/Moving
--  Address     Load      Tokens  Owns (effective)  Host ID                               Rack
UN  127.0.0.1   1.23 MiB  16      66.7%             11111111-1111-1111-1111-111111111111  rack1
DN  127.0.0.3   0 bytes   16      66.7%             33333333-3333-3333-3333-333333333333  rack2
UL  127.0.0.10  3 GiB     16      66.7%             44444444-4444-4444-4444-444444444444  rack1

Datacenter: dc2
===============
Status=Up/Down
|/ State=Normal/Leaving/Joining/Moving
--  Address    Load     Tokens  Owns (effective)  Host ID                               Rack
UJ  127.0.0.2  1.5 KiB  16      100.0%            22222222-2222-2222-2222-222222222222  rack1
";
        assert_eq!(text, expected, "\n{text}");
    }

    #[test]
    fn without_a_keyspace_ownership_is_raw_and_noted() {
        let r = report(
            r#"{"cluster_name": "c", "keyspace": null, "nodes": [
              {"host_id": "a", "address": "127.0.0.1", "dc": "dc1", "rack": "r1", "up": true, "status": "NORMAL",
               "load_bytes": 100, "tokens": 16, "ownership": 0.5},
              {"host_id": "b", "address": "127.0.0.2", "dc": "dc1", "rack": "r1", "up": false, "status": "SHUTDOWN",
               "load_bytes": 2048, "tokens": 16, "ownership": 0.5, "extra": "ignored"}]}"#,
        );
        let text = render(&r);
        assert!(text.contains("--  Address    Load       Tokens  Owns   Host ID  Rack\n"), "{text}");
        assert!(text.contains("UN  127.0.0.1  100 bytes  16      50.0%  a        r1\n"), "{text}");
        assert!(text.contains("DN  127.0.0.2  2 KiB      16      50.0%  b        r1\n"), "{text}");
        assert!(text.ends_with(&format!("\n\n{RAW_OWNERSHIP_NOTE}\n")), "{text}");
        assert!(!text.contains("effective)"));
    }

    #[test]
    fn odd_values_still_render() {
        let r = report(
            r#"{"keyspace": "ks", "nodes": [{"host_id": "a", "address": "::1", "dc": "dc1", "rack": "r",
                "up": true, "status": "moving", "ownership": null},
               {"host_id": "b", "address": "x", "dc": "dc1", "rack": "r", "up": true, "status": "WEIRD"}]}"#,
        );
        let text = render(&r);
        assert!(text.contains("UM  ::1      0 bytes  0       ?"), "{text}");
        assert!(text.contains("U?  x"), "{text}");
        assert_eq!(render(&report(r#"{"keyspace": "ks", "nodes": []}"#)), "no nodes known\n");
    }

    #[test]
    fn ownership_reads_like_nodetool() {
        assert_eq!(percent(Some(1.0 / 3.0)), "33.3%");
        assert_eq!(percent(Some(f64::NAN)), "?");
    }
}
