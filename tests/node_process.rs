//! The `tessera` node as a real process: it starts with embedded defaults under a data
//! directory, stops cleanly on SIGTERM, and refuses a bad configuration with a message that
//! names the problem.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the process on drop so a failing test leaves nothing running.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_line(child: &mut Child, needle: &str) -> Vec<String> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
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
    panic!("never saw {needle:?}; output: {seen:#?}");
}

#[test]
fn node_starts_with_defaults_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("--data-directory")
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut node = Node(child);
    wait_for_line(&mut node.0, "listening for CQL clients");
    assert!(data.join("commitlog").is_dir(), "the commit log lives under the data directory");
    assert!(data.join("data").is_dir(), "SSTables live under the data directory");
    let status = Command::new("kill").arg("-TERM").arg(node.0.id().to_string()).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(s) = node.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "node did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "node exited with {exit}");
}

#[test]
fn unknown_config_key_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("node.yaml");
    std::fs::write(&cfg, "data_directory: ./d\ncommitlog_synk: batch\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tessera")).arg("--config").arg(&cfg).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("commitlog_synk"), "{err}");
}

#[test]
fn bad_commitlog_sync_override_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["--data-directory", "/nonexistent/never", "--commitlog-sync", "sometimes"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sometimes"));
}

#[test]
fn tess_sstable_verify_rejects_a_path_that_is_not_an_sstable() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tess"))
        .args(["sstable", "verify"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no SSTables"));
}
