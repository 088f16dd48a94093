//! Fuzzes the manifest decoder on its own: arbitrary bytes as a CBOR manifest. Whatever
//! decodes must re-encode to bytes that decode to the same manifest (the round trip the
//! container relies on to keep unknown keys).

#![no_main]

use libfuzzer_sys::fuzz_target;
use webc_container::manifest::Manifest;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Manifest::from_cbor(data) {
        let encoded = m.to_cbor();
        let again = Manifest::from_cbor(&encoded).expect("a re-encoded manifest decodes");
        assert_eq!(again.to_cbor(), encoded, "re-encoding is stable");
        let _ = m.commands().count();
        let _ = m.atoms().count();
        let _ = m.default_command();
    }
});
