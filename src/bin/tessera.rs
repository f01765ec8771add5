//! `tessera`: the database node. `tessera [--config node.yaml] [overrides]`.
//!
//! Without a config file the node runs with embedded defaults: data under `./data`, CQL on
//! 127.0.0.1:9042 (see `server::config`).

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(name = "tessera", version, about = "A Tessera database node")]
struct Args {
    /// YAML configuration file (every key optional).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Overrides `data_directory`.
    #[arg(long)]
    data_directory: Option<PathBuf>,
    /// Overrides `commitlog_sync` (periodic, batch or group).
    #[arg(long)]
    commitlog_sync: Option<String>,
}

fn main() -> anyhow::Result<()> {
    // Colour only on a terminal: log files stay greppable.
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let mut config = match &args.config {
        Some(p) => server::config::Config::from_file(p)?,
        None => server::config::Config::default(),
    };
    if let Some(d) = args.data_directory {
        config.data_directory = d;
    }
    if let Some(s) = args.commitlog_sync {
        config.commitlog_sync = s.parse()?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(server::node::run(config)).context("node failed")
}
