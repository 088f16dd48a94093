//! The fuzzing harness shared by the `cargo fuzz` target and the corpus-replay test.
//!
//! [`exercise`] opens arbitrary bytes and, if they parse, drives every read path of the
//! crate. It returns normally for every input, however malformed: errors are expected and
//! ignored. It panics only when the crate contradicts itself — e.g. a path that `walk`
//! reported cannot be looked up, or a container our writer produced does not reopen —
//! because those are bugs, and a panic is how a fuzzer reports them.
//!
//! Random bytes rarely form a deep, shared or overlapping directory tree, so [`RawNode`]
//! and [`raw_container`] build such trees directly (they bypass the writer, which refuses
//! them), and [`exercise_tree`] decodes fuzzer bytes into one: the `trees` fuzz target and
//! the `hostile_trees` proptest drive the reader with them and check [`Volume::walk`]
//! against a model ([`expected_walk`]).

use std::collections::HashSet;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::container::{TAG_ATOMS, TAG_MANIFEST, TAG_VOLUME};
use crate::manifest::Manifest;
use crate::volume::{MAX_DEPTH, TAG_DIR, TAG_FILE};
use crate::write::{Checksum, Directory, Sec, Writer, assemble, put_u64, volume_body};
use crate::{Container, EntryKind, Result, Version, Volume};

/// Opens `data` as a container and touches everything it has; see the module docs.
/// Returns whether `data` opened at all (so a corpus replay can tell it exercised something).
///
/// # Panics
///
/// Only when the crate is internally inconsistent (a bug), never because `data` is malformed.
pub fn exercise(data: &[u8]) -> bool {
    if crate::container::detect(data).is_ok_and(|v| v != Version::V1) {
        crate::container::check_index_decoding(data);
    }
    let Ok(c) = Container::from_bytes(Bytes::copy_from_slice(data)) else {
        return false;
    };
    let _ = c.sections();
    let _ = (c.v1_header(), c.index_cbor_len(), c.version());
    manifest(&c);
    atoms(&c);
    let names: Vec<String> = c.volume_names().map(str::to_owned).collect();
    for name in &names {
        if let Ok(v) = c.volume(name) {
            volume(&v);
        }
    }
    volume(c.atoms_volume());
    let _ = c.verify();
    for version in [Version::V2, Version::V3] {
        rewrite(&c, version);
    }
    true
}

/// The `manifest` fuzz target: `data` as a CBOR manifest on its own. Whatever decodes must
/// re-encode to bytes that decode to the same manifest and re-encode identically (the round
/// trip the container relies on to keep unknown keys), and the direct decoder (CBOR straight
/// into the structs) must agree with the general one (CBOR → `Value` → structs). Returns
/// whether `data` decoded.
///
/// # Panics
///
/// Only when the manifest codec is internally inconsistent (a bug).
pub fn exercise_manifest(data: &[u8]) -> bool {
    crate::manifest::check_direct_decoding(data);
    let Ok(m) = Manifest::from_cbor(data) else {
        return false;
    };
    let encoded = m.to_cbor();
    let again = Manifest::from_cbor(&encoded)
        .unwrap_or_else(|e| panic!("a re-encoded manifest does not decode: {e}"));
    assert_eq!(again.to_cbor(), encoded, "re-encoding is not stable");
    let commands: Vec<String> = m.commands().map(|(n, _)| n.clone()).collect();
    for name in &commands {
        let _ = m.command_atom(name);
    }
    let _ = (m.atoms().count(), m.default_command());
    true
}

fn manifest(c: &Container) {
    let m = c.manifest();
    let encoded = m.to_cbor();
    let again = Manifest::from_cbor(&encoded)
        .unwrap_or_else(|e| panic!("a re-encoded manifest does not decode: {e}"));
    assert_eq!(
        again.to_cbor(),
        encoded,
        "manifest encoding is not stable across a round trip"
    );
    // Whatever ciborium's own `Value` reproduces exactly, the typed manifest must too.
    let raw = c.manifest_bytes();
    if let Ok(value) = ciborium::de::from_reader::<ciborium::Value, _>(&raw[..]) {
        let mut plain = Vec::new();
        if ciborium::into_writer(&value, &mut plain).is_ok() && plain[..] == raw[..] {
            assert!(
                encoded == raw[..],
                "a canonical manifest does not round-trip through the typed Manifest"
            );
        }
    }
    let _ = (m.package_name(), m.package_version(), m.default_command());
    for mapping in m.fs() {
        let _ = mapping.source_path();
    }
    let commands: Vec<String> = m.commands().map(|(n, _)| n.clone()).collect();
    for name in &commands {
        let _ = m.command_atom(name);
        if let Some(cmd) = m.command(name) {
            let _ = cmd.annotations.get("wasi");
            let _ = cmd.annotations.to_cbor_value();
        }
    }
}

