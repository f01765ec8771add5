//! Any bytes as an encoded Merkle tree (a peer's validation answer) are rejected or decoded
//! without panicking; a decoded tree re-encodes to itself and compares with itself cleanly.
#![no_main]
use libfuzzer_sys::fuzz_target;
use storage::MerkleTree;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = MerkleTree::decode(data) {
        let _ = t.root();
        assert!(t.differences(&t).is_empty());
        let again = MerkleTree::decode(&t.encode()).expect("a decoded tree re-encodes");
        assert_eq!(again, t);
    }
});
