//! The node's configuration: a YAML file (every key optional, Cassandra's names where they
//! exist), command-line overrides applied on top by the binary.
//!
//! ```yaml
//! cluster_name: Tessera Cluster
//! data_directory: ./data            # commitlog/, data/ (and later hints/) live under it
//! native_transport_address: 127.0.0.1
//! native_transport_port: 9042
//! commitlog_sync: periodic          # periodic | batch | group
//! commitlog_sync_period_ms: 10000   # periodic: fsync interval
//! commitlog_sync_group_window_ms: 15   # group: fsync window
//! commitlog_segment_size_mb: 32
//! commitlog_total_space_mb: 1024
//! memtable_space_mb: 256
//! chunk_cache_size_mb: 128
//! concurrent_compactors: 1
//! listen_address: 127.0.0.1         # internode TCP and gossip UDP
//! storage_port: 7000
//! seeds: [127.0.0.1]                # addresses (the storage port) or address:port
//! dc: dc1
//! rack: rack1
//! num_tokens: 16
//! initial_token: "-9000,0,9000"     # instead of choosing tokens on first start
//! gossip_interval_ms: 500
//! phi_convict_threshold: 8
//! ```

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use storage::commitlog::SyncMode;

/// How the commit log is synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommitlogSync {
    /// fsync every `commitlog_sync_period_ms`; writes are acknowledged before.
    Periodic,
    /// A write is acknowledged after the fsync that covers it (group commit).
    Batch,
    /// fsync once per `commitlog_sync_group_window_ms`; writes wait for it.
    Group,
}

impl std::str::FromStr for CommitlogSync {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        match s {
            "periodic" => Ok(CommitlogSync::Periodic),
            "batch" => Ok(CommitlogSync::Batch),
            "group" => Ok(CommitlogSync::Group),
            other => anyhow::bail!("unknown commitlog_sync '{other}': expected periodic, batch or group"),
        }
    }
}

/// The node's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Name shared by every node of a cluster.
    pub cluster_name: String,
    /// Root of the node's files.
    pub data_directory: PathBuf,
    /// Internode address.
    pub listen_address: String,
    /// Internode port.
    pub storage_port: u16,
    /// CQL address.
    pub native_transport_address: String,
    /// CQL port.
    pub native_transport_port: u16,
    /// Admin HTTP address.
    pub admin_address: String,
    /// Admin HTTP port.
    pub admin_port: u16,
    /// Seed addresses.
    pub seeds: Vec<String>,
    /// Datacenter.
    pub dc: String,
    /// Rack.
    pub rack: String,
    /// Tokens per node.
    pub num_tokens: u32,
    /// The node's tokens, comma-separated, instead of choosing them on first start (as many
    /// as `num_tokens`).
    pub initial_token: Option<String>,
    /// Gossip round interval.
    pub gossip_interval_ms: u64,
    /// Failure detector: phi above which a node is marked down.
    pub phi_convict_threshold: f64,
    /// Commit log sync mode.
    pub commitlog_sync: CommitlogSync,
    /// Periodic mode's fsync interval.
    pub commitlog_sync_period_ms: u64,
    /// Group mode's fsync window.
    pub commitlog_sync_group_window_ms: u64,
    /// Commit log segment size.
    pub commitlog_segment_size_mb: u64,
    /// Commit log space before the oldest segment's tables are flushed.
    pub commitlog_total_space_mb: u64,
    /// Memtable memory before the largest is flushed.
    pub memtable_space_mb: u64,
    /// Decompressed chunk cache.
    pub chunk_cache_size_mb: u64,
    /// Background compactions at once.
    pub concurrent_compactors: usize,
    /// Hinted handoff on or off.
    pub hinted_handoff_enabled: bool,
    /// How long hints are kept for a down node.
    pub max_hint_window_ms: u64,
    /// Read timeout.
    pub read_request_timeout_ms: u64,
    /// Write timeout.
    pub write_request_timeout_ms: u64,
    /// `AllowAllAuthenticator` or `PasswordAuthenticator`.
    pub authenticator: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cluster_name: "Tessera Cluster".into(),
            data_directory: PathBuf::from("./data"),
            listen_address: "127.0.0.1".into(),
            storage_port: 7000,
            native_transport_address: "127.0.0.1".into(),
            native_transport_port: 9042,
            admin_address: "127.0.0.1".into(),
            admin_port: 10000,
            seeds: vec!["127.0.0.1".into()],
            dc: "dc1".into(),
            rack: "rack1".into(),
            num_tokens: 16,
            initial_token: None,
            gossip_interval_ms: 500,
            phi_convict_threshold: 8.0,
            commitlog_sync: CommitlogSync::Periodic,
            commitlog_sync_period_ms: 10_000,
            commitlog_sync_group_window_ms: 15,
            commitlog_segment_size_mb: 32,
            commitlog_total_space_mb: 1024,
            memtable_space_mb: 256,
            chunk_cache_size_mb: 128,
            concurrent_compactors: 1,
            hinted_handoff_enabled: true,
            max_hint_window_ms: 10_800_000,
            read_request_timeout_ms: 5_000,
            write_request_timeout_ms: 2_000,
            authenticator: "AllowAllAuthenticator".into(),
        }
    }
}

impl Config {
    /// Parses a YAML document; unknown keys are an error naming the key.
    pub fn from_yaml(text: &str) -> anyhow::Result<Config> {
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let c: Config = serde_norway::from_str(text)?;
        c.validate()?;
        Ok(c)
    }

