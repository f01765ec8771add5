//! `tess info`: the admin API's `/v1/info` answer about the node itself, printed as
//! `nodetool info` prints it — one `Label<padded to 23>: value` line per fact.
//!
//! The JSON (`GET /v1/info`); any field may be missing or null, and prints as `n/a`:
//!
//! ```json
//! {"host_id": "<uuid>", "address": "127.0.0.1", "dc": "dc1", "rack": "rack1",
//!  "gossip_active": true, "native_transport_active": true, "load_bytes": 1234,
//!  "generation": 1795255872, "uptime_seconds": 3600, "tokens": 16,
//!  "percent_repaired": 97.5, "release_version": "4.1.0", "tessera_version": "0.1.0",
//!  "hints_pending": 0}
//! ```

use super::format::{NA, bytes_or_na, or_na};
use serde::Deserialize;

/// The `/v1/info` answer.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct InfoReport {
    pub host_id: Option<String>,
    pub address: Option<String>,
    pub dc: Option<String>,
    pub rack: Option<String>,
    pub gossip_active: Option<bool>,
    pub native_transport_active: Option<bool>,
    pub load_bytes: Option<u64>,
    pub generation: Option<u64>,
    pub uptime_seconds: Option<u64>,
    pub tokens: Option<u32>,
    /// 0..=100.
    pub percent_repaired: Option<f64>,
    pub release_version: Option<String>,
    pub tessera_version: Option<String>,
    pub hints_pending: Option<u64>,
}

/// The report as `nodetool info` prints it.
pub fn render(r: &InfoReport) -> String {
    let percent = match r.percent_repaired {
        Some(p) if p.is_finite() => format!("{p:.1}%"),
        _ => NA.to_string(),
    };
    let tokens = match r.tokens {
        Some(n) => format!("(invoke 'tess ring' to see all {n} tokens)"),
        None => NA.to_string(),
    };
    let lines = [
        ("ID", or_na(r.host_id.as_ref())),
        ("Address", or_na(r.address.as_ref())),
        ("Gossip active", or_na(r.gossip_active)),
        ("Native Transport active", or_na(r.native_transport_active)),
        ("Load", bytes_or_na(r.load_bytes)),
        ("Generation No", or_na(r.generation)),
        ("Uptime (seconds)", or_na(r.uptime_seconds)),
        ("Data Center", or_na(r.dc.as_ref())),
        ("Rack", or_na(r.rack.as_ref())),
        ("Hints pending", or_na(r.hints_pending)),
        ("Percent Repaired", percent),
        ("Release version", or_na(r.release_version.as_ref())),
        ("Tessera version", or_na(r.tessera_version.as_ref())),
        ("Token", tokens),
    ];
    lines.iter().map(|(label, value)| format!("{label:<23}: {value}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_fact_like_nodetool_info() {
        let r: InfoReport = serde_json::from_str(
            r#"{"host_id": "11111111-1111-1111-1111-111111111111", "address": "127.0.0.1",
                "dc": "dc1", "rack": "rack1", "gossip_active": true, "native_transport_active": false,
                "load_bytes": 1289748, "generation": 1795255872, "uptime_seconds": 3600, "tokens": 16,
                "percent_repaired": 97.26, "release_version": "4.1.0", "tessera_version": "0.1.0",
                "hints_pending": 3, "something_new": [1, 2]}"#,
        )
        .unwrap();
        let expected = "\
ID                     : 11111111-1111-1111-1111-111111111111
Address                : 127.0.0.1
Gossip active          : true
Native Transport active: false
Load                   : 1.23 MiB
Generation No          : 1795255872
Uptime (seconds)       : 3600
Data Center            : dc1
Rack                   : rack1
Hints pending          : 3
Percent Repaired       : 97.3%
Release version        : 4.1.0
Tessera version        : 0.1.0
Token                  : (invoke 'tess ring' to see all 16 tokens)
";
        assert_eq!(render(&r), expected, "\n{}", render(&r));
    }

    #[test]
    fn missing_and_null_fields_print_na() {
        let r: InfoReport =
            serde_json::from_str(r#"{"host_id": null, "load_bytes": null, "percent_repaired": null}"#)
                .unwrap();
        let text = render(&r);
        assert_eq!(text.lines().count(), 14);
        for line in text.lines() {
            assert!(line.ends_with(": n/a"), "{line}");
        }
        assert_eq!(render(&InfoReport::default()), text);
    }
}
