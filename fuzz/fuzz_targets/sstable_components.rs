//! Any bytes as an SSTable's Index.db, Filter.db or Statistics.db are rejected or read without
//! panicking; a readable index answers lookups without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use storage::sstable::bloom::BloomFilter;
use storage::sstable::index::IndexView;
use storage::sstable::stats::Statistics;

fuzz_target!(|data: &[u8]| {
    let p = Path::new("fuzz");
    let _ = BloomFilter::decode(data, p).map(|f| f.may_contain(1, 2));
    let _ = Statistics::decode(data, p);
    if let Ok(view) = IndexView::open(data, p) {
        for i in 0..view.count.min(64) {
            let _ = view.entry(data, i);
        }
        let _ = view.find(data, 42, b"key");
        let _ = view.lower_bound(data, i64::MIN, b"", false);
    }
});
