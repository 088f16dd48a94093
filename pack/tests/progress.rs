//! `Package::from_dir_with_progress` reports every file it reads (modules, volume and
//! metadata files) with its size, and packs the same bytes as `from_dir`.

#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;

#[derive(Default)]
struct Recorder(BTreeMap<PathBuf, u64>);

impl webc_pack::Progress for Recorder {
    fn read_file(&mut self, path: &Path, bytes: u64) {
        assert!(
            self.0.insert(path.to_owned(), bytes).is_none(),
            "{} reported twice",
            path.display()
        );
    }
}

#[test]
fn every_file_read_is_reported_with_its_size() {
    let p = Project::new();
    let module = wasm(HELLO_WAT);
    p.file("hello.wasm", &module)
        .file("data/a.txt", "aaaa")
        .file("data/sub/b.bin", vec![7u8; 5000])
        .file("README.md", "# hi\n")
        .symlink("data/link", "a.txt")
        .manifest(
            "[package]\nname = \"acme/p\"\nversion = \"0.1.0\"\nreadme = \"README.md\"\n\n\
             [fs]\n\"/data\" = \"data\"\n\n\
             [[module]]\nname = \"hello\"\nsource = \"hello.wasm\"\nabi = \"wasi\"\n",
        )
        .fix_times();
    let mut seen = Recorder::default();
    let with = webc_pack::Package::from_dir_with_progress(p.tmp.path(), &mut seen).unwrap();
    let root = p.root();
    let expected: BTreeMap<PathBuf, u64> = [
        ("hello.wasm", module.len() as u64),
        ("data/a.txt", 4),
        ("data/sub/b.bin", 5000),
        ("README.md", 5),
    ]
    .into_iter()
    .map(|(rel, n)| (root.join(rel), n))
    .collect();
    assert_eq!(seen.0, expected);
    let without = webc_pack::Package::from_dir(p.tmp.path()).unwrap();
    assert_eq!(with.to_bytes().unwrap(), without.to_bytes().unwrap());
}
