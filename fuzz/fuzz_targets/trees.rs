//! Structure-aware fuzzing of volume trees: the input is decoded into a directory tree
//! (deep chains, shared records, overlapping file ranges) that random bytes would rarely
//! form, built into a container, exercised, and its walk checked against a model
//! (`webc_container::fuzzing::exercise_tree`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    webc_container::fuzzing::exercise_tree(data);
});
