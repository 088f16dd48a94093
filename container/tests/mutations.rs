//! Property tests on mutated fixtures: whatever is done to the bytes (bit flips,
//! truncation, insertion, deletion, length fields overwritten with huge or off-by-a-few
//! values), `fuzzing::exercise` returns without panicking; and any single-byte change
//! to the header, index, manifest, atoms or a volume of a fixture is caught: the file
//! no longer opens, or `verify` fails naming the changed section.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use webc_container::fuzzing::exercise;
use webc_container::{Container, SectionKind, Version, Volume};

struct Fixture {
    name: String,
    bytes: Vec<u8>,
    /// Absolute offsets of u64 length / offset fields (sections, volumes, records).
    fields: Vec<u64>,
    /// Byte ranges where any change must be detected, with the label `verify` must name
    /// (`None`: any failure will do).
    guarded: Vec<(u64, u64, Option<String>)>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_owned()
}

fn load(path: &Path) -> Fixture {
    let bytes = std::fs::read(path).unwrap();
    let c = Container::from_bytes(bytes.clone()).unwrap();
    let mut fields = Vec::new();
    let mut guarded = Vec::new();
    match c.version() {
        Version::V1 => {
            // The checksum covers everything but bytes 24..1308 (checksum and signature).
            guarded.push((0, 56, None));
            guarded.push((1308, bytes.len() as u64, None));
        }
        Version::V2 | Version::V3 => {
            guarded.push((0, 8, None));
            for s in c.sections() {
                let end = s.offset + s.total_len();
                fields.push(s.data_offset - 8);
                let label = match &s.kind {
                    SectionKind::Index => None,
                    SectionKind::Volume(_) => {
                        fields.push(s.data_offset); // volume name length
                        Some(s.kind.label())
                    }
                    _ => Some(s.kind.label()),
                };
                guarded.push((s.offset, end, label));
            }
        }
    }
    let mut volumes = vec![c.atoms_volume().clone()];
    let names: Vec<String> = c.volume_names().map(str::to_owned).collect();
    volumes.extend(names.iter().map(|n| c.volume(n).unwrap()));
    for v in &volumes {
        record_fields(&bytes, v, &mut fields);
    }
    fields.sort_unstable();
    fields.dedup();
    Fixture {
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
        bytes,
        fields,
        guarded,
    }
}

fn u64_at(bytes: &[u8], at: u64) -> u64 {
    let at = at as usize;
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// Offsets of the length/offset fields of every record of `v`.
fn record_fields(bytes: &[u8], v: &Volume, out: &mut Vec<u64>) {
    let h = v.header_offset();
    if v.version() != Version::V1 {
        out.push(h - 8); // header length
        out.push(v.data_offset() - 8); // data length
    }
    let mut records = vec![v.root().unwrap()];
    v.walk(|_, e| {
        records.push(e.node.clone());
        Ok(())
    })
    .unwrap();
    for node in records {
        let at = h + node.id();
        match v.version() {
            Version::V1 => {
                if node.id() == 0 && node.is_dir() {
                    out.push(h); // root block length
                    continue;
                }
                out.extend([at, at + 8, at + 16]); // name length + type, start, end
                if node.is_dir() && u64_at(bytes, at + 8) != u64_at(bytes, at + 16) {
                    out.push(h + u64_at(bytes, at + 8)); // child block length
                }
            }
            Version::V2 | Version::V3 => {
                out.push(at + 1); // directory body length, file start, symlink target length
                if node.is_file() {
                    out.push(at + 9); // file end
                }
                if node.is_dir() {
                    // Entries: u64 child offset, (v3: h32 hash), u64 name length, name.
                    let v3 = v.version() == Version::V3;
                    let end = at + 9 + u64_at(bytes, at + 1);
                    let mut p = at + 9 + if v3 { 56 } else { 0 };
                    while p < end {
                        out.push(p);
                        p += 8 + if v3 { 32 } else { 0 };
                        out.push(p);
                        p += 8 + u64_at(bytes, p);
                    }
                }
            }
        }
    }
}

fn fixtures() -> &'static [Fixture] {
    static FIXTURES: OnceLock<Vec<Fixture>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        [
            "sample-v1.webc",
            "sample-v2.webc",
            "sample-v3.webc",
            "sample-v3-nosymlinks.webc",
        ]
        .iter()
        .map(|n| load(&root().join("tests/fixtures").join(n)))
        .collect()
    })
}

/// The generated seeds (a few KiB each): the same mutations cost far less on them, so
/// they get many more cases.
fn seeds() -> &'static [Fixture] {
    static SEEDS: OnceLock<Vec<Fixture>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let dir = root().join("../fuzz/seeds/reader");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        assert!(!paths.is_empty(), "no seeds in {}", dir.display());
        paths.iter().map(|p| load(p)).collect()
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: Index, bit: u8 },
    Set { at: Index, byte: u8 },
    Truncate { at: Index },
    Insert { at: Index, bytes: Vec<u8> },
    Delete { at: Index, len: usize },
    Field { field: Index, value: u64 },
    Nudge { field: Index, delta: i64 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let huge = prop_oneof![
        Just(u64::MAX),
        Just(u64::MAX - 7),
        Just(1u64 << 63),
        Just(i64::MAX as u64),
        Just(1u64 << 32),
        Just(u32::MAX as u64),
        any::<u64>(),
    ];
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        any::<Index>().prop_map(|at| Mutation::Truncate { at }),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..24))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<Index>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<Index>(), huge).prop_map(|(field, value)| Mutation::Field { field, value }),
        (any::<Index>(), -9i64..=9).prop_map(|(field, delta)| Mutation::Nudge { field, delta }),
    ]
}

