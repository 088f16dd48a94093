//! Replays the container fuzz corpus (`fuzz/corpus/reader/`, `fuzz/seeds/reader/`,
//! `fuzz/regressions/reader/`) through the `inspect_json` target's harness
//! (`webc_host::fuzzing::exercise_inspect`) on stable Rust.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::Path;

#[test]
fn the_reader_corpus_replays_through_inspect_json() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let (mut total, mut opened) = (0, 0);
    for dir in ["corpus/reader", "seeds/reader", "regressions/reader"] {
        let Ok(rd) = std::fs::read_dir(fuzz.join(dir)) else {
            continue;
        };
        for entry in rd {
            let path = entry.unwrap().path();
            if !path.is_file() {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            total += 1;
            let result = std::panic::catch_unwind(|| webc_host::fuzzing::exercise_inspect(&data));
            match result {
                Ok(true) => opened += 1,
                Ok(false) => {}
                Err(_) => panic!("{} makes inspect --json panic", path.display()),
            }
        }
    }
    // The seeds are valid containers: a replay that opened nothing tested nothing.
    assert!(opened >= 10, "{opened} of {total} inputs opened");
}
