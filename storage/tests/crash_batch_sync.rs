//! Crash test: a child process writes with `commitlog_sync: batch` from several threads, printing
//! each key once its write is acknowledged, and is killed with SIGKILL at a random moment. The
//! parent then opens the data directory and checks that every acknowledged write is there. The
//! rounds share one directory, so each child also recovers the previous child's crash, with
//! memtables small enough that flushes and compactions are in flight when the kill lands.

use bytes::Bytes;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use storage::commitlog::SyncMode;
use storage::{
    Cell, CellKey, DecoratedKey, Engine, EngineConfig, Mutation, Partition, Row, TableDescriptor, TableId,
};

const TABLE: TableId = TableId([2; 16]);
const CHILD_ENV: &str = "TESSERA_CRASH_CHILD_DIR";

fn config(dir: &Path) -> EngineConfig {
    let mut c = EngineConfig::new(dir);
    c.commitlog_sync = SyncMode::Batch;
    c.commitlog_segment_size = 256 << 10;
    c.memtable_space = 256 << 10;
    c
}

fn open(dir: &Path) -> Engine {
    let e = Engine::open(config(dir)).expect("open");
    if e.tables().is_empty() {
        e.create_table(TableDescriptor::new(TABLE, "ks", "t")).expect("create");
    }
    e
}

fn write(e: &Engine, key: &str) {
    let mut p = Partition::default();
    let mut r = Row::default();
    r.cells.insert(CellKey::simple("v"), Cell::live(1, key.as_bytes().to_vec()));
    p.rows.insert(Bytes::new(), r);
    e.apply(Mutation::new(TABLE, DecoratedKey::new(key.as_bytes().to_vec()), p), true).expect("apply");
}

/// The child's body: runs only when the parent sets the environment variable.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let round: u32 = std::env::var("TESSERA_CRASH_ROUND").ok().and_then(|r| r.parse().ok()).unwrap_or(0);
    let engine = std::sync::Arc::new(open(Path::new(&dir)));
    let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let threads: Vec<_> = (0..3)
        .map(|t| {
            let e = engine.clone();
            let out = out.clone();
            std::thread::spawn(move || {
                for i in 0.. {
                    let key = format!("r{round}-t{t}-{i}");
                    write(&e, &key);
                    let mut o = out.lock().expect("stdout");
                    writeln!(o, "ACK {key}").expect("write");
                    o.flush().expect("flush");
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

#[test]
fn killed_writer_loses_no_acknowledged_write() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("current exe");
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7)
        | 1;
    let mut all_acked: Vec<String> = Vec::new();
    for round in 0..6 {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .env("TESSERA_CRASH_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(k) = line.strip_prefix("ACK ") {
                    let _ = tx.send(k.to_string());
                }
            }
        });
        // Wait for the first acknowledgement (the child has replayed and started), then let it
        // run for a random while before the kill.
        let first = rx.recv_timeout(Duration::from_secs(60)).expect("child acknowledged nothing");
        all_acked.push(first);
        let run_for = Duration::from_millis(20 + xorshift(&mut seed) % 400);
        let started = Instant::now();
        while started.elapsed() < run_for {
            if let Ok(k) = rx.recv_timeout(Duration::from_millis(5)) {
                all_acked.push(k);
            }
        }
        child.kill().expect("kill");
        let _ = child.wait();
        let _ = reader.join();
        all_acked.extend(rx.try_iter());

        let engine = open(dir.path());
        let now = engine.now_secs();
        let mut missing = Vec::new();
        for k in &all_acked {
            let p = engine.read(TABLE, &DecoratedKey::new(k.as_bytes().to_vec()), None).expect("read");
            let ok = p.map(|p| p.live(now)).is_some_and(|p| {
                p.rows
                    .get(&Bytes::new())
                    .and_then(|r| r.cells.get(&CellKey::simple("v")))
                    .is_some_and(|c| c.value == k.as_bytes())
            });
            if !ok {
                missing.push(k.clone());
            }
        }
        assert!(
            missing.is_empty(),
            "round {round}: {} of {} acknowledged writes lost, e.g. {:?}",
            missing.len(),
            all_acked.len(),
            &missing[..missing.len().min(5)]
        );
        assert!(
            engine.replay_summary().log.corrupt.is_empty(),
            "a kill must leave only torn tails: {:?}",
            engine.replay_summary().log.corrupt
        );
        drop(engine);
    }
    assert!(all_acked.len() > 6, "the children acknowledged almost nothing");
}