fn apply(f: &Fixture, m: &Mutation) -> Vec<u8> {
    let mut b = f.bytes.clone();
    let len = b.len();
    let set_field = |b: &mut Vec<u8>, field: &Index, value: &dyn Fn(u64) -> u64| {
        if f.fields.is_empty() {
            return;
        }
        let at = f.fields[field.index(f.fields.len())] as usize;
        let old = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
        b[at..at + 8].copy_from_slice(&value(old).to_le_bytes());
    };
    match m {
        Mutation::Flip { at, bit } => b[at.index(len)] ^= 1 << bit,
        Mutation::Set { at, byte } => b[at.index(len)] = *byte,
        Mutation::Truncate { at } => b.truncate(at.index(len)),
        Mutation::Insert { at, bytes } => {
            let at = at.index(len + 1);
            b.splice(at..at, bytes.iter().copied());
        }
        Mutation::Delete { at, len: n } => {
            let at = at.index(len);
            b.drain(at..(at + n).min(len));
        }
        Mutation::Field { field, value } => set_field(&mut b, field, &|_| *value),
        Mutation::Nudge { field, delta } => {
            set_field(&mut b, field, &|old| old.wrapping_add_signed(*delta))
        }
    }
    b
}

/// One single-byte change inside a guarded range of `f`.
fn tamper(f: &Fixture, range: &Index, at: &Index, xor: u8) -> (Vec<u8>, u64, Option<String>) {
    let (start, end, label) = f.guarded[range.index(f.guarded.len())].clone();
    let pos = start + at.index((end - start) as usize) as u64;
    let mut b = f.bytes.clone();
    b[pos as usize] ^= xor;
    (b, pos, label)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// The 1 MiB fixtures, mutated: never a panic. (Each case rewrites and verifies
    /// about a MiB several times, so few cases; the seeds below get many more.)
    #[test]
    fn mutated_fixtures_never_panic(which in any::<Index>(), m in mutation()) {
        let f = &fixtures()[which.index(fixtures().len())];
        let bytes = apply(f, &m);
        exercise(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// The small seeds, mutated (up to three mutations in a row): never a panic.
    #[test]
    fn mutated_seeds_never_panic(which in any::<Index>(), ms in prop::collection::vec(mutation(), 1..4)) {
        let f = &seeds()[which.index(seeds().len())];
        let mut current = Fixture {
            name: f.name.clone(),
            bytes: f.bytes.clone(),
            fields: f.fields.clone(),
            guarded: Vec::new(),
        };
        for m in &ms {
            if current.bytes.is_empty() {
                break;
            }
            current.bytes = apply(&current, m);
            // Later field offsets may now point past the end: keep the ones that fit.
            let len = current.bytes.len() as u64;
            current.fields.retain(|&at| at + 8 <= len);
        }
        exercise(&current.bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any single-byte change to a guarded part of a fixture is detected, and `verify`
    /// names the section that changed.
    #[test]
    fn single_byte_changes_are_detected(
        which in any::<Index>(),
        range in any::<Index>(),
        at in any::<Index>(),
        xor in 1u8..=255,
    ) {
        let f = &fixtures()[which.index(fixtures().len())];
        let (bytes, pos, label) = tamper(f, &range, &at, xor);
        let Ok(c) = Container::from_bytes(bytes) else {
            return Ok(());
        };
        let report = c.verify();
        prop_assert!(
            !report.is_ok(),
            "{}: changing byte {pos} (^{xor:#04x}) went unnoticed", f.name
        );
        if let Some(label) = label {
            prop_assert!(
                report.failures.iter().any(|x| x.entry.contains(&label)),
                "{}: changing byte {pos} in the {label} section: failures do not name it: {:?}",
                f.name, report.failures
            );
        }
    }
}

/// The same property exhaustively on the smallest v2 and v3 seeds: every byte, one change each.
#[test]
fn every_byte_of_small_containers_is_guarded() {
    for f in seeds() {
        if !f.name.contains("empty") || f.name.starts_with("v1") {
            continue;
        }
        for (start, end, label) in &f.guarded {
            for pos in *start..*end {
                let mut b = f.bytes.clone();
                b[pos as usize] ^= 0x41;
                let Ok(c) = Container::from_bytes(b) else {
                    continue;
                };
                let report = c.verify();
                assert!(!report.is_ok(), "{}: byte {pos} unguarded", f.name);
                if let Some(label) = label {
                    assert!(
                        report.failures.iter().any(|x| x.entry.contains(label)),
                        "{}: byte {pos} ({label}): {:?}",
                        f.name,
                        report.failures
                    );
                }
            }
        }
    }
}
