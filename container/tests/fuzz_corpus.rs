//! Replays the committed fuzz corpus (`fuzz/corpus/reader/`), the hand-written seeds
//! (`fuzz/seeds/reader/`) and kept crash regressions (`fuzz/regressions/reader/`) through
//! the same harness the `cargo fuzz` target runs, on stable Rust, so CI catches a
//! regression without nightly. The ignored `generate_seed_corpus` test (re)writes the seeds.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::{Path, PathBuf};

use bytes::Bytes;
use sha2::Digest as _;
use webc_container::fuzzing::exercise;
use webc_container::manifest::{Manifest, atom_signature};
use webc_container::write::{Checksum, Directory, Entry, Writer};
use webc_container::{Container, Version};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Replays every file of `dir`; returns (files replayed, files that opened as containers).
fn replay(dir: &Path) -> (usize, usize) {
    let files = files(dir);
    let mut opened = 0;
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let result = std::panic::catch_unwind(|| exercise(&data));
        assert!(result.is_ok(), "{} makes the reader panic", f.display());
        opened += usize::from(result.unwrap_or(false));
    }
    (files.len(), opened)
}

#[test]
fn corpus_replays_without_panics() {
    let corpus = fuzz_dir().join("corpus/reader");
    assert!(
        corpus.is_dir(),
        "fuzz corpus {} is missing",
        corpus.display()
    );
    let (n, opened) = replay(&corpus);
    assert!(n > 0, "fuzz corpus {} is empty", corpus.display());
    // A corpus of inputs that no longer open would only test the first few checks of
    // `Container::from_bytes`: at least some must get through to the volume walks.
    assert!(
        opened >= 10,
        "only {opened} of {n} corpus inputs open as containers"
    );
}

#[test]
fn regressions_replay_without_panics() {
    let dir = fuzz_dir().join("regressions/reader");
    let (n, _) = replay(&dir);
    // A missing or emptied directory must not pass as "no regression panicked".
    assert!(n >= 6, "only {n} regression inputs in {}", dir.display());
}

#[test]
fn manifest_seeds_and_corpus_replay_without_panics() {
    let mut decoded = 0;
    let mut total = 0;
    for dir in ["seeds/manifest", "corpus/manifest", "regressions/manifest"] {
        for f in files(&fuzz_dir().join(dir)) {
            let data = std::fs::read(&f).unwrap();
            total += 1;
            if webc_container::fuzzing::exercise_manifest(&data) {
                decoded += 1;
            }
        }
    }
    // The seeds are the fixtures' manifests: they all decode.
    assert!(decoded >= 4, "{decoded} of {total} manifests decoded");
}