fn atoms(c: &Container) {
    let names = c.atom_names().unwrap_or_default();
    for name in &names {
        match c.atom(name) {
            Ok(bytes) => {
                let node = c.atom_node(name);
                if let Ok(Some(node)) = node {
                    assert_eq!(node.len(), bytes.len() as u64, "atom {name:?}: length");
                }
            }
            Err(_) => {
                let _ = c.atom_node(name);
            }
        }
    }
    let listed: Vec<String> = c.manifest().atoms().map(|(n, _)| n.clone()).collect();
    for name in listed
        .iter()
        .map(String::as_str)
        .chain(["", ".", "..", "a/b"])
    {
        let _ = c.atom(name);
        let _ = c.atom_node(name);
    }
}

fn volume(v: &Volume) {
    let _ = (v.name(), v.version(), v.header_offset(), v.data_offset());
    let _ = (v.header_bytes().len(), v.data_bytes().len());
    if let Ok(root) = v.root() {
        let _ = v.entry_count(&root);
        let _ = v.entries(&root);
    }
    for path in ["", "/", ".", "/./", "..", "/a/../b", "a\0b", "//x//y"] {
        let _ = v.lookup(path);
        let _ = v.lookup_nofollow(path);
    }
    let mut walked = Vec::new();
    // A walk may stop half-way with an error (a broken record deep inside); what it
    // visited before that must still be consistent.
    let _ = v.walk(|path, entry| {
        walked.push((path.to_owned(), entry.clone()));
        Ok(())
    });
    for (path, entry) in &walked {
        let node = &entry.node;
        let found = v
            .lookup_nofollow(path)
            .unwrap_or_else(|e| panic!("walked path {path:?} fails lookup_nofollow: {e}"));
        assert_eq!(
            found.as_ref(),
            Some(node),
            "walked path {path:?}: lookup_nofollow finds another node"
        );
        let _ = (
            node.modified(),
            node.stored_hash(),
            node.id(),
            node.is_empty(),
        );
        let _ = v.content_offset(node);
        match node.kind() {
            EntryKind::File => {
                let content = v.file_content(node);
                assert_eq!(
                    content.as_ref().map(|b| b.len() as u64),
                    Some(node.len()),
                    "{path:?}: content length"
                );
                let read = v
                    .read_file(path)
                    .unwrap_or_else(|e| panic!("walked file {path:?} cannot be read: {e}"));
                assert_eq!(Some(read), content, "{path:?}: read_file vs file_content");
            }
            EntryKind::Dir => {
                // Its own entries may be broken (the walk then stops right after it).
                let listed = v.read_dir(path);
                if let Ok(listed) = &listed {
                    assert!(
                        listed.windows(2).all(|w| w[0].name < w[1].name),
                        "{path:?}: read_dir is not strictly sorted"
                    );
                    assert_eq!(
                        v.entry_count(node).ok(),
                        Some(listed.len()),
                        "{path:?}: entry_count vs read_dir"
                    );
                    for e in listed {
                        assert_eq!(
                            v.child_of(node, &e.name).ok().flatten().as_ref(),
                            Some(&e.node),
                            "{path:?}: child_of({:?}) vs read_dir",
                            e.name
                        );
                    }
                }
                assert_eq!(
                    listed.ok(),
                    v.entries(node).ok().flatten(),
                    "{path:?}: read_dir vs entries"
                );
            }
            EntryKind::Symlink => {
                assert!(node.symlink_target().is_some(), "{path:?}: symlink target");
                // Following may fail (dangling, loop, escape); it must not panic, and
                // what it finds is never a symlink itself.
                if let Ok(Some(target)) = v.lookup(path) {
                    assert_ne!(target.kind(), EntryKind::Symlink, "{path:?}: followed");
                }
                let _ = v.read_file(path);
                let _ = v.read_dir(path);
            }
        }
        let _ = v.get(path);
        let _ = v.lookup(path);
    }
}

