//! Wasmer's own `webc` 12.0.1 crate as an oracle: for random packages, its writer and ours
//! produce the same bytes (v2 and v3), its reader accepts and validates what we write, and
//! we read and verify what it writes.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use indexmap::IndexMap;
use proptest::prelude::*;
use webc::{PathSegment, v2, v3};
use webc_container::manifest::{
    AtomMeta, Command, CommandAnnotations, Manifest, Wasi, atom_signature,
};
use webc_container::write::{Directory, Entry, Writer};
use webc_container::{Container, Version};

#[derive(Debug, Clone)]
enum Tree {
    Dir(u32, BTreeMap<String, Tree>),
    File(u32, Vec<u8>),
    Link(u32, String),
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,6}(\\.txt)?",
        "[A-Z][a-z]{0,4}",
        Just("ünicöde".to_owned()),
        Just("with space".to_owned()),
        Just("a-b_c.d".to_owned()),
    ]
}

fn tree(symlinks: bool) -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        4 => (any::<u32>(), proptest::collection::vec(any::<u8>(), 0..200)).prop_map(|(t, d)| Tree::File(t, d)),
        (if symlinks { 1 } else { 0 }) => (any::<u32>(), name()).prop_map(|(t, n)| Tree::Link(t, n)),
    ];
    leaf.prop_recursive(3, 40, 6, |inner| {
        (
            any::<u32>(),
            proptest::collection::btree_map(name(), inner, 0..6),
        )
            .prop_map(|(t, m)| Tree::Dir(t, m))
    })
}

fn root(symlinks: bool) -> impl Strategy<Value = BTreeMap<String, Tree>> {
    proptest::collection::btree_map(name(), tree(symlinks), 0..6)
}

fn ours(t: u32, m: &BTreeMap<String, Tree>) -> Directory {
    Directory {
        modified: u64::from(t),
        entries: m
            .iter()
            .map(|(k, v)| {
                let e = match v {
                    Tree::Dir(t, m) => Entry::Dir(ours(*t, m)),
                    Tree::File(t, d) => Entry::File {
                        data: Bytes::from(d.clone()),
                        modified: u64::from(*t),
                    },
                    Tree::Link(t, target) => Entry::Symlink {
                        target: target.clone(),
                        modified: u64::from(*t),
                    },
                };
                (k.clone(), e)
            })
            .collect(),
    }
}

fn ts(t: u32) -> v3::Timestamps {
    v3::Timestamps {
        modified: SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(t)),
    }
}

fn theirs_v3(t: u32, m: &BTreeMap<String, Tree>) -> v3::write::Directory<'static> {
    let children = m
        .iter()
        .map(|(k, v)| {
            let e = match v {
                Tree::Dir(t, m) => v3::write::DirEntry::Dir(theirs_v3(*t, m)),
                Tree::File(t, d) => {
                    v3::write::DirEntry::File(v3::write::FileEntry::owned(d.clone(), ts(*t)))
                }
                Tree::Link(t, target) => v3::write::DirEntry::Symlink(
                    v3::write::SymlinkEntry::owned(target.clone(), ts(*t)),
                ),
            };
            (PathSegment::parse(k).unwrap(), e)
        })
        .collect();
    v3::write::Directory::new(children, ts(t))
}

fn theirs_v2(m: &BTreeMap<String, Tree>) -> v2::write::Directory<'static> {
    let mut dir = v2::write::Directory::default();
    for (k, v) in m {
        let e = match v {
            Tree::Dir(_, m) => v2::write::DirEntry::Dir(theirs_v2(m)),
            Tree::File(_, d) => {
                v2::write::DirEntry::File(v2::write::FileEntry::Owned(Bytes::from(d.clone())))
            }
            Tree::Link(..) => unreachable!("v2 has no symlinks"),
        };
        dir.children.insert(PathSegment::parse(k).unwrap(), e);
    }
    dir
}

