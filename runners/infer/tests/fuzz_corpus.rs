//! Replays the `infer_request` fuzz target's inputs — the hand-written seeds
//! (`fuzz/seeds/infer_request/`) and the minimised corpus of its campaigns
//! (`fuzz/corpus/infer_request/`) — through the same harness the `cargo fuzz` target runs
//! (`webc_runner_infer::fuzzing::exercise`), on stable Rust and without a backend.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::{Path, PathBuf};

use webc_runner_infer::fuzzing::exercise;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Replays every file of `dir` (none when it is missing); returns how many.
fn replay(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let result = std::panic::catch_unwind(|| exercise(&data));
        assert!(
            result.is_ok(),
            "{} makes the request decoder panic",
            f.display()
        );
    }
    files.len()
}

#[test]
fn seeds_and_corpus_replay_without_panics() {
    let seeds = fuzz_dir().join("seeds/infer_request");
    let n = replay(&seeds);
    assert!(n >= 10, "only {n} seeds in {}", seeds.display());
    let corpus = fuzz_dir().join("corpus/infer_request");
    let n = replay(&corpus);
    assert!(
        n > 0,
        "fuzz corpus {} is missing or empty",
        corpus.display()
    );
}
