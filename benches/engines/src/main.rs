//! `engine-bench`: Tessera's storage engine side by side with RocksDB and fjall, in one run, on
//! the same keys and values.
//!
//! Workloads (single thread each, as the issue defines them): sequential and random writes of
//! N cells with 100-byte values through each engine's write-ahead log without fsync per write
//! (Tessera: `periodic` commit log; RocksDB: WAL on, `sync = false`; fjall: journal, default
//! persist mode); then flush and major-compact, and time warm point reads of single rows in
//! random order, then one full scan. Every engine gets the same cache budget and a bloom
//! filter of ~1% false positives.
//!
//! `cargo run --release -p engine-bench` measures Tessera alone;
//! `scripts/bench-engines.sh` builds with the peers and runs all three.

use bytes::Bytes;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::Parser;
use std::path::Path;
use std::time::Instant;
use storage::commitlog::SyncMode;
use storage::{
    Cell, CellKey, DecoratedKey, Engine, EngineConfig, Mutation, Partition, Row, TableDescriptor, TableId,
};

#[derive(Parser, Debug)]
#[command(about = "Storage engines side by side on the same workloads")]
struct Args {
    /// Cells written per write workload.
    #[arg(long, default_value_t = 1_000_000)]
    n: u64,
    /// Point reads timed (after a warm-up pass of the same size).
    #[arg(long, default_value_t = 1_000_000)]
    reads: u64,
    /// Value size in bytes.
    #[arg(long, default_value_t = 100)]
    value_size: usize,
    /// Cache budget per engine, MiB.
    #[arg(long, default_value_t = 512)]
    cache_mb: u64,
    /// Engines to run, comma-separated: tessera, rocksdb, fjall.
    #[arg(long, default_value = "tessera,rocksdb,fjall")]
    engines: String,
    /// Full scans timed, back to back; the rate covers all of them.
    #[arg(long, default_value_t = 1)]
    scans: u64,
    /// Directory for the engines' files (default: a temporary directory).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
}

/// What a benchmarked engine must do.
trait Subject {
    fn put(&mut self, key: &[u8], value: &[u8]);
    /// Flushes memtables and compacts everything into one sorted run.
    fn settle(&mut self);
    fn get(&self, key: &[u8]) -> bool;
    fn scan(&self) -> u64;
}

const TABLE: TableId = TableId([9; 16]);

struct Tessera {
    engine: Engine,
    ts: i64,
}

impl Tessera {
    fn open(dir: &Path, cache_mb: u64) -> Tessera {
        let mut c = EngineConfig::new(dir);
        c.commitlog_sync = SyncMode::Periodic { period: std::time::Duration::from_secs(10) };
        c.chunk_cache_size = cache_mb << 20;
        let engine = Engine::open(c).expect("open tessera");
        engine.create_table(TableDescriptor::new(TABLE, "bench", "t")).expect("create table");
        Tessera { engine, ts: 0 }
    }
}

impl Subject for Tessera {
    fn put(&mut self, key: &[u8], value: &[u8]) {
        self.ts += 1;
        let mut row = Row::default();
        row.cells.insert(
            CellKey::simple(Bytes::from_static(b"v")),
            Cell::live(self.ts, Bytes::copy_from_slice(value)),
        );
        let mut p = Partition::default();
        p.rows.insert(Bytes::new(), row);
        let m = Mutation::new(TABLE, DecoratedKey::new(Bytes::copy_from_slice(key)), p);
        self.engine.apply(m, true).expect("apply");
    }

    fn settle(&mut self) {
        self.engine.flush(TABLE).expect("flush");
        self.engine.compact(TABLE).expect("compact");
    }

    fn get(&self, key: &[u8]) -> bool {
        let k = DecoratedKey::new(Bytes::copy_from_slice(key));
        self.engine.read(TABLE, &k, None).expect("read").is_some_and(|p| !p.rows.is_empty())
    }

    fn scan(&self) -> u64 {
        // Like a SELECT: every live row, every live cell's value touched.
        let now = storage::Clock::system().now_secs();
        let mut scratch = storage::RowScratch::default();
        let (mut n, mut bytes) = (0u64, 0usize);
        for item in self.engine.scan_data(TABLE, &storage::KeyRange::all()).expect("scan") {
            let (_, p) = item.expect("scan item");
            p.for_each_live_row(now, &mut scratch, |row| {
                n += 1;
                bytes += row.cells().map(|c| c.cell.value.len()).sum::<usize>();
                true
            })
            .expect("live rows");
        }
        assert!(bytes > 0);
        n
    }
}

#[cfg(feature = "rocksdb")]
mod rocks {
    use super::Subject;
    use std::path::Path;

    pub struct Rocks {
        db: rocksdb::DB,
        wo: rocksdb::WriteOptions,
    }

    impl Rocks {
        pub fn open(dir: &Path, cache_mb: u64) -> Rocks {
            let mut opts = rocksdb::Options::default();
            opts.create_if_missing(true);
            opts.set_compression_type(rocksdb::DBCompressionType::Lz4);
            let mut t = rocksdb::BlockBasedOptions::default();
            t.set_block_cache(&rocksdb::Cache::new_lru_cache((cache_mb << 20) as usize));
            t.set_bloom_filter(10.0, false);
            opts.set_block_based_table_factory(&t);
            let db = rocksdb::DB::open(&opts, dir).expect("open rocksdb");
            let mut wo = rocksdb::WriteOptions::default();
            wo.set_sync(false);
            wo.disable_wal(false);
            Rocks { db, wo }
        }
    }

