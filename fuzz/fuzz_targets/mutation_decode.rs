//! Any bytes given to the mutation decoder (commit log payloads, internode messages, hints)
//! decode or fail cleanly; what decodes re-encodes to the same mutation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let buf = bytes::Bytes::copy_from_slice(data);
    if let Ok(m) = storage::Mutation::decode(&buf) {
        let again = storage::Mutation::decode(&bytes::Bytes::from(m.encode())).expect("re-encoded mutation decodes");
        assert_eq!(m, again);
    }
});
