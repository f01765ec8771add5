//! `Engine::cleanup`: exactly the partitions whose token is outside the owned ranges go (start
//! exclusive, end inclusive), from SSTables and memtables; owned ones are untouched, SSTables
//! holding only owned data are not rewritten, those holding none are deleted, and repair state
//! is kept.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use storage::{DecoratedKey, Engine, KeyRange, Partition, Token};

fn sorted_keys(n: usize) -> Vec<DecoratedKey> {
    let mut keys: Vec<DecoratedKey> = (0..n).map(|i| key(&format!("c{i}"))).collect();
    keys.sort();
    keys
}

fn everything(e: &Engine) -> Vec<(DecoratedKey, Partition)> {
    e.scan(TABLE, &KeyRange::all()).unwrap().map(|r| r.unwrap()).collect()
}

#[test]
fn cleanup_keeps_owned_partitions_only() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let e = open(d.path(), &clock, 864_000);
    let keys = sorted_keys(60);
    let name = |i: usize| String::from_utf8_lossy(&keys[i].key).into_owned();
    // Owned: (k9, k29] and (k49, MAX]. SSTables: 10..20 all owned; 30..45 none owned;
    // 0..60 mixed and repaired; memtable 25..35 mixed.
    for (range, repaired) in [(10..20, false), (30..45, false), (0..60, true)] {
        for i in range {
            write(&e, &name(i), 1, "v");
        }
        e.flush(TABLE).unwrap();
        if repaired {
            e.sstables(TABLE).unwrap().last().unwrap().set_repair_state(99, None).unwrap();
        }
    }
    for i in 25..35 {
        write(&e, &name(i), 2, "newer");
    }
    let gens = generations(&e);
    let owned = [(keys[9].token, keys[29].token), (keys[49].token, Token::MAX)];
    let is_owned = |i: usize| (10..=29).contains(&i) || i >= 50;
    let before = everything(&e);
    let s = e.cleanup(TABLE, &owned).unwrap();
    assert_eq!((s.sstables_rewritten, s.sstables_dropped), (2, 1), "{s:?}");
    assert_eq!(s.partitions_dropped as usize, 30 + 15 + 5, "{s:?}");
    let expected: Vec<_> =
        before.into_iter().filter(|(k, _)| is_owned(keys.binary_search(k).unwrap())).collect();
    assert_eq!(everything(&e), expected);
    let now = e.sstables(TABLE).unwrap();
    assert!(now.iter().any(|s| s.generation() == gens[0]), "an all-owned SSTable is not rewritten");
    assert!(!now.iter().any(|s| s.generation() == gens[1] || s.generation() == gens[2]));
    assert_eq!(now.iter().filter(|s| s.stats().repaired_at == 99).count(), 1, "repair state kept");
    // Nothing left to do the second time.
    let again = e.cleanup(TABLE, &owned).unwrap();
    assert_eq!((again.sstables_rewritten, again.sstables_dropped, again.partitions_dropped), (0, 0, 0));
    // No owned ranges at all is refused, as are wrapping ranges.
    assert!(e.cleanup(TABLE, &[]).is_err());
    assert!(e.cleanup(TABLE, &[(10, -10)]).is_err());
}

#[test]
fn dropped_sstables_stay_dropped_after_a_restart() {
    let clock = Arc::new(AtomicI64::new(START));
    let d = tempfile::tempdir().unwrap();
    let keys = sorted_keys(20);
    let name = |i: usize| String::from_utf8_lossy(&keys[i].key).into_owned();
    {
        let e = open(d.path(), &clock, 864_000);
        for i in 0..20 {
            write(&e, &name(i), 1, "v");
        }
        e.flush(TABLE).unwrap();
        e.cleanup(TABLE, &[(keys[19].token, Token::MAX)]).unwrap();
        assert!(everything(&e).is_empty());
    }
    let e = open(d.path(), &clock, 864_000);
    assert!(everything(&e).is_empty(), "cleaned-up data came back");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn cleanup_matches_a_token_filter(
        n in 1usize..60,
        flushes in proptest::collection::vec(any::<bool>(), 60),
        cuts in proptest::collection::vec((0usize..60, 0usize..60), 1..4),
    ) {
        let clock = Arc::new(AtomicI64::new(START));
        let d = tempfile::tempdir().unwrap();
        let e = open(d.path(), &clock, 864_000);
        let keys = sorted_keys(n);
        for (i, k) in keys.iter().enumerate() {
            write(&e, &String::from_utf8_lossy(&k.key), 1, "v");
            if flushes[i] {
                e.flush(TABLE).unwrap();
            }
        }
        let owned: Vec<(Token, Token)> = cuts
            .iter()
            .map(|(a, b)| (keys[a % n].token, keys[b % n].token))
            .filter(|(a, b)| a < b)
            .collect();
        prop_assume!(!owned.is_empty());
        let before = everything(&e);
        e.cleanup(TABLE, &owned).unwrap();
        let kept: BTreeSet<DecoratedKey> = everything(&e).into_iter().map(|(k, _)| k).collect();
        let expected: BTreeSet<DecoratedKey> = before
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| owned.iter().any(|(a, b)| *a < k.token && k.token <= *b))
            .collect();
        prop_assert_eq!(kept, expected);
    }
}
