//! The `materialise` host service: a volume written once into the cache, read-only, whole
//! or not at all, shared by concurrent writers, reused by later runs, and keyed by content.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::Arc;

use webc_container::Container;
use webc_host::cache::Cache;
use webc_host::materialise;

/// A package with volume `data` holding `files`.
fn container(files: &[(&str, &[u8])]) -> Container {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("wasmer.toml"),
        "[package]\nname = \"t/m\"\nversion = \"0.1.0\"\n\n[fs]\n\"/data\" = \"data\"\n",
    )
    .unwrap();
    for (name, bytes) in files {
        let path = dir.path().join("data").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let bytes = webc_pack::Package::from_dir(dir.path())
        .unwrap()
        .to_bytes()
        .unwrap();
    Container::from_bytes(bytes).unwrap()
}

fn volume_name(c: &Container) -> String {
    c.volume_names()
        .find(|n| n.contains("data"))
        .unwrap()
        .to_owned()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn written_once_read_only_and_reused() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = Cache::open(&tmp.path().join("cache")).unwrap();
    let c = container(&[("a.txt", b"alpha"), ("sub/b.txt", b"beta")]);
    let name = volume_name(&c);
    let dir = materialise::volume(&cache, &c, None, &name).unwrap();
    assert_eq!(std::fs::read(dir.join("a.txt")).unwrap(), b"alpha");
    assert_eq!(std::fs::read(dir.join("sub/b.txt")).unwrap(), b"beta");
    assert_eq!(
        dir.file_name().unwrap().to_string_lossy(),
        materialise::volume_key(&c, &name).unwrap()
    );
    for p in [dir.clone(), dir.join("sub"), dir.join("a.txt")] {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o222, 0, "{} is writable: {mode:o}", p.display());
    }
    // A second call finds it: same path, nothing new in volumes/.
    let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&dir).unwrap());
    assert_eq!(materialise::volume(&cache, &c, None, &name).unwrap(), dir);
    assert_eq!(
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&dir).unwrap()),
        inode
    );
    assert_eq!(entries(&cache.root().join("volumes")).len(), 1);
    // Other content is another key.
    let other = container(&[("a.txt", b"ALPHA")]);
    let other_dir = materialise::volume(&cache, &other, None, &volume_name(&other)).unwrap();
    assert_ne!(other_dir, dir);
    // `cache clean` removes the read-only trees.
    cache.clean().unwrap();
    assert!(!cache.root().join("volumes").exists());
}

#[test]
fn concurrent_writers_share_one_complete_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = Arc::new(Cache::open(&tmp.path().join("cache")).unwrap());
    let files: Vec<(String, Vec<u8>)> = (0..200)
        .map(|i| (format!("d{}/f{i}.bin", i % 7), vec![i as u8; 4096]))
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let c = Arc::new(container(&refs));
    let name = volume_name(&c);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (cache, c, name) = (Arc::clone(&cache), Arc::clone(&c), name.clone());
            std::thread::spawn(move || materialise::volume(&cache, &c, None, &name).unwrap())
        })
        .collect();
    let dirs: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(dirs.iter().all(|d| *d == dirs[0]), "{dirs:?}");
    // One tree, complete, and no staging directory left behind.
    assert_eq!(
        entries(&cache.root().join("volumes")),
        [dirs[0].file_name().unwrap().to_string_lossy().into_owned()]
    );
    for (n, b) in &files {
        assert_eq!(&std::fs::read(dirs[0].join(n)).unwrap(), b, "{n}");
    }
}

#[test]
fn a_dead_writers_staging_is_never_used_and_is_removed_when_old() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = Cache::open(&tmp.path().join("cache")).unwrap();
    let volumes = cache.root().join("volumes");
    std::fs::create_dir_all(volumes.join(".tmp-dead/volumes/data")).unwrap();
    std::fs::write(volumes.join(".tmp-dead/volumes/data/a.txt"), b"half").unwrap();
    let old = filetime::FileTime::from_unix_time(1_000_000_000, 0);
    filetime::set_file_mtime(volumes.join(".tmp-dead"), old).unwrap();
    std::fs::create_dir_all(volumes.join(".tmp-recent")).unwrap();
    let c = container(&[("a.txt", b"whole")]);
    let dir = materialise::volume(&cache, &c, None, &volume_name(&c)).unwrap();
    assert_eq!(std::fs::read(dir.join("a.txt")).unwrap(), b"whole");
    let left = entries(&volumes);
    assert!(!left.contains(&".tmp-dead".to_owned()), "{left:?}");
    // A recent one may belong to a live writer: left alone.
    assert!(left.contains(&".tmp-recent".to_owned()), "{left:?}");
}

#[test]
fn a_volume_that_escapes_is_refused_and_leaves_nothing() {
    use webc_container::fuzzing::{RawNode, raw_container};
    // A directory entry named `..` holding a file: extraction would land outside.
    let nodes = [
        RawNode::Dir(vec![("..".into(), 1)]),
        RawNode::Dir(vec![("evil.txt".into(), 2)]),
        RawNode::File { start: 0, end: 4 },
    ];
    let bytes = raw_container(webc_container::Version::V3, "data", &nodes, b"evil").unwrap();
    let c = Container::from_bytes(bytes).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cache = Cache::open(&tmp.path().join("cache")).unwrap();
    let e = materialise::volume(&cache, &c, None, "data").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("cannot materialise volume \"data\": "),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 1, "{msg}");
    let left = entries(&cache.root().join("volumes"));
    assert!(left.is_empty(), "{left:?}");
    assert!(!tmp.path().join("evil.txt").exists());
    assert!(!cache.root().join("evil.txt").exists());
}
