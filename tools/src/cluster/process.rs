//! The node processes of a local cluster: starting one detached (its own session, so it
//! outlives `tess` and the terminal), its pid file, telling whether the pid is still that node
//! (its /proc cmdline names its `node.yaml`, so a reused pid is never signalled), signals, and
//! the tail of its log. Linux only (/proc).

use super::layout::NodeEntry;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts `bin --config <node.yaml>` in the node's directory, detached, its stdout and stderr
/// going to `node.log` (appended to, or truncated when `fresh`), and records its pid.
pub fn spawn(bin: &Path, node: &NodeEntry, fresh: bool) -> anyhow::Result<Child> {
    let log_path = node.log_path();
    let mut log = OpenOptions::new()
        .create(true)
        .write(true)
        .append(!fresh)
        .truncate(fresh)
        .open(&log_path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", log_path.display()))?;
    if !fresh {
        writeln!(log, "--- started again by tess cluster ---")?;
    }
    let mut cmd = Command::new(bin);
    cmd.arg("--config")
        .arg(node.config_path())
        .current_dir(&node.dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent; it makes the node
    // the leader of a new session and process group, so neither Ctrl-C in the terminal nor its
    // closing reaches it.
    unsafe {
        cmd.pre_exec(|| nix::unistd::setsid().map(|_| ()).map_err(std::io::Error::from));
    }
    let child = cmd
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start {} for {}: {e}", bin.display(), node.name()))?;
    let pid_path = node.pid_path();
    std::fs::write(&pid_path, format!("{}\n", child.id()))
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", pid_path.display()))?;
    Ok(child)
}

/// Whether a /proc cmdline (NUL-separated arguments) is a process started with `--config
/// <config>`.
pub fn cmdline_runs_config(cmdline: &[u8], config: &Path) -> bool {
    let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
    let config = config.as_os_str().as_bytes();
    args.windows(2).any(|w| w[0] == b"--config" && w[1] == config)
}

/// The pid in the node's pid file, if that process is still this node (and not a zombie: a
/// zombie's cmdline is empty).
pub fn running_pid(node: &NodeEntry) -> Option<i32> {
    let text = std::fs::read_to_string(node.pid_path()).ok()?;
    let pid: i32 = text.trim().parse().ok().filter(|&p| p > 0)?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    cmdline_runs_config(&cmdline, &node.config_path()).then_some(pid)
}

/// Sends `signal` to the node if it is running; returns the pid signalled.
pub fn signal(node: &NodeEntry, signal: Signal) -> anyhow::Result<Option<i32>> {
    let Some(pid) = running_pid(node) else { return Ok(None) };
    match kill(Pid::from_raw(pid), signal) {
        Ok(()) => Ok(Some(pid)),
        // Exited between the check and the signal.
        Err(nix::errno::Errno::ESRCH) => Ok(None),
        Err(e) => Err(anyhow::anyhow!("cannot send {signal} to {} (pid {pid}): {e}", node.name())),
    }
}

/// Removes the pid file once the node is known to be gone.
pub fn forget_pid(node: &NodeEntry) {
    let _ = std::fs::remove_file(node.pid_path());
}

/// The last `lines` lines of a file (at most its last 64 KiB), or why it cannot be read.
pub fn tail(path: &Path, lines: usize) -> String {
    let read = || -> std::io::Result<String> {
        let mut f = File::open(path)?;
        let len = f.metadata()?.len();
        f.seek(SeekFrom::Start(len.saturating_sub(64 << 10)))?;
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) => last_lines(&text, lines),
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

fn last_lines(text: &str, n: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(n)..].join("\n")
}

/// Whether something accepts TCP connections at `addr` (within 250 ms).
pub fn accepts(addr: &str, port: u16) -> bool {
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else { return false };
    std::net::TcpStream::connect_timeout(&(ip, port).into(), std::time::Duration::from_millis(250)).is_ok()
}

/// The `tessera` binary beside the running executable.
pub fn default_bin() -> anyhow::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe.with_file_name(OsStr::new("tessera")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_process_run_with_this_config_is_the_node() {
        let cfg = Path::new("/c/node1/node.yaml");
        assert!(cmdline_runs_config(b"/t/tessera\0--config\0/c/node1/node.yaml\0", cfg));
        assert!(!cmdline_runs_config(b"/t/tessera\0--config\0/c/node11/node.yaml\0", cfg));
        assert!(!cmdline_runs_config(b"vim\0/c/node1/node.yaml\0", cfg));
        assert!(!cmdline_runs_config(b"", cfg));
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines("a", 5), "a");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("node.log");
        std::fs::write(&p, (1..=100).map(|i| format!("line {i}\n")).collect::<String>()).unwrap();
        assert_eq!(tail(&p, 2), "line 99\nline 100");
        assert!(tail(&dir.path().join("missing"), 2).contains("cannot read"));
    }

    fn node_in(dir: &Path) -> NodeEntry {
        NodeEntry {
            index: 1,
            address: "127.0.0.1".into(),
            dc: "dc1".into(),
            rack: "rack1".into(),
            dir: dir.to_path_buf(),
            storage_port: 7000,
            native_transport_port: 9042,
            admin_port: 10000,
        }
    }

    #[test]
    fn a_spawned_node_runs_in_its_own_session_until_signalled() {
        let dir = tempfile::tempdir().unwrap();
        let node = node_in(dir.path());
        // A stand-in for tessera: runs until signalled.
        let bin = dir.path().join("fake-node");
        std::fs::write(&bin, "#!/bin/sh\necho started\nwhile :; do sleep 0.05; done\n").unwrap();
        std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let mut child = spawn(&bin, &node, true).unwrap();
        let pid = child.id() as i32;
        assert_eq!(running_pid(&node), Some(pid));
        assert_eq!(nix::unistd::getsid(Some(Pid::from_raw(pid))).unwrap(), Pid::from_raw(pid));
        // The log gets the node's output.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !tail(&node.log_path(), 5).contains("started") && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(signal(&node, Signal::SIGTERM).unwrap(), Some(pid));
        assert!(!child.wait().unwrap().success());
        assert_eq!(running_pid(&node), None);
        assert_eq!(signal(&node, Signal::SIGKILL).unwrap(), None);
        // A later start appends to the log.
        let mut child = spawn(&bin, &node, false).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert!(tail(&node.log_path(), 5).starts_with("started\n--- started again by tess cluster ---"));
    }

    #[test]
    fn a_pid_file_of_another_process_is_not_the_node() {
        let dir = tempfile::tempdir().unwrap();
        let node = node_in(dir.path());
        assert_eq!(running_pid(&node), None);
        // Our own pid: alive, but not a node of this config.
        std::fs::write(node.pid_path(), format!("{}\n", std::process::id())).unwrap();
        assert_eq!(running_pid(&node), None);
        assert_eq!(signal(&node, Signal::SIGTERM).unwrap(), None);
        std::fs::write(node.pid_path(), "garbage").unwrap();
        assert_eq!(running_pid(&node), None);
    }
}