    /// Reads and parses a YAML file.
    pub fn from_file(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
        Config::from_yaml(&text).map_err(|e| anyhow::anyhow!("invalid config {}: {e}", path.display()))
    }

    /// Checks values a YAML type cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.commitlog_segment_size_mb >= 1, "commitlog_segment_size_mb must be at least 1");
        anyhow::ensure!(self.commitlog_sync_period_ms >= 1, "commitlog_sync_period_ms must be at least 1");
        anyhow::ensure!(
            self.commitlog_sync_group_window_ms >= 1,
            "commitlog_sync_group_window_ms must be at least 1"
        );
        anyhow::ensure!(self.memtable_space_mb >= 1, "memtable_space_mb must be at least 1");
        anyhow::ensure!(self.concurrent_compactors >= 1, "concurrent_compactors must be at least 1");
        anyhow::ensure!((1..=1536).contains(&self.num_tokens), "num_tokens must be between 1 and 1536");
        anyhow::ensure!(self.gossip_interval_ms >= 10, "gossip_interval_ms must be at least 10");
        anyhow::ensure!(self.phi_convict_threshold > 0.0, "phi_convict_threshold must be positive");
        if let Some(tokens) = self.initial_tokens()? {
            anyhow::ensure!(
                tokens.len() == self.num_tokens as usize,
                "initial_token lists {} tokens but num_tokens is {}",
                tokens.len(),
                self.num_tokens
            );
        }
        Ok(())
    }

    /// `initial_token` parsed: distinct tokens, sorted.
    pub fn initial_tokens(&self) -> anyhow::Result<Option<Vec<i64>>> {
        let Some(text) = &self.initial_token else { return Ok(None) };
        let mut tokens = Vec::new();
        for t in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let v: i64 = t.parse().map_err(|_| {
                anyhow::anyhow!("initial_token: '{t}' is not a Murmur3 token (a 64-bit integer)")
            })?;
            anyhow::ensure!(v != i64::MIN, "initial_token: {v} is the ring's minimum, not a token");
            tokens.push(v);
        }
        tokens.sort_unstable();
        let n = tokens.len();
        tokens.dedup();
        anyhow::ensure!(tokens.len() == n, "initial_token lists a token twice");
        anyhow::ensure!(!tokens.is_empty(), "initial_token is empty");
        Ok(Some(tokens))
    }

    /// The storage engine configuration this implies.
    pub fn engine_config(&self) -> storage::EngineConfig {
        let mut e = storage::EngineConfig::new(&self.data_directory);
        e.commitlog_sync = match self.commitlog_sync {
            CommitlogSync::Periodic => {
                SyncMode::Periodic { period: Duration::from_millis(self.commitlog_sync_period_ms) }
            }
            CommitlogSync::Batch => SyncMode::Batch,
            CommitlogSync::Group => {
                SyncMode::Group { window: Duration::from_millis(self.commitlog_sync_group_window_ms) }
            }
        };
        e.commitlog_segment_size = self.commitlog_segment_size_mb << 20;
        e.commitlog_total_space = self.commitlog_total_space_mb << 20;
        e.memtable_space = (self.memtable_space_mb << 20) as usize;
        e.chunk_cache_size = self.chunk_cache_size_mb << 20;
        e.concurrent_compactors = self.concurrent_compactors;
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::from_yaml("").unwrap();
        assert_eq!(c.native_transport_port, 9042);
        assert_eq!(c.data_directory, PathBuf::from("./data"));
        assert_eq!(c.commitlog_sync, CommitlogSync::Periodic);
    }

    #[test]
    fn keys_override_defaults() {
        let c = Config::from_yaml("commitlog_sync: batch\ndata_directory: /tmp/x\nmemtable_space_mb: 8\n")
            .unwrap();
        assert_eq!(c.commitlog_sync, CommitlogSync::Batch);
        assert_eq!(c.engine_config().memtable_space, 8 << 20);
        assert!(matches!(c.engine_config().commitlog_sync, SyncMode::Batch));
    }

    #[test]
    fn initial_tokens_are_parsed_and_checked() {
        let c = Config::from_yaml("num_tokens: 3\ninitial_token: \"9, -4 ,0\"\n").unwrap();
        assert_eq!(c.initial_tokens().unwrap(), Some(vec![-4, 0, 9]));
        for (yaml, needle) in [
            ("num_tokens: 2\ninitial_token: \"1,2,3\"\n", "lists 3 tokens"),
            ("num_tokens: 2\ninitial_token: \"1,x\"\n", "'x'"),
            ("num_tokens: 2\ninitial_token: \"1,1\"\n", "twice"),
            ("num_tokens: 0\n", "num_tokens"),
        ] {
            let e = Config::from_yaml(yaml).unwrap_err().to_string();
            assert!(e.contains(needle), "{yaml}: {e}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let e = Config::from_yaml("commitlog_synk: batch\n").unwrap_err().to_string();
        assert!(e.contains("commitlog_synk"), "{e}");
        let e = Config::from_yaml("commitlog_sync: sometimes\n").unwrap_err().to_string();
        assert!(e.contains("sometimes") || e.contains("variant"), "{e}");
        let e = Config::from_yaml("concurrent_compactors: 0\n").unwrap_err().to_string();
        assert!(e.contains("concurrent_compactors"), "{e}");
    }
}
