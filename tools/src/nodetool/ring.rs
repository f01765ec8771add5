//! Where data lives on the token ring, as one node sees it: `tess ring [KS]` (every token, per
//! datacenter, like `nodetool ring`), `tess describering KS` (each range with its replicas, like
//! `nodetool describering`) and `tess getendpoints KS TABLE KEY` (the replicas of one partition).
//!
//! The JSON; any field may be missing or null, and prints as `n/a`:
//!
//! | request                                | answer |
//! |----------------------------------------|--------|
//! | `GET /v1/ring[?keyspace=KS]`           | `{"nodes": [{"token": "-123", "address", "dc", "rack", "up": bool, "status": "NORMAL", "load_bytes": u64, "ownership": f64 \| null}]}`, one entry per token |
//! | `GET /v1/describering/KS`              | `{"ranges": [{"start_token", "end_token", "endpoints": [..], "rpc_endpoints": [..], "endpoint_details": [{"host", "datacenter", "rack"}]}]}` |
//! | `GET /v1/endpoints/KS/TABLE?key=KEY`   | `{"endpoints": ["127.0.0.1", ...]}` |
//!
//! `ownership` is a fraction of the ring (0..=1) as in `/v1/status`: effective ownership for
//! `KS`'s replication when a keyspace is given, raw token ownership otherwise.

use super::format::{NA, bytes_or_na, or_na};
use super::status::RAW_OWNERSHIP_NOTE;
use serde::Deserialize;

/// The `/v1/ring` answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RingReport {
    pub nodes: Vec<RingEntry>,
}

/// One token and the node that owns it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RingEntry {
    pub token: Option<String>,
    pub address: Option<String>,
    pub dc: Option<String>,
    pub rack: Option<String>,
    pub up: Option<bool>,
    pub status: Option<String>,
    pub load_bytes: Option<u64>,
    /// Fraction of the ring, 0..=1.
    pub ownership: Option<f64>,
}

/// nodetool ring's closing warning.
pub const RING_WARNING: &str = "  Warning: \"tess ring\" is used to output all the tokens of a node.\n  \
                                To view status related info of a node use \"tess status\" instead.\n";

/// nodetool's state word for a node status.
fn state(status: Option<&str>) -> String {
    let Some(s) = status else { return NA.to_string() };
    match s.to_ascii_uppercase().as_str() {
        "NORMAL" | "SHUTDOWN" => "Normal".to_string(),
        "JOINING" => "Joining".to_string(),
        "LEAVING" => "Leaving".to_string(),
        "MOVING" => "Moving".to_string(),
        _ => s.to_string(),
    }
}

/// Orders tokens numerically (Murmur3 tokens are i64), anything unparsable after them.
fn token_key(t: Option<&str>) -> (Option<i64>, bool, String) {
    let parsed = t.and_then(|t| t.trim().parse::<i64>().ok());
    (parsed, parsed.is_none(), t.unwrap_or_default().to_string())
}

/// Rows padded to at least nodetool ring's column widths (`%-12s%-7s%-8s%-16s%-20s` after the
/// address), wider when a cell needs it; trailing spaces trimmed.
fn fixed_columns(rows: &[[String; 7]]) -> Vec<String> {
    let address = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0) + 2;
    let mut widths = [address, 12, 7, 8, 16, 20, 0];
    for row in rows {
        for (c, cell) in row.iter().enumerate().take(6) {
            widths[c] = widths[c].max(cell.chars().count() + 1);
        }
    }
    rows.iter()
        .map(|row| {
            let line: String = row.iter().zip(widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
            line.trim_end().to_string()
        })
        .collect()
}

