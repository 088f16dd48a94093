//! Hostile packages against the `webc-host` binary: each is refused before it costs
//! anything, with a one-line error and exit 125, and leaves nothing behind. The packages
//! are generated here (record by record, since our writer refuses them), not committed.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use webc_container::fuzzing::{
    RawNode, deep_chain, overlapping_files, raw_container, shared_chain,
};
use webc_container::{MAX_DEPTH, Version};

const BIN: &str = env!("CARGO_BIN_EXE_webc-host");

fn webc(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    Command::new(BIN)
        .args(args.iter().map(|a| a.as_ref()))
        .env_remove("WEBC_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit 125 with exactly one line on stderr that contains every one of `needles`.
fn assert_refused(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(125), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.len() < 1000, "{} bytes: {err}", err.len());
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
}

fn write_pkg(
    dir: &Path,
    name: &str,
    version: Version,
    nodes: &[RawNode],
    data: &[u8],
) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, raw_container(version, "/v", nodes, data).unwrap()).unwrap();
    path
}

/// Names in `dir` (empty if it does not exist).
fn listing(dir: &Path) -> Vec<String> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<String> = rd
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// 100 000 nested directories (a 2.6 MB v2 package) used to take `inspect --depth 1`
/// quadratic memory and abort it; every command that walks the tree now refuses it at
/// level 257 with the same error, and nothing is written.
#[test]
fn deep_nesting_is_refused_by_every_command() {
    let tmp = tempfile::tempdir().unwrap();
    let pkg = write_pkg(
        tmp.path(),
        "deep.webc",
        Version::V2,
        &deep_chain(100_000),
        &[],
    );
    let needles = ["nested more than 256 levels deep", "volume \"/v\""];
    for args in [
        vec!["inspect", "--depth", "1"],
        vec!["inspect"],
        vec!["inspect", "--json"],
    ] {
        let mut a: Vec<&dyn AsRef<std::ffi::OsStr>> = args.iter().map(|s| s as _).collect();
        a.push(&pkg);
        let o = webc(&a);
        assert_refused(&o, &needles);
        assert!(o.stdout.is_empty() || !String::from_utf8_lossy(&o.stdout).contains("volumes ("));
    }
    let out = tmp.path().join("out");
    assert_refused(&webc(&[&"extract", &pkg, &out]), &needles);
    assert_eq!(listing(&out), Vec::<String>::new());
    // `verify` reports it as a failed check (exit 1), naming the limit.
    let o = webc(&[&"verify", &pkg]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("nested more than 256 levels deep"));

    // At the limit it is a package like any other.
    let ok = write_pkg(
        tmp.path(),
        "ok.webc",
        Version::V3,
        &deep_chain(MAX_DEPTH),
        &[],
    );
    let o = webc(&[&"inspect", &"--json", &ok]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = webc(&[&"extract", &ok, &tmp.path().join("ok")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        tmp.path()
            .join("ok/volumes/v")
            .join("d/".repeat(MAX_DEPTH))
            .is_dir()
    );
}

/// Directory records shared between entries: `inspect` and `verify` refused them, but
/// `extract` walked every path (2^13 entries from this 600-byte package; 2^24 take
/// minutes and gigabytes). Now it refuses before writing anything.
#[test]
fn extract_refuses_shared_directories_before_writing() {
    let tmp = tempfile::tempdir().unwrap();
    for version in [Version::V2, Version::V3] {
        let pkg = write_pkg(tmp.path(), "shared.webc", version, &shared_chain(12), &[]);
        let out = tmp.path().join("out");
        let o = webc(&[&"extract", &pkg, &out]);
        assert_refused(&o, &["the directory record is shared", "volume \"/v\""]);
        assert_eq!(listing(&out), Vec::<String>::new());
        fs::create_dir_all(&out).unwrap();
        let o = webc(&[&"extract", &"--force", &pkg, &out]);
        assert_refused(&o, &["the directory record is shared"]);
        assert_eq!(
            listing(&out),
            Vec::<String>::new(),
            "no .webc-extract-* left"
        );
        assert_refused(&webc(&[&"inspect", &"--depth", &"1", &pkg]), &["is shared"]);
    }
}

/// 1 100 files whose records all cover the same 1 MiB: `verify` passes (overlaps are
/// legal), but extraction would write 1.1 GiB from a 1.1 MB package. The default budget
/// (16 × the package, at least 1 GiB) refuses it before anything is written.
#[test]
fn extract_has_an_output_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let data = vec![0x5a_u8; 1 << 20];
    let pkg = write_pkg(
        tmp.path(),
        "overlap.webc",
        Version::V3,
        &overlapping_files(1100, 1 << 20),
        &data,
    );
    assert_eq!(webc(&[&"verify", &pkg]).status.code(), Some(0));
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    let o = webc(&[&"extract", &"--force", &pkg, &out]);
    assert_refused(
        &o,
        &[
            "1100 files hold 1.1 GiB",
            "output budget of 1.0 GiB",
            "--max-output",
        ],
    );
    assert_eq!(
        listing(&out),
        Vec::<String>::new(),
        "nothing written, no temporaries"
    );

    // A small one: refused under an explicit budget, extracted under a larger one.
    let small = vec![1u8; 64 << 10];
    let pkg = write_pkg(
        tmp.path(),
        "small.webc",
        Version::V2,
        &overlapping_files(3, 64 << 10),
        &small,
    );
    let out = tmp.path().join("small");
    let o = webc(&[&"extract", &"--max-output", &"150KiB", &pkg, &out]);
    assert_refused(
        &o,
        &["3 files hold 192.0 KiB", "output budget of 150.0 KiB"],
    );
    assert_eq!(listing(&out), Vec::<String>::new());
    let o = webc(&[&"extract", &"--max-output", &"192KiB", &pkg, &out]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(fs::read(out.join("volumes/v/f00002")).unwrap(), small);
    let o = webc(&[
        &"extract",
        &"--max-output",
        &"lots",
        &pkg,
        &tmp.path().join("x"),
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a bad size is a usage error: {}",
        stderr(&o)
    );
}

/// A damaged index key made a 1 MiB volume vanish: `inspect` and `extract` said "volumes
/// (0)" and exited 0, only `verify` objected. Bytes no index span claims are now an open
/// error naming the section found there, for every command.
#[test]
fn a_volume_missing_from_the_index_is_an_error_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let data = vec![3u8; 1 << 20];
    let mut bytes =
        raw_container(Version::V3, "/v", &overlapping_files(1, 1 << 20), &data).unwrap();
    let at = bytes.windows(7).position(|w| w == b"volumes").unwrap();
    bytes[at + 6] = b'Z';
    let pkg = tmp.path().join("lost.webc");
    fs::write(&pkg, bytes).unwrap();
    let needles = ["volume \"/v\" section", "not listed in the index"];
    assert_refused(&webc(&[&"inspect", &pkg]), &needles);
    assert_refused(&webc(&[&"inspect", &"--json", &pkg]), &needles);
    assert_refused(&webc(&[&"verify", &pkg]), &needles);
    let out = tmp.path().join("out");
    assert_refused(&webc(&[&"extract", &pkg, &out]), &needles);
    assert_eq!(listing(&out), Vec::<String>::new());
}

/// `pack` of a directory applies the same limit while building the tree.
#[test]
fn pack_refuses_deep_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let proj = tmp.path().join("proj");
    let deep = proj.join("assets").join("d/".repeat(MAX_DEPTH + 1));
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("leaf.txt"), "deep").unwrap();
    fs::write(
        proj.join("wasmer.toml"),
        "[package]\nname = \"t/deep\"\nversion = \"0.1.0\"\n\n[fs]\n\"/assets\" = \"assets\"\n",
    )
    .unwrap();
    let o = webc(&[&"pack", &proj, &"-o", &tmp.path().join("deep.webc")]);
    // Refused while walking the project (naming the directory on disk), not later by the
    // writer after building the whole tree.
    assert_refused(
        &o,
        &["nested more than 256 levels deep", "proj/assets/d/d/d"],
    );
    assert!(!tmp.path().join("deep.webc").exists());
}

/// Writes the hostile packages above (and a 20 000-level one) to `$WEBC_HOSTILE_OUT`, to
/// measure or reproduce by hand: `WEBC_HOSTILE_OUT=/tmp/h cargo test -p webc-host --test
/// hostile -- --ignored write_hostile_packages`.
#[test]
#[ignore = "writes packages for manual measurements"]
fn write_hostile_packages() {
    let dir = std::path::PathBuf::from(std::env::var_os("WEBC_HOSTILE_OUT").unwrap());
    fs::create_dir_all(&dir).unwrap();
    write_pkg(
        &dir,
        "deep-100000.webc",
        Version::V2,
        &deep_chain(100_000),
        &[],
    );
    write_pkg(
        &dir,
        "deep-20000.webc",
        Version::V2,
        &deep_chain(20_000),
        &[],
    );
    write_pkg(&dir, "shared-24.webc", Version::V3, &shared_chain(24), &[]);
    let mib = vec![0x5a_u8; 1 << 20];
    write_pkg(
        &dir,
        "overlap-3000.webc",
        Version::V3,
        &overlapping_files(3000, 1 << 20),
        &mib,
    );
}