    impl Subject for Rocks {
        fn put(&mut self, key: &[u8], value: &[u8]) {
            self.db.put_opt(key, value, &self.wo).expect("put");
        }
        fn settle(&mut self) {
            self.db.flush().expect("flush");
            self.db.compact_range::<&[u8], &[u8]>(None, None);
        }
        fn get(&self, key: &[u8]) -> bool {
            self.db.get_pinned(key).expect("get").is_some()
        }
        fn scan(&self) -> u64 {
            let mut n = 0;
            for item in self.db.iterator(rocksdb::IteratorMode::Start) {
                item.expect("scan item");
                n += 1;
            }
            n
        }
    }
}

#[cfg(feature = "fjall")]
mod fj {
    use super::Subject;
    use std::path::Path;

    pub struct Fjall {
        _db: fjall::Database,
        ks: fjall::Keyspace,
    }

    impl Fjall {
        pub fn open(dir: &Path, cache_mb: u64) -> Fjall {
            let db = fjall::Database::builder(dir).cache_size(cache_mb << 20).open().expect("open fjall");
            let ks = db.keyspace("bench", fjall::KeyspaceCreateOptions::default).expect("keyspace");
            Fjall { _db: db, ks }
        }
    }

    impl Subject for Fjall {
        fn put(&mut self, key: &[u8], value: &[u8]) {
            self.ks.insert(key, value).expect("insert");
        }
        fn settle(&mut self) {
            self.ks.rotate_memtable_and_wait().expect("flush");
            self.ks.major_compact().expect("compact");
        }
        fn get(&self, key: &[u8]) -> bool {
            self.ks.get(key).expect("get").is_some()
        }
        fn scan(&self) -> u64 {
            let mut n = 0;
            for g in self.ks.iter() {
                g.into_inner().expect("scan item");
                n += 1;
            }
            n
        }
    }
}

fn open(engine: &str, dir: &Path, cache_mb: u64) -> Option<Box<dyn Subject>> {
    match engine {
        "tessera" => Some(Box::new(Tessera::open(dir, cache_mb))),
        #[cfg(feature = "rocksdb")]
        "rocksdb" => Some(Box::new(rocks::Rocks::open(dir, cache_mb))),
        #[cfg(feature = "fjall")]
        "fjall" => Some(Box::new(fj::Fjall::open(dir, cache_mb))),
        _ => None,
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn value_for(i: u64, size: usize) -> Vec<u8> {
    let mut r = Rng(i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    (0..size).map(|_| r.next() as u8).collect()
}

fn shuffled(n: u64, seed: u64) -> Vec<u64> {
    let mut v: Vec<u64> = (0..n).collect();
    let mut r = Rng(seed);
    for i in (1..v.len()).rev() {
        let j = (r.next() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

fn rate(n: u64, started: Instant) -> f64 {
    n as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let args = Args::parse();
    let base = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).expect("bench dir");
            tempfile::tempdir_in(d).expect("tempdir")
        }
        None => tempfile::tempdir().expect("tempdir"),
    };
    let values: Vec<Vec<u8>> = (0..args.n).map(|i| value_for(i, args.value_size)).collect();
    let random_order = shuffled(args.n, 42);
    let read_order = shuffled(args.n, 7);
    println!(
        "{} cells of {} bytes, {} timed point reads, cache {} MiB per engine",
        args.n, args.value_size, args.reads, args.cache_mb
    );
    println!("| engine | sequential writes/s | random writes/s | point reads/s (warm) | full scan rows/s |");
    println!("|---|---:|---:|---:|---:|");
    for name in args.engines.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let seq_dir = base.path().join(format!("{name}-seq"));
        let rnd_dir = base.path().join(format!("{name}-random"));
        let Some(mut seq) = open(name, &seq_dir, args.cache_mb) else {
            eprintln!("engine {name} is not built in (build with --features peers)");
            continue;
        };
        let t = Instant::now();
        for i in 0..args.n {
            seq.put(&i.to_be_bytes(), &values[i as usize]);
        }
        let seq_rate = rate(args.n, t);
        drop(seq);
        let _ = std::fs::remove_dir_all(&seq_dir);

        let Some(mut rnd) = open(name, &rnd_dir, args.cache_mb) else { continue };
        let t = Instant::now();
        for &i in &random_order {
            rnd.put(&i.to_be_bytes(), &values[i as usize]);
        }
        let rnd_rate = rate(args.n, t);
        rnd.settle();

        let reads = args.reads.min(args.n) as usize;
        for &i in read_order.iter().take(reads) {
            assert!(rnd.get(&i.to_be_bytes()), "{name}: key {i} missing");
        }
        let t = Instant::now();
        for &i in random_order.iter().take(reads) {
            assert!(rnd.get(&i.to_be_bytes()), "{name}: key {i} missing");
        }
        let read_rate = rate(reads as u64, t);

        let t = Instant::now();
        let mut scanned = 0;
        for _ in 0..args.scans.max(1) {
            let rows = rnd.scan();
            assert_eq!(rows, args.n, "{name}: scan saw {rows} rows");
            scanned += rows;
        }
        let scan_rate = rate(scanned, t);
        println!("| {name} | {seq_rate:.0} | {rnd_rate:.0} | {read_rate:.0} | {scan_rate:.0} |");
        drop(rnd);
        let _ = std::fs::remove_dir_all(&rnd_dir);
    }
}