/// The ring as `nodetool ring` prints it; `keyspace` is the one asked for, if any.
pub fn render_ring(report: &RingReport, keyspace: Option<&str>) -> String {
    let mut dcs: Vec<Option<&str>> = report.nodes.iter().map(|n| n.dc.as_deref()).collect();
    dcs.sort_unstable();
    dcs.dedup();
    let mut out = String::new();
    if keyspace.is_none() {
        out.push_str(RAW_OWNERSHIP_NOTE);
        out.push_str("\n\n");
    }
    for dc in dcs {
        let mut entries: Vec<&RingEntry> = report.nodes.iter().filter(|n| n.dc.as_deref() == dc).collect();
        entries.sort_by_key(|e| token_key(e.token.as_deref()));
        out.push_str(&format!("Datacenter: {}\n==========\n", dc.unwrap_or(NA)));
        let blank = || String::new();
        let mut rows =
            vec![["Address", "Rack", "Status", "State", "Load", "Owns", "Token"].map(String::from)];
        if entries.len() > 1 {
            let last = entries.last().map(|e| or_na(e.token.as_ref())).unwrap_or_default();
            rows.push([blank(), blank(), blank(), blank(), blank(), blank(), last]);
        }
        for e in entries {
            let owns = match e.ownership {
                Some(f) if f.is_finite() => format!("{:.2}%", f * 100.0),
                _ => NA.to_string(),
            };
            rows.push([
                or_na(e.address.as_ref()),
                or_na(e.rack.as_ref()),
                e.up.map_or_else(|| NA.to_string(), |up| if up { "Up" } else { "Down" }.to_string()),
                state(e.status.as_deref()),
                bytes_or_na(e.load_bytes),
                owns,
                or_na(e.token.as_ref()),
            ]);
        }
        for line in fixed_columns(&rows) {
            out.push_str(&line);
            out.push('\n');
        }
        out.push('\n');
    }
    if report.nodes.is_empty() {
        out.push_str("no tokens known\n\n");
    }
    out.push_str(RING_WARNING);
    out
}

/// The `/v1/describering/KS` answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DescribeRingReport {
    pub ranges: Vec<TokenRange>,
}

/// One range `(start_token, end_token]` and its replicas.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TokenRange {
    pub start_token: Option<String>,
    pub end_token: Option<String>,
    pub endpoints: Option<Vec<String>>,
    pub rpc_endpoints: Option<Vec<String>>,
    pub endpoint_details: Option<Vec<EndpointDetails>>,
}

/// Where one replica of a range is.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EndpointDetails {
    pub host: Option<String>,
    pub datacenter: Option<String>,
    pub rack: Option<String>,
}

/// `[a, b, c]`, or `n/a` when missing.
fn list(items: Option<&[String]>) -> String {
    items.map_or_else(|| NA.to_string(), |items| format!("[{}]", items.join(", ")))
}

/// The ranges as `nodetool describering` prints them (Thrift's `TokenRange.toString()`).
pub fn render_describering(report: &DescribeRingReport) -> String {
    let mut out = String::from("TokenRange: \n");
    for r in &report.ranges {
        let details = r.endpoint_details.as_ref().map(|ds| {
            ds.iter()
                .map(|d| {
                    format!(
                        "EndpointDetails(host:{}, datacenter:{}, rack:{})",
                        or_na(d.host.as_ref()),
                        or_na(d.datacenter.as_ref()),
                        or_na(d.rack.as_ref())
                    )
                })
                .collect::<Vec<_>>()
        });
        out.push_str(&format!(
            "\tTokenRange(start_token:{}, end_token:{}, endpoints:{}, rpc_endpoints:{}, endpoint_details:{})\n",
            or_na(r.start_token.as_ref()),
            or_na(r.end_token.as_ref()),
            list(r.endpoints.as_deref()),
            list(r.rpc_endpoints.as_deref()),
            list(details.as_deref()),
        ));
    }
    out
}

/// The `/v1/endpoints/KS/TABLE?key=KEY` answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EndpointsReport {
    pub endpoints: Option<Vec<String>>,
}

