//! Fuzzes the `infer` request decoder (JSON fast and exact paths, `.npy`):
//! the first byte picks a model signature, the second a memory limit, the rest is the
//! request (`webc_runner_infer::fuzzing::exercise`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    webc_runner_infer::fuzzing::exercise(data);
});