fn manifest(atoms: &BTreeMap<String, Vec<u8>>, volumes: &[String]) -> Vec<u8> {
    use sha2::Digest as _;
    let mut m = Manifest::default();
    let mut map = IndexMap::new();
    let mut commands = IndexMap::new();
    for (n, d) in atoms {
        let sig = atom_signature(&sha2::Sha256::digest(d).into());
        map.insert(
            n.clone(),
            AtomMeta {
                kind: "https://webc.org/kind/wasm".into(),
                signature: sig,
                ..Default::default()
            },
        );
        commands.insert(
            n.clone(),
            Command {
                runner: "https://webc.org/runner/wasi".into(),
                annotations: CommandAnnotations {
                    wasi: Some(Wasi {
                        atom: n.clone(),
                        main_args: Some(vec!["--x".into()]),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            },
        );
    }
    m.atoms = Some(map);
    m.commands = Some(commands);
    let _ = volumes;
    m.to_cbor()
}

fn atoms_strategy() -> impl Strategy<Value = BTreeMap<String, Vec<u8>>> {
    proptest::collection::btree_map(
        "[a-z]{1,8}",
        proptest::collection::vec(any::<u8>(), 0..300),
        0..4,
    )
}

fn volumes_strategy(
    symlinks: bool,
) -> impl Strategy<Value = BTreeMap<String, (u32, BTreeMap<String, Tree>)>> {
    proptest::collection::btree_map(
        prop_oneof![
            Just("atom".to_owned()),
            Just("metadata".to_owned()),
            "/[a-z]{1,6}"
        ],
        (any::<u32>(), root(symlinks)),
        0..3,
    )
}

/// Symlink targets from the strategy are plain names: always inside the volume.
fn same_bytes(
    version: Version,
    atoms: &BTreeMap<String, Vec<u8>>,
    volumes: &BTreeMap<String, (u32, BTreeMap<String, Tree>)>,
) {
    let names: Vec<String> = volumes.keys().cloned().collect();
    let manifest = manifest(atoms, &names);
    let w = Writer {
        manifest: manifest.clone(),
        atoms: atoms
            .iter()
            .map(|(k, v)| (k.clone(), Bytes::from(v.clone())))
            .collect(),
        volumes: volumes
            .iter()
            .map(|(k, (t, m))| (k.clone(), ours(*t, m)))
            .collect(),
        ..Default::default()
    };
    let mine = w.to_bytes(version).unwrap();
    let theirs: Bytes = match version {
        Version::V3 => {
            let atoms = atoms
                .iter()
                .map(|(k, v)| {
                    (
                        PathSegment::parse(k).unwrap(),
                        v3::write::FileEntry::owned(v.clone(), v3::Timestamps::default()),
                    )
                })
                .collect();
            let mut wr = v3::write::Writer::new(v3::ChecksumAlgorithm::Sha256)
                .write_raw_manifest(manifest)
                .write_atoms(atoms)
                .unwrap();
            for (k, (t, m)) in volumes {
                wr.write_volume(k, theirs_v3(*t, m)).unwrap();
            }
            wr.finish(v3::SignatureAlgorithm::None).unwrap()
        }
        Version::V2 => {
            let atoms = atoms
                .iter()
                .map(|(k, v)| {
                    (
                        PathSegment::parse(k).unwrap(),
                        v2::write::FileEntry::Owned(Bytes::from(v.clone())),
                    )
                })
                .collect();
            let mut wr = v2::write::Writer::new(v2::ChecksumAlgorithm::Sha256)
                .write_raw_manifest(manifest)
                .write_atoms(atoms)
                .unwrap();
            for (k, (_, m)) in volumes {
                wr.write_volume(k, theirs_v2(m)).unwrap();
            }
            wr.finish(v2::SignatureAlgorithm::None).unwrap()
        }
        Version::V1 => unreachable!(),
    };
    assert!(
        mine == theirs.to_vec(),
        "{version}: our bytes differ from webc's ({} vs {})",
        mine.len(),
        theirs.len()
    );

    // webc reads and validates ours …
    let wv = if version == Version::V3 {
        webc::Version::V3
    } else {
        webc::Version::V2
    };
    let c = webc::Container::from_bytes_and_version(Bytes::from(mine.clone()), wv).unwrap();
    c.validate().unwrap();
    assert_eq!(c.atoms().len(), atoms.len());
    for (k, v) in atoms {
        assert_eq!(c.get_atom(k).unwrap().as_ref(), v.as_slice());
    }
    // … and we read and verify theirs, file for file.
    let ours = Container::from_bytes(theirs).unwrap();
    let report = ours.verify();
    assert!(report.is_ok(), "{:?}", report.failures);
    for name in ours.volume_names().map(str::to_owned).collect::<Vec<_>>() {
        let vol = ours.volume(&name).unwrap();
        let theirs_vol = c.get_volume(&name).unwrap();
        vol.walk(|path, e| {
            if e.node.is_file() {
                let (data, hash) = theirs_vol.read_file(path).unwrap();
                assert_eq!(
                    vol.file_content(&e.node).unwrap().as_ref(),
                    data.as_ref(),
                    "{name}{path}"
                );
                if version == Version::V3 {
                    assert_eq!(hash, e.node.stored_hash(), "{name}{path}");
                }
            }
            Ok(())
        })
        .unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn v3_bytes_match_webc(atoms in atoms_strategy(), volumes in volumes_strategy(true)) {
        same_bytes(Version::V3, &atoms, &volumes);
    }

    #[test]
    fn v2_bytes_match_webc(atoms in atoms_strategy(), volumes in volumes_strategy(false)) {
        same_bytes(Version::V2, &atoms, &volumes);
    }
}

#[test]
fn webc_reads_our_fixture_rewrites() {
    for name in ["sample-v2.webc", "sample-v3.webc"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        let c = Container::open(&path).unwrap();
        let bytes = Writer::from_container(&c)
            .unwrap()
            .to_bytes(c.version())
            .unwrap();
        let wv = if c.version() == Version::V3 {
            webc::Version::V3
        } else {
            webc::Version::V2
        };
        let theirs = webc::Container::from_bytes_and_version(Bytes::from(bytes), wv).unwrap();
        theirs.validate().unwrap();
        assert_eq!(
            theirs.manifest().entrypoint.as_deref(),
            c.manifest().entrypoint.as_deref()
        );
    }
}
