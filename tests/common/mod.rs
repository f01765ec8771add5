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

    /// Starts a node with the defaults (and `commitlog_sync: batch`).
    pub fn start() -> TestNode {
        TestNode::start_with("commitlog_sync: batch\n")
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("node.yaml")
    }

    fn spawn(&mut self) {
        let data = self.dir.path().join("data");
        let cfg = format!(
            "data_directory: {}\nnative_transport_address: {}\nnative_transport_port: {}\n\
             listen_address: {}\nstorage_port: {}\nseeds: [{}]\nadmin_address: {}\nadmin_port: {}\n{}",
            data.display(),
            self.host,
            self.port,
            self.host,
            self.storage_port,
            self.host,
            self.host,
            self.admin_port,
            self.extra_config
        );
        std::fs::write(self.config_path(), cfg).unwrap();
        let mut child = Command::new(tessera_bin())
            .arg("--config")
            .arg(self.config_path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
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
        panic!("node never logged {needle:?}; output: {seen:#?}");
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
