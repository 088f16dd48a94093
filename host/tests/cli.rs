//! End-to-end tests of the `webc-host` binary: inspect, verify, extract, pack, exit codes.
//!
//! Expected values come from the fixtures' JSON descriptions
//! (`container/tests/fixtures/*.webc.json`), written by an independent parser.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde_json::Value;
use sha2::{Digest, Sha256};
use webc_container::Version;
use webc_container::write::{Directory, Entry, Writer};

const BIN: &str = env!("CARGO_BIN_EXE_webc-host");
const FIXTURES: [&str; 4] = [
    "sample-v1.webc",
    "sample-v2.webc",
    "sample-v3.webc",
    "sample-v3-nosymlinks.webc",
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../container/tests/fixtures")
}

fn fixture(name: &str) -> PathBuf {
    fixtures_dir().join(name)
}

fn description(name: &str) -> Value {
    let text = fs::read_to_string(fixture(&format!("{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("WEBC_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

macro_rules! webc {
    ($($arg:expr),* $(,)?) => {
        run(&[$(::std::convert::AsRef::<::std::ffi::OsStr>::as_ref(&$arg)),*])
    };
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn inspect_json(pkg: &Path) -> Value {
    let o = webc!("inspect", "--json", pkg);
    assert_exit(&o, 0);
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `/assets` → `assets`, as documented for `extract`.
fn volume_dir(name: &str) -> &str {
    name.trim_start_matches('/')
}

fn file(data: &[u8], modified: u64) -> Entry {
    Entry::File {
        data: Bytes::copy_from_slice(data),
        modified,
    }
}

fn symlink(target: &str) -> Entry {
    Entry::Symlink {
        target: target.into(),
        modified: 1_700_000_000,
    }
}

/// A minimal v3 container with one atom and the given volumes.
fn container_with(volumes: Vec<(&str, Directory)>) -> Vec<u8> {
    let wasm = fs::read(fixture("hello.wasm")).unwrap();
    let mut sig = [0u8; 32];
    sig.copy_from_slice(&Sha256::digest(&wasm));
    let manifest = ciborium::Value::Map(vec![(
        "atoms".into(),
        ciborium::Value::Map(vec![(
            "hello".into(),
            ciborium::Value::Map(vec![
                ("kind".into(), "https://webc.org/kind/wasm".into()),
                (
                    "signature".into(),
                    webc_container::manifest::atom_signature(&sig).into(),
                ),
            ]),
        )]),
    )]);
    let mut cbor = Vec::new();
    ciborium::into_writer(&manifest, &mut cbor).unwrap();
    let mut w = Writer {
        manifest: cbor,
        ..Default::default()
    };
    w.atoms.insert("hello".into(), Bytes::from(wasm));
    for (name, dir) in volumes {
        w.volumes.insert(name.into(), dir);
    }
    w.to_bytes(Version::V3).unwrap()
}

/// Replaces the only occurrence of `from` in `bytes` by `to` (same length).
fn patch(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let hits: Vec<usize> = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(hits.len(), 1, "{:?} must occur exactly once", from);
    bytes[hits[0]..hits[0] + to.len()].copy_from_slice(to);
}

/// Every path below `dir`, relative, `/`-separated.
fn disk_tree(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
            out.insert(rel);
        }
    }
    out
}

fn mtime_secs(path: &Path) -> u64 {
    fs::symlink_metadata(path)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// ---------------------------------------------------------------------------------------
// inspect

#[test]
fn inspect_json_matches_fixture_descriptions() {
    for name in FIXTURES {
        let want = description(name);
        let got = inspect_json(&fixture(name));
        assert_eq!(got["format"], 1, "{name}");
        assert_eq!(got["version"], want["version"], "{name}");
        assert_eq!(got["size"], want["size"], "{name}");
        assert_eq!(got["package_hash"], want["package_hash"], "{name}");
        assert_eq!(got["manifest"], want["manifest"], "{name}: manifest JSON");
        assert_eq!(got["package"]["name"], "example/webc-sample", "{name}");
        assert_eq!(got["entrypoint"], "hello", "{name}");

        let want_atoms = want["atoms"].as_array().unwrap();
        let got_atoms = got["atoms"].as_array().unwrap();
        assert_eq!(got_atoms.len(), want_atoms.len(), "{name}");
        for (g, w) in got_atoms.iter().zip(want_atoms) {
            assert_eq!(g["name"], w["name"], "{name}");
            assert_eq!(g["size"], w["size"], "{name}");
            assert_eq!(g["sha256"], w["sha256"], "{name}");
            assert_eq!(g["signature"], w["manifest_signature"], "{name}");
            assert_eq!(g["signature_ok"], w["manifest_signature_matches"], "{name}");
        }

        let commands: Vec<&str> = got["commands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        let want_commands: Vec<&String> = want["manifest"]["commands"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(commands, want_commands, "{name}");
        for c in got["commands"].as_array().unwrap() {
            let cname = c["name"].as_str().unwrap();
            let wc = &want["manifest"]["commands"][cname];
            assert_eq!(c["runner"], wc["runner"], "{name} {cname}");
            assert_eq!(c["annotations"], wc["annotations"], "{name} {cname}");
        }

        let want_vols = want["volumes"].as_array().unwrap();
        let got_vols = got["volumes"].as_array().unwrap();
        assert_eq!(got_vols.len(), want_vols.len(), "{name}");
        for (gv, wv) in got_vols.iter().zip(want_vols) {
            assert_eq!(gv["name"], wv["name"], "{name}");
            let ge = gv["entries"].as_array().unwrap();
            let we = wv["entries"].as_array().unwrap();
            let paths = |v: &[Value]| -> Vec<String> {
                v.iter()
                    .map(|e| e["path"].as_str().unwrap().to_owned())
                    .collect()
            };
            assert_eq!(paths(ge), paths(we), "{name} {}", wv["name"]);
            let mut total = 0;
            for (g, w) in ge.iter().zip(we) {
                let ctx = format!("{name} {} {}", wv["name"], w["path"]);
                assert_eq!(g["type"], w["type"], "{ctx}");
                match w["type"].as_str().unwrap() {
                    "file" => {
                        assert_eq!(g["size"], w["size"], "{ctx}");
                        total += w["size"].as_u64().unwrap();
                        if want["version"] == "001" {
                            assert!(g.get("hash").is_none(), "{ctx}: v1 records no hash");
                        } else {
                            assert_eq!(g["hash"], w["sha256"], "{ctx}");
                        }
                    }
                    "symlink" => {
                        assert_eq!(g["target"], w["symlink_target"], "{ctx}");
                        assert_eq!(g["hash"], w["sha256"], "{ctx}");
                    }
                    "dir" => {
                        if let Some(h) = w.get("v3_dir_hash") {
                            assert_eq!(&g["hash"], h, "{ctx}");
                        }
                    }
                    other => panic!("{ctx}: unexpected type {other}"),
                }
                match w.get("v3_modified_secs") {
                    Some(m) => assert_eq!(&g["modified"], m, "{ctx}"),
                    None => assert!(g.get("modified").is_none(), "{ctx}"),
                }
            }
            assert_eq!(gv["total_size"], total, "{name}");
            if let Some(h) = wv.get("v3_root_dir_hash") {
                assert_eq!(&gv["hash"], h, "{name}");
                assert_eq!(&gv["modified"], &wv["v3_root_modified_secs"], "{name}");
            }
        }
    }
}

#[test]
fn inspect_json_example_in_the_docs_is_current() {
    let doc =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/inspect-json.md"))
            .unwrap();
    let example = doc.split("## Example").nth(1).unwrap();
    let json = example
        .split("```json\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let documented: Value = serde_json::from_str(json).unwrap();
    assert_eq!(documented, inspect_json(&fixture("sample-v3.webc")));
}

#[test]
fn inspect_human_lists_everything() {
    for name in FIXTURES {
        let want = description(name);
        let o = webc!("inspect", fixture(name));
        assert_exit(&o, 0);
        let text = stdout(&o);
        assert!(
            text.contains(want["package_hash"].as_str().unwrap()),
            "{name}"
        );
        assert!(text.contains("example/webc-sample@0.1.0"), "{name}");
        assert!(
            text.contains("runner:      https://webc.org/runner/wasi"),
            "{name}"
        );
        assert!(
            text.contains(r#"annotations: {"atom":{"name":"hello"},"wasi":{"atom":"hello","#),
            "{name}:\n{text}"
        );
        for atom in want["atoms"].as_array().unwrap() {
            let line = text
                .lines()
                .find(|l| l.trim_start().starts_with(atom["name"].as_str().unwrap()))
                .unwrap();
            assert!(line.trim_end().ends_with("yes"), "{name}: {line}");
        }
        // Every entry appears under its parent, with its size or target.
        for vol in want["volumes"].as_array().unwrap() {
            assert!(text.contains(&format!("{:?}: ", vol["name"].as_str().unwrap())));
            for e in vol["entries"].as_array().unwrap() {
                let leaf = e["path"].as_str().unwrap().rsplit('/').next().unwrap();
                let expect = match e["type"].as_str().unwrap() {
                    "dir" => format!("── {leaf}/"),
                    "symlink" => format!("── {leaf} -> {}", e["symlink_target"].as_str().unwrap()),
                    _ => format!("── {leaf}  "),
                };
                assert!(
                    text.contains(&expect),
                    "{name}: missing {expect:?} in\n{text}"
                );
            }
        }
    }
    let text = stdout(&webc!("inspect", fixture("sample-v3.webc")));
    assert!(text.contains("    ├── big.bin  1.0 MiB\n"), "{text}");
    assert!(
        text.contains("        │   └── up-link -> ../../hello.txt\n"),
        "{text}"
    );
}

#[test]
fn inspect_caps_large_directories_and_depth() {
    let mut root = Directory::default();
    for i in 0..120 {
        root.insert(&format!("/many/f{i:03}"), file(b"x", 1), 1)
            .unwrap();
    }
    root.insert("/deep/a/b/c.txt", file(b"abc", 1), 1).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let pkg = tmp.path().join("big.webc");
    fs::write(&pkg, container_with(vec![("/data", root)])).unwrap();

    let text = stdout(&webc!("inspect", &pkg));
    assert!(text.contains("f049"), "{text}");
    assert!(!text.contains("f050"), "{text}");
    assert!(text.contains("└── … 70 more entries"), "{text}");
    assert!(text.contains("c.txt  3 B"), "{text}");

    let all = stdout(&webc!("inspect", "--all", &pkg));
    assert!(all.contains("└── f119  1 B"), "{all}");
    assert!(!all.contains("more entries"), "{all}");

    let shallow = stdout(&webc!("inspect", "--depth", "1", &pkg));
    assert!(
        shallow.contains("── deep/  (1 entries not shown)"),
        "{shallow}"
    );
    assert!(!shallow.contains("c.txt"), "{shallow}");

    let none = stdout(&webc!("inspect", "--depth", "0", &pkg));
    assert!(none.contains("\"/data\": 121 files, 4 dirs"), "{none}");
    assert!(!none.contains("deep/"), "{none}");

    // --json is always complete.
    let json = inspect_json(&pkg);
    assert_eq!(json["volumes"][0]["entries"].as_array().unwrap().len(), 125);
}

#[test]
fn inspect_json_shows_cbor_bytes_and_odd_keys() {
    // A command annotation holding a byte string and a `$`-key map.
    let annotations = ciborium::Value::Map(vec![
        ("blob".into(), ciborium::Value::Bytes(vec![0xca, 0xfe])),
        (
            "weird".into(),
            ciborium::Value::Map(vec![("$bytes".into(), "text".into())]),
        ),
    ]);
    let manifest = ciborium::Value::Map(vec![(
        "commands".into(),
        ciborium::Value::Map(vec![(
            "x".into(),
            ciborium::Value::Map(vec![
                ("runner".into(), "https://example.org/runner/x".into()),
                ("annotations".into(), annotations),
            ]),
        )]),
    )]);
    let mut cbor = Vec::new();
    ciborium::into_writer(&manifest, &mut cbor).unwrap();
    let w = Writer {
        manifest: cbor,
        ..Default::default()
    };
    let tmp = tempfile::tempdir().unwrap();
    let pkg = tmp.path().join("x.webc");
    fs::write(&pkg, w.to_bytes(Version::V3).unwrap()).unwrap();
    let json = inspect_json(&pkg);
    let ann = &json["commands"][0]["annotations"];
    assert_eq!(ann["blob"], serde_json::json!({"$bytes": "cafe"}));
    assert_eq!(
        ann["weird"],
        serde_json::json!({"$map": [["$bytes", "text"]]})
    );
    assert_eq!(json["commands"][0]["atom"], Value::Null);
    assert_eq!(json["package"], Value::Null);
}

// ---------------------------------------------------------------------------------------
// verify

#[test]
fn verify_passes_on_every_fixture() {
    for name in FIXTURES {
        let o = webc!("verify", fixture(name));
        assert_exit(&o, 0);
        let text = stdout(&o);
        assert!(text.contains(": OK, "), "{name}: {text}");
        assert!(!text.contains("failed:"), "{name}: {text}");
    }
}

#[test]
fn verify_fails_on_tampered_copies_naming_the_entry() {
    let tmp = tempfile::tempdir().unwrap();
    for name in FIXTURES {
        let want = description(name);
        let original = fs::read(fixture(name)).unwrap();

        // An atom byte: every version checks the manifest signature.
        let atom = want["atoms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "hello")
            .unwrap();
        let mut bytes = original.clone();
        bytes[atom["content_offset_in_file"].as_u64().unwrap() as usize] ^= 0x01;
        let pkg = tmp.path().join(format!("atom-{name}"));
        fs::write(&pkg, &bytes).unwrap();
        let o = webc!("verify", &pkg);
        assert_exit(&o, 1);
        let text = stdout(&o);
        assert!(
            text.lines()
                .any(|l| l.starts_with("failed: atom \"hello\" (offset ")),
            "{name}: {text}"
        );
        assert!(text.contains(": FAILED, "), "{name}: {text}");

        // A volume file byte: v2/v3 record per-file hashes.
        if want["version"] == "001" {
            continue;
        }
        let entry = want["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|v| v["entries"].as_array().unwrap())
            .find(|e| e["path"].as_str().unwrap().ends_with("/hello.txt"))
            .unwrap();
        let mut bytes = original.clone();
        bytes[entry["content_offset_in_file"].as_u64().unwrap() as usize] ^= 0x01;
        let pkg = tmp.path().join(format!("file-{name}"));
        fs::write(&pkg, &bytes).unwrap();
        let o = webc!("verify", &pkg);
        assert_exit(&o, 1);
        let text = stdout(&o);
        let wanted = format!(": {} (offset ", entry["path"].as_str().unwrap());
        assert!(
            text.lines()
                .any(|l| l.starts_with("failed: volume ") && l.contains(&wanted)),
            "{name}: {text}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// extract

#[test]
fn extract_writes_every_fixture_faithfully() {
    for name in FIXTURES {
        let want = description(name);
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("out");
        let o = webc!("extract", fixture(name), &dest);
        assert_exit(&o, 0);
        assert!(
            stdout(&o).starts_with("extracted 2 atoms and 2 volumes"),
            "{}",
            stdout(&o)
        );

        let mut expected: BTreeSet<String> = BTreeSet::new();
        expected.insert("atoms".into());
        expected.insert("volumes".into());
        for atom in want["atoms"].as_array().unwrap() {
            let rel = format!("atoms/{}", atom["name"].as_str().unwrap());
            let data = fs::read(dest.join(&rel)).unwrap();
            assert_eq!(
                sha256_hex(&data),
                atom["sha256"].as_str().unwrap(),
                "{name} {rel}"
            );
            expected.insert(rel);
        }
        let v3 = want["version"] == "003";
        for vol in want["volumes"].as_array().unwrap() {
            let vdir = format!("volumes/{}", volume_dir(vol["name"].as_str().unwrap()));
            expected.insert(vdir.clone());
            if let Some(m) = vol.get("v3_root_modified_secs") {
                assert_eq!(mtime_secs(&dest.join(&vdir)), m.as_u64().unwrap(), "{name}");
            }
            for e in vol["entries"].as_array().unwrap() {
                let rel = format!("{vdir}{}", e["path"].as_str().unwrap());
                let path = dest.join(&rel);
                let meta = fs::symlink_metadata(&path).unwrap();
                match e["type"].as_str().unwrap() {
                    "file" => {
                        assert!(meta.is_file(), "{name} {rel}");
                        let data = fs::read(&path).unwrap();
                        assert_eq!(data.len() as u64, e["size"].as_u64().unwrap());
                        assert_eq!(sha256_hex(&data), e["sha256"].as_str().unwrap(), "{rel}");
                    }
                    "dir" => assert!(meta.is_dir(), "{name} {rel}"),
                    "symlink" => {
                        assert!(meta.file_type().is_symlink(), "{name} {rel}");
                        let target = fs::read_link(&path).unwrap();
                        assert_eq!(
                            target.to_str().unwrap(),
                            e["symlink_target"].as_str().unwrap()
                        );
                        // And it resolves inside the volume to the right file.
                        assert!(
                            fs::canonicalize(&path)
                                .unwrap()
                                .starts_with(fs::canonicalize(dest.join(&vdir)).unwrap())
                        );
                    }
                    other => panic!("{other}"),
                }
                if v3 {
                    let m = e["v3_modified_secs"].as_u64().unwrap();
                    assert_eq!(mtime_secs(&path), m, "{name} {rel} mtime");
                }
                expected.insert(rel);
            }
        }
        // Nothing else: no temporary or staging files left behind.
        assert_eq!(disk_tree(&dest), expected, "{name}");
    }
}

#[test]
fn extract_selects_volumes_and_atoms() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("a");
    let o = webc!(
        "extract",
        fixture("sample-v3.webc"),
        &dest,
        "--volume",
        "metadata",
        "--no-atoms"
    );
    assert_exit(&o, 0);
    assert_eq!(
        disk_tree(&dest),
        ["volumes", "volumes/metadata", "volumes/metadata/README.md"]
            .map(String::from)
            .into()
    );

    let dest = tmp.path().join("b");
    let o = webc!("extract", fixture("sample-v2.webc"), &dest, "--atoms-only");
    assert_exit(&o, 0);
    assert_eq!(
        disk_tree(&dest),
        ["atoms", "atoms/blob", "atoms/hello"]
            .map(String::from)
            .into()
    );

    let o = webc!(
        "extract",
        fixture("sample-v3.webc"),
        tmp.path().join("c"),
        "--volume",
        "nope"
    );
    assert_exit(&o, 125);
    assert!(
        stderr(&o).contains("no volume named \"nope\""),
        "{}",
        stderr(&o)
    );
    assert!(!tmp.path().join("c").exists());

    let o = webc!(
        "extract",
        fixture("sample-v3.webc"),
        tmp.path().join("d"),
        "--atoms-only",
        "--volume",
        "x"
    );
    assert_exit(&o, 2);
}

#[test]
fn extract_refuses_non_empty_dir_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path();
    fs::write(dest.join("keep.txt"), "mine").unwrap();
    fs::create_dir_all(dest.join("volumes/assets/stale")).unwrap();
    fs::write(dest.join("volumes/assets/stale/old.txt"), "old").unwrap();

    let o = webc!("extract", fixture("sample-v3.webc"), dest);
    assert_exit(&o, 125);
    assert!(
        stderr(&o).contains("is not empty (use --force"),
        "{}",
        stderr(&o)
    );
    assert!(dest.join("volumes/assets/stale/old.txt").exists());

    let o = webc!("extract", "--force", fixture("sample-v3.webc"), dest);
    assert_exit(&o, 0);
    assert_eq!(fs::read_to_string(dest.join("keep.txt")).unwrap(), "mine");
    // The volume directory was replaced as a whole.
    assert!(!dest.join("volumes/assets/stale").exists());
    assert!(dest.join("volumes/assets/hello.txt").is_file());

    // A symlink where a directory goes is never written through.
    let outside = tempfile::tempdir().unwrap();
    fs::remove_dir_all(dest.join("volumes")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dest.join("volumes")).unwrap();
    let o = webc!("extract", "--force", fixture("sample-v3.webc"), dest);
    assert_exit(&o, 125);
    assert!(stderr(&o).contains("is a symlink"), "{}", stderr(&o));
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);

    // A file where the directory should be.
    let o = webc!("extract", fixture("sample-v3.webc"), dest.join("keep.txt"));
    assert_exit(&o, 125);
    assert!(stderr(&o).contains("not a directory"), "{}", stderr(&o));
}

/// Runs `extract` on crafted bytes; asserts exit 125, the message, and that nothing was
/// written (the destination stays empty and nothing appears next to it).
#[track_caller]
fn assert_extract_refused(bytes: &[u8], message: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = tmp.path().join("evil.webc");
    fs::write(&pkg, bytes).unwrap();
    let dest = tmp.path().join("a/b/out");
    let o = webc!("extract", &pkg, &dest);
    assert_exit(&o, 125);
    let err = stderr(&o);
    assert!(err.starts_with("error: "), "{err}");
    for m in message {
        assert!(err.contains(m), "expected {m:?} in {err}");
    }
    let left: BTreeSet<String> = disk_tree(tmp.path());
    let allowed: BTreeSet<String> = ["evil.webc", "a", "a/b", "a/b/out"]
        .map(String::from)
        .into();
    assert!(left.is_subset(&allowed), "left behind: {left:?}");
}

#[test]
fn extract_refuses_symlink_climbing_out_via_dotdot() {
    let mut root = Directory::default();
    root.insert("/ok.txt", file(b"fine", 1), 1).unwrap();
    root.insert("/sub/evil", symlink("zzzzz/zzzzz/passwd"), 1)
        .unwrap();
    let mut bytes = container_with(vec![("/assets", root)]);
    // The writer refuses escaping targets, so patch one in (same length).
    patch(&mut bytes, b"zzzzz/zzzzz/passwd", b"../../../../passwd");
    assert_extract_refused(
        &bytes,
        &[
            "refusing to extract /sub/evil in volume \"/assets\"",
            "climbs above the volume root",
        ],
    );
}

#[test]
fn extract_refuses_absolute_symlink() {
    let mut root = Directory::default();
    root.insert("/etc-link", symlink("zzzzzzzzzzz"), 1).unwrap();
    let mut bytes = container_with(vec![("/assets", root)]);
    patch(&mut bytes, b"zzzzzzzzzzz", b"/etc/passwd");
    assert_extract_refused(&bytes, &["/etc-link", "is absolute"]);
}

#[test]
fn extract_refuses_symlink_climbing_through_another_symlink() {
    // Lexically both stay inside (the writer accepts them), but on disk `t` resolves
    // through `s` (-> the volume root) and then climbs out of it.
    let mut root = Directory::default();
    root.insert("/a/b/s", symlink("../.."), 1).unwrap();
    root.insert("/a/b/c/t", symlink("../s/../../.."), 1)
        .unwrap();
    let bytes = container_with(vec![("/assets", root)]);
    assert_extract_refused(
        &bytes,
        &[
            "refusing to extract /a/b/c/t",
            "climbs above the volume root",
        ],
    );
}

#[test]
fn extract_refuses_tampered_content_and_bad_names() {
    let mut root = Directory::default();
    root.insert("/data.txt", file(b"original content", 1), 1)
        .unwrap();
    let mut bytes = container_with(vec![("/assets", root)]);
    patch(&mut bytes, b"original content", b"tampered content");
    assert_extract_refused(&bytes, &["/data.txt", "tampered or corrupt"]);

    // Volume names that cannot map to a directory below DIR/volumes.
    for bad in ["/", "/../escape", "a//b", "x/./y"] {
        let mut root = Directory::default();
        root.insert("/f", file(b"x", 1), 1).unwrap();
        let bytes = container_with(vec![(bad, root)]);
        assert_extract_refused(&bytes, &["cannot extract volume", &format!("{bad:?}")]);
    }

    // Two volumes that map to the same directory.
    let mut a = Directory::default();
    a.insert("/f", file(b"x", 1), 1).unwrap();
    let bytes = container_with(vec![("/assets", a.clone()), ("assets", a.clone())]);
    assert_extract_refused(&bytes, &["same or an enclosing directory"]);
    let bytes = container_with(vec![("/x", a.clone()), ("/x/y", a)]);
    assert_extract_refused(&bytes, &["same or an enclosing directory"]);
}

#[test]
fn extract_keeps_safe_symlinks_and_nested_volume_names() {
    let mut root = Directory::default();
    root.insert(
        "/dir/file.txt",
        file(b"content", 1_600_000_000),
        1_600_000_001,
    )
    .unwrap();
    root.insert("/dir/up", symlink("../top.txt"), 1).unwrap();
    root.insert("/dangling", symlink("missing/file"), 1)
        .unwrap();
    root.insert("/top.txt", file(b"top", 1_600_000_002), 1)
        .unwrap();
    let bytes = container_with(vec![("vendor/pkg/atom", root)]);
    let tmp = tempfile::tempdir().unwrap();
    let pkg = tmp.path().join("ok.webc");
    fs::write(&pkg, &bytes).unwrap();
    let dest = tmp.path().join("out");
    let o = webc!("extract", &pkg, &dest);
    assert_exit(&o, 0);
    let base = dest.join("volumes/vendor/pkg/atom");
    assert_eq!(fs::read_to_string(base.join("dir/up")).unwrap(), "top");
    assert_eq!(
        fs::read_link(base.join("dangling")).unwrap(),
        Path::new("missing/file")
    );
    assert_eq!(mtime_secs(&base.join("dir/file.txt")), 1_600_000_000);
    assert_eq!(mtime_secs(&base.join("dir")), 1_600_000_001);
    assert_eq!(mtime_secs(&base.join("top.txt")), 1_600_000_002);
}

// ---------------------------------------------------------------------------------------
// malformed input, usage errors, broken pipe

#[test]
fn malformed_packages_exit_125_naming_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let original = fs::read(fixture("sample-v3.webc")).unwrap();
    let cases: Vec<(&str, Option<Vec<u8>>, &str)> = vec![
        (
            "truncated.webc",
            Some(original[..5000].to_vec()),
            "past the end",
        ),
        (
            "magic.webc",
            Some(b"PK\x03\x04 not webc at all".to_vec()),
            "bad magic",
        ),
        ("empty.webc", Some(Vec::new()), "empty file"),
        (
            "version.webc",
            Some(b"\0webc009rest".to_vec()),
            "unsupported webc version",
        ),
        ("missing.webc", None, "No such file or directory"),
    ];
    for (file_name, content, message) in cases {
        let path = tmp.path().join(file_name);
        if let Some(c) = content {
            fs::write(&path, c).unwrap();
        }
        for cmd in ["inspect", "verify", "extract"] {
            let mut args = vec![std::ffi::OsStr::new(cmd), path.as_os_str()];
            let dest = tmp.path().join("dest");
            if cmd == "extract" {
                args.push(dest.as_os_str());
            }
            let o = run(&args);
            assert_exit(&o, 125);
            let err = stderr(&o);
            assert!(err.starts_with("error: "), "{cmd} {file_name}: {err}");
            assert!(err.contains(file_name), "{cmd} {file_name}: {err}");
            assert!(err.contains(message), "{cmd} {file_name}: {err}");
            assert!(stdout(&o).is_empty());
            assert!(!dest.exists());
        }
    }
    let o = webc!("inspect", tmp.path());
    assert_exit(&o, 125);
    assert!(stderr(&o).contains("is a directory, not a webc package"));
}

#[test]
fn usage_errors_exit_2() {
    assert_exit(&webc!("bogus"), 2);
    assert_exit(&webc!("inspect"), 2);
    assert_exit(&webc!("inspect", "--json", "--depth", "1", "x.webc"), 2);
    assert_exit(&webc!("extract", "x.webc"), 2);
    let help = webc!("--help");
    assert_exit(&help, 0);
    for cmd in ["inspect", "verify", "extract", "pack"] {
        assert!(stdout(&help).contains(cmd));
    }
}

#[test]
fn closed_stdout_exits_zero_silently() {
    // Far more output than a pipe buffer holds, so the writer must hit EPIPE.
    let mut root = Directory::default();
    for i in 0..5000 {
        root.insert(
            &format!("/dir/entry-with-a-long-name-{i:05}.txt"),
            file(b"x", 1),
            1,
        )
        .unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let pkg = tmp.path().join("many.webc");
    fs::write(&pkg, container_with(vec![("/v", root)])).unwrap();
    for flag in ["--all", "--json"] {
        let mut child = Command::new(BIN)
            .args(["inspect", flag])
            .arg(&pkg)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(!line.is_empty());
        // The reader is dropped here: the pipe is closed.
        let o = child.wait_with_output().unwrap();
        assert_exit(&o, 0);
        assert_eq!(stderr(&o), "", "{flag}");
    }
}

#[test]
fn logging_goes_to_stderr_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args(["extract"])
        .arg(fixture("sample-v3.webc"))
        .arg(tmp.path().join("out"))
        .env("WEBC_LOG", "webc_host=debug")
        .output()
        .unwrap();
    assert_exit(&o, 0);
    assert!(stderr(&o).contains("extracted"), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("extracted 2 atoms"));
    let quiet = webc!(
        "extract",
        fixture("sample-v3.webc"),
        tmp.path().join("out2")
    );
    assert_eq!(stderr(&quiet), "");
}

// ---------------------------------------------------------------------------------------
// pack

const WASMER_TOML: &str = r#"
[package]
name = "example/hello"
version = "0.1.0"
description = "A test package"
license = "MIT"

[[module]]
name = "hello"
source = "hello.wasm"
abi = "wasi"

[[command]]
name = "hello"
module = "hello"
runner = "wasi"
annotations = { wasi = { main-args = ["--greet"] } }

[fs]
"/assets" = "assets"
"#;

/// A project directory: wasmer.toml, hello.wasm, and an `assets` tree with nested
/// directories, an empty one, a unicode name and a symlink. Returns its file mtimes.
fn project(dir: &Path) -> BTreeMap<String, u64> {
    fs::write(dir.join("wasmer.toml"), WASMER_TOML).unwrap();
    fs::copy(fixture("hello.wasm"), dir.join("hello.wasm")).unwrap();
    let assets = dir.join("assets");
    fs::create_dir_all(assets.join("nested/empty")).unwrap();
    fs::write(assets.join("hello.txt"), "hello from the assets volume\n").unwrap();
    fs::write(assets.join("nested/ünïcode.txt"), "ünïcode\n").unwrap();
    std::os::unix::fs::symlink("../hello.txt", assets.join("nested/link")).unwrap();
    let mut mtimes = BTreeMap::new();
    for (i, rel) in ["hello.txt", "nested/ünïcode.txt"].iter().enumerate() {
        let t = 1_650_000_000 + i as u64;
        let f = fs::File::options()
            .write(true)
            .open(assets.join(rel))
            .unwrap();
        f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(t))
            .unwrap();
        mtimes.insert(format!("/{rel}"), t);
    }
    mtimes
}

#[test]
fn pack_builds_a_package_that_inspects_verifies_and_extracts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("proj");
    fs::create_dir(&dir).unwrap();
    let mtimes = project(&dir);
    let out = tmp.path().join("hello.webc");

    let o = webc!("pack", &dir, "-o", &out);
    assert_exit(&o, 0);
    let bytes = fs::read(&out).unwrap();
    assert!(stdout(&o).contains(&sha256_hex(&bytes)), "{}", stdout(&o));
    assert_eq!(&bytes[..8], b"\0webc003");

    assert_exit(&webc!("verify", &out), 0);

    let info = inspect_json(&out);
    // `wasmer package build` strips name, version and description (the registry keeps
    // them); the license stays.
    assert_eq!(info["package"]["license"], "MIT");
    let wasm = fs::read(fixture("hello.wasm")).unwrap();
    assert_eq!(info["atoms"][0]["name"], "hello");
    assert_eq!(info["atoms"][0]["size"], wasm.len());
    assert_eq!(info["atoms"][0]["sha256"], sha256_hex(&wasm));
    assert_eq!(info["atoms"][0]["signature_ok"], true);
    assert_eq!(
        info["commands"][0]["runner"],
        "https://webc.org/runner/wasi"
    );
    assert_eq!(
        info["commands"][0]["annotations"]["wasi"]["main-args"],
        serde_json::json!(["--greet"])
    );
    assert_eq!(info["fs"][0]["mount_path"], "/assets");
    let assets = info["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "/assets")
        .unwrap();
    let entries: BTreeMap<&str, &Value> = assets["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap(), e))
        .collect();
    assert_eq!(
        entries.keys().copied().collect::<Vec<_>>(),
        [
            "/hello.txt",
            "/nested",
            "/nested/empty",
            "/nested/link",
            "/nested/ünïcode.txt"
        ]
    );
    assert_eq!(entries["/nested/link"]["target"], "../hello.txt");
    for (path, t) in &mtimes {
        assert_eq!(entries[path.as_str()]["modified"], *t, "{path}");
    }

    // Extracting gives back the same files.
    let dest = tmp.path().join("x");
    assert_exit(&webc!("extract", &out, &dest), 0);
    for rel in ["hello.txt", "nested/ünïcode.txt"] {
        assert_eq!(
            fs::read(dest.join("volumes/assets").join(rel)).unwrap(),
            fs::read(dir.join("assets").join(rel)).unwrap()
        );
    }
    assert_eq!(fs::read(dest.join("atoms/hello")).unwrap(), wasm);
}

#[test]
fn pack_writes_wasmers_default_file_name() {
    let tmp = tempfile::tempdir().unwrap();
    let project_dir = tmp.path().join("project");
    let cwd = tmp.path().join("cwd");
    fs::create_dir_all(&project_dir).unwrap();
    fs::create_dir_all(&cwd).unwrap();
    project(&project_dir);
    // Like `wasmer package build`: into the current directory …
    let o = Command::new(BIN)
        .arg("pack")
        .arg(&project_dir)
        .current_dir(&cwd)
        .output()
        .unwrap();
    assert_exit(&o, 0);
    let expected = cwd.join("example-hello-0.1.0.webc");
    assert!(expected.is_file(), "{}", stdout(&o));
    assert!(stdout(&o).contains("example-hello-0.1.0.webc"));
    assert_exit(&webc!("verify", &expected), 0);
    // … or into a directory given with -o; an existing file is refused without --force.
    let out_dir = tmp.path().join("out");
    fs::create_dir_all(&out_dir).unwrap();
    assert_exit(&webc!("pack", &project_dir, "-o", &out_dir), 0);
    assert_eq!(
        fs::read(out_dir.join("example-hello-0.1.0.webc")).unwrap(),
        fs::read(&expected).unwrap()
    );
    let o = webc!("pack", &project_dir, "-o", &out_dir);
    assert_exit(&o, 125);
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert_exit(&webc!("pack", &project_dir, "-o", &out_dir, "--force"), 0);
}

#[test]
fn pack_without_wasmer_toml_exits_125() {
    let tmp = tempfile::tempdir().unwrap();
    let o = webc!("pack", tmp.path(), "-o", tmp.path().join("x.webc"));
    assert_exit(&o, 125);
    assert!(
        stderr(&o).starts_with("error: cannot pack "),
        "{}",
        stderr(&o)
    );
    assert!(!tmp.path().join("x.webc").exists());
}

#[test]
fn pack_onnx_wraps_a_model_in_an_infer_command() {
    let tmp = tempfile::tempdir().unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/mlp.onnx");
    let cwd = tmp.path();
    let o = Command::new(BIN)
        .arg("pack")
        .arg("--onnx")
        .arg(&model)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert_exit(&o, 0);
    let out = cwd.join("mlp.webc");
    assert!(out.is_file(), "{}", stdout(&o));
    assert_exit(&webc!("verify", &out), 0);
    let o = webc!("inspect", "--json", &out);
    assert_exit(&o, 0);
    let json: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["entrypoint"], "infer", "{json}");
    let text = json.to_string();
    assert!(text.contains("https://webc.org/runner/onnx"), "{text}");
    assert!(text.contains("https://webc.org/kind/onnx"), "{text}");
    // The atom is the model, byte for byte.
    let c = webc_container::Container::open(&out).unwrap();
    assert_eq!(
        &c.verified_atom("mlp").unwrap()[..],
        &fs::read(&model).unwrap()[..]
    );

    // Not a model: refused, nothing written.
    for (name, bytes) in [
        ("empty.onnx", &b""[..]),
        ("prog.onnx", &b"\0asm\x01\0\0\0"[..]),
        ("text.onnx", &b"hello"[..]),
    ] {
        let path = tmp.path().join(name);
        fs::write(&path, bytes).unwrap();
        let dest = tmp.path().join(format!("{name}.webc"));
        let o = webc!("pack", "--onnx", &path, "-o", &dest);
        assert_exit(&o, 125);
        assert!(
            stderr(&o).contains("is not an ONNX model"),
            "{}",
            stderr(&o)
        );
        assert!(!dest.exists());
    }
    // A directory and --onnx together is a usage error.
    assert_exit(&webc!("pack", tmp.path(), "--onnx", &model), 2);
}

#[test]
fn completions_are_valid_scripts_naming_every_command() {
    let o = Command::new(BIN)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let script = String::from_utf8(o.stdout).unwrap();
    for sub in [
        "run", "inspect", "verify", "extract", "pack", "runners", "cache",
    ] {
        assert!(script.contains(sub), "bash completions lack {sub}");
    }
    // bash parses it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("webc-host.bash");
    std::fs::write(&file, &script).unwrap();
    let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for shell in ["zsh", "fish"] {
        let o = Command::new(BIN)
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(o.status.success() && !o.stdout.is_empty(), "{shell}: {o:?}");
    }
    // An unknown shell is a usage error.
    let o = Command::new(BIN)
        .args(["completions", "nope"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}
