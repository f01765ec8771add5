//! Helpers for end-to-end tests: a real `tessera` process on a loopback port with its own data
//! directory (killed on drop, so a failing test leaves nothing running), and the Python
//! clients installed by `scripts/test.sh` into `target/pyenv`.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// A node process.
pub struct TestNode {
    child: Option<Child>,
    lines: Option<Receiver<String>>,
    pub dir: tempfile::TempDir,
    pub host: String,
    pub port: u16,
    /// Internode TCP and gossip UDP.
    pub storage_port: u16,
    /// The admin HTTP API.
    pub admin_port: u16,
    extra_config: String,
}

/// The workspace root (the folder holding `Cargo.lock`): test crates nested under `tests/` share
/// this helper and the root's `target/`.
pub fn workspace_root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("Cargo.lock").exists() {
        assert!(dir.pop(), "no Cargo.lock above {}", env!("CARGO_MANIFEST_DIR"));
    }
    dir
}

/// The `tessera` binary: Cargo names it for the root package's tests; a nested test crate finds
/// it beside its own test executable (`target/<profile>/deps/..`), where `cargo build` or the
/// root package's test build put it.
pub fn tessera_bin() -> PathBuf {
    if let Some(bin) = option_env!("CARGO_BIN_EXE_tessera") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile_dir.join("tessera");
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build --bin tessera`), or run the whole suite with \
         scripts/test.sh",
        bin.display()
    );
    bin
}

fn free_port(host: &str) -> u16 {
    let l = std::net::TcpListener::bind((host, 0)).unwrap();
    l.local_addr().unwrap().port()
}

impl TestNode {
    /// Starts a node on 127.0.0.1 with `extra_config` YAML lines added to its configuration.
    pub fn start_with(extra_config: &str) -> TestNode {
        let host = "127.0.0.1".to_string();
        let port = free_port(&host);
        let storage_port = free_port(&host);
        let admin_port = free_port(&host);
        let mut n = TestNode {
            child: None,
            lines: None,
            dir: tempfile::tempdir().unwrap(),
            host,
            port,
            storage_port,
            admin_port,
            extra_config: extra_config.to_string(),
        };
        n.spawn();
        n
    }

    /// A node of a cluster: on `host`, with the cluster's shared ports and `config` lines.
    fn member(host: &str, port: u16, storage_port: u16, admin_port: u16, config: &str) -> TestNode {
        let mut n = TestNode {
            child: None,
            lines: None,
            dir: tempfile::tempdir().unwrap(),
            host: host.to_string(),
            port,
            storage_port,
            admin_port,
            extra_config: config.to_string(),
        };
        n.spawn();
        n
    }

    /// Stops the process with SIGTERM (a drain) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits for the process to exit by itself (after a drain) and returns its status.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("the node is not running");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "node {} did not exit", self.host);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts a stopped or killed node again on the same data.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "node {} is running", self.host);
        self.spawn();
    }

    /// Sends a signal (`STOP`, `CONT`, ...) to the process.
    pub fn signal(&self, sig: &str) {
        let status =
            Command::new("kill").arg(format!("-{sig}")).arg(self.pid().to_string()).status().unwrap();
        assert!(status.success(), "kill -{sig} failed");
    }

    /// GET `path` from the node's admin API: the body of a 200 answer.
    pub fn admin_get(&self, path: &str) -> String {
        let (status, body) = self.admin("GET", path, None);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// POST `body` (JSON) to `path` of the node's admin API: the body of a 200 answer.
    pub fn admin_post(&self, path: &str, body: &str) -> String {
        let (status, out) = self.admin("POST", path, Some(body));
        assert_eq!(status, 200, "POST {path}: {out}");
        out
    }

    /// An admin API request: the status code and the body.
    pub fn admin(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect((self.host.as_str(), self.admin_port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(600))).unwrap();
        let body = body.unwrap_or("");
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let (head, rest) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
        let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let chunked = head.lines().any(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("transfer-encoding:") && l.contains("chunked")
        });
        if !chunked {
            return (status, rest.to_string());
        }
        // Chunks: a hexadecimal length line, the bytes, CRLF; a zero length ends the body.
        let mut body = String::new();
        let mut rest = rest;
        while let Some((len, after)) = rest.split_once("\r\n") {
            let len = usize::from_str_radix(len.split(';').next().unwrap_or("").trim(), 16).unwrap();
            if len == 0 {
                break;
            }
            body.push_str(&after[..len]);
            rest = after[len..].strip_prefix("\r\n").unwrap_or(&after[len..]);
        }
        (status, body)
    }

    /// Starts a node with the defaults (and `commitlog_sync: batch`).
    pub fn start() -> TestNode {
        TestNode::start_with("commitlog_sync: batch\n")
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("node.yaml")
    }

    fn spawn(&mut self) {
        let data = self.dir.path().join("data");
        // A node alone is its own seed; cluster members get theirs in `extra_config`.
        let seeds = if self.extra_config.contains("seeds:") {
            String::new()
        } else {
            format!("seeds: [{}]\n", self.host)
        };
        let cfg = format!(
            "data_directory: {}\nnative_transport_address: {}\nnative_transport_port: {}\n\
             listen_address: {}\nstorage_port: {}\n{seeds}admin_address: {}\nadmin_port: {}\n{}",
            data.display(),
            self.host,
            self.port,
            self.host,
            self.storage_port,
            self.host,
            self.admin_port,
            self.extra_config
        );
        std::fs::write(self.config_path(), cfg).unwrap();
        let stderr = std::fs::File::create(self.dir.path().join("stderr.log")).unwrap();
        let mut child = Command::new(tessera_bin())
            .arg("--config")
            .arg(self.config_path())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        self.child = Some(child);
        self.lines = Some(rx);
        self.wait_for("listening for CQL clients");
    }

    /// Waits until the node logs a line containing `needle`.
    pub fn wait_for(&mut self, needle: &str) -> Vec<String> {
        let rx = self.lines.as_ref().unwrap();
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return seen;
                }
            }
        }
        let stderr = std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default();
        panic!("node {} never logged {needle:?}; output: {seen:#?}\nstderr: {stderr}", self.host);
    }

    /// Kills the process with SIGKILL (no drain).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kills the process and starts it again on the same data.
    pub fn restart_after_kill9(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The Python interpreter of the test venv (created by `scripts/test.sh`).
pub fn python() -> PathBuf {
    let p = workspace_root().join("target/pyenv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run the suite with scripts/test.sh, which installs the Python clients",
        p.display()
    );
    p
}

/// `cqlsh` from the test venv.
pub fn cqlsh() -> PathBuf {
    let p = workspace_root().join("target/pyenv/bin/cqlsh");
    assert!(p.exists(), "{} is missing: run the suite with scripts/test.sh", p.display());
    p
}

/// Runs `tests/python/<script>` against `node`, with `args`.
pub fn run_python(node: &TestNode, script: &str, args: &[&str]) -> Output {
    let path = workspace_root().join("tests/python").join(script);
    Command::new(python()).arg(path).arg(&node.host).arg(node.port.to_string()).args(args).output().unwrap()
}

/// Asserts that a client process succeeded, showing its output otherwise.
pub fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Nodes on 127.0.`block`.1, .2, ... sharing one set of ports (as on separate hosts), the first
/// node of each datacenter a seed. Each test uses its own `block`, so clusters of tests that
/// run at once never meet.
pub struct TestCluster {
    pub nodes: Vec<TestNode>,
}

impl TestCluster {
    /// Starts one node per `(dc, rack)`, one after another (each chooses its tokens once the
    /// earlier ones are in the ring); `config` lines are added to every node's configuration.
    pub fn start(block: u8, layout: &[(&str, &str)], config: &str) -> TestCluster {
        let ip = |i: usize| format!("127.0.{block}.{}", i + 1);
        let first = ip(0);
        let port = free_port(&first);
        let storage_port = free_port(&first);
        let admin_port = free_port(&first);
        let mut seeds: Vec<String> = Vec::new();
        for (i, (dc, _)) in layout.iter().enumerate() {
            if !layout[..i].iter().any(|(d, _)| d == dc) {
                seeds.push(ip(i));
            }
        }
        let mut nodes = Vec::new();
        for (i, (dc, rack)) in layout.iter().enumerate() {
            let cfg = format!(
                "commitlog_sync: batch\ncluster_name: Test Cluster {block}\nseeds: [{}]\ndc: {dc}\nrack: {rack}\n\
                 gossip_interval_ms: 100\n{config}",
                seeds.join(", ")
            );
            nodes.push(TestNode::member(&ip(i), port, storage_port, admin_port, &cfg));
        }
        let c = TestCluster { nodes };
        for i in 0..c.nodes.len() {
            c.wait_all_up(i);
        }
        c
    }

    /// The admin API's view from node `i`.
    pub fn status(&self, i: usize) -> serde_json::Value {
        serde_json::from_str(&self.nodes[i].admin_get("/v1/status")).unwrap()
    }

    /// Waits until node `i` sees node `j` (by address) up or down.
    pub fn wait_state(&self, i: usize, j: usize, up: bool) {
        let addr = self.nodes[j].host.clone();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.status(i);
            let seen =
                s["nodes"].as_array().unwrap().iter().any(|n| n["address"] == addr.as_str() && n["up"] == up);
            if seen {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node {i} never saw node {j} {}: {s}",
                if up { "up" } else { "down" }
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until node `i` sees every node up.
    pub fn wait_all_up(&self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.status(i);
            let nodes = s["nodes"].as_array().unwrap();
            if nodes.len() == self.nodes.len() && nodes.iter().all(|n| n["up"] == true) {
                return;
            }
            assert!(Instant::now() < deadline, "node {i} never saw all {} nodes up: {s}", self.nodes.len());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs `tests/python/<script>` with the contact points of every node and `args`.
    pub fn python(&self, script: &str, args: &[&str]) -> Output {
        let path = workspace_root().join("tests/python").join(script);
        let hosts: Vec<&str> = self.nodes.iter().map(|n| n.host.as_str()).collect();
        Command::new(python())
            .arg(path)
            .arg(hosts.join(","))
            .arg(self.nodes[0].port.to_string())
            .args(args)
            .output()
            .unwrap()
    }

    /// [`TestCluster::python`], asserting success.
    pub fn run(&self, script: &str, args: &[&str]) -> String {
        let out = self.python(script, args);
        assert_success(&out, &format!("{script} {}", args.join(" ")));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl TestCluster {
    /// Runs a repair coordinated by node `i` with `options` (JSON fields of `POST /v1/repair`)
    /// and waits for it to end: its final progress.
    pub fn repair(&self, i: usize, options: serde_json::Value) -> serde_json::Value {
        let started: serde_json::Value =
            serde_json::from_str(&self.nodes[i].admin_post("/v1/repair", &options.to_string())).unwrap();
        let id = started["id"].as_str().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let p: serde_json::Value =
                serde_json::from_str(&self.nodes[i].admin_get(&format!("/v1/repair/{id}"))).unwrap();
            if p["state"] != "running" {
                return p;
            }
            assert!(Instant::now() < deadline, "repair {id} still running: {p}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
