//! The fuzzing harness shared by the `cargo fuzz` target and the corpus-replay test.
//!
//! [`exercise`] opens arbitrary bytes and, if they parse, drives every read path of the
//! crate. It returns normally for every input, however malformed: errors are expected and
//! ignored. It panics only when the crate contradicts itself — e.g. a path that `walk`
//! reported cannot be looked up, or a container our writer produced does not reopen —
//! because those are bugs, and a panic is how a fuzzer reports them.

use bytes::Bytes;

use crate::manifest::Manifest;
use crate::write::Writer;
use crate::{Container, EntryKind, Version, Volume};

/// Opens `data` as a container and touches everything it has; see the module docs.
///
/// # Panics
///
/// Only when the crate is internally inconsistent (a bug), never because `data` is malformed.
pub fn exercise(data: &[u8]) {
    let Ok(c) = Container::from_bytes(Bytes::copy_from_slice(data)) else {
        return;
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