/// Rewrites the container's logical content as `version`; our own output must reopen, hold
/// the same content and rewrite to the same bytes.
fn rewrite(c: &Container, version: Version) {
    let Ok(writer) = Writer::from_container(c) else {
        return;
    };
    let Ok(bytes) = writer.to_bytes(version) else {
        return;
    };
    let reopened = Container::from_bytes(bytes.clone())
        .unwrap_or_else(|e| panic!("our {version:?} output does not reopen: {e}"));
    let report = reopened.verify();
    // The manifest is copied as is, so its atom signatures and `fs` volumes may be wrong;
    // everything the writer computes itself must check.
    for f in &report.failures {
        assert!(
            f.entry.starts_with("atom ") || f.entry.starts_with("package.fs"),
            "our {version:?} output fails verification: {f}"
        );
    }
    let again = Writer::from_container(&reopened)
        .and_then(|w| w.to_bytes(version))
        .unwrap_or_else(|e| panic!("our {version:?} output cannot be rewritten: {e}"));
    assert!(
        again == bytes,
        "rewriting our own {version:?} output changes its bytes"
    );
}

/// One record of a hand-built v2/v3 volume header. Node 0 is the root and must be a
/// directory; a child is named by its index, which must be larger than its parent's (the
/// reader's rule). Nothing stops two entries from naming the same child (a *shared*
/// record) or two files from covering the same bytes (*overlapping* ranges).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawNode {
    /// A directory: `(name, child index)` entries (stored sorted by name).
    Dir(Vec<(String, usize)>),
    /// A file whose content is `start..end` of the volume's data region.
    File {
        /// First byte.
        start: u64,
        /// One past the last byte.
        end: u64,
    },
}

fn record_len(v3: bool, node: &RawNode) -> u64 {
    match node {
        RawNode::Dir(entries) => {
            let per_entry: u64 = if v3 { 8 + 32 + 8 } else { 8 + 8 };
            (if v3 { 9 + 24 + 32 } else { 9 })
                + entries
                    .iter()
                    .map(|(n, _)| per_entry + n.len() as u64)
                    .sum::<u64>()
        }
        RawNode::File { .. } => {
            if v3 {
                1 + 16 + 32 + 24
            } else {
                1 + 16 + 32
            }
        }
    }
}

/// Encodes `nodes` as a volume header over `data`, with correct file hashes and (v3)
/// directory Merkle hashes, so only the tree's shape can be wrong.
pub fn raw_volume_header(v3: bool, nodes: &[RawNode], data: &[u8]) -> Vec<u8> {
    let mut offsets = Vec::with_capacity(nodes.len());
    let mut at = 0u64;
    for n in nodes {
        offsets.push(at);
        at += record_len(v3, n);
    }
    let sorted = |entries: &[(String, usize)]| {
        let mut e = entries.to_vec();
        e.sort();
        e
    };
    // Hashes bottom-up: children have larger indices (others get a zero hash).
    let mut hashes = vec![[0u8; 32]; nodes.len()];
    for i in (0..nodes.len()).rev() {
        hashes[i] = match &nodes[i] {
            RawNode::File { start, end } => {
                let content = usize::try_from(*start)
                    .ok()
                    .zip(usize::try_from(*end).ok())
                    .and_then(|(s, e)| data.get(s..e))
                    .unwrap_or_default();
                Sha256::digest(content).into()
            }
            RawNode::Dir(entries) => {
                let mut h = Sha256::new();
                for (_, child) in sorted(entries) {
                    h.update(hashes.get(child).copied().unwrap_or_default());
                }
                h.finalize().into()
            }
        };
    }
    let mut out = Vec::with_capacity(at as usize);
    for (i, n) in nodes.iter().enumerate() {
        match n {
            RawNode::Dir(entries) => {
                out.push(TAG_DIR);
                put_u64(&mut out, record_len(v3, n) - 9);
                if v3 {
                    out.extend_from_slice(&[0; 24]);
                    out.extend_from_slice(&hashes[i]);
                }
                for (name, child) in sorted(entries) {
                    put_u64(&mut out, offsets.get(child).copied().unwrap_or(u64::MAX));
                    if v3 {
                        out.extend_from_slice(&hashes.get(child).copied().unwrap_or_default());
                    }
                    put_u64(&mut out, name.len() as u64);
                    out.extend_from_slice(name.as_bytes());
                }
            }
            RawNode::File { start, end } => {
                out.push(TAG_FILE);
                put_u64(&mut out, *start);
                put_u64(&mut out, *end);
                out.extend_from_slice(&hashes[i]);
                if v3 {
                    out.extend_from_slice(&[0; 24]);
                }
            }
        }
    }
    out
}

