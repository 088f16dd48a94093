//! Fuzzes the container reader: open arbitrary bytes and exercise every read path
//! (`webc_container::fuzzing::exercise`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    webc_container::fuzzing::exercise(data);
});