#[test]
fn seeds_open_verify_and_replay() {
    let seeds = fuzz_dir().join("seeds/reader");
    let files = files(&seeds);
    assert!(
        files.len() >= 8,
        "expected the generated seeds in {}",
        seeds.display()
    );
    for f in &files {
        let c = Container::open(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let report = c.verify();
        assert!(report.is_ok(), "{}: {:?}", f.display(), report.failures);
    }
    let (n, opened) = replay(&seeds);
    assert_eq!(opened, n, "every seed opens");
}

// ---------------------------------------------------------------------------------------
// Seed generation.

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn file(data: &[u8], modified: u64) -> Entry {
    Entry::File {
        data: Bytes::copy_from_slice(data),
        modified,
    }
}

/// A fixture's content with the 1 MiB file and the 3000-byte atom shrunk, manifest
/// signatures fixed up, so the seed is small and still verifies.
fn shrunk(name: &str) -> Writer {
    let c = Container::open(fixture(name)).unwrap();
    let mut w = Writer::from_container(&c).unwrap();
    for dir in w.volumes.values_mut() {
        if let Some(Entry::File { data, .. }) = dir.entries.get_mut("big.bin") {
            *data = data.slice(..200);
        }
        if let Some(Entry::Dir(assets)) = dir.entries.get_mut("assets")
            && let Some(Entry::File { data, .. }) = assets.entries.get_mut("big.bin")
        {
            *data = data.slice(..200);
        }
    }
    if let Some(blob) = w.atoms.get_mut("blob") {
        *blob = blob.slice(..64);
    }
    fix_signatures(&mut w);
    w
}

fn fix_signatures(w: &mut Writer) {
    let mut m = Manifest::from_cbor(&w.manifest).unwrap();
    if let Some(atoms) = m.atoms.as_mut() {
        for (name, meta) in atoms.iter_mut() {
            if let Some(data) = w.atoms.get(name) {
                meta.signature = atom_signature(&sha2::Sha256::digest(data).into());
            }
        }
    }
    w.manifest = m.to_cbor();
}

/// Many entries, deep nesting and awkward symlinks (chains, a loop, a dangling link, an
/// escape attempt is impossible to write, so `..` only climbs inside).
fn shapes() -> Writer {
    let mut w = shrunk("sample-v3.webc");
    let mut d = Directory {
        modified: 7,
        ..Default::default()
    };
    for i in 0..40 {
        d.insert(&format!("/flat/f{i:03}"), file(&[i as u8; 3], i), 1)
            .unwrap();
    }
    let deep = (0..24)
        .map(|i| format!("d{i}"))
        .collect::<Vec<_>>()
        .join("/");
    d.insert(&format!("/{deep}/leaf.txt"), file(b"deep", 2), 3)
        .unwrap();
    let link = |t: &str| Entry::Symlink {
        target: t.into(),
        modified: 9,
    };
    d.insert("/links/a", link("b"), 4).unwrap();
    d.insert("/links/b", link("c"), 4).unwrap();
    d.insert("/links/c", link("../flat/f001"), 4).unwrap();
    d.insert("/links/loop1", link("loop2"), 4).unwrap();
    d.insert("/links/loop2", link("loop1"), 4).unwrap();
    d.insert("/links/dangling", link("nothing/here"), 4)
        .unwrap();
    d.insert("/links/dir", link("../d0/d1"), 4).unwrap();
    d.insert("/links/through", link("dir/d2/../d2/d3"), 4)
        .unwrap();
    d.insert("/ünï/çødé.txt", file("ok".as_bytes(), 5), 6)
        .unwrap();
    d.insert("/Empty", Entry::Dir(Directory::default()), 6)
        .unwrap();
    w.volumes.insert("shapes".into(), d);
    w
}

fn leb128(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A v1 volume (`webc-format.md` §3): directory blocks level by level, then data.
fn v1_volume(root: &Directory) -> Vec<u8> {
    // Breadth-first: every directory with entries gets one block, in queue order.
    let mut order: Vec<&Directory> = vec![root];
    let mut i = 0;
    while i < order.len() {
        let dir = order[i];
        for e in dir.entries.values() {
            if let Entry::Dir(d) = e
                && !d.entries.is_empty()
            {
                order.push(d);
            }
        }
        i += 1;
    }
    let block_len =
        |d: &Directory| -> u64 { 8 + d.entries.keys().map(|k| 24 + k.len() as u64).sum::<u64>() };
    let mut offsets = Vec::with_capacity(order.len());
    let mut at = 0u64;
    for d in &order {
        offsets.push(at);
        at += block_len(d);
    }
    let mut header = Vec::new();
    let mut data = Vec::new();
    let mut next_block = 1;
    for d in &order {
        header.extend_from_slice(&(block_len(d) - 8).to_le_bytes());
        for (name, e) in &d.entries {
            let (ty, start, end) = match e {
                Entry::Dir(sub) if sub.entries.is_empty() => (0u64, 0, 0),
                Entry::Dir(sub) => {
                    let start = offsets[next_block];
                    next_block += 1;
                    (0, start, start + block_len(sub))
                }
                Entry::File { data: bytes, .. } => {
                    let start = data.len() as u64;
                    data.extend_from_slice(bytes);
                    (1, start, data.len() as u64)
                }
                Entry::Symlink { .. } => panic!("v1 has no symlinks"),
            };
            header.extend_from_slice(&((name.len() as u64) | (ty << 56)).to_le_bytes());
            header.extend_from_slice(&start.to_le_bytes());
            header.extend_from_slice(&end.to_le_bytes());
            header.extend_from_slice(name.as_bytes());
        }
    }
    let mut out = Vec::new();
    leb128(header.len() as u64, &mut out);
    out.extend_from_slice(&header);
    out.extend_from_slice(&data);
    out
}

/// A v1 container of `w`'s content, with or without the file checksum.
fn v1(w: &Writer, checksum: bool) -> Vec<u8> {
    let mut out = b"\0webc001".to_vec();
    out.extend_from_slice(if checksum {
        b"sha256----------"
    } else {
        b"----------------"
    });
    out.resize(1308, 0);
    leb128(w.manifest.len() as u64, &mut out);
    out.extend_from_slice(&w.manifest);
    let atoms = Directory {
        modified: 0,
        entries: w
            .atoms
            .iter()
            .map(|(n, d)| (n.clone(), file(d, 0)))
            .collect(),
    };
    let atoms = v1_volume(&atoms);
    leb128(atoms.len() as u64, &mut out);
    out.extend_from_slice(&atoms);
    for (name, dir) in &w.volumes {
        leb128(name.len() as u64, &mut out);
        out.extend_from_slice(name.as_bytes());
        let vol = v1_volume(dir);
        leb128(vol.len() as u64, &mut out);
        out.extend_from_slice(&vol);
    }
    if checksum {
        let hash = sha2::Sha256::digest(&out);
        out[24..56].copy_from_slice(&hash);
    }
    out
}

/// Writes the seed corpus: small containers of every version and shape.
/// `cargo test -p webc-container --test fuzz_corpus -- --ignored generate_seed_corpus`
#[test]
#[ignore = "writes fuzz/seeds/reader; run by hand when the seeds should change"]
fn generate_seed_corpus() {
    let dir = fuzz_dir().join("seeds/reader");
    std::fs::create_dir_all(&dir).unwrap();
    let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
    let v3 = shrunk("sample-v3.webc");
    seeds.push(("v3-small.webc", v3.to_bytes(Version::V3).unwrap()));
    let v3n = shrunk("sample-v3-nosymlinks.webc");
    seeds.push((
        "v3-nosymlinks-small.webc",
        v3n.to_bytes(Version::V3).unwrap(),
    ));
    let v2 = shrunk("sample-v2.webc");
    seeds.push(("v2-small.webc", v2.to_bytes(Version::V2).unwrap()));
    let mut v2none = v2.clone();
    v2none.checksum = Checksum::None;
    seeds.push((
        "v2-checksum-none.webc",
        v2none.to_bytes(Version::V2).unwrap(),
    ));
    let mut v3none = v3n.clone();
    v3none.checksum = Checksum::None;
    seeds.push((
        "v3-checksum-none.webc",
        v3none.to_bytes(Version::V3).unwrap(),
    ));
    let empty = Writer {
        manifest: Manifest::default().to_cbor(),
        ..Default::default()
    };
    seeds.push(("v3-empty.webc", empty.to_bytes(Version::V3).unwrap()));
    seeds.push(("v2-empty.webc", empty.to_bytes(Version::V2).unwrap()));
    seeds.push(("v3-shapes.webc", shapes().to_bytes(Version::V3).unwrap()));
    seeds.push(("v1-small.webc", v1(&v2, false)));
    seeds.push(("v1-sha256.webc", v1(&v2, true)));
    seeds.push(("v1-empty.webc", v1(&empty, false)));
    for (name, bytes) in &seeds {
        // Every seed must be a valid, verifying container.
        let c = Container::from_bytes(bytes.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let report = c.verify();
        assert!(report.is_ok(), "{name}: {:?}", report.failures);
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