/// A whole v2 or v3 container (empty manifest, no atoms) holding one volume `name` whose
/// header is `nodes` over `data`. Sections, index and checksums are what Wasmer's writer
/// would produce, so `verify` only objects to what the tree itself does wrong.
///
/// # Errors
/// `version` is v1 (not writable).
pub fn raw_container(
    version: Version,
    name: &str,
    nodes: &[RawNode],
    data: &[u8],
) -> Result<Vec<u8>> {
    let v3 = match version {
        Version::V3 => true,
        Version::V2 => false,
        Version::V1 => return Err(crate::Error::Write("webc v1 is read-only".into())),
    };
    let mut atoms = Vec::new();
    volume_body(v3, &Directory::default(), &mut atoms)?;
    let header = raw_volume_header(v3, nodes, data);
    let mut volume = Vec::with_capacity(header.len() + data.len() + name.len() + 16);
    put_u64(&mut volume, name.len() as u64);
    volume.extend_from_slice(name.as_bytes());
    put_u64(&mut volume, header.len() as u64);
    volume.extend_from_slice(&header);
    put_u64(&mut volume, data.len() as u64);
    volume.extend_from_slice(data);
    let sections = [
        Sec {
            tag: TAG_MANIFEST,
            data: vec![0xa0],
        },
        Sec {
            tag: TAG_ATOMS,
            data: atoms,
        },
        Sec {
            tag: TAG_VOLUME,
            data: volume,
        },
    ];
    assemble(v3, Checksum::Sha256, &sections, &[name])
}

/// `depth` directories nested in a chain (`/d/d/…/d`).
pub fn deep_chain(depth: usize) -> Vec<RawNode> {
    (0..=depth)
        .map(|i| {
            RawNode::Dir(if i < depth {
                vec![("d".to_owned(), i + 1)]
            } else {
                Vec::new()
            })
        })
        .collect()
}

/// `n` directories, each with entries `a` and `b` naming the same next directory: 2^n
/// paths from a header of a few hundred bytes.
pub fn shared_chain(n: usize) -> Vec<RawNode> {
    (0..=n)
        .map(|i| {
            RawNode::Dir(if i < n {
                vec![("a".to_owned(), i + 1), ("b".to_owned(), i + 1)]
            } else {
                Vec::new()
            })
        })
        .collect()
}

/// A root holding `files` files (`f00000`, …) whose records all cover `0..len` of the data
/// region: `files × len` bytes of content from `len` bytes of package.
pub fn overlapping_files(files: usize, len: u64) -> Vec<RawNode> {
    let mut nodes = vec![RawNode::Dir(
        (0..files).map(|i| (format!("f{i:05}"), i + 1)).collect(),
    )];
    nodes.extend((0..files).map(|_| RawNode::File { start: 0, end: len }));
    nodes
}

/// What [`Volume::walk`] must do with a raw tree: the entries it visits before stopping,
/// and why it stops (`None`: it finishes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedWalk {
    /// Entries visited.
    pub visited: usize,
    /// `Some("shared")` or `Some("depth")` when the walk must fail.
    pub error: Option<&'static str>,
}

/// Models [`Volume::walk`] over `nodes`: depth-first, names sorted, a directory deeper
/// than [`MAX_DEPTH`] or reached a second time stops it. Assumes every child index is
/// valid and larger than its parent's.
pub fn expected_walk(nodes: &[RawNode]) -> ExpectedWalk {
    let children = |i: usize| match nodes.get(i) {
        Some(RawNode::Dir(e)) => {
            let mut e = e.clone();
            e.sort();
            e
        }
        _ => Vec::new(),
    };
    let mut seen = HashSet::from([0usize]);
    let mut visited = 0;
    let mut stack = vec![children(0).into_iter()];
    while let Some(iter) = stack.last_mut() {
        let Some((_, child)) = iter.next() else {
            stack.pop();
            continue;
        };
        let is_dir = matches!(nodes.get(child), Some(RawNode::Dir(_)));
        if is_dir && stack.len() > MAX_DEPTH {
            return ExpectedWalk {
                visited,
                error: Some("depth"),
            };
        }
        if is_dir && !seen.insert(child) {
            return ExpectedWalk {
                visited,
                error: Some("shared"),
            };
        }
        visited += 1;
        if is_dir {
            stack.push(children(child).into_iter());
        }
    }
    ExpectedWalk {
        visited,
        error: None,
    }
}

