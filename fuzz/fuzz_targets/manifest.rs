//! Fuzzes the manifest decoder on its own: arbitrary bytes as a CBOR manifest
//! (`webc_container::fuzzing::exercise_manifest`: decode, re-encode, decode again).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    webc_container::fuzzing::exercise_manifest(data);
});
