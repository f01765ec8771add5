//! A running node: opens the storage engine and serves until asked to stop (SIGINT or
//! SIGTERM), then drains — flushes every memtable so that the next start replays nothing.
//!
//! The CQL native transport, gossip and the admin API join here as they are built.

use crate::config::Config;
use std::sync::Arc;

/// Runs a node until a stop signal, then drains it.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let engine_config = config.engine_config();
    let dir = config.data_directory.clone();
    let engine = tokio::task::spawn_blocking(move || storage::Engine::open(engine_config)).await??;
    let engine = Arc::new(engine);
    let replay = engine.replay_summary();
    tracing::info!(
        data_directory = %dir.display(),
        tables = engine.tables().len(),
        replayed = replay.applied,
        corrupt_entries = replay.log.corrupt.len(),
        "storage engine open"
    );
    tracing::warn!(
        "the CQL native transport is not built yet: this node stores data but does not listen on {}:{}",
        config.native_transport_address,
        config.native_transport_port
    );
    wait_for_stop().await?;
    tracing::info!("stopping: draining memtables");
    let e = engine.clone();
    tokio::task::spawn_blocking(move || e.drain()).await??;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_stop() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}
