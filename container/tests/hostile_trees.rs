//! Hostile directory trees — deep, shared and overlapping — built record by record
//! (the writer refuses them), checked against a model of `Volume::walk`, and fed to the
//! fuzzing harness. Deterministic regressions first, then a proptest generator.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use proptest::prelude::*;
use webc_container::fuzzing::{
    RawNode, check_walk, deep_chain, exercise, exercise_tree, expected_walk, overlapping_files,
    raw_container, shared_chain,
};
use webc_container::{Container, MAX_DEPTH, Version};

fn open(version: Version, nodes: &[RawNode], data: &[u8]) -> Container {
    Container::from_bytes(raw_container(version, "/v", nodes, data).unwrap()).unwrap()
}

/// 100 000 nested directories (2.6 MB) are refused at level 257 with a one-line error, in
/// both versions, by walks and by lookups alike; at the limit everything works.
#[test]
fn deep_trees_stop_at_max_depth() {
    for version in [Version::V2, Version::V3] {
        let nodes = deep_chain(100_000);
        let c = open(version, &nodes, &[]);
        let v = c.volume("/v").unwrap();
        let err = v.walk(|_, _| Ok(())).unwrap_err().to_string();
        assert!(
            err.contains("nested more than 256 levels deep") && !err.contains('\n'),
            "{err}"
        );
        assert!(err.len() < 300, "{} bytes: {err}", err.len());
        let err = v.lookup(&"/d".repeat(300)).unwrap_err().to_string();
        assert!(err.contains("nested more than 256 levels deep"), "{err}");
        // `verify` reports it as a failure, it does not pass it.
        assert!(!c.verify().is_ok());

        let ok = open(version, &deep_chain(MAX_DEPTH), &[]);
        let v = ok.volume("/v").unwrap();
        let mut n = 0;
        v.walk(|_, _| {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, MAX_DEPTH);
        assert!(ok.verify().is_ok(), "{:?}", ok.verify().failures);
    }
}

/// A 3 000-byte directory name above 10 000 files: every full path would be 3 KB long
/// (30 MB of paths from a 400 KB header). Still within `MAX_PATH_LEN`, so it walks; with a
/// 5 000-byte name it is refused at the first entry.
#[test]
fn long_names_are_bounded_by_max_path_len() {
    for (len, ok) in [(3_000usize, true), (5_000, false)] {
        let mut nodes = vec![RawNode::Dir(vec![("n".repeat(len), 1)])];
        nodes.push(RawNode::Dir(
            (0..10_000).map(|i| (format!("f{i:05}"), i + 2)).collect(),
        ));
        nodes.extend((0..10_000).map(|_| RawNode::File { start: 0, end: 0 }));
        let c = open(Version::V2, &nodes, &[]);
        let v = c.volume("/v").unwrap();
        let mut longest = 0;
        let walked = v.walk(|p, _| {
            longest = longest.max(p.len());
            Ok(())
        });
        if ok {
            assert!(walked.is_ok(), "{walked:?}");
            assert_eq!(longest, len + 8);
        } else {
            let err = walked.unwrap_err().to_string();
            assert!(
                err.contains("path longer than 4096 bytes") && err.len() < 300,
                "{err}"
            );
        }
    }
}

/// Shared directory records: refused by the walk at the first second path.
#[test]
fn shared_trees_are_refused() {
    for version in [Version::V2, Version::V3] {
        let nodes = shared_chain(40);
        let bytes = raw_container(version, "/v", &nodes, &[]).unwrap();
        check_walk(&bytes, &nodes);
        assert_eq!(expected_walk(&nodes).error, Some("shared"));
        assert!(exercise(&bytes));
    }
}

/// Overlapping file ranges are legal (verify passes), but the content a walk reports is
/// `files × len`: what an extraction budget must count.
#[test]
fn overlapping_files_verify_and_add_up() {
    let data = vec![7u8; 4096];
    let nodes = overlapping_files(300, 4096);
    let c = open(Version::V3, &nodes, &data);
    assert!(c.verify().is_ok(), "{:?}", c.verify().failures);
    let v = c.volume("/v").unwrap();
    let mut total = 0;
    v.walk(|_, e| {
        total += e.node.len();
        Ok(())
    })
    .unwrap();
    assert_eq!(total, 300 * 4096);
}

/// A volume section the index no longer lists (its key mangled) is an open error naming
/// the volume, not a package with "volumes (0)".
#[test]
fn a_section_missing_from_the_index_is_an_open_error() {
    let data = vec![1u8; 1 << 20];
    let nodes = overlapping_files(1, 1 << 20);
    for version in [Version::V2, Version::V3] {
        let mut bytes = raw_container(version, "/v", &nodes, &data).unwrap();
        assert!(Container::from_bytes(bytes.clone()).is_ok());
        let at = bytes
            .windows(7)
            .position(|w| w == b"volumes")
            .expect("the index has a volumes key");
        bytes[at + 6] = b'z';
        let err = Container::from_bytes(bytes).unwrap_err().to_string();
        assert!(
            err.contains("volume \"/v\" section") && err.contains("not listed in the index"),
            "{err}"
        );
        // Trailing bytes no section claims are refused too.
        let mut bytes = raw_container(version, "/v", &nodes, &data).unwrap();
        bytes.extend_from_slice(&[0; 5]);
        let err = Container::from_bytes(bytes).unwrap_err().to_string();
        assert!(err.contains("5 bytes at offset"), "{err}");
    }
}

/// Fixed inputs of the structure-aware fuzz entry (`fuzz/fuzz_targets/trees.rs`): a deep
/// chain, wide sharing, overlapping files.
#[test]
fn tree_fuzz_entry_replays() {
    exercise_tree(&[1, 200, 0xc0, 1, 2, 3, 0xc0, 0, 0, 0, 3, 5, 9, 0]);
    exercise_tree(&[0, 0, 0xc0, 0, 0, 0, 0xc0, 0, 0, 0, 0x40, 0, 0, 0]);
    exercise_tree(&[1, 3, 0xc0, 1, 2, 3, 3, 10, 20, 0, 3, 12, 25, 0, 3, 0, 31, 0]);
    exercise_tree(&[]);
}

/// Trees with a chain of up to 300 levels above a random DAG of directories and files:
/// children picked among later records (so records are often shared), file ranges picked
/// in a small data region (so they overlap).
fn raw_tree() -> impl Strategy<Value = Vec<RawNode>> {
    (
        0usize..300,
        prop::collection::vec(
            (
                any::<bool>(),
                0usize..4,
                any::<[u16; 3]>(),
                0u64..48,
                0u64..16,
            ),
            1..40,
        ),
    )
        .prop_map(|(chain, records)| {
            let mut nodes = deep_chain(chain);
            let base = nodes.len() - 1;
            let total = base + records.len();
            for (i, (is_file, n, picks, start, len)) in records.into_iter().enumerate() {
                let at = base + i;
                let node = if is_file && at > 0 {
                    RawNode::File {
                        start,
                        end: (start + len).min(48),
                    }
                } else {
                    let mut entries = Vec::new();
                    for (k, name) in ["a", "b", "c"].iter().enumerate().take(n) {
                        if at + 1 < total {
                            let child = at + 1 + usize::from(picks[k]) % (total - at - 1);
                            entries.push(((*name).to_owned(), child));
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
            nodes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the shape, the reader neither panics nor disagrees with the model: a
    /// shared record or a directory below `MAX_DEPTH` stops the walk at exactly the
    /// predicted entry, anything else is walked in full.
    #[test]
    fn hostile_trees_walk_as_modelled(nodes in raw_tree(), v3 in any::<bool>()) {
        let version = if v3 { Version::V3 } else { Version::V2 };
        let data: Vec<u8> = (0..48).collect();
        let bytes = raw_container(version, "/v", &nodes, &data).unwrap();
        check_walk(&bytes, &nodes);
        prop_assert!(exercise(&bytes));
    }
}
