//! Fuzzes what `webc-host inspect --json` does with a package
//! (`webc_host::fuzzing::exercise_inspect`: open, build the full model, serialise, parse back).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    webc_host::fuzzing::exercise_inspect(data);
});