/// Decodes fuzzer bytes into a raw tree: a version byte, a chain length (deep trees come
/// cheap), then one record per 4 bytes — kind, and for directories up to three children
/// picked among the next nodes (so sharing is common), for files a range of the small data
/// region (so overlaps are common).
pub fn tree_from_bytes(data: &[u8]) -> (Version, Vec<RawNode>, Vec<u8>) {
    let version = if data.first().is_some_and(|b| b & 1 == 1) {
        Version::V3
    } else {
        Version::V2
    };
    let chain = usize::from(data.get(1).copied().unwrap_or(0)) * 2;
    let body = data.get(2..).unwrap_or_default();
    let content: Vec<u8> = (0..64u8).collect();
    let records: Vec<&[u8]> = body.chunks_exact(4).take(512).collect();
    let mut nodes = deep_chain(chain);
    let base = nodes.len() - 1; // the chain's last directory becomes records[0] (or stays empty)
    let total = base + records.len().max(1);
    for (i, r) in records.iter().enumerate() {
        let at = base + i;
        let node = if r[0] & 3 == 3 && at > 0 {
            let start = u64::from(r[1] % 64);
            RawNode::File {
                start,
                end: (start + u64::from(r[2] % 32)).min(64),
            }
        } else {
            let names = ["a", "b", "c"];
            let n = usize::from(r[0] >> 6);
            let mut entries = Vec::new();
            for (k, name) in names.iter().enumerate().take(n) {
                let pick = usize::from(r[1 + k]);
                if at + 1 < total {
                    entries.push(((*name).to_owned(), at + 1 + pick % (total - at - 1)));
                }
            }
            RawNode::Dir(entries)
        };
        if at < nodes.len() {
            nodes[at] = node;
        } else {
            nodes.push(node);
        }
    }
    if !matches!(nodes.first(), Some(RawNode::Dir(_))) {
        nodes[0] = RawNode::Dir(Vec::new());
    }
    (version, nodes, content)
}

/// The structure-aware fuzz entry: builds a container from [`tree_from_bytes`], runs
/// [`exercise`] on it, and checks that [`Volume::walk`] visits and refuses exactly what
/// [`expected_walk`] predicts.
///
/// # Panics
/// When the reader disagrees with the model (a bug).
pub fn exercise_tree(data: &[u8]) {
    let (version, nodes, content) = tree_from_bytes(data);
    let Ok(bytes) = raw_container(version, "/v", &nodes, &content) else {
        return;
    };
    assert!(exercise(&bytes), "a raw tree container does not open");
    check_walk(&bytes, &nodes);
}

/// Opens a container made by [`raw_container`] and checks its walk against the model.
///
/// # Panics
/// When the container does not open or its walk differs from [`expected_walk`].
pub fn check_walk(bytes: &[u8], nodes: &[RawNode]) {
    let c = Container::from_bytes(Bytes::copy_from_slice(bytes))
        .unwrap_or_else(|e| panic!("a raw tree container does not open: {e}"));
    let v = c
        .volume("/v")
        .unwrap_or_else(|e| panic!("the raw tree volume does not open: {e}"));
    let mut visited = 0;
    let walked = v.walk(|_, _| {
        visited += 1;
        Ok(())
    });
    let expected = expected_walk(nodes);
    let error = match &walked {
        Ok(()) => None,
        Err(e) if e.to_string().contains("is shared") => Some("shared"),
        Err(e) if e.to_string().contains("levels deep") => Some("depth"),
        Err(e) => panic!("unexpected walk error: {e}"),
    };
    assert_eq!(
        ExpectedWalk { visited, error },
        expected,
        "walk vs model ({walked:?})"
    );
}
