//! `tess cluster`: starts, stops and inspects a local multi-node, multi-dc cluster for
//! development, in the spirit of ccm. Called by the `tess` binary.
//!
//! A cluster lives in one directory: `cluster.json` (see `layout::ClusterFile`) and one
//! `node<i>/` per node holding `node.yaml`, `node.log`, `pid` and `data/`. Node i runs
//! `tessera --config node<i>/node.yaml` on 127.0.0.i with the default ports, detached from
//! `tess` (see `process`). `layout` decides dcs, racks, seeds and tokens; `tokens` computes the
//! evenly spaced `initial_token` lists.

pub mod layout;
pub mod process;
pub mod tokens;

use crate::table::align;
use anyhow::{Context, bail};
use layout::{ClusterFile, ClusterSpec, NodeEntry};
use nix::sys::signal::Signal;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// How long `up` and `start` wait for every node to answer on its CQL port.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `stop` waits for the nodes to drain and exit.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a long wait says what it is waiting for.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// Log lines shown when a node dies while starting.
const LOG_TAIL_LINES: usize = 30;

/// What `tess cluster up` was asked for.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub dir: PathBuf,
    pub spec: ClusterSpec,
    /// The `tessera` binary; by default the one beside `tess`.
    pub bin: Option<PathBuf>,
    /// More configuration for every node, as `key: value` lines of its `node.yaml`.
    pub settings: Vec<(String, String)>,
}

/// The keys `tess cluster up` sets itself, per node.
const OWN_KEYS: [&str; 12] = [
    "cluster_name",
    "data_directory",
    "listen_address",
    "storage_port",
    "native_transport_address",
    "native_transport_port",
    "admin_address",
    "admin_port",
    "seeds",
    "dc",
    "rack",
    "num_tokens",
];

/// A `--set KEY=VALUE` argument, checked: a plain key that the cluster does not set itself, and
/// a one-line value.
pub fn parse_setting(arg: &str) -> Result<(String, String), String> {
    let (key, value) = arg.split_once('=').ok_or_else(|| format!("'{arg}' is not KEY=VALUE"))?;
    let (key, value) = (key.trim(), value.trim());
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(format!("'{key}' is not a configuration key (lowercase letters, digits and _)"));
    }
    if OWN_KEYS.contains(&key) || key == "initial_token" {
        return Err(format!(
            "{key} is set by tess cluster for each node (see --nodes, --dcs, --racks, --num-tokens)"
        ));
    }
    if value.is_empty() || value.contains(['\n', '\r']) {
        return Err(format!("{key} needs a one-line value"));
    }
    Ok((key.to_string(), value.to_string()))
}

fn absolute(dir: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(dir).with_context(|| format!("bad directory {}", dir.display()))
}

fn cluster_json(dir: &Path) -> PathBuf {
    dir.join("cluster.json")
}