/// One replica address per line, as `nodetool getendpoints` prints them.
pub fn render_endpoints(report: &EndpointsReport) -> String {
    match &report.endpoints {
        Some(endpoints) => endpoints.iter().map(|e| format!("{e}\n")).collect(),
        None => format!("{NA}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RING: &str = r#"{"nodes": [
        {"token": "-9000000000000000000", "address": "127.0.0.1", "dc": "dc1", "rack": "rack1", "up": true,
         "status": "NORMAL", "load_bytes": 1289748, "ownership": 0.5},
        {"token": "-100", "address": "127.0.0.2", "dc": "dc2", "rack": "rack1", "up": true,
         "status": "JOINING", "load_bytes": 1536, "ownership": 1.0},
        {"token": "-5", "address": "127.0.0.10", "dc": "dc1", "rack": "rack2", "up": false,
         "status": "NORMAL", "load_bytes": 0, "ownership": 0.5},
        {"token": "9000000000000000000", "address": "127.0.0.1", "dc": "dc1", "rack": "rack1", "up": true,
         "status": "NORMAL", "load_bytes": 1289748, "ownership": 0.5}
    ]}"#;

    #[test]
    fn renders_each_dc_with_its_last_token_first() {
        let report: RingReport = serde_json::from_str(RING).unwrap();
        let text = render_ring(&report, Some("ks"));
        let expected = format!(
            "\
Datacenter: dc1
==========
Address     Rack        Status State   Load            Owns                Token
                                                                           9000000000000000000
127.0.0.1   rack1       Up     Normal  1.23 MiB        50.00%              -9000000000000000000
127.0.0.10  rack2       Down   Normal  0 bytes         50.00%              -5
127.0.0.1   rack1       Up     Normal  1.23 MiB        50.00%              9000000000000000000

Datacenter: dc2
==========
Address    Rack        Status State   Load            Owns                Token
127.0.0.2  rack1       Up     Joining 1.5 KiB         100.00%             -100

{RING_WARNING}"
        );
        assert_eq!(text, expected, "\n{text}");
    }

    #[test]
    fn raw_ownership_is_noted_and_missing_fields_are_na() {
        let report: RingReport = serde_json::from_str(
            r#"{"nodes": [{"token": "42", "address": "127.0.0.1", "dc": "dc1", "ownership": null,
                            "rack": "a-rack-with-a-long-name", "up": null}]}"#,
        )
        .unwrap();
        let text = render_ring(&report, None);
        assert!(text.starts_with(&format!("{RAW_OWNERSHIP_NOTE}\n\nDatacenter: dc1\n")), "{text}");
        assert!(
            text.contains(
                "127.0.0.1  a-rack-with-a-long-name n/a    n/a     n/a             n/a                 42\n"
            ),
            "{text}"
        );
        let empty = render_ring(&RingReport::default(), Some("ks"));
        assert_eq!(empty, format!("no tokens known\n\n{RING_WARNING}"));
    }

    #[test]
    fn describering_prints_thrift_token_ranges() {
        let report: DescribeRingReport = serde_json::from_str(
            r#"{"ranges": [
                {"start_token": "-100", "end_token": "200", "endpoints": ["127.0.0.1", "127.0.0.2"],
                 "rpc_endpoints": ["127.0.0.1", "127.0.0.2"],
                 "endpoint_details": [{"host": "127.0.0.1", "datacenter": "dc1", "rack": "rack1"},
                                      {"host": "127.0.0.2", "datacenter": "dc1", "rack": null}]},
                {"start_token": "200", "end_token": null, "endpoints": []}]}"#,
        )
        .unwrap();
        let expected = "\
TokenRange: 
\tTokenRange(start_token:-100, end_token:200, endpoints:[127.0.0.1, 127.0.0.2], rpc_endpoints:[127.0.0.1, 127.0.0.2], endpoint_details:[EndpointDetails(host:127.0.0.1, datacenter:dc1, rack:rack1), EndpointDetails(host:127.0.0.2, datacenter:dc1, rack:n/a)])
\tTokenRange(start_token:200, end_token:n/a, endpoints:[], rpc_endpoints:n/a, endpoint_details:n/a)
";
        assert_eq!(render_describering(&report), expected, "\n{}", render_describering(&report));
    }

    #[test]
    fn endpoints_print_one_per_line() {
        let r: EndpointsReport = serde_json::from_str(r#"{"endpoints": ["127.0.0.1", "::1"]}"#).unwrap();
        assert_eq!(render_endpoints(&r), "127.0.0.1\n::1\n");
        assert_eq!(render_endpoints(&serde_json::from_str(r#"{"endpoints": []}"#).unwrap()), "");
        assert_eq!(render_endpoints(&serde_json::from_str(r#"{"endpoints": null}"#).unwrap()), "n/a\n");
    }
}
