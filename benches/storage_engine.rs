//! Micro-benchmarks of the storage engine's hot paths: the Murmur3 token, the mutation codec,
//! memtable inserts and point reads from a flushed SSTable. Whole-engine workloads against
//! RocksDB and fjall live in `benches/engines` (see BENCHMARKS.md).
//!
//! `cargo bench --bench storage_engine`

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use storage::memtable::Memtable;
use storage::{
    Cell, CellKey, ClusteringRange, DecoratedKey, DeletionTime, Engine, EngineConfig, Mutation, Partition,
    RangeTombstone, Row, TableDescriptor, TableId, token_of,
};

fn partition(i: u64) -> Partition {
    let mut row = Row::default();
    row.cells.insert(CellKey::simple(Bytes::from_static(b"v")), Cell::live(i as i64, vec![i as u8; 100]));
    let mut p = Partition::default();
    p.rows.insert(Bytes::new(), row);
    p
}

fn token(c: &mut Criterion) {
    let mut g = c.benchmark_group("token");
    for len in [8usize, 16, 64] {
        let key = vec![0xabu8; len];
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("murmur3_{len}_bytes"), |b| b.iter(|| token_of(black_box(&key))));
    }
    g.finish();
}

fn codec(c: &mut Criterion) {
    let m = Mutation::new(TableId([1; 16]), DecoratedKey::new(7u64.to_be_bytes().to_vec()), partition(7));
    let enc = Bytes::from(m.encode());
    let mut g = c.benchmark_group("mutation");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode_one_cell", |b| {
        let mut buf = Vec::with_capacity(256);
        b.iter(|| {
            buf.clear();
            black_box(&m).encode_into(&mut buf);
        })
    });
    g.bench_function("decode_one_cell", |b| b.iter(|| Mutation::decode(black_box(&enc))));
    g.finish();
}

fn memtable(c: &mut Criterion) {
    let mut g = c.benchmark_group("memtable");
    g.throughput(Throughput::Elements(1));
    g.bench_function("insert_one_cell_partition", |b| {
        let m = Memtable::new();
        let mut i = 0u64;
        b.iter(|| {
            i += 1;
            m.apply(&DecoratedKey::new(i.to_be_bytes().to_vec()), partition(i));
        })
    });
    g.bench_function("range_delete_into_partition_with_2000_range_tombstones", |b| {
        let m = Memtable::new();
        let key = DecoratedKey::new(&b"wide"[..]);
        let rt = |j: u32| {
            let (lo, hi) = (j.to_be_bytes(), (j + 1).to_be_bytes());
            let range = ClusteringRange::from_prefix_bounds(Some((&lo, true)), Some((&hi, false)))
                .expect("non-empty range");
            Partition {
                range_tombstones: vec![RangeTombstone {
                    range,
                    deletion: DeletionTime::new(i64::from(j), 0),
                }],
                ..Default::default()
            }
        };
        for j in 0..2000u32 {
            m.apply(&key, rt(j));
        }
        let mut j = 2000u32;
        b.iter(|| {
            j += 1;
            m.apply(&key, rt(j));
        })
    });
    g.finish();
}

fn sstable_point_read(c: &mut Criterion) {
    const N: u64 = 100_000;
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Arc::new(Engine::open(EngineConfig::new(dir.path())).expect("engine"));
    let table = TableId([2; 16]);
    engine.create_table(TableDescriptor::new(table, "bench", "t")).expect("table");
    for i in 0..N {
        let m = Mutation::new(table, DecoratedKey::new(i.to_be_bytes().to_vec()), partition(i));
        engine.apply(m, false).expect("apply");
    }
    engine.flush(table).expect("flush");
    engine.compact(table).expect("compact");
    let keys: Vec<DecoratedKey> = (0..N).map(|i| DecoratedKey::new(i.to_be_bytes().to_vec())).collect();
    let mut g = c.benchmark_group("sstable");
    g.throughput(Throughput::Elements(1));
    g.bench_function("point_read_warm", |b| {
        let mut i = 0usize;
        b.iter(|| {
            i = (i + 7919) % keys.len();
            engine.read(table, &keys[i], None).expect("read")
        })
    });
    g.finish();
}

criterion_group!(benches, token, codec, memtable, sstable_point_read);
criterion_main!(benches);