/// The cluster in `dir`, if `cluster.json` is there.
fn try_load(dir: &Path) -> anyhow::Result<Option<ClusterFile>> {
    let path = cluster_json(dir);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a valid cluster file", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// The cluster in `dir` (its absolute path and `cluster.json`), or an error saying how to make
/// one.
pub fn load(dir: &Path) -> anyhow::Result<(PathBuf, ClusterFile)> {
    let dir = absolute(dir)?;
    match try_load(&dir)? {
        Some(f) => Ok((dir, f)),
        None => bail!(
            "no cluster in {} (no cluster.json): create one with `tess cluster up --nodes N --dir {}`",
            dir.display(),
            dir.display()
        ),
    }
}

/// The binary to run: `bin` if given, else `tessera` beside this executable.
fn resolve_bin(bin: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = match bin {
        Some(b) => absolute(b)?,
        None => process::default_bin()?,
    };
    if !path.is_file() {
        match bin {
            Some(_) => bail!("--bin {}: no such file", path.display()),
            None => bail!(
                "no tessera binary beside tess ({}): build it with `cargo build --bin tessera`, or pass --bin PATH",
                path.display()
            ),
        }
    }
    Ok(path)
}

/// Refuses to start a node whose addresses are taken (say by a node of another cluster).
fn check_ports_free(node: &NodeEntry) -> anyhow::Result<()> {
    for (port, key) in [
        (node.native_transport_port, "native_transport_port"),
        (node.storage_port, "storage_port"),
        (node.admin_port, "admin_port"),
    ] {
        if process::accepts(&node.address, port) {
            bail!(
                "{}:{port} ({key} of {}) is already in use: is another node or cluster running there?",
                node.address,
                node.name()
            );
        }
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// `tess cluster up`: lays out the nodes' files and starts them, then waits for every node to
/// answer on its CQL port.
pub fn up(opts: &UpOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let dir = absolute(&opts.dir)?;
    let plan = layout::plan(&opts.spec)?;
    let bin = resolve_bin(opts.bin.as_deref())?;
    let file = ClusterFile::new(&plan, opts.spec.num_tokens, &dir, &bin);
    let fresh = match try_load(&dir)? {
        Some(old) => {
            let running: Vec<String> = old
                .nodes
                .iter()
                .filter_map(|n| process::running_pid(n).map(|pid| format!("{} (pid {pid})", n.name())))
                .collect();
            if !running.is_empty() {
                bail!(
                    "a cluster is already running in {d}: {}; stop it with `tess cluster stop --dir {d}` or remove \
                     it with `tess cluster down --dir {d}`",
                    running.join(", "),
                    d = dir.display()
                );
            }
            if !old.same_nodes(&file) {
                bail!(
                    "{d} holds another cluster ({}); remove it with `tess cluster down --dir {d}` or choose another --dir",
                    old.summary(),
                    d = dir.display()
                );
            }
            writeln!(out, "starting the stopped cluster in {} again (its data is kept)", dir.display())?;
            false
        }
        None => {
            if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
                bail!(
                    "{} exists and is not a cluster directory (no cluster.json): choose another --dir",
                    dir.display()
                );
            }
            true
        }
    };
    for n in &file.nodes {
        check_ports_free(n)?;
    }
    let seeds = layout::seeds(&plan);
    for (p, n) in plan.iter().zip(&file.nodes) {
        std::fs::create_dir_all(&n.dir).with_context(|| format!("cannot create {}", n.dir.display()))?;
        let mut yaml = layout::node_yaml(p, &seeds, opts.spec.num_tokens, &n.dir.join("data"));
        for (key, value) in &opts.settings {
            yaml.push_str(&format!("{key}: {value}\n"));
        }
        write_file(&n.config_path(), yaml.as_bytes())?;
    }
    write_file(&cluster_json(&dir), &serde_json::to_vec_pretty(&file)?)?;
    writeln!(out, "starting {} in {} with {}", file.summary(), dir.display(), bin.display())?;

    let started = Instant::now();
    let mut children = Vec::new();
    for n in &file.nodes {
        let child = process::spawn(&bin, n, fresh)?;
        writeln!(out, "  {} {} {}/{} pid {}", n.name(), n.address, n.dc, n.rack, child.id())?;
        children.push((n, child));
    }
    wait_up(&dir, children, out)?;
    wait_converged(&file.nodes, out)?;
    writeln!(
        out,
        "{} up in {:.1} s; CQL on 127.0.0.1-{}:{}, admin API on port {}; logs in {}/node*/node.log",
        file.summary(),
        started.elapsed().as_secs_f64(),
        file.nodes.len(),
        layout::NATIVE_TRANSPORT_PORT,
        layout::ADMIN_PORT,
        dir.display()
    )?;
    Ok(())
}

/// Waits until each started node accepts connections on its CQL port; fails as soon as one
/// exits (showing the end of its log) or after [`START_TIMEOUT`].
fn wait_up(dir: &Path, mut nodes: Vec<(&NodeEntry, Child)>, out: &mut dyn Write) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut pending: Vec<&NodeEntry> = nodes.iter().map(|(n, _)| *n).collect();
    let mut next_progress = started + PROGRESS_EVERY;
    loop {
        for (n, child) in &mut nodes {
            if let Some(status) = child.try_wait()? {
                process::forget_pid(n);
                let others = if nodes_running(&nodes_of(dir)) {
                    format!(
                        "\nthe other nodes are still running: `tess cluster stop --dir {}` stops them",
                        dir.display()
                    )
                } else {
                    String::new()
                };
                bail!(
                    "{} exited while starting ({status}); the end of {}:\n{}{others}",
                    n.name(),
                    n.log_path().display(),
                    process::tail(&n.log_path(), LOG_TAIL_LINES)
                );
            }
        }
        let mut still = Vec::new();
        for n in pending {
            if process::accepts(&n.address, n.native_transport_port) {
                writeln!(
                    out,
                    "  {} is up ({}:{}) after {:.1} s",
                    n.name(),
                    n.address,
                    n.native_transport_port,
                    started.elapsed().as_secs_f64()
                )?;
            } else {
                still.push(n);
            }
        }
        pending = still;
        if pending.is_empty() {
            return Ok(());
        }
        let names = pending.iter().map(|n| n.name()).collect::<Vec<_>>().join(", ");
        if started.elapsed() >= START_TIMEOUT {
            let logs =
                pending.iter().map(|n| n.log_path().display().to_string()).collect::<Vec<_>>().join(", ");
            bail!(
                "{names} did not answer on the CQL port within {} s (see {logs}); they are still running: `tess \
                 cluster stop --dir {}` stops them",
                START_TIMEOUT.as_secs(),
                dir.display()
            );
        }
        if Instant::now() >= next_progress {
            writeln!(out, "  waiting for {names} ({} s)", started.elapsed().as_secs())?;
            next_progress += PROGRESS_EVERY;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The addresses node `n` sees up, as its admin API reports them (empty if it does not answer).
fn seen_up(n: &NodeEntry) -> Vec<String> {
    let client =
        crate::nodetool::admin::AdminClient::with_timeout(&n.address, n.admin_port, Duration::from_secs(5));
    let Ok(status) = client.get::<serde_json::Value>("/v1/status", &[]) else { return Vec::new() };
    status["nodes"]
        .as_array()
        .map(|ns| {
            ns.iter()
                .filter(|m| m["up"] == true)
                .filter_map(|m| m["address"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until every node of `nodes` sees every other one up (gossip has converged), so that
/// schema changes, writes and repairs reach them all; fails after [`START_TIMEOUT`].
fn wait_converged(nodes: &[NodeEntry], out: &mut dyn Write) -> anyhow::Result<()> {
    if nodes.len() < 2 {
        return Ok(());
    }
    let started = Instant::now();
    loop {
        let missing: Vec<String> = nodes
            .iter()
            .filter_map(|n| {
                let seen = seen_up(n);
                let lacking: Vec<&str> = nodes
                    .iter()
                    .map(|m| m.address.as_str())
                    .filter(|a| !seen.iter().any(|s| s == a))
                    .collect();
                (!lacking.is_empty()).then(|| format!("{} does not see {} up", n.name(), lacking.join(", ")))
            })
            .collect();
        if missing.is_empty() {
            writeln!(out, "  every node sees the others up after {:.1} s", started.elapsed().as_secs_f64())?;
            return Ok(());
        }
        if started.elapsed() >= START_TIMEOUT {
            bail!(
                "the nodes did not all see each other within {} s: {}",
                START_TIMEOUT.as_secs(),
                missing.join("; ")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The nodes of the cluster in `dir`, or none if it cannot be read.
fn nodes_of(dir: &Path) -> Vec<NodeEntry> {
    try_load(dir).ok().flatten().map(|f| f.nodes).unwrap_or_default()
}

fn nodes_running(nodes: &[NodeEntry]) -> bool {
    nodes.iter().any(|n| process::running_pid(n).is_some())
}

/// `tess cluster status`: each node's place and whether it runs.
pub fn status(dir: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let (dir, file) = load(dir)?;
    let mut rows = vec![["Node", "Address", "DC", "Rack", "PID", "State"].map(String::from).to_vec()];
    let mut running = 0;
    for n in &file.nodes {
        let pid = process::running_pid(n);
        running += usize::from(pid.is_some());
        rows.push(vec![
            n.name(),
            n.address.clone(),
            n.dc.clone(),
            n.rack.clone(),
            pid.map_or("-".to_string(), |p| p.to_string()),
            if pid.is_some() { "running" } else { "stopped" }.to_string(),
        ]);
    }
    writeln!(
        out,
        "Cluster '{}' in {}: {}, {running} running",
        file.cluster_name,
        dir.display(),
        file.summary()
    )?;
    for line in align(&rows) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Waits until none of `nodes` runs, up to `timeout`; `verb` names what is awaited.
fn wait_gone(
    nodes: Vec<&NodeEntry>,
    timeout: Duration,
    verb: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut next_progress = started + PROGRESS_EVERY;
    let mut pending = nodes;
    loop {
        let mut still = Vec::new();
        for n in pending {
            if process::running_pid(n).is_some() {
                still.push(n);
            } else {
                process::forget_pid(n);
                writeln!(out, "  {} {verb} after {:.1} s", n.name(), started.elapsed().as_secs_f64())?;
            }
        }
        pending = still;
        if pending.is_empty() {
            return Ok(());
        }
        let names = pending.iter().map(|n| n.name()).collect::<Vec<_>>().join(", ");
        if started.elapsed() >= timeout {
            bail!(
                "{names} still running after {} s; `tess cluster kill NODE` kills a node without draining it",
                timeout.as_secs()
            );
        }
        if Instant::now() >= next_progress {
            writeln!(out, "  waiting for {names} ({} s)", started.elapsed().as_secs())?;
            next_progress += PROGRESS_EVERY;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `tess cluster stop [NODE]`: SIGTERM (the node drains, then exits), and wait for the exit.
pub fn stop(dir: &Path, node: Option<u32>, out: &mut dyn Write) -> anyhow::Result<()> {
    let (_, file) = load(dir)?;
    stop_nodes(&file, node, out)
}

fn stop_nodes(file: &ClusterFile, node: Option<u32>, out: &mut dyn Write) -> anyhow::Result<()> {
    let targets: Vec<&NodeEntry> = match node {
        Some(i) => vec![file.node(i)?],
        None => file.nodes.iter().collect(),
    };
    let started = Instant::now();
    let mut stopping = Vec::new();
    for n in targets {
        match process::signal(n, Signal::SIGTERM)? {
            Some(pid) => {
                writeln!(out, "stopping {} (pid {pid})", n.name())?;
                stopping.push(n);
            }
            None => {
                process::forget_pid(n);
                writeln!(out, "{} is not running", n.name())?;
            }
        }
    }
    let count = stopping.len();
    wait_gone(stopping, STOP_TIMEOUT, "stopped", out)?;
    if count > 0 {
        let nodes = if count == 1 { "1 node".to_string() } else { format!("{count} nodes") };
        writeln!(out, "stopped {nodes} in {:.1} s", started.elapsed().as_secs_f64())?;
    }
    Ok(())
}

/// `tess cluster kill NODE`: SIGKILL, no drain (a crash, for testing recovery).
pub fn kill(dir: &Path, node: u32, out: &mut dyn Write) -> anyhow::Result<()> {
    let (_, file) = load(dir)?;
    let n = file.node(node)?;
    match process::signal(n, Signal::SIGKILL)? {
        Some(pid) => {
            writeln!(out, "killing {} (pid {pid})", n.name())?;
            wait_gone(vec![n], Duration::from_secs(10), "killed", out)
        }
        None => {
            process::forget_pid(n);
            writeln!(out, "{} is not running", n.name())?;
            Ok(())
        }
    }
}

/// `tess cluster start NODE`: starts a stopped node again with its configuration and data.
pub fn start(dir: &Path, node: u32, bin: Option<&Path>, out: &mut dyn Write) -> anyhow::Result<()> {
    let (dir, file) = load(dir)?;
    let n = file.node(node)?;
    if let Some(pid) = process::running_pid(n) {
        bail!("{} is already running (pid {pid})", n.name());
    }
    if !n.config_path().is_file() {
        bail!("{} is missing: recreate the cluster with `tess cluster up`", n.config_path().display());
    }
    let bin = resolve_bin(Some(bin.unwrap_or(&file.bin)))?;
    check_ports_free(n)?;
    let started = Instant::now();
    let child = process::spawn(&bin, n, false)?;
    writeln!(out, "starting {} ({} {}/{}) pid {}", n.name(), n.address, n.dc, n.rack, child.id())?;
    wait_up(&dir, vec![(n, child)], out)?;
    let running: Vec<NodeEntry> = file
        .nodes
        .iter()
        .filter(|m| m.index == n.index || process::running_pid(m).is_some())
        .cloned()
        .collect();
    wait_converged(&running, out)?;
    writeln!(out, "{} up in {:.1} s", n.name(), started.elapsed().as_secs_f64())?;
    Ok(())
}

/// `tess cluster down`: stops every node, then deletes the cluster directory. Nothing is deleted
/// unless `cluster.json` says it is a cluster directory and every node has stopped.
pub fn down(dir: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let (dir, file) = load(dir)?;
    stop_nodes(&file, None, out).context("not removing the cluster directory")?;
    std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    writeln!(out, "removed {}", dir.display())?;
    Ok(())
}
