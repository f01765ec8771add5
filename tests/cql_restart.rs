//! Data written over CQL with `commitlog_sync: batch` survives `kill -9`: it is read back after
//! restart from the commit log, and again after it has been flushed to SSTables.
#![allow(clippy::unwrap_used)]

mod common;

use common::{TestNode, assert_success, run_python};

fn count_data_files(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let p = e.path();
        if p.is_dir() {
            n += count_data_files(&p);
        } else if p.to_string_lossy().ends_with("-Data.db") {
            n += 1;
        }
    }
    n
}

#[test]
fn acknowledged_writes_survive_kill_9_from_the_commit_log_and_after_flush() {
    let mut node = TestNode::start();
    assert_success(&run_python(&node, "restart.py", &["write", "0", "500"]), "first writes");
    node.restart_after_kill9();
    assert_success(&run_python(&node, "restart.py", &["check", "0", "500"]), "read back from the commit log");
    assert_success(&run_python(&node, "restart.py", &["write", "500", "1000"]), "more writes");
    // A clean stop drains memtables into SSTables; then a kill -9 after reopening.
    let pid = node.pid();
    let status = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status().unwrap();
    assert!(status.success());
    node.wait_for("stopped");
    node.restart_after_kill9();
    assert!(count_data_files(&node.data_dir()) > 0, "the drain wrote SSTables");
    assert_success(&run_python(&node, "restart.py", &["check", "0", "1000"]), "read back after flush");
}
